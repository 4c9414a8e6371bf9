from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app may use and that uses none of them."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "Core"
