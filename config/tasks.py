"""Infrastructure tasks: a round trip that proves a worker is consuming this broker."""
from celery import shared_task


@shared_task(name="flowyard.ping")
def ping_task(token: str) -> str:
    """Record that a worker ran; the health page and tests read it back from the database."""
    from config.models import WorkerPing

    WorkerPing.objects.update_or_create(token=token, defaults={})
    return token
