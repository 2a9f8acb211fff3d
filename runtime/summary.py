"""Home-page tiles of the runtime: `home_tiles(request)` collects one tile per function in
TILES, so each area adds its own small function without touching the others."""
from __future__ import annotations

from django.urls import reverse
from django.utils.http import urlencode


def instances_tile(request) -> dict | None:
    from runtime.monitoring import tile_counts

    counts = tile_counts(user=request.user)
    text = f"{counts['running']} running"
    if counts["incidents"]:
        text += f", {counts['incidents']} with incidents"
    text += ". Watch tokens move, read the history, retry incidents."
    return {"title": "Instances", "url": reverse("instances"), "text": text,
            "counts": counts, "incident_url": reverse("instances") + "?" + urlencode({"incident": "1"})}


def inbox_tile(request) -> dict | None:
    from runtime.inbox import badge_count, badge_label

    count = badge_count(user=request.user)
    text = (f"{badge_label(count)} task{'s' if count != 1 else ''} waiting for you or your groups."
            if count else "Nothing waiting for you. Claimed and group tasks show up here.")
    return {"title": "Inbox", "url": reverse("inbox"), "text": text}


TILES = (inbox_tile, instances_tile)


def home_tiles(request) -> list[dict]:
    return [tile for tile in (make(request) for make in TILES) if tile]
