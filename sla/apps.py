from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("Availability and discounts")

    def ready(self) -> None:
        from contracts.signals import service_changed
        from sla import tasks  # noqa: F401 - registers the tasks services hand work to by name
        from sla.reports import contract_changed

        service_changed.connect(contract_changed, dispatch_uid="sla-reports-stale-on-contract-change")
