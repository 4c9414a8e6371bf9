"""The API's token sign-in (DRF's `Authorization: Token …`), noting when each token was last used.

The token, its user and its last use come in one statement, which the ORM builds and compiles once
per process (building and compiling the join cost a tenth of a fault report's CPU); the use is
written (one upsert) only when the last one noted is a minute old or more, so a busy integration
costs no extra write per call."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from core.db import Prepared
from core.models import TokenUse

NOTE_EVERY = datetime.timedelta(minutes=1)

_TOKEN_WITH_USER_AND_USE = Prepared(
    Token, lambda key: Token.objects.select_related("user", "use").filter(key=key), "sample-key"
)


class TrackedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        if self.get_model() is not Token:
            return super().authenticate_credentials(key)
        token = _TOKEN_WITH_USER_AND_USE.first(key)
        if token is None:
            raise AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        now = timezone.now()
        use = getattr(token, "use", None)
        if use is None or now - use.last_used_at >= NOTE_EVERY:
            TokenUse.objects.bulk_create(
                [TokenUse(token=token, last_used_at=now)],
                update_conflicts=True,
                unique_fields=["token"],
                update_fields=["last_used_at"],
            )
        return token.user, token
