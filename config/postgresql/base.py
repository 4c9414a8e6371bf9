"""Django's PostgreSQL backend, with a deadline on every answer the connection waits for (see
config/database.py)."""

import psycopg
from django.db.backends.postgresql import base

from config import database


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection that waits for the server at most `database.answer_deadline()`
    seconds, connecting included. A server that has not answered by then is treated as gone:
    the connection is closed and OperationalError raised, which the web process answers with
    503 and Retry-After."""

    @classmethod
    def connect(cls, conninfo="", **kwargs):
        limit = database.answer_deadline()
        if limit is not None:
            if limit < 1:
                raise psycopg.OperationalError("the database did not answer lately; not asked again yet")
            # libpq's connect_timeout counts whole seconds, at least 2.
            kwargs["connect_timeout"] = max(2, min(int(kwargs.get("connect_timeout") or limit), int(limit)))
        try:
            return super().connect(conninfo, **kwargs)
        except psycopg.errors.ConnectionTimeout:
            database.stalled()
            raise

    def wait(self, gen, interval=0.1, timeout=None):
        limit = database.answer_deadline()
        if limit is not None and limit <= 0:
            raise psycopg.OperationalError("the database did not answer lately, or this request's time is up")
        try:
            return super().wait(gen, interval, timeout if timeout is not None or limit is None else limit)
        except psycopg.errors._WaitTimeout:
            self.pgconn.finish()
            database.stalled()
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
