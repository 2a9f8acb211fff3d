"""settings.FLOWYARD is read through runtime.conf: defaults, dict merging, unknown keys."""
import pytest
from django.test import override_settings

from runtime.conf import flowyard_setting


def test_a_project_sets_only_what_it_changes_and_dicts_merge_over_defaults():
    with override_settings(FLOWYARD={"BREAKER": {"failure_threshold": 2}, "INBOX_PAGE_SIZE": 10}):
        assert flowyard_setting("BREAKER") == {"enabled": True, "failure_threshold": 2, "reset_timeout": 30.0, "probe_timeout": 60.0,
                                                "local_cache": "PT1S"}
        assert flowyard_setting("INBOX_PAGE_SIZE") == 10
        assert flowyard_setting("TIMER_LEASE") == 30.0


def test_a_misspelt_key_is_an_error_naming_the_known_keys():
    with pytest.raises(KeyError, match="unknown Flowyard setting 'INBOX_PAGESIZE'.*INBOX_PAGE_SIZE"):
        flowyard_setting("INBOX_PAGESIZE")
