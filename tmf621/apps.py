from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Tmf621Config(AppConfig):
    name = "tmf621"
    verbose_name = _("TM Forum trouble tickets (TMF621)")

    def ready(self) -> None:
        from tmf621 import (
            events,  # noqa: F401 - connects the receivers that write events
            tasks,  # noqa: F401 - registers the tasks events hand work to by name
        )
