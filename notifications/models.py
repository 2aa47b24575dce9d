"""What a person is told: one row per recipient and subject, listed in the
app and emailed by the mailer (notifications.mailer).

This app sits below reports and commission, so it knows nothing of them: a
notification names the case it is about by id and reference (copied when it
is stored; a case's reference never changes), not by a foreign key into a
higher app.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications")
    case_id = models.BigIntegerField(null=True, blank=True)
    case_reference = models.CharField(max_length=32, blank=True, default="")
    kind = models.CharField(max_length=32)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="")
    # What this notification is about, so that one event notifies a person once
    # however many times a task runs (reminder:<deadline>:<due_at>, missed:<deadline>:<due_at>, ...).
    key = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # The mailer claims a notification (email_claimed_at) before sending and
    # writes emailed_at once the mail server took it; NULL emailed_at: to send.
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_key")]
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notif_recipient_idx"),
            models.Index(fields=["id"], condition=Q(emailed_at__isnull=True), name="notif_unsent_idx"),
        ]

    def __str__(self) -> str:
        return self.subject
