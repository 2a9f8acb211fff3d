"""Input building blocks: serializers that refuse unknown keys, and a process-variables
field that refuses what the engine or the database would choke on later.

A request is checked completely here, so nothing malformed reaches a service: a wrong type,
an unknown key, a 400-digit integer or a 10 000-deep list is a 400 naming its path, never a
500 from the database or the expression evaluator.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

MAX_INT = 2**63 - 1  # what every database column and most JSON clients can hold
MAX_DEPTH = 20
MAX_VARIABLES_BYTES = 256 * 1024
MAX_CORRELATION_CHARS = 500  # MessageSubscription.correlation


class StrictSerializer(serializers.Serializer):
    """A request serializer that names unknown keys instead of silently dropping them
    (a typo such as ``busines_key`` would otherwise start an instance without one)."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(str(k) for k in data if k not in self.fields)
            if unknown:
                raise ValidationError({k: [ErrorDetail("Unknown field.", code="unknown_field")] for k in unknown})
        return super().to_internal_value(data)


def text_ok(text: str) -> bool:
    """PostgreSQL refuses NUL in text and jsonb, and psycopg cannot encode lone surrogates
    (JSON allows ``"\\ud800"``); either would surface as a 500 at the database."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def no_bad_text(value: str) -> None:
    if isinstance(value, str) and not text_ok(value):
        raise ValidationError("Text must be valid Unicode without NUL characters.", code="invalid")


class TextField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(no_bad_text)


def _problems(value: Any, path: str, depth: int) -> list[tuple[str, str]]:
    if depth > MAX_DEPTH:
        return [(path, f"Nested deeper than {MAX_DEPTH} levels.")]
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, str):
        return [] if text_ok(value) else [(path, "Text must be valid Unicode without NUL characters.")]
    if isinstance(value, int):
        return [] if -MAX_INT - 1 <= value <= MAX_INT else [(path, "Integer out of range (64-bit signed).")]
    if isinstance(value, float):
        return [] if value == value and value not in (float("inf"), float("-inf")) else [(path, "Not a finite number.")]
    if isinstance(value, list):
        out = []
        for index, item in enumerate(value):
            out += _problems(item, f"{path}.{index}", depth + 1)
        return out
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            if not text_ok(str(key)):
                out.append((path, "Names must be valid Unicode without NUL characters."))
                continue
            out += _problems(item, f"{path}.{key}", depth + 1)
        return out
    return [(path, "Not a JSON value.")]


class VariablesField(serializers.JSONField):
    """A JSON object of process variables: identifier names not starting with ``_``
    (the engine reserves those), 64-bit integers, bounded depth and size."""

    default_error_messages = {"not_object": "Must be a JSON object."}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", dict)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.fail("not_object")
        errors: dict[str, list[str]] = {}
        for key, value in data.items():
            if not text_ok(key) or not key.isidentifier() or key.startswith("_"):
                errors.setdefault(key, []).append("Variable names must be identifiers not starting with '_'.")
                continue
            for path, message in _problems(value, key, 1):
                errors.setdefault(path, []).append(message)
        if errors:
            raise ValidationError(errors)
        if len(json.dumps(data, ensure_ascii=False).encode()) > MAX_VARIABLES_BYTES:
            raise ValidationError(f"Larger than {MAX_VARIABLES_BYTES // 1024} KiB.")
        return data


class CorrelationKeyField(serializers.JSONField):
    """A message's correlation value: a string, number or boolean (``42`` matches ``"42"``)."""

    default_error_messages = {"scalar": "Must be a string, a number or a boolean.",
                              "too_long": f"At most {MAX_CORRELATION_CHARS} characters."}

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if data is None:
            return None
        if isinstance(data, (dict, list)):
            self.fail("scalar")
        if _problems(data, "", 1):
            self.fail("scalar")
        if len(data if isinstance(data, str) else json.dumps(data)) > MAX_CORRELATION_CHARS:
            self.fail("too_long")
        return data


class BoundedIntegerField(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_INT)
        super().__init__(**kwargs)


def parse_id(raw: Any) -> int | None:
    """A path id as an int, or None when it cannot name a row (``-1``, ``1e9``, 30 digits)."""
    text = str(raw)
    if not text.isdigit() or not text.isascii() or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_INT else None
