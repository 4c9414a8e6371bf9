"""Django's PostgreSQL backend, with a deadline on every answer the connection waits for (see
config/database.py)."""

import psycopg
from django.db.backends.postgresql import base

from config import database


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection that waits for the server at most `database.answer_deadline()`
    seconds. A server that has not answered by then is treated as gone: the connection is
    closed and OperationalError raised, which the web process answers with 503 and Retry-After."""

    def wait(self, gen, interval=0.1, timeout=None):
        limit = database.answer_deadline()
        try:
            return super().wait(gen, interval, timeout if timeout is not None or limit is None else limit)
        except psycopg.errors._WaitTimeout:
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"the database did not answer within {limit:g} seconds; the connection was closed"
            ) from None


class _Psycopg:
    """The psycopg module as Django's backend uses it, connecting with DeadlineConnection."""

    connect = staticmethod(DeadlineConnection.connect)

    def __getattr__(self, name):
        return getattr(psycopg, name)


class DatabaseWrapper(base.DatabaseWrapper):
    Database = _Psycopg()
