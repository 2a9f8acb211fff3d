"""Query-string filters (django-filter): a bad value is a 400 naming the parameter."""
from __future__ import annotations

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

from runtime.models import HumanTask, HumanTaskState, InstanceStatus, ProcessInstance
from runtime.selectors import ACTIVE_TASK_STATES

FLAG_CHOICES = [("1", "yes"), ("true", "yes"), ("0", "no"), ("false", "no")]


@extend_schema_field({"type": "string", "enum": [value for value, _ in FLAG_CHOICES]})
class FlagFilter(django_filters.Filter):
    """``?mine=1`` / ``?mine=true`` / ``0`` / ``false``; anything else is a 400."""

    field_class = forms.TypedChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", FLAG_CHOICES)
        kwargs.setdefault("coerce", lambda v: v in ("1", "true"))
        kwargs.setdefault("empty_value", None)
        super().__init__(*args, **kwargs)


class IntFilter(django_filters.Filter):
    field_class = forms.IntegerField


class InstanceFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=InstanceStatus.choices)
    process = django_filters.CharFilter(field_name="version__definition__key", max_length=200,
                                        help_text="process key")
    version = IntFilter(field_name="version__number", min_value=1, max_value=2**31 - 1)
    business_key = django_filters.CharFilter(max_length=200)
    has_incident = FlagFilter(method="filter_has_incident")

    class Meta:
        model = ProcessInstance
        fields = ["status", "process", "version", "business_key", "has_incident"]

    def filter_has_incident(self, queryset, name, value):
        return queryset if value is None else queryset.filter(has_incident=value)


TASK_STATES = [("active", "open or claimed (default)"), ("all", "every state")] + list(HumanTaskState.choices)


class TaskFilter(django_filters.FilterSet):
    """``state`` defaults to the active ones (open, claimed), as the inbox does."""

    state = django_filters.ChoiceFilter(choices=TASK_STATES, method="filter_state")
    mine = FlagFilter(method="filter_mine", help_text="1: only tasks assigned to me")
    process = django_filters.CharFilter(field_name="instance__version__definition__key", max_length=200)
    instance = IntFilter(field_name="instance_id", min_value=1, max_value=2**63 - 1)

    class Meta:
        model = HumanTask
        fields = ["state", "mine", "process", "instance"]

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("state"):
            queryset = queryset.filter(state__in=ACTIVE_TASK_STATES)
        return super().filter_queryset(queryset)

    def filter_state(self, queryset, name, value):
        if value == "active":
            return queryset.filter(state__in=ACTIVE_TASK_STATES)
        return queryset if value == "all" else queryset.filter(state=value)

    def filter_mine(self, queryset, name, value):
        return queryset.filter(assignee_id=self.request.user.pk) if value else queryset
