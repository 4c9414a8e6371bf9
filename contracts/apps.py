from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = _("Contracts and terms")

    def ready(self) -> None:
        # Services hand work to the workers by task name (config.broker.hand_over).
        from contracts import tasks  # noqa: F401 - imported to register the tasks
