"""``/api/instances/``, ``/api/tasks/``, ``/api/messages/``, ``/api/signals/``.

Views are thin: validate the request with a serializer, call one service, answer with the
row re-read through the caller's visibility. The services own every rule (who may act, which
transitions are legal) and raise exceptions that runtime/api/errors.py turns into statuses.
"""
from __future__ import annotations

from django.db.models import Prefetch, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from designer.models import ProcessVersion
from runtime import selectors, services
from runtime.api.base import ApiMixin
from runtime.api.errors import FieldError
from runtime.api.fields import parse_id
from runtime.api.filters import InstanceFilter, TaskFilter
from runtime.api.schema import INSTANCE_EXAMPLE, TASK_EXAMPLE, ApiPagination, errors, example
from runtime.api.serializers import (CorrelationSerializer, HistoryEventSerializer, InstanceCancelSerializer,
                                     InstanceSerializer, InstanceStartSerializer, MessageSerializer,
                                     SignalResultSerializer, SignalSerializer, TaskCompleteSerializer, TaskSerializer)
from runtime.models import HumanTask, Incident, ProcessInstance, Token
from runtime.monitoring import visibility as instance_visibility
from runtime.selectors import task_visibility

ID_PARAM = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="the object's id")


class HistoryPagination(ApiPagination):
    default_limit = 500
    max_limit = 1000


class ApiViewSet(ApiMixin, viewsets.GenericViewSet):
    pagination_class = ApiPagination
    parser_classes = [JSONParser]
    lookup_value_regex = "[^/]+"  # any junk id reaches get_object() and gets a JSON 404
    not_found = "not found"

    def get_object(self):
        pk = parse_id(self.kwargs.get("pk"))
        obj = self.get_queryset().filter(pk=pk).first() if pk is not None else None
        if obj is None:
            raise NotFound(self.not_found)
        return obj


# -- instances ----------------------------------------------------------------------------

def instances_with_details():
    return (ProcessInstance.objects.select_related("version__definition", "started_by").defer("state")
            .prefetch_related(Prefetch("tokens", queryset=Token.objects.order_by("since", "id")),
                              Prefetch("incidents", queryset=Incident.objects.order_by("created_at", "id"))))


def _operation(summary: str, description: str, request=None, codes=(403, 404, 409)):
    return extend_schema(summary=summary, description=description, request=request, parameters=[ID_PARAM],
                         responses={200: InstanceSerializer, **errors(*codes)},
                         examples=[example("instance", INSTANCE_EXAMPLE)])


@extend_schema_view(
    list=extend_schema(summary="Instances visible to you, newest first",
                       description="Staff see every instance; others those they started or hold a task in.",
                       responses={200: InstanceSerializer(many=True), **errors(400)},
                       examples=[example("instances", INSTANCE_EXAMPLE)]),
    retrieve=extend_schema(summary="One instance with its tokens and incidents", parameters=[ID_PARAM],
                           responses={200: InstanceSerializer, **errors(404)},
                           examples=[example("instance", INSTANCE_EXAMPLE)]),
)
class InstanceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    queryset = ProcessInstance.objects.none()  # for the schema; rows come from get_queryset()
    serializer_class = InstanceSerializer
    filterset_class = InstanceFilter
    not_found = "no such instance, or it is not yours to see"

    def get_queryset(self):
        return instances_with_details().filter(instance_visibility(self.request.user)).order_by("-id")

    def _answer(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        return Response(InstanceSerializer(instances_with_details().get(pk=pk)).data, status=code)

    @extend_schema(
        summary="Start an instance",
        description="Starts the latest (or the given) version at its none start event; 201 with the instance.",
        request=InstanceStartSerializer,
        responses={201: InstanceSerializer, **errors(400)},
        examples=[example("start", {"process": "loan_approval", "business_key": "APP-1001",
                                    "variables": {"amount": 12000, "income": 4000}}, request=True),
                  example("started", INSTANCE_EXAMPLE, status=201)],
    )
    def create(self, request):
        form = InstanceStartSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            instance = services.instance_start(process_key=data["process"], version=data.get("version"),
                                               variables=data["variables"], business_key=data["business_key"],
                                               user=request.user)
        except services.NotFound as exc:
            known = ProcessVersion.objects.filter(definition__key=data["process"]).exists()
            raise FieldError("version" if known else "process", str(exc), code="not_found") from None
        except services.Conflict as exc:  # no none start event: it starts by message or timer
            raise FieldError("process", str(exc), code="not_startable") from None
        return self._answer(instance.pk, status.HTTP_201_CREATED)

    @extend_schema(summary="The instance's history, oldest first", parameters=[
        ID_PARAM, OpenApiParameter("after", OpenApiTypes.INT, description="only events with a larger seq")],
        responses={200: HistoryEventSerializer(many=True), **errors(400, 404)},
        examples=[example("history", {"seq": 1, "type": "instance.status", "node": "", "token": "",
                                     "actor": "alice", "from_state": "", "to_state": "running",
                                     "data": {}, "timestamp": "2026-01-05T10:00:00Z"})])
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=HistoryPagination)
    def history(self, request, pk=None):
        instance = self.get_object()
        raw = request.query_params.get("after", "") or "0"
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
            raise FieldError("after", "Enter a whole number of at least 0.")
        after = int(raw)
        events = selectors.instance_history(instance=instance, after_seq=after)
        rows = self.paginate_queryset(events)
        return self.get_paginated_response(HistoryEventSerializer(rows, many=True).data)

    def _visible_pk(self) -> int:
        pk = parse_id(self.kwargs.get("pk"))
        if pk is None or not ProcessInstance.objects.filter(instance_visibility(self.request.user), pk=pk).exists():
            raise NotFound(self.not_found)
        return pk

    @_operation("Cancel an instance", "Operators only (superusers or `runtime.change_processinstance`); "
                "409 when the instance has ended.", request=InstanceCancelSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request, pk=None):
        pk = self._visible_pk()
        form = InstanceCancelSerializer(data=request.data if request.data else {})
        form.is_valid(raise_exception=True)
        services.instance_cancel(instance=pk, user=request.user, reason=form.validated_data["reason"])
        return self._answer(pk)

    @_operation("Suspend a running instance", "Operators only; 409 unless the instance is running.")
    @action(detail=True, methods=["post"], filter_backends=[])
    def suspend(self, request, pk=None):
        pk = self._visible_pk()
        services.instance_suspend(instance=pk, user=request.user)
        return self._answer(pk)

    @_operation("Resume a suspended instance", "Operators only; 409 unless the instance is suspended.")
    @action(detail=True, methods=["post"], filter_backends=[])
    def resume(self, request, pk=None):
        pk = self._visible_pk()
        services.instance_resume(instance=pk, user=request.user)
        return self._answer(pk)

    @_operation("Retry the instance's open incidents", "Operators only; 409 when there is no open incident.")
    @action(detail=True, methods=["post"], filter_backends=[])
    def retry(self, request, pk=None):
        pk = self._visible_pk()
        services.instance_retry(instance=pk, user=request.user)
        return self._answer(pk)


# -- human tasks --------------------------------------------------------------------------

def _task_queryset(user):
    """The inbox's rule: tasks the user may work on, plus those they completed."""
    visible = task_visibility(user)
    if visible:  # an empty Q (superusers) would vanish from the OR below and narrow instead of widen
        visible |= Q(completed_by_id=user.pk)
    return (HumanTask.objects.filter(visible)
            .select_related("instance__version__definition", "assignee", "completed_by")
            .prefetch_related("candidate_users", "candidate_groups"))


def _task_action(summary: str, description: str, request=None, codes=(403, 404, 409)):
    return extend_schema(summary=summary, description=description, request=request, parameters=[ID_PARAM],
                         responses={200: TaskSerializer, **errors(*codes)},
                         examples=[example("task", TASK_EXAMPLE)])


@extend_schema_view(
    list=extend_schema(summary="Human tasks visible to you",
                       description="Active (open or claimed) by default; `state=all` for every state, "
                                   "`mine=1` for tasks assigned to you. Highest priority, then oldest, first.",
                       responses={200: TaskSerializer(many=True), **errors(400)},
                       examples=[example("tasks", TASK_EXAMPLE)]),
    retrieve=extend_schema(summary="One task with its form", parameters=[ID_PARAM],
                           responses={200: TaskSerializer, **errors(404)}, examples=[example("task", TASK_EXAMPLE)]),
)
class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    queryset = HumanTask.objects.none()
    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    not_found = "no such task, or it is not yours to see"

    def get_queryset(self):
        return _task_queryset(self.request.user).order_by("-priority", "created_at", "id")

    def _answer(self, pk: int) -> Response:
        return Response(TaskSerializer(_task_queryset(self.request.user).get(pk=pk)).data)

    def _visible_pk(self) -> int:
        """The task's id if the user may see it, else 404. An EXISTS, not ``get_object()``:
        the services reload the task under a lock, and the row with its joins and prefetches
        cost a completion ~5-10 ms before its commit (the push waits for the commit)."""
        pk = parse_id(self.kwargs.get("pk"))
        if pk is None or not _task_queryset(self.request.user).filter(pk=pk).exists():
            raise NotFound(self.not_found)
        return pk

    @_task_action("Claim a task", "Candidates only (403); 409 when someone holds it already.")
    @action(detail=True, methods=["post"], filter_backends=[])
    def claim(self, request, pk=None):
        pk = self._visible_pk()
        services.task_claim(task=pk, user=request.user)
        return self._answer(pk)

    @_task_action("Give a claimed task back to its candidates", "The assignee only (403); 409 unless claimed.")
    @action(detail=True, methods=["post"], filter_backends=[])
    def unclaim(self, request, pk=None):
        pk = self._visible_pk()
        services.task_unclaim(task=pk, user=request.user)
        return self._answer(pk)

    @_task_action("Complete a task with its form's values",
                  "400 lists the form's field errors (`field` is the form field's key); 403 when the task "
                  "is claimed by someone else or you are no candidate; 409 when it is no longer active.",
                  request=TaskCompleteSerializer, codes=(400, 403, 404, 409))
    @action(detail=True, methods=["post"], filter_backends=[])
    def complete(self, request, pk=None):
        pk = self._visible_pk()
        form = TaskCompleteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.task_complete(task=pk, user=request.user, variables=form.validated_data["variables"])
        return self._answer(pk)


# -- messages and signals -----------------------------------------------------------------

class MessageView(ApiMixin, APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Correlate a message",
        description=("Delivers the message to the oldest wait for its name and correlation key (200), else "
                     "starts every process whose message start event has that name (201); 404 when nothing "
                     "waits for it."),
        request=MessageSerializer,
        responses={200: CorrelationSerializer, 201: CorrelationSerializer, **errors(400, 404)},
        examples=[example("quote", {"name": "quote_received", "correlation_key": "REQ-7",
                                    "variables": {"price": 980}}, request=True),
                  example("matched", {"name": "quote_received", "started": [],
                                      "matched": [{"id": 42, "process": "quote_race", "version": 1,
                                                   "status": "running", "business_key": ""}]})],
    )
    def post(self, request):
        form = MessageSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        result = services.message_correlate(name=data["name"], correlation_key=data["correlation_key"],
                                            variables=data["variables"], business_key=data["business_key"],
                                            user=request.user)
        body = {"name": data["name"], "matched": _refs(result.matched), "started": _refs(result.started)}
        code = status.HTTP_200_OK if result.matched else status.HTTP_201_CREATED
        return Response(CorrelationSerializer(body).data, status=code)


class SignalView(ApiMixin, APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        summary="Broadcast a signal",
        description="Triggers every wait for the signal and starts every process with that signal start event.",
        request=SignalSerializer,
        responses={200: SignalResultSerializer, **errors(400)},
        examples=[example("signal", {"name": "quote_timed_out", "variables": {}}, request=True),
                  example("result", {"name": "quote_timed_out", "count": 0, "matched": [], "started": []})],
    )
    def post(self, request):
        form = SignalSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        result = services.signal_broadcast(name=data["name"], variables=data["variables"], user=request.user)
        body = {"name": data["name"], "count": len(result.matched) + len(result.started),
                "matched": _refs(result.matched), "started": _refs(result.started)}
        return Response(SignalResultSerializer(body).data)


def _refs(instances: list[ProcessInstance]) -> list[ProcessInstance]:
    """Re-read with the process key joined (the services hand back bare rows)."""
    if not instances:
        return []
    by_pk = ProcessInstance.objects.select_related("version__definition").defer("state").in_bulk([i.pk for i in instances])
    return [by_pk[i.pk] for i in instances if i.pk in by_pk]
