"""Settings of the Celery worker processes the orchestration tests start: the project's,
with the tests' breaker and reconciler overrides (DJANGO_SETTINGS_MODULE points here)."""
from config.settings import *  # noqa: F401,F403
from config.settings import FLOWYARD
from tests.orchestration.settings_overrides import FLOWYARD_OVERRIDES

FLOWYARD = {**FLOWYARD, **FLOWYARD_OVERRIDES}
