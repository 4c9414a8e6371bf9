"""The backup in the README works: pg_dump of a live database restores into an empty one with
every ticket, message and history entry, and the service runs its migrations check on it."""

import datetime
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.gunicorn_server import database_url
from tickets import services
from tickets.models import Channel

ROOT = Path(__file__).resolve().parent.parent
DATABASE = settings.DATABASES["default"]

pytestmark = pytest.mark.skipif(
    not DATABASE["ENGINE"].endswith("postgresql") or not shutil.which("pg_dump"),
    reason="backups are PostgreSQL dumps",
)


def counts(name: str) -> tuple:
    with psycopg.connect(database_url(name=name)) as connection:
        return (
            tuple(
                connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in (
                    "tickets_ticket",
                    "tickets_message",
                    "tickets_ticketevent",
                    "contracts_contract",
                    "contracts_serviceterms",
                )
            )
            + connection.execute("SELECT max(number) FROM tickets_ticket").fetchone()
        )


def test_a_dump_restores_into_an_empty_database(seeded, contract_a, customer_a_user, staff_user, tmp_path):
    for index in range(3):
        ticket = services.ticket_create(
            contract=contract_a,
            reported_by=customer_a_user,
            channel=Channel.WEB,
            a_number="018 12345",
            b_number="040 123 4567",
            fault_occurred_at=datetime.datetime(2026, 10, 1, 9, index, tzinfo=datetime.UTC),
            description=f"Fel {index}: växeln svarar inte",
        )
        services.ticket_start(ticket=ticket, actor=staff_user)
    dump = tmp_path / "servicedesk.dump"
    # The README's commands, word for word but for the names.
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", database_url()], check=True)
    restored = f"restore_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", "-h", DATABASE["HOST"] or "127.0.0.1", "-U", DATABASE["USER"], restored], check=True)
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={database_url(name=restored)}", str(dump)],
            check=True,
        )
        assert counts(restored) == counts(DATABASE["NAME"])
        assert counts(restored)[0] == 3
        check = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--check"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "DATABASE_URL": database_url(name=restored), "DEBUG": "1"},
        )
        assert check.returncode == 0, check.stdout + check.stderr  # nothing left to migrate
    finally:
        subprocess.run(
            ["dropdb", "-h", DATABASE["HOST"] or "127.0.0.1", "-U", DATABASE["USER"], "--force", restored], check=True
        )
