"""Log in through the form and load every page of the navigation without a console error."""
import pytest
from django.contrib.auth.models import User

from tests.conftest import TEST_DIR

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = TEST_DIR / "screenshots"


def test_admin_reaches_every_navigation_page_and_sees_live(login, page_errors):
    User.objects.create_superuser("root", "root@example.com", "root-pw")
    page = login("root", "root-pw")
    page.wait_for_selector("#live-indicator[data-state=live]", timeout=10000)
    links = page.eval_on_selector_all("nav.mainnav a", "els => els.map(e => [e.textContent.trim(), e.href])")
    names = [name.split()[0] for name, _ in links]
    assert {"Designer", "Admin", "API"} <= set(names), names
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, href in links:
        response = page.goto(href)
        assert response.status == 200, (name, href, response.status)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(SHOTS / f"nav-{name.split()[0].lower()}.png"))
    assert page_errors == []


def test_wrong_password_shows_an_error_and_no_session(browser, live_server_url, page_errors):
    User.objects.create_user("eve", password="right-pw")
    page = page_errors.watch(browser.new_page())
    page.goto(f"{live_server_url}/accounts/login/")
    page.fill("#id_username", "eve")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    assert "didn't match" in page.inner_text("[role=alert]")
    page.goto(f"{live_server_url}/designer/")
    assert "/accounts/login/" in page.url
    page.close()
