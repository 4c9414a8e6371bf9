import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _limit_worker_statements(**kwargs) -> None:
    from django.conf import settings
    from django.db import connections

    from config.database import limit_statements

    limit_statements(settings.DATABASE_WORKER_STATEMENT_TIMEOUT)
    connections.close_all()
