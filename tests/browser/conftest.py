import os

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are plain synchronous setup, so Django may allow them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def login(browser, live_server_url, page_errors):
    """login(username, password) -> a Playwright page logged in through the real form."""
    contexts = []

    def _login(username: str, password: str):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        contexts.append(context)
        page = page_errors.watch(context.new_page())
        page.goto(f"{live_server_url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server_url}/")
        return page

    yield _login
    for context in contexts:
        context.close()
