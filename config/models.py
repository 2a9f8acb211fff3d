from django.db import models


class WorkerPing(models.Model):
    """One row per ping task a worker executed: proves the broker->worker->DB path."""

    token = models.CharField(max_length=64, unique=True)
    executed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.token
