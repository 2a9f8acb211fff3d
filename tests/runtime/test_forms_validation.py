"""Server-side form validation: per field type, required, choices, unknown keys."""
import pytest

from runtime.forms_validation import FormInvalid, validate_submission
from tests.runtime.graphs import field

FORM = [
    field("name", required=True),
    field("amount", "number"),
    field("urgent", "boolean"),
    field("due", "date"),
    field("level", "enum", choices=["low", "high"], default="low"),
]


def errors_of(form, data, **kw):
    with pytest.raises(FormInvalid) as exc:
        validate_submission(form, data, **kw)
    return exc.value.errors


def test_values_are_converted_to_their_json_types():
    out = validate_submission(FORM, {"name": "Ada", "amount": "12.5", "urgent": "on", "due": "2030-01-31", "level": "high"})
    assert out == {"name": "Ada", "amount": 12.5, "urgent": True, "due": "2030-01-31", "level": "high"}
    assert validate_submission(FORM, {"name": "x", "amount": "7"})["amount"] == 7
    assert validate_submission(FORM, {"name": "x", "amount": 3, "urgent": False})["urgent"] is False


def test_missing_optional_fields_take_their_default_else_none():
    out = validate_submission(FORM, {"name": "Ada"})
    assert out == {"name": "Ada", "amount": None, "urgent": None, "due": None, "level": "low"}


@pytest.mark.parametrize("data,key,message", [
    ({}, "name", "required"),
    ({"name": "  "}, "name", "required"),
    ({"name": "x", "amount": "ten"}, "amount", "number"),
    ({"name": "x", "amount": True}, "amount", "number"),
    ({"name": "x", "amount": "nan"}, "amount", "finite"),
    ({"name": "x", "urgent": "maybe"}, "urgent", "yes or no"),
    ({"name": "x", "due": "31/01/2030"}, "due", "YYYY-MM-DD"),
    ({"name": "x", "level": "medium"}, "level", "low, high"),
    ({"name": {"nested": 1}}, "name", "text"),
])
def test_each_bad_value_is_reported_under_its_field_key(data, key, message):
    errors = errors_of(FORM, data)
    assert key in errors and message in " ".join(errors[key])


def test_all_errors_come_back_at_once():
    errors = errors_of(FORM, {"amount": "x", "level": "nope"})
    assert set(errors) == {"name", "amount", "level"}


def test_a_form_refuses_keys_it_does_not_declare():
    assert errors_of(FORM, {"name": "x", "is_admin": True}) == {"is_admin": ["Not a field of this form."]}


def test_a_task_without_a_form_takes_any_variables_with_safe_names():
    assert validate_submission([], {"a": 1, "b": [1, 2]}) == {"a": 1, "b": [1, 2]}
    assert "_private" in errors_of([], {"_private": 1})


def test_required_boolean_accepts_false():
    assert validate_submission([field("ok", "boolean", required=True)], {"ok": "false"}) == {"ok": False}
    assert "ok" in errors_of([field("ok", "boolean", required=True)], {})
