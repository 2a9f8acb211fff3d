"""Template context for every page: the inbox badge in the navigation.

The count is lazy: it runs only when a template prints ``inbox_count`` (the full pages
through base.html), never for htmx fragments that do not show the navigation.
"""
from __future__ import annotations

from django.utils.functional import lazy


def inbox(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def label() -> str:
        from runtime.inbox import badge_count, badge_label

        return badge_label(badge_count(user=user))

    return {"inbox_count": lazy(label, str)()}
