from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        # Sign-ins, API tokens and users' rights are recorded by signal receivers, wherever the
        # change comes from (a page, the admin, manage.py).
        from audit import receivers  # noqa: F401 - imported to connect the receivers
