"""The mailer: emails stored notifications that have not been sent yet."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone

from notifications.models import Notification

logger = logging.getLogger(__name__)

# A claim older than this is taken to belong to a mailer that died mid-send.
EMAIL_CLAIM_TIMEOUT = timedelta(minutes=10)


def notifications_send(*, limit: int = 200) -> int:
    """Email stored notifications not sent yet.

    Each is claimed with a conditional update of email_claimed_at before
    sending, so two mailers never send one at once; emailed_at is written only
    after the mail server accepted it. A mailer killed between the two leaves
    a stale claim that the next run takes again after EMAIL_CLAIM_TIMEOUT: an
    email is sent at least once (possibly twice in that case), never lost.
    """
    sent = 0
    now = timezone.now()
    claimable = Q(emailed_at__isnull=True) & (
        Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - EMAIL_CLAIM_TIMEOUT))
    pending = list(Notification.objects.filter(claimable).order_by("id").values_list("pk", flat=True)[:limit])
    for pk in pending:
        claim = timezone.now()
        if Notification.objects.filter(claimable, pk=pk).update(email_claimed_at=claim) != 1:
            continue
        note = Notification.objects.select_related("recipient").get(pk=pk)
        if note.recipient.email:
            try:
                send_mail(note.subject, note.body or note.subject, settings.DEFAULT_FROM_EMAIL,
                          [note.recipient.email])
            except Exception:
                logger.warning("could not email notification %s; will retry", pk, exc_info=True)
                Notification.objects.filter(pk=pk, email_claimed_at=claim).update(email_claimed_at=None)
                continue
            sent += 1
        # No address: nothing to send; the notification is listed in the app.
        Notification.objects.filter(pk=pk, email_claimed_at=claim).update(emailed_at=timezone.now())
    return sent
