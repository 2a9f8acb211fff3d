from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the Celery task (config/celery.py autodiscovers only runtime and config)
        # and the receivers that turn instance status changes into deliveries.
        from webhooks import signals, tasks  # noqa: F401
        # Work that would queue deliveries runs in a transaction, so they commit with it.
        from runtime.store.flight import NEEDS_TRANSACTION
        from webhooks.services import any_active_webhooks

        NEEDS_TRANSACTION.append(any_active_webhooks)
