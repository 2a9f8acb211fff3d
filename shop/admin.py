from django.contrib import admin

from .models import Call, Effect, Fault


@admin.register(Effect)
class EffectAdmin(admin.ModelAdmin):
    list_display = ["id", "operation", "order_id", "idempotency_key", "created_at"]
    list_filter = ["operation"]
    search_fields = ["order_id", "idempotency_key"]


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["id", "operation", "order_id", "status_code", "outcome", "idempotency_key", "created_at"]
    list_filter = ["operation", "outcome"]
    search_fields = ["order_id", "idempotency_key"]


@admin.register(Fault)
class FaultAdmin(admin.ModelAdmin):
    list_display = ["operation", "status", "remaining", "delay", "after_effect"]
