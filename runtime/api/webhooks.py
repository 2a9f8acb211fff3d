"""``/api/webhooks/``: subscriptions that receive signed POSTs for instance events.

The secret is write-only: the subscriber chooses it and keeps it; the API never echoes it.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser

from runtime.api.base import ApiMixin
from runtime.api.fields import StrictSerializer, TextField, parse_id
from runtime.api.permissions import ManagesWebhooks
from runtime.api.schema import ApiPagination, errors, example
from webhooks.models import Webhook, WebhookEvent

WEBHOOK_EXAMPLE = {"id": 3, "url": "https://billing.example.com/flowyard", "events": ["instance.completed"],
                   "process_key": "loan_approval", "active": True, "description": "book approved loans",
                   "created_by": "admin", "created_at": "2026-01-05T09:00:00Z"}


class WebhookSerializer(StrictSerializer, serializers.ModelSerializer):
    url = serializers.URLField(max_length=1000, help_text="http(s) URL that receives the POSTs")
    secret = TextField(write_only=True, min_length=16, max_length=200,
                       help_text="HMAC-SHA256 key for X-Flowyard-Signature; never returned")
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.values), required=False,
                                   max_length=len(WebhookEvent.values), help_text="empty: every event")
    process_key = TextField(max_length=200, required=False, allow_blank=True, help_text="empty: every process")
    description = TextField(max_length=300, required=False, allow_blank=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Webhook
        fields = ["id", "url", "secret", "events", "process_key", "active", "description", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]

    def validate_url(self, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https"):
            raise serializers.ValidationError("Use an http or https URL.")
        return value

    def validate_events(self, value: list[str]) -> list[str]:
        return sorted(set(value))


@extend_schema_view(
    list=extend_schema(summary="Webhook subscriptions", responses={200: WebhookSerializer(many=True), **errors(403)},
                       examples=[example("webhooks", WEBHOOK_EXAMPLE)]),
    retrieve=extend_schema(summary="One webhook subscription", responses={200: WebhookSerializer, **errors(403, 404)},
                           examples=[example("webhook", WEBHOOK_EXAMPLE)]),
    create=extend_schema(summary="Subscribe a URL to instance events",
                         description=("Events: `instance.completed`, `instance.failed`, `instance.incident`. Each "
                                      "POST carries `X-Flowyard-Signature: sha256=<hex>` (HMAC-SHA256 of the raw "
                                      "body with the secret), `X-Flowyard-Event` and `X-Flowyard-Delivery`; failed "
                                      "POSTs are retried with exponential backoff."),
                         responses={201: WebhookSerializer, **errors(400, 403)},
                         examples=[example("subscribe", {"url": "https://billing.example.com/flowyard",
                                                         "secret": "a-long-random-shared-secret",
                                                         "events": ["instance.completed"],
                                                         "process_key": "loan_approval"}, request=True),
                                   example("created", WEBHOOK_EXAMPLE, status=201)]),
    update=extend_schema(summary="Replace a webhook subscription", responses={200: WebhookSerializer, **errors(400, 403, 404)}),
    partial_update=extend_schema(summary="Change a webhook subscription", responses={200: WebhookSerializer, **errors(400, 403, 404)}),
    destroy=extend_schema(summary="Delete a webhook subscription", responses={204: None, **errors(403, 404)}),
)
class WebhookViewSet(ApiMixin, viewsets.ModelViewSet):
    serializer_class = WebhookSerializer
    permission_classes = [ManagesWebhooks]
    pagination_class = ApiPagination
    parser_classes = [JSONParser]
    filter_backends: list = []
    queryset = Webhook.objects.select_related("created_by").order_by("id")
    lookup_value_regex = "[^/]+"

    def get_object(self):
        pk = parse_id(self.kwargs.get("pk"))
        obj = self.get_queryset().filter(pk=pk).first() if pk is not None else None
        if obj is None:
            raise NotFound("no such webhook")
        return obj

    def perform_create(self, serializer):
        serializer.save(created_by=self.request.user)
