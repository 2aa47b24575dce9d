"""The mailer: emails stored notifications that have not been sent yet, one
by one (email "immediate") or once a day in a digest (email "digest"). Each
is written in its recipient's language (User.language, else the site's)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import ngettext

from notifications.kinds import DIGEST, IMMEDIATE, render
from notifications.models import Notification

logger = logging.getLogger(__name__)

# A claim older than this is taken to belong to a mailer that died mid-send.
EMAIL_CLAIM_TIMEOUT = timedelta(minutes=10)


def _claimable(now) -> Q:
    return Q(emailed_at__isnull=True) & (
        Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - EMAIL_CLAIM_TIMEOUT))


def notifications_send(*, limit: int = 200) -> int:
    """Email stored notifications not sent yet (those to send at once).

    Each is claimed with a conditional update of email_claimed_at before
    sending, so two mailers never send one at once; emailed_at is written only
    after the mail server accepted it. A mailer killed between the two leaves
    a stale claim that the next run takes again after EMAIL_CLAIM_TIMEOUT: an
    email is sent at least once (possibly twice in that case), never lost.
    """
    sent = 0
    now = timezone.now()
    claimable = _claimable(now) & Q(email=IMMEDIATE)
    pending = list(Notification.objects.filter(claimable).order_by("id").values_list("pk", flat=True)[:limit])
    for pk in pending:
        claim = timezone.now()
        if Notification.objects.filter(claimable, pk=pk).update(email_claimed_at=claim) != 1:
            continue
        note = Notification.objects.select_related("recipient").get(pk=pk)
        if note.recipient.email:
            with translation.override(note.recipient.email_language()):
                subject, body = render(note)
            try:
                send_mail(subject, body or subject, settings.DEFAULT_FROM_EMAIL, [note.recipient.email])
            except Exception:
                logger.warning("could not email notification %s; will retry", pk, exc_info=True)
                Notification.objects.filter(pk=pk, email_claimed_at=claim).update(email_claimed_at=None)
                continue
            sent += 1
        # No address: nothing to send; the notification is listed in the app.
        Notification.objects.filter(pk=pk, email_claimed_at=claim).update(emailed_at=timezone.now())
    return sent


def digests_send(*, limit: int = 500) -> int:
    """One email per person with every digest notification not sent yet.

    A person's items are claimed together with one conditional update (only
    rows still unclaimed, or claimed by a dead run): a second run, or a
    concurrent one, finds them claimed and sends nothing, so a digest is sent
    once. Run daily by beat; items stored after a claim wait for the next day."""
    sent = 0
    now = timezone.now()
    claimable = _claimable(now) & Q(email=DIGEST)
    people = list(Notification.objects.filter(claimable).values_list("recipient_id", flat=True)
                  .distinct().order_by("recipient_id")[:limit])
    for recipient_id in people:
        claim = timezone.now()
        ids = list(Notification.objects.filter(claimable, recipient_id=recipient_id).values_list("pk", flat=True))
        if not Notification.objects.filter(claimable, pk__in=ids).update(email_claimed_at=claim):
            continue
        notes = list(Notification.objects.filter(recipient_id=recipient_id, email_claimed_at=claim,
                                                 emailed_at__isnull=True).select_related("recipient").order_by("id"))
        if not notes:
            continue
        user = notes[0].recipient
        if user.email:
            with translation.override(user.email_language()):
                parts = []
                for note in notes:
                    subject, body = render(note)
                    parts.append(f"• {subject}\n{body}".rstrip())
                title = ngettext("Your daily digest: %(count)d notification", "Your daily digest: %(count)d notifications",
                                 len(notes)) % {"count": len(notes)}
            try:
                send_mail(title, "\n\n".join(parts), settings.DEFAULT_FROM_EMAIL, [user.email])
            except Exception:
                logger.warning("could not email the digest of user %s; will retry", recipient_id, exc_info=True)
                Notification.objects.filter(pk__in=[n.pk for n in notes], email_claimed_at=claim).update(
                    email_claimed_at=None)
                continue
            sent += 1
        Notification.objects.filter(pk__in=[n.pk for n in notes], email_claimed_at=claim).update(
            emailed_at=timezone.now())
    return sent
