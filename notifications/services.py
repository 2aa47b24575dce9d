"""Writes of notifications: storing them (notify) and marking them read.

Notifications are delivery, not decisions: they write no audit event (the
decision that caused one already did, in the same transaction).
"""

from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import Forbidden
from config.queue import enqueue_on_commit
from notifications.models import Notification
from notifications.tasks import send_notifications


def notify(*, recipients, kind: str, key: str, subject: str, body: str = "", case_id: int | None = None,
           case_reference: str = "", email_now: bool = True, once: bool = True) -> None:
    """Store one notification per recipient for `key`. The unique constraint
    (recipient, key) makes a repeat, such as a task run twice, insert nothing:
    one statement, no read before the write.

    email_now=True asks the mailer to run once the transaction commits. A
    caller that stores many in one run (the deadline sweep) passes False and
    emails them all at its end: one publish per notification would cost more
    than the work that caused it.

    once=False is for a person's own action (a report returned, answered),
    whose key is new by construction: a row already holding it is an error
    that rolls the whole action back, rather than a repeat to skip."""
    rows = [Notification(recipient=user, case_id=case_id, case_reference=case_reference, kind=kind,
                         key=key[:120], subject=subject[:200], body=body)
            for user in recipients]
    if not rows:
        return
    Notification.objects.bulk_create(rows, ignore_conflicts=once)
    if email_now:
        enqueue_on_commit(send_notifications)


def notification_mark_read(*, actor, notification: Notification) -> Notification:
    if notification.recipient_id != actor.pk:
        raise Forbidden(_("Not your notification."))
    if notification.read_at is None:
        # Conditional: the first of two concurrent reads wins, the second changes nothing.
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
        notification.refresh_from_db(fields=["read_at"])
    return notification
