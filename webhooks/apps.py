from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the Celery task (config/celery.py autodiscovers only runtime and config)
        # and the receivers that turn instance status changes into deliveries.
        from webhooks import signals, tasks  # noqa: F401
