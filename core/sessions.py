"""Django's database sessions (SESSION_ENGINE), the session read by a statement compiled once per
process: every signed-in page reads it, and the ORM built it for 0.5 ms of Python each time."""

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from core.db import Prepared

# The expiry is checked here, not in the statement: a time as a parameter is adapted per
# database, and a Prepared statement takes its values as they are.
_SESSION = Prepared(Session, lambda key: Session.objects.filter(session_key=key), "sample-key")


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        session = _SESSION.first(self.session_key) if self.session_key else None
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None
            return None
        return session
