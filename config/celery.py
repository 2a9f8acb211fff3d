"""The Celery app. Tasks are thin adapters (`<entity>_<action>_task`) sent after commit."""
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("flowyard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["runtime", "config"])


@signals.task_postrun.connect(dispatch_uid="flowyard.release_db_connections")
def release_db_connections(task=None, **kwargs):
    """Django's end-of-request rule for worker threads: keep a healthy connection up to
    CONN_MAX_AGE, drop one that saw an error (and fails its check) or is too old.

    Celery's own Django fixup would close every connection before and after each task
    (settings set ``CELERY_DB_REUSE_MAX`` to stop that): a new PostgreSQL backend per
    wake-up cost more than the engine step it served. The health check runs only after
    an error, not before every task, so a healthy connection costs no extra round trip.
    """
    if task is not None and getattr(task.request, "is_eager", False):
        return
    import time

    from django.db import connections

    for conn in connections.all(initialized_only=True):
        if conn.in_atomic_block:  # a worker thread sharing a test's transaction: not ours to end
            continue
        if conn.errors_occurred or (conn.close_at is not None and time.monotonic() >= conn.close_at):
            conn.close_if_unusable_or_obsolete()
