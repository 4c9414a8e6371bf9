from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        # Services hand work to the workers by task name (config.broker.hand_over): every
        # process registers the tasks, which the services themselves never import.
        from tickets import tasks  # noqa: F401 - imported to register the tasks
