"""Event subscriptions (TMF621's hub) and the events written for them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts.models import Customer
from tickets.models import Ticket


class EventType(models.TextChoices):
    CREATE = "TroubleTicketCreateEvent", "TroubleTicketCreateEvent"
    STATUS_CHANGE = "TroubleTicketStatusChangeEvent", "TroubleTicketStatusChangeEvent"
    ATTRIBUTE_VALUE_CHANGE = "TroubleTicketAttributeValueChangeEvent", "TroubleTicketAttributeValueChangeEvent"
    INFORMATION_REQUIRED = "TroubleTicketInformationRequiredEvent", "TroubleTicketInformationRequiredEvent"
    RESOLVED = "TroubleTicketResolvedEvent", "TroubleTicketResolvedEvent"


class Listener(models.Model):
    """A callback registered through the hub. A customer user's listener hears only its own
    customer's tickets; a staff member's hears every ticket."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tmf621_listeners", verbose_name=_("owner")
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="tmf621_listeners",
        verbose_name=_("customer"),
        help_text=_("Empty: a staff member's listener, told of every ticket."),
    )
    callback = models.URLField(_("callback"), max_length=500)
    query = models.CharField(_("query"), max_length=500, blank=True)
    secret = models.CharField(_("signing secret"), max_length=64, editable=False)
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    disabled_at = models.DateTimeField(
        _("disabled"),
        null=True,
        blank=True,
        help_text=_("Set after too many failed deliveries in a row; clear it to deliver again."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("TMF621 listener")
        verbose_name_plural = _("TMF621 listeners")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.callback


class Event(models.Model):
    """One event for one listener, written in the transaction of the change it reports; its
    payload is the ticket as that listener may see it, built right after the commit."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listener = models.ForeignKey(Listener, on_delete=models.CASCADE, related_name="events")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="tmf621_events")
    event_type = models.CharField(_("event type"), max_length=64, choices=EventType.choices)
    payload = models.JSONField(_("payload"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("TMF621 event")
        verbose_name_plural = _("TMF621 events")
        ordering = ["created_at"]
        indexes = [
            # The delivery sweep reads only what is still to be delivered.
            models.Index("next_attempt_at", name="tmf621_event_due_idx", condition=Q(delivered_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.id}"
