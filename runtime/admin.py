"""Admin for the runtime: instances with their history, tokens and tasks; operator actions.

Everything an instance owns is read-only here: rows change only through the services (and
so through the store's transition tables and history); the actions call those services.
"""
from __future__ import annotations

from django.contrib import admin, messages

from runtime import models


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HistoryInline(ReadOnlyInline):
    model = models.HistoryEvent
    fields = ("seq", "timestamp", "type", "node_id", "token_id", "actor", "from_state", "to_state", "data")
    readonly_fields = fields
    ordering = ("seq",)
    verbose_name_plural = "history"


class TokenInline(ReadOnlyInline):
    model = models.Token
    fields = ("token_id", "node_id", "scope", "state", "loop", "since")
    readonly_fields = fields


class HumanTaskInline(ReadOnlyInline):
    model = models.HumanTask
    fields = ("name", "node_id", "state", "assignee", "priority", "due_at", "created_at", "completed_by")
    readonly_fields = fields
    show_change_link = True


class IncidentInline(ReadOnlyInline):
    model = models.Incident
    fields = ("state", "node_id", "error_code", "message", "attempts", "created_at", "resolved_at")
    readonly_fields = fields


def _run_action(modeladmin, request, queryset, service_name: str, verb: str):
    from runtime import services

    service = getattr(services, service_name)
    done, failed = 0, []
    for instance in queryset:
        try:
            service(instance=instance, user=request.user)
            done += 1
        except services.RuntimeServiceError as exc:
            failed.append(f"#{instance.pk}: {exc}")
    if done:
        modeladmin.message_user(request, f"{verb} {done} instance(s).", messages.SUCCESS)
    for line in failed:
        modeladmin.message_user(request, line, messages.WARNING)


@admin.register(models.ProcessInstance)
class ProcessInstanceAdmin(admin.ModelAdmin):
    list_display = ("id", "version", "business_key", "status", "has_incident", "started_by", "started_at", "ended_at")
    list_filter = ("status", "has_incident", "version__definition")
    search_fields = ("business_key", "=id")
    list_select_related = ("version__definition", "started_by")
    date_hierarchy = "started_at"
    readonly_fields = (
        "version", "business_key", "status", "variables", "parent", "parent_token", "parent_wait", "started_by",
        "started_at", "updated_at", "ended_at", "has_incident", "incident_count", "history_seq", "state_format", "state",
    )
    fieldsets = (
        (None, {"fields": ("version", "business_key", "status", "has_incident", "incident_count", "variables")}),
        ("Lineage", {"fields": ("parent", "parent_token", "parent_wait", "started_by")}),
        ("Times", {"fields": ("started_at", "updated_at", "ended_at")}),
        ("Engine", {"classes": ("collapse",), "fields": ("history_seq", "state_format", "state")}),
    )
    inlines = [TokenInline, HumanTaskInline, IncidentInline, HistoryInline]
    actions = ["suspend", "resume", "cancel", "retry_incidents"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.action(description="Suspend selected instances", permissions=["change"])
    def suspend(self, request, queryset):
        _run_action(self, request, queryset, "instance_suspend", "Suspended")

    @admin.action(description="Resume selected instances", permissions=["change"])
    def resume(self, request, queryset):
        _run_action(self, request, queryset, "instance_resume", "Resumed")

    @admin.action(description="Cancel selected instances", permissions=["change"])
    def cancel(self, request, queryset):
        _run_action(self, request, queryset, "instance_cancel", "Cancelled")

    @admin.action(description="Retry open incidents of selected instances", permissions=["change"])
    def retry_incidents(self, request, queryset):
        _run_action(self, request, queryset, "instance_retry", "Retried")


@admin.register(models.HumanTask)
class HumanTaskAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "instance", "state", "assignee", "priority", "due_at", "created_at")
    list_filter = ("state", "instance__version__definition", "candidate_groups")
    search_fields = ("name", "node_id", "instance__business_key", "assignee__username")
    list_select_related = ("instance__version__definition", "assignee")
    raw_id_fields = ("instance",)
    readonly_fields = [f.name for f in models.HumanTask._meta.fields] + ["candidate_user_names", "candidate_group_names"]
    exclude = ("candidate_users", "candidate_groups")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="candidate users")
    def candidate_user_names(self, obj):
        return ", ".join(u.get_username() for u in obj.candidate_users.all())

    @admin.display(description="candidate groups")
    def candidate_group_names(self, obj):
        return ", ".join(g.name for g in obj.candidate_groups.all())


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ("id", "instance", "node_id", "state", "error_code", "message", "attempts", "created_at")
    list_filter = ("state",)
    search_fields = ("message", "node_id", "instance__business_key")
    raw_id_fields = ("instance", "service_call")


@admin.register(models.TimerJob)
class TimerJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "version", "instance", "node_id", "due_at", "state", "fired_count")
    list_filter = ("state",)
    raw_id_fields = ("instance", "version")


@admin.register(models.ServiceCall)
class ServiceCallAdmin(ReadOnlyAdmin):
    list_display = ("id", "instance", "node_id", "state", "attempt", "max_attempts", "next_attempt_at", "last_error")
    list_filter = ("state",)
    search_fields = ("idempotency_key", "node_id")
    raw_id_fields = ("instance",)


@admin.register(models.MessageSubscription)
class MessageSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "name", "correlation", "instance", "node_id", "created_at")
    list_filter = ("kind",)
    search_fields = ("name", "correlation")
    raw_id_fields = ("instance",)


@admin.register(models.HistoryEvent)
class HistoryEventAdmin(ReadOnlyAdmin):
    list_display = ("instance", "seq", "timestamp", "type", "node_id", "token_id", "actor", "from_state", "to_state")
    list_filter = ("type",)
    search_fields = ("=instance__id", "instance__business_key", "node_id")
    raw_id_fields = ("instance",)

    def has_delete_permission(self, request, obj=None):
        return False
