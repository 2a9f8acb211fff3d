"""Admin for definitions and their immutable deployed versions."""
from __future__ import annotations

from django.contrib import admin
from django.db.models import Count

from designer.models import Draft, ProcessDefinition, ProcessVersion


class VersionInline(admin.TabularInline):
    model = ProcessVersion
    fields = ("number", "deployed_at", "deployed_by", "checksum")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("-number",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ProcessDefinition)
class ProcessDefinitionAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "owner", "version_count", "updated_at")
    search_fields = ("key", "name")
    readonly_fields = ("created_at", "updated_at")
    inlines = [VersionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_versions=Count("versions"))

    @admin.display(description="versions", ordering="_versions")
    def version_count(self, obj):
        return obj._versions


@admin.register(ProcessVersion)
class ProcessVersionAdmin(admin.ModelAdmin):
    """Versions are immutable: visible, never edited; deploy through the designer or the API."""

    list_display = ("definition", "number", "deployed_by", "deployed_at")
    list_filter = ("definition",)
    search_fields = ("definition__key", "checksum")
    list_select_related = ("definition", "deployed_by")
    readonly_fields = ("definition", "number", "checksum", "deployed_by", "deployed_at", "warnings", "xml", "compiled")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Draft)
class DraftAdmin(admin.ModelAdmin):
    list_display = ("definition", "updated_by", "updated_at")
    readonly_fields = ("updated_at",)
    raw_id_fields = ("definition",)
