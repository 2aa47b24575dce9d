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
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications")
    case_id = models.BigIntegerField(null=True, blank=True)
    case_reference = models.CharField(max_length=32, blank=True, default="")
    kind = models.CharField(max_length=32)
    # What the text says, as data (case title, due time, party code, ...): the
    # subject and body are rendered from `kind` and these in the reader's
    # language when read or sent (notifications.kinds). NULL only on rows
    # stored before that, whose English subject/body are shown as they are.
    params = models.JSONField(null=True, blank=True)
    subject = models.CharField(max_length=200, blank=True, default="")
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
    # How it is emailed, chosen by the recipient's preference when it is
    # stored: at once by the mailer, or in the daily digest. "off" rows are
    # stored with emailed_at set (nothing to send).
    email = models.CharField(max_length=10, default="immediate")

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_key")]
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notif_recipient_idx"),
            # The unread ones, newest first (the list's `unread=true`, a keyset page).
            models.Index(fields=["recipient", "-id"], condition=Q(read_at__isnull=True), name="notif_unread_idx"),
            models.Index(fields=["id"], condition=Q(emailed_at__isnull=True), name="notif_unsent_idx"),
            models.Index(fields=["recipient", "id"], condition=Q(emailed_at__isnull=True, email="digest"),
                         name="notif_digest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.case_reference}".strip()


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", _("at once")
    DIGEST = "digest", _("in a daily digest")
    OFF = "off", _("not by email")


class NotificationPreference(models.Model):
    """How a person wants one kind of notification emailed. No row: the
    kind's default (notifications.kinds). Notifications are always listed in
    the app, whatever the preference."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notification_preferences")
    kind = models.CharField(max_length=32)
    email = models.CharField(max_length=10, choices=EmailMode.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.email}"
