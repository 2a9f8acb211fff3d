"""Scheduler job (autodiscovered by runtime.scheduler): re-send overdue webhook deliveries
whose Celery message was lost."""
from runtime.scheduler import periodic
from webhooks.services import redeliver_due


@periodic(every=10.0, name="webhooks_redeliver_due")
def webhooks_redeliver_due() -> int:
    return redeliver_due()
