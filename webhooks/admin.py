"""Admin: register webhooks, watch and re-send their deliveries."""
from __future__ import annotations

from django.contrib import admin
from django.db import transaction
from django.utils import timezone

from webhooks import services
from webhooks.models import DeliveryStatus, Webhook, WebhookDelivery


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ("event", "instance_id", "status", "attempts", "last_status_code", "next_attempt_at", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("-id",)
    max_num = 0

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-id")


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("url", "process_key", "events", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("url", "process_key", "description")
    readonly_fields = ("created_by", "created_at")
    inlines = [DeliveryInline]

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "webhook", "event", "instance_id", "status", "attempts", "last_status_code", "created_at")
    list_filter = ("status", "event")
    search_fields = ("instance_id",)
    readonly_fields = ("webhook", "event", "instance_id", "payload", "status", "attempts", "max_attempts",
                       "next_attempt_at", "last_status_code", "last_error", "created_at", "delivered_at")
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Deliver again (a fresh round of attempts)")
    def redeliver(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        queryset.update(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now())
        transaction.on_commit(lambda: services.send(ids))
        self.message_user(request, f"{len(ids)} deliveries queued again.")
