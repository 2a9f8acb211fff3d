from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    name = "runtime"
    verbose_name = "Process runtime"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.core import checks

        from runtime.connectors.checks import check_connector_settings

        checks.register(check_connector_settings)
