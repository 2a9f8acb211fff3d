"""Process definitions, their editable drafts and their immutable deployed versions."""
from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models


class ProcessDefinition(models.Model):
    """A process, identified by its BPMN process id (the key users start it by)."""

    key = models.CharField(max_length=200, unique=True, help_text="BPMN process id")
    name = models.CharField(max_length=300, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name or self.key

    @property
    def latest_version(self) -> "ProcessVersion | None":
        return self.versions.order_by("-number").first()


class Draft(models.Model):
    """The latest editable XML of a definition, autosaved by the designer."""

    definition = models.OneToOneField(ProcessDefinition, on_delete=models.CASCADE, related_name="draft")
    xml = models.TextField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"draft of {self.definition.key}"


class ProcessVersion(models.Model):
    """An immutable deployed version: the XML as uploaded and its compiled graph."""

    definition = models.ForeignKey(ProcessDefinition, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    xml = models.TextField()
    compiled = models.JSONField(help_text="compiled graph, see docs/compiled-graph.md")
    checksum = models.CharField(max_length=64, db_index=True)
    warnings = models.JSONField(default=list, blank=True)
    deployed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    deployed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["definition__key", "-number"]
        constraints = [models.UniqueConstraint(fields=["definition", "number"], name="unique_version_number")]

    def __str__(self) -> str:
        return f"{self.definition.key} v{self.number}"

    @staticmethod
    def checksum_of(xml: str) -> str:
        return hashlib.sha256(xml.encode("utf-8")).hexdigest()

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ValueError("process versions are immutable once deployed")
        super().save(*args, **kwargs)
