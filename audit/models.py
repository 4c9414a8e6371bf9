"""The audit log: who signed in, looked at personal data or changed rights, when and from where.

Append-only. A row is written once (audit.services.record) and never changed or deleted through
the model, the admin or the API; only retention removes rows older than AUDIT_RETENTION_DAYS
(AuditEventQuerySet.expire). A user or customer deleted later leaves the row with its names."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnly(Exception):
    """An audit row was to be changed or deleted."""


class Action(models.TextChoices):
    SIGNED_IN = "signed_in", _("Signed in")
    SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
    SIGNED_OUT = "signed_out", _("Signed out")
    SECOND_FACTOR_ADDED = "second_factor_added", _("Second factor added")
    SECOND_FACTOR_REMOVED = "second_factor_removed", _("Second factor removed")
    SECOND_FACTOR_RESET = "second_factor_reset", _("Second factor reset by an administrator")
    SSO_SIGNED_IN = "sso_signed_in", _("Signed in by single sign-on")
    TOKEN_CREATED = "token_created", _("API token created")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")
    VIEWED = "viewed", _("Viewed")
    PERSONAL_DATA_EXPORTED = "personal_data_exported", _("Personal data exported")
    PERSONAL_DATA_ERASED = "personal_data_erased", _("Personal data erased")
    RIGHTS_CHANGED = "rights_changed", _("Rights changed")
    SESSION_ENDED = "session_ended", _("Session ended")


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("audit events are never changed")

    def delete(self):
        raise AppendOnly("audit events are removed only by retention (AUDIT_RETENTION_DAYS)")

    def expire(self, before: datetime.datetime) -> int:
        """Retention, the one way rows leave: those written before `before`."""
        deleted, _by_model = models.QuerySet.delete(self.filter(at__lt=before))
        return deleted


class AuditEvent(models.Model):
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    action = models.CharField(_("what happened"), max_length=32, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_name = models.CharField(
        _("user name"),
        max_length=150,
        blank=True,
        help_text=_("As it was then; for a failed sign-in, the user name tried."),
    )
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    # Indexed by audit_customer_idx, which leads with it.
    customer = models.ForeignKey(
        "contracts.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
        db_index=False,
    )
    ticket_number = models.CharField(_("ticket number"), max_length=32, blank=True)
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("whose"),
        help_text=_("The user whose data, token or rights it concerns."),
    )
    subject_name = models.CharField(_("whose user name"), max_length=150, blank=True)
    what = models.CharField(_("what"), max_length=500, blank=True, help_text=_("The page, file or object."))
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            # The filters of the API and the admin, each newest first.
            models.Index(fields=["customer", "-at"], name="audit_customer_idx"),
            models.Index(fields=["actor_name", "-at"], name="audit_actor_name_idx"),
            models.Index(fields=["action", "-at"], name="audit_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.actor_name}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("audit events are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("audit events are removed only by retention (AUDIT_RETENTION_DAYS)")
