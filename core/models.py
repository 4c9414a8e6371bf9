from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotentRequest(models.Model):
    """A request sent with an idempotency key (the API's `Idempotency-Key` header, a form's
    one-time token), and what it answered: the same request sent again gets that answer instead
    of doing the work twice. Kept `IDEMPOTENCY_HOURS`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    status_code = models.PositiveSmallIntegerField()
    body = models.TextField(blank=True, help_text="The JSON answered, or what a page needs to answer again.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_once_per_user")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"


class TokenUse(models.Model):
    """When an API token was last used, at most a minute out: the staff's token page shows it."""

    token = models.OneToOneField("authtoken.Token", primary_key=True, on_delete=models.CASCADE, related_name="use")
    last_used_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.last_used_at:%Y-%m-%d %H:%M}"
