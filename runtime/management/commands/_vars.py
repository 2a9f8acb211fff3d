"""`--var k=v` parsing shared by the runtime's commands: values are JSON when they parse
(`n=3`, `ok=true`, `items=[1,2]`, `s="3"`), plain strings otherwise (`name=Ada`)."""
from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def parse_vars(pairs: list[str] | None) -> dict:
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise CommandError(f"--var expects name=value, got {pair!r}")
        name, raw = pair.split("=", 1)
        name = name.strip()
        if not name.isidentifier():
            raise CommandError(f"variable name {name!r} is not an identifier")
        try:
            out[name] = json.loads(raw)
        except ValueError:
            out[name] = raw
    return out


def get_user(username: str | None):
    if not username:
        return None
    User = get_user_model()
    try:
        return User.objects.get(**{User.USERNAME_FIELD: username})
    except User.DoesNotExist:
        raise CommandError(f"no user {username!r}") from None
