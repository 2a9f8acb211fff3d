"""Server-side validation of a human task's form submission.

The form is the compiled field list (docs/compiled-graph.md, FIELD). Values may arrive as
JSON types (REST) or as strings (HTML forms, `--var k=v`); each field type accepts both and
returns the canonical JSON value. Errors are collected per field key, never raised one by
one, so a page or an API client can show them all at once.
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

TRUE_WORDS = {"true", "1", "yes", "on"}
FALSE_WORDS = {"false", "0", "no", "off"}


class FormInvalid(ValueError):
    """The submission does not fit the form; ``errors`` maps field key -> list of messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        summary = "; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in errors.items())
        super().__init__(f"invalid form: {summary}")


def _string(value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise ValueError("Enter text.")
    return value if isinstance(value, str) else str(value)


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("Enter a number.")
    if isinstance(value, (int, float)):
        number = value
    elif isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError("Enter a number.") from None
        if not parsed.is_finite():
            raise ValueError("Enter a finite number.")
        number = int(parsed) if parsed == parsed.to_integral_value() and "." not in value and "e" not in value.lower() else float(parsed)
    else:
        raise ValueError("Enter a number.")
    if isinstance(number, float) and number != number or number in (float("inf"), float("-inf")):
        raise ValueError("Enter a finite number.")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    if value in (0, 1):
        return bool(value)
    raise ValueError("Choose yes or no.")


def _date(value: Any) -> str:
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        try:
            return _dt.date.fromisoformat(text).isoformat()
        except ValueError:
            pass
        try:
            return _dt.datetime.fromisoformat(text).isoformat()
        except ValueError:
            pass
    raise ValueError("Enter a date as YYYY-MM-DD.")


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "string": _string, "number": _number, "boolean": _boolean, "date": _date, "enum": _string,
}


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_submission(form: list[dict], submitted: dict[str, Any] | None, *, allow_extra: bool | None = None) -> dict[str, Any]:
    """Return the cleaned variables for ``submitted`` or raise FormInvalid.

    With a form, only its fields are accepted (a task must not become a way to overwrite
    arbitrary process variables); missing optional fields take their default, else None.
    A task without a form accepts any JSON object (``allow_extra`` overrides either way).
    """
    submitted = submitted or {}
    if not isinstance(submitted, dict):
        raise FormInvalid({"__all__": ["Submit an object of field values."]})
    allow_extra = (not form) if allow_extra is None else allow_extra
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    keys = set()
    for field in form:
        key = field["key"]
        keys.add(key)
        kind = field.get("type") or "string"
        raw = submitted.get(key)
        if _is_blank(raw) and kind != "boolean" or raw is None:
            if field.get("required"):
                errors.setdefault(key, []).append("This field is required.")
            else:
                cleaned[key] = field.get("default")
            continue
        converter = CONVERTERS.get(kind)
        if converter is None:
            errors.setdefault(key, []).append(f"Unknown field type {kind!r}.")
            continue
        try:
            value = converter(raw)
        except ValueError as exc:
            errors.setdefault(key, []).append(str(exc))
            continue
        choices = field.get("choices")
        if (kind == "enum" or choices) and choices is not None and value not in choices:
            errors.setdefault(key, []).append(f"Select one of: {', '.join(map(str, choices))}.")
            continue
        if kind == "enum" and not choices:
            errors.setdefault(key, []).append("This choice field has no choices.")
            continue
        cleaned[key] = value
    extra = [k for k in submitted if k not in keys]
    if extra and not allow_extra:
        for key in extra:
            errors.setdefault(key, []).append("Not a field of this form.")
    elif extra:
        for key in extra:
            if not isinstance(key, str) or not key.isidentifier() or key.startswith("_"):
                errors.setdefault(str(key), []).append("Variable names must be identifiers not starting with '_'.")
            else:
                cleaned[key] = submitted[key]
    if errors:
        raise FormInvalid(errors)
    return cleaned
