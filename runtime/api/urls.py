"""The REST contract's paths (DESIGN.md), mounted under ``/api/`` by config/urls.py."""
from django.apps import apps
from django.urls import path
from rest_framework.routers import SimpleRouter

from runtime.api import processes, views

router = SimpleRouter(trailing_slash=True)
router.register("processes", processes.ProcessViewSet, basename="api-process")
router.register("instances", views.InstanceViewSet, basename="api-instance")
router.register("tasks", views.TaskViewSet, basename="api-task")
if apps.is_installed("webhooks"):  # the app (and so its table) exists once settings list it
    from runtime.api import webhooks

    router.register("webhooks", webhooks.WebhookViewSet, basename="api-webhook")

urlpatterns = [
    path("messages/", views.MessageView.as_view(), name="api-messages"),
    path("signals/", views.SignalView.as_view(), name="api-signals"),
    *router.urls,
]
