"""Turn instance status changes into webhook events, without a hook in the store.

``post_init`` remembers the status and incident count a ProcessInstance row was loaded
(or created) with; ``post_save`` compares. The store saves each changed instance once per
unit of work inside its transaction, so the delivery rows join that transaction and their
wake-ups leave only after it commits. Reads use ``__dict__`` so a deferred field is never
loaded just for this.
"""
from __future__ import annotations

from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver

from runtime.models import InstanceStatus, ProcessInstance
from webhooks.models import Webhook, WebhookEvent

STATUS_EVENTS = {InstanceStatus.COMPLETED: WebhookEvent.COMPLETED, InstanceStatus.FAILED: WebhookEvent.FAILED}
WATCHED = {"status", "incident_count"}


def _seen(instance) -> tuple:
    return instance.__dict__.get("status"), instance.__dict__.get("incident_count")


@receiver(post_init, sender=ProcessInstance, dispatch_uid="webhooks.remember_status")
def remember_status(sender, instance, **kwargs):
    instance._webhook_seen = _seen(instance)


@receiver(post_save, sender=ProcessInstance, dispatch_uid="webhooks.emit_events")
def emit_events(sender, instance, created, raw=False, update_fields=None, **kwargs):
    if raw:
        return
    before_status, before_incidents = getattr(instance, "_webhook_seen", (None, None))
    status, incidents = instance._webhook_seen = _seen(instance)
    if update_fields is not None and not WATCHED & set(update_fields):
        return
    events = []
    if status != before_status and status in STATUS_EVENTS:
        events.append(STATUS_EVENTS[status])
    if incidents is not None and before_incidents is not None and incidents > before_incidents:
        events.append(WebhookEvent.INCIDENT)
    if events:
        from webhooks.services import instance_event

        for event in events:
            instance_event(instance=instance, event=event)


@receiver(post_save, sender=Webhook, dispatch_uid="webhooks.forget_none_on_save")
@receiver(post_delete, sender=Webhook, dispatch_uid="webhooks.forget_none_on_delete")
def forget_no_webhooks(sender, **kwargs):
    from webhooks.services import forget_no_webhooks

    forget_no_webhooks()
