from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    name = "runtime"
    verbose_name = "Process runtime"
    default_auto_field = "django.db.models.BigAutoField"
