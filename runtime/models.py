"""Runtime rows: instances, their tokens and waits, and the append-only history.

The instance row holds the engine snapshot (`state`, versioned JSON) and is the lock every
change to the instance takes first. Tokens and waits are mirrored into rows so the inbox,
the scheduler, message correlation and the monitoring pages query indexes instead of JSON;
the store (runtime/store/) is the only code that writes them.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone

from designer.models import ProcessVersion


class InstanceStatus(models.TextChoices):
    RUNNING = "running"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    FAILED = "failed"
    COMPENSATING = "compensating"
    COMPENSATED = "compensated"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = (InstanceStatus.RUNNING, InstanceStatus.SUSPENDED, InstanceStatus.COMPENSATING)


class ProcessInstance(models.Model):
    # no index of its own: inst_version_status starts with it
    version = models.ForeignKey(ProcessVersion, on_delete=models.PROTECT, related_name="instances", db_index=False)
    business_key = models.CharField(max_length=200, blank=True, default="", db_index=True)
    status = models.CharField(max_length=16, choices=InstanceStatus.choices, default=InstanceStatus.RUNNING)
    variables = models.JSONField(default=dict, blank=True)
    state = models.JSONField(default=dict, blank=True, help_text="engine snapshot (runtime.engine.state)")
    state_format = models.PositiveSmallIntegerField(default=1)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    parent_token = models.CharField(max_length=64, blank=True, default="")
    parent_wait = models.CharField(max_length=64, blank=True, default="", help_text="the parent's call-activity wait id")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    has_incident = models.BooleanField(default=False)
    incident_count = models.PositiveIntegerField(default=0)
    history_seq = models.PositiveBigIntegerField(default=0, help_text="sequence number of the latest history event")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-started_at"], name="inst_status_started"),
            models.Index(fields=["version", "status"], name="inst_version_status"),
            # only the instances with an open incident: what the incident filters look for,
            # and an instance starting or moving without one writes nothing into it
            models.Index(fields=["status"], name="inst_with_incident", condition=models.Q(has_incident=True)),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.version} {self.business_key}".rstrip()

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class Token(models.Model):
    """A mirror of one live engine token, for the admin and per-node monitoring counts.

    Only live tokens have rows: a consumed token's row is deleted and its life stays in the
    history. `token_id` is the core's id, unique inside its instance.
    """

    # no index of its own: unique_token_per_instance starts with it (one less index entry per write)
    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="tokens", db_index=False)
    token_id = models.CharField(max_length=64)
    node_id = models.CharField(max_length=200)
    scope = models.CharField(max_length=64, blank=True, default="", help_text="id of the token hosting this token's scope")
    state = models.CharField(max_length=16)
    loop = models.JSONField(default=dict, blank=True, help_text="multi-instance counters, when any")
    since = models.DateTimeField(default=timezone.now, help_text="when the token reached this node and state")

    class Meta:
        ordering = ["instance_id", "since", "id"]
        constraints = [models.UniqueConstraint(fields=["instance", "token_id"], name="unique_token_per_instance")]
        indexes = [models.Index(fields=["node_id", "state"], name="token_node_state")]

    def __str__(self) -> str:
        return f"{self.token_id}@{self.node_id} ({self.state})"


class HumanTaskState(models.TextChoices):
    OPEN = "open"
    CLAIMED = "claimed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class HumanTask(models.Model):
    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="human_tasks")
    wait_id = models.CharField(max_length=64)
    token_id = models.CharField(max_length=64)
    node_id = models.CharField(max_length=200)
    name = models.CharField(max_length=300, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tasks")
    # Through tables with (group, task) indexes: "my groups' open tasks" is one indexed
    # semi-join even with 100k open tasks spread over 50 groups.
    candidate_users = models.ManyToManyField(settings.AUTH_USER_MODEL, through="TaskCandidateUser", blank=True, related_name="candidate_tasks")
    candidate_groups = models.ManyToManyField(Group, through="TaskCandidateGroup", blank=True, related_name="candidate_tasks")
    open_to_all = models.BooleanField(default=False, help_text="no candidates were named: every user may claim it")
    form = models.JSONField(default=list, blank=True, help_text="form fields with evaluated defaults")
    context = models.JSONField(default=dict, blank=True, help_text="extra data from the engine (inputs, unresolved names)")
    due_at = models.DateTimeField(null=True, blank=True)
    priority = models.IntegerField(default=50)
    state = models.CharField(max_length=16, choices=HumanTaskState.choices, default=HumanTaskState.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    submitted = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-priority", "created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["instance", "wait_id"], name="unique_task_wait")]
        indexes = [
            models.Index(fields=["state", "-priority", "created_at"], name="task_inbox"),
            models.Index(fields=["open_to_all", "state"], name="task_open_to_all"),
            models.Index(fields=["assignee", "state"], name="task_assignee_state"),
            models.Index(fields=["node_id", "state"], name="task_node_state"),
        ]

    def __str__(self) -> str:
        return self.name or self.node_id

    @property
    def is_active(self) -> bool:
        return self.state in (HumanTaskState.OPEN, HumanTaskState.CLAIMED)


class TaskCandidateUser(models.Model):
    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "user"], name="unique_task_candidate_user")]
        indexes = [models.Index(fields=["user", "task"], name="cand_user_task")]


class TaskCandidateGroup(models.Model):
    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE)
    group = models.ForeignKey(Group, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "group"], name="unique_task_candidate_group")]
        indexes = [models.Index(fields=["group", "task"], name="cand_group_task")]


class TimerState(models.TextChoices):
    SCHEDULED = "scheduled"
    FIRED = "fired"
    CANCELLED = "cancelled"


class TimerJob(models.Model):
    """A due time. Instance timers carry a wait id; timer *start* events have no instance
    and belong to a version (`instance` null) — they start a new instance when due."""

    version = models.ForeignKey(ProcessVersion, on_delete=models.CASCADE, related_name="timer_jobs")
    instance = models.ForeignKey(ProcessInstance, null=True, blank=True, on_delete=models.CASCADE, related_name="timer_jobs")
    wait_id = models.CharField(max_length=64, blank=True, default="")
    token_id = models.CharField(max_length=64, blank=True, default="")
    node_id = models.CharField(max_length=200)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=TimerState.choices, default=TimerState.SCHEDULED)
    timer = models.JSONField(default=dict, blank=True, help_text="the compiled timer definition")
    repeats_left = models.IntegerField(null=True, blank=True, help_text="cycle occurrences still to come; null = unbounded")
    fired_count = models.PositiveIntegerField(default=0)
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="when a wake-up was last sent")
    created_at = models.DateTimeField(default=timezone.now)
    fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="timer_due"),
            models.Index(fields=["instance", "wait_id"], name="timer_instance_wait"),
        ]

    def __str__(self) -> str:
        return f"timer {self.node_id} at {self.due_at:%Y-%m-%d %H:%M:%S}"


class SubscriptionKind(models.TextChoices):
    MESSAGE = "message"
    SIGNAL = "signal"


class MessageSubscription(models.Model):
    """A token waiting for a message (name + correlation value) or a signal (name)."""

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="subscriptions")
    wait_id = models.CharField(max_length=64)
    token_id = models.CharField(max_length=64)
    node_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=8, choices=SubscriptionKind.choices, default=SubscriptionKind.MESSAGE)
    name = models.CharField(max_length=300)
    correlation = models.CharField(max_length=500, null=True, blank=True, help_text="normalised correlation value; null matches any")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["instance", "wait_id"], name="unique_subscription_wait")]
        indexes = [models.Index(fields=["kind", "name", "correlation"], name="subscription_match")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} [{self.correlation}]"


class ServiceCallState(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INCIDENT = "incident"
    CANCELLED = "cancelled"


class ServiceCall(models.Model):
    """One activity execution of a service task, across all its attempts."""

    # no index of its own: call_instance_wait starts with it
    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="service_calls", db_index=False)
    wait_id = models.CharField(max_length=64, help_text="the core's activity execution id")
    token_id = models.CharField(max_length=64)
    node_id = models.CharField(max_length=200)
    # unique through a constraint (Meta), not unique=True, which on PostgreSQL adds a second
    # index for LIKE queries nobody runs, written on every insert and state change
    idempotency_key = models.CharField(max_length=100, help_text="<instance id>:<execution id>, the same on every retry")
    request = models.JSONField(default=dict)
    attempt = models.PositiveIntegerField(default=0, help_text="attempts started so far")
    max_attempts = models.PositiveIntegerField(default=4)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=16, choices=ServiceCallState.choices, default=ServiceCallState.PENDING)
    last_error = models.TextField(blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="when a wake-up was last sent")
    started_at = models.DateTimeField(null=True, blank=True, help_text="when the current attempt started")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="call_due"),
            models.Index(fields=["instance", "wait_id"], name="call_instance_wait"),
        ]
        constraints = [models.UniqueConstraint(fields=["idempotency_key"], name="unique_call_idempotency_key")]

    def __str__(self) -> str:
        return f"call {self.node_id} ({self.state}, attempt {self.attempt}/{self.max_attempts})"


class IncidentState(models.TextChoices):
    OPEN = "open"
    RESOLVED = "resolved"


class Incident(models.Model):
    """Something an operator must look at: exhausted retries, a broken expression."""

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="incidents")
    token_id = models.CharField(max_length=64, blank=True, default="")
    node_id = models.CharField(max_length=200, blank=True, default="")
    wait_id = models.CharField(max_length=64, blank=True, default="")
    service_call = models.ForeignKey(ServiceCall, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents")
    error_code = models.CharField(max_length=100, blank=True, default="")
    message = models.CharField(max_length=1000)
    detail = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    event = models.JSONField(null=True, blank=True, help_text="the engine event that failed; retry re-runs it")
    state = models.CharField(max_length=16, choices=IncidentState.choices, default=IncidentState.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "-created_at"], name="incident_state")]

    def __str__(self) -> str:
        return f"incident at {self.node_id}: {self.message[:60]}"


class Continuation(models.Model):
    """A pending event for an instance, written by someone who must not take its lock
    (a child ending, a cancelled parent). `instance_continue_task` consumes them in order;
    the reconciler re-sends the wake-up for rows left behind."""

    class Kind(models.TextChoices):
        EVENT = "event", "engine event for this instance"
        PUBLISH_MESSAGE = "publish_message", "message thrown by this instance"
        THROW_SIGNAL = "throw_signal", "signal thrown by this instance"

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="continuations")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.EVENT)
    event = models.JSONField(help_text="{'type': ..., fields of the engine event or message}")
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["kind", "dispatched_at"], name="continuation_due")]

    def __str__(self) -> str:
        return f"{self.event.get('type')} for #{self.instance_id}"


#: The history types every step of a flow writes (~95 % of all rows: a straight run of 10
#: tasks writes 33 of its 35). ``history_type_time`` leaves them out: a filter on one of
#: them finds matches at once in the table's own order, and an index entry per step cost
#: each start ~5 % of its time in PostgreSQL.
FLOW_HISTORY_TYPES = ("token.created", "token.moved", "token.consumed", "activity.started", "activity.completed",
                      "gateway.fired")


class HistoryEvent(models.Model):
    """Append-only audit log; `seq` numbers an instance's events without gaps."""

    # No index of its own: unique_history_seq starts with it. No foreign key constraint in
    # the database either (as Camunda's history tables have none): the engine writes an
    # instance's history in the statement or transaction that writes the instance, and
    # deleting an instance through Django deletes its history first; checking each row's
    # reference at commit cost a straight-through start ~18 % of PostgreSQL's CPU.
    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="history", db_index=False,
                                 db_constraint=False)
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=40)
    node_id = models.CharField(max_length=200, blank=True, default="")
    token_id = models.CharField(max_length=64, blank=True, default="")
    actor = models.CharField(max_length=150, blank=True, default="", help_text="username, or system:<what>")
    from_state = models.CharField(max_length=16, blank=True, default="")
    to_state = models.CharField(max_length=16, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    timestamp = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["instance_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["instance", "seq"], name="unique_history_seq")]
        indexes = [models.Index(fields=["type", "timestamp"], name="history_type_time",
                                condition=~models.Q(type__in=FLOW_HISTORY_TYPES))]

    def __str__(self) -> str:
        return f"#{self.instance_id}.{self.seq} {self.type}"
