"""Request and response shapes of the REST contract (docs: /api/docs/).

Responses are read-only serializers over the models; requests are ``StrictSerializer``s
that name unknown keys. Both double as the OpenAPI schema drf-spectacular publishes, so
the documentation cannot drift from what the views send.
"""
from __future__ import annotations

from rest_framework import serializers

from designer.models import ProcessDefinition, ProcessVersion
from runtime.api.fields import (BoundedIntegerField, CorrelationKeyField, StrictSerializer, TextField,
                                VariablesField)
from runtime.models import HistoryEvent, HumanTask, Incident, ProcessInstance, Token

# -- errors -------------------------------------------------------------------------------


class ErrorItemSerializer(serializers.Serializer):
    message = serializers.CharField()
    code = serializers.CharField()
    field = serializers.CharField(required=False, help_text="dotted path into the request body, or a query parameter")
    element = serializers.CharField(required=False, allow_null=True, help_text="BPMN element id (deploy findings)")
    hint = serializers.CharField(required=False)
    severity = serializers.CharField(required=False)


class ErrorSerializer(serializers.Serializer):
    errors = ErrorItemSerializer(many=True)


# -- processes ----------------------------------------------------------------------------


class ProcessVersionSerializer(serializers.ModelSerializer):
    deployed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    warnings = serializers.ListField(child=serializers.DictField(), read_only=True)

    class Meta:
        model = ProcessVersion
        fields = ["id", "number", "checksum", "deployed_at", "deployed_by", "warnings"]
        read_only_fields = fields


class ProcessDefinitionSerializer(serializers.ModelSerializer):
    latest_version = serializers.SerializerMethodField()
    versions = ProcessVersionSerializer(many=True, read_only=True)

    class Meta:
        model = ProcessDefinition
        fields = ["key", "name", "latest_version", "versions", "created_at", "updated_at"]
        read_only_fields = fields

    def get_latest_version(self, definition) -> int | None:
        numbers = [v.number for v in definition.versions.all()]  # prefetched, newest first
        return max(numbers) if numbers else None


class DeployJsonSerializer(StrictSerializer):
    xml = TextField(trim_whitespace=False, help_text="the BPMN 2.0 XML document")
    accept_warnings = serializers.BooleanField(default=False, help_text="deploy even when validation warns")


class DeployUploadSerializer(StrictSerializer):
    file = serializers.FileField(help_text="the BPMN 2.0 XML file")
    accept_warnings = serializers.BooleanField(default=False)


class DeployResultSerializer(serializers.Serializer):
    key = serializers.CharField()
    version = serializers.IntegerField()
    id = serializers.IntegerField()
    created = serializers.BooleanField(help_text="false when the XML equals the latest version (answered with 200)")
    warnings = serializers.ListField(child=serializers.DictField())


# -- instances ----------------------------------------------------------------------------


class TokenSerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="node_id")

    class Meta:
        model = Token
        fields = ["node", "state", "since"]
        read_only_fields = fields


class IncidentSerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="node_id")

    class Meta:
        model = Incident
        fields = ["id", "node", "message", "error_code", "attempts", "state", "created_at", "resolved_at"]
        read_only_fields = fields


class InstanceSerializer(serializers.ModelSerializer):
    process = serializers.CharField(source="version.definition.key")
    version = serializers.IntegerField(source="version.number")
    started_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    parent = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    variables = serializers.DictField()
    tokens = TokenSerializer(many=True, read_only=True)
    incidents = IncidentSerializer(many=True, read_only=True)

    class Meta:
        model = ProcessInstance
        fields = ["id", "process", "version", "status", "business_key", "variables", "tokens", "incidents",
                  "has_incident", "started_by", "started_at", "ended_at", "parent", "history_seq"]
        read_only_fields = fields


class InstanceRefSerializer(serializers.ModelSerializer):
    process = serializers.CharField(source="version.definition.key")
    version = serializers.IntegerField(source="version.number")

    class Meta:
        model = ProcessInstance
        fields = ["id", "process", "version", "status", "business_key"]
        read_only_fields = fields


class InstanceStartSerializer(StrictSerializer):
    process = TextField(max_length=200, help_text="the process key (BPMN process id)")
    version = BoundedIntegerField(required=False, allow_null=True, help_text="a version number; latest when absent")
    business_key = TextField(max_length=200, required=False, allow_blank=True, default="")
    variables = VariablesField(help_text="start variables, a JSON object")


class InstanceCancelSerializer(StrictSerializer):
    reason = TextField(max_length=500, required=False, allow_blank=True, default="")


class HistoryEventSerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="node_id")
    token = serializers.CharField(source="token_id")
    data = serializers.DictField()

    class Meta:
        model = HistoryEvent
        fields = ["seq", "type", "node", "token", "actor", "from_state", "to_state", "data", "timestamp"]
        read_only_fields = fields


# -- human tasks --------------------------------------------------------------------------


class FormFieldSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField(required=False, allow_blank=True)
    type = serializers.ChoiceField(choices=["string", "number", "boolean", "date", "enum"])
    required = serializers.BooleanField(default=False)
    choices = serializers.ListField(child=serializers.CharField(), allow_null=True, required=False)
    default = serializers.JSONField(allow_null=True, required=False)
    help = serializers.CharField(allow_null=True, required=False)


class TaskSerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="node_id")
    instance = serializers.PrimaryKeyRelatedField(read_only=True)
    process = serializers.CharField(source="instance.version.definition.key")
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    completed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    candidate_users = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    candidate_groups = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    form = FormFieldSerializer(many=True, read_only=True)
    submitted = serializers.DictField(allow_null=True, read_only=True)

    class Meta:
        model = HumanTask
        fields = ["id", "instance", "process", "node", "name", "state", "assignee", "candidate_users",
                  "candidate_groups", "open_to_all", "priority", "due_at", "created_at", "claimed_at",
                  "completed_at", "completed_by", "form", "submitted"]
        read_only_fields = fields


class TaskCompleteSerializer(StrictSerializer):
    variables = VariablesField(help_text="the form's field values (any variables when the task has no form)")


# -- messages and signals -----------------------------------------------------------------


class MessageSerializer(StrictSerializer):
    name = TextField(max_length=300, help_text="the BPMN message name")
    correlation_key = CorrelationKeyField(required=False, allow_null=True, default=None,
                                          help_text="the value the waiting element's correlationKey took")
    variables = VariablesField()
    business_key = TextField(max_length=200, required=False, allow_blank=True, default="",
                             help_text="for instances a message start event creates")


class CorrelationSerializer(serializers.Serializer):
    name = serializers.CharField()
    matched = InstanceRefSerializer(many=True, help_text="instances whose wait took the message")
    started = InstanceRefSerializer(many=True, help_text="instances a message start event created")


class SignalSerializer(StrictSerializer):
    name = TextField(max_length=300, help_text="the BPMN signal name")
    variables = VariablesField()


class SignalResultSerializer(CorrelationSerializer):
    count = serializers.IntegerField(help_text="waits triggered plus instances started")
