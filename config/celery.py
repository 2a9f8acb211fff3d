"""The Celery app. Tasks are thin adapters (`<entity>_<action>_task`) sent after commit."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("flowyard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["runtime", "config"])
