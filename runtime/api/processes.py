"""``/api/processes/``: deploy BPMN and list definitions with their versions."""
from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from designer.bpmn import MAX_BYTES
from designer.models import ProcessDefinition, ProcessVersion
from designer.services import version_deploy
from runtime.api.base import ApiMixin
from runtime.api.errors import FieldError
from runtime.api.permissions import CanDeploy
from runtime.api.schema import PROCESS_EXAMPLE, ApiPagination, errors, example
from runtime.api.serializers import (DeployJsonSerializer, DeployResultSerializer, DeployUploadSerializer,
                                     ProcessDefinitionSerializer)

DEPLOY_EXAMPLE = {"key": "loan_approval", "version": 2, "id": 5, "created": True, "warnings": []}
DEPLOY_ERROR_EXAMPLE = {"errors": [
    {"element": "Flow_approved", "message": "name 'desicion' is not defined", "code": "expr.E002",
     "hint": "use a process variable or a form field key", "severity": "error"},
]}


@extend_schema_view(
    list=extend_schema(summary="Process definitions with their versions", responses={200: ProcessDefinitionSerializer(many=True), **errors()},
                       examples=[example("definitions", PROCESS_EXAMPLE)]),
    retrieve=extend_schema(summary="One process definition with its versions", responses={200: ProcessDefinitionSerializer, **errors(404)},
                           examples=[example("definition", PROCESS_EXAMPLE)]),
)
class ProcessViewSet(ApiMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ProcessDefinitionSerializer
    pagination_class = ApiPagination
    parser_classes = [JSONParser]
    filter_backends: list = []
    lookup_field = "key"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        versions = ProcessVersion.objects.select_related("deployed_by").defer("xml", "compiled").order_by("-number")
        return ProcessDefinition.objects.prefetch_related(Prefetch("versions", queryset=versions)).order_by("key")

    @extend_schema(
        summary="Deploy a BPMN file as the next version of its process",
        description=("Send the XML as multipart `file` or as JSON `{\"xml\": ...}`. 201 with the new version; "
                     "200 with the latest version when the XML equals it; 400 lists the findings by BPMN element. "
                     "Warnings refuse the deploy unless `accept_warnings` is true. Needs staff status or the "
                     "`designer.add_processversion` permission."),
        request={"application/json": DeployJsonSerializer, "multipart/form-data": DeployUploadSerializer},
        responses={201: DeployResultSerializer, 200: DeployResultSerializer, **errors(400, 403, 409, 413, 415)},
        examples=[
            example("deployed", DEPLOY_EXAMPLE, status=201),
            example("identical XML", {**DEPLOY_EXAMPLE, "created": False}, status=200),
            example("findings", DEPLOY_ERROR_EXAMPLE, status=400),
            example("json body", {"xml": "<?xml version=\"1.0\"?><bpmn:definitions …/>", "accept_warnings": False},
                    request=True),
        ],
    )
    @action(detail=False, methods=["post"], permission_classes=[CanDeploy], parser_classes=[JSONParser, MultiPartParser])
    def deploy(self, request):
        if (request.content_type or "").startswith("multipart/"):
            form = DeployUploadSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            upload = form.validated_data["file"]
            if upload.size > MAX_BYTES:
                raise FieldError("file", f"BPMN files may be at most {MAX_BYTES // (1024 * 1024)} MiB")
            xml = upload.read()
        else:
            form = DeployJsonSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            xml = form.validated_data["xml"]
        result = version_deploy(xml=xml, user=request.user, accept_warnings=form.validated_data["accept_warnings"])
        version = result.version
        body = {"key": version.definition.key, "version": version.number, "id": version.pk,
                "created": result.created, "warnings": result.warnings or []}
        return Response(DeployResultSerializer(body).data, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

