from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Demo shop (fake microservices)"
    default_auto_field = "django.db.models.BigAutoField"
