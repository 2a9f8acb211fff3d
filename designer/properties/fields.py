"""Form fields for the Flowyard extension's value kinds, checked the way deploy checks them.

Each field cleans to the exact text written into the XML ('' means "remove the
attribute"), so the panel can never write something the compiler would later refuse
for the same reason.
"""
from __future__ import annotations

import json
import re

from django import forms
from django.core.exceptions import ValidationError

from designer.bpmn.values import parse_duration, parse_moment, timer_problem
from runtime.engine.expressions import ExpressionError, compile_expression

IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
# XML NCName, restricted to what BPMN tools actually produce (letters, digits, _ - .).
NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def check_expression(text: str) -> str:
    try:
        compile_expression(text)
    except ExpressionError as exc:
        raise ValidationError(str(exc)) from None
    return text


def check_value(text: str, literal_check=None) -> str:
    """A VALUE: literal, or '=expression'. ``literal_check`` validates literals."""
    if text.startswith("="):
        if not text[1:].strip():
            raise ValidationError("'=' must be followed by an expression")
        check_expression(text[1:])
    elif literal_check is not None:
        literal_check(text)
    return text


def check_duration(text: str) -> None:
    try:
        parse_duration(text)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def check_due_date(text: str) -> None:
    try:
        parse_duration(text) if text.startswith("P") else parse_moment(text)
    except ValueError as exc:
        raise ValidationError(str(exc).replace("date-time", "date-time, or a duration such as P2D")) from None


def check_priority(text: str) -> None:
    if not (text.isdigit() and 0 <= int(text) <= 100):
        raise ValidationError("priority must be a whole number from 0 to 100 (or =expression)")


def check_headers(text: str) -> None:
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ValidationError('headers must be a JSON object such as {"Accept": "application/json"}')


def check_url(text: str) -> None:
    if not re.match(r"^https?://\S+$", text):
        raise ValidationError("URL must start with http:// or https:// (or be an =expression)")


def check_timer(kind: str, text: str) -> None:
    problem = timer_problem({"type": kind, "value": text})
    if problem:
        raise ValidationError(problem)


class TextField(forms.CharField):
    """Optional, stripped text; '' means absent."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)


class ExpressionField(TextField):
    """Always an expression (conditions, mapping expressions, loop cardinality...)."""

    def clean(self, value):
        value = super().clean(value)
        return check_expression(value) if value else value


class ValueField(TextField):
    """A flowyard VALUE: a literal unless it starts with '='."""

    def __init__(self, *args, literal_check=None, **kwargs):
        self.literal_check = literal_check
        kwargs.setdefault("help_text", "literal, or =expression")
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return check_value(value, self.literal_check) if value else value


class DurationField(TextField):
    def clean(self, value):
        value = super().clean(value)
        if value:
            check_duration(value)
        return value


class IdentifierField(TextField):
    def clean(self, value):
        value = super().clean(value)
        if value and not IDENTIFIER.match(value):
            raise ValidationError(f"{value!r} is not a variable name (letters, digits and '_', starting with a letter)")
        return value


class DottedPathField(TextField):
    def clean(self, value):
        value = super().clean(value)
        if value and not DOTTED.match(value):
            raise ValidationError(f"{value!r} is not a dotted path such as 'shop.handlers.reserve'")
        return value
