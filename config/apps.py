from django.apps import AppConfig


class FlowyardConfig(AppConfig):
    name = "config"
    label = "flowyard"
    verbose_name = "Flowyard infrastructure"
    default_auto_field = "django.db.models.BigAutoField"
