"""Two mailers sending at once send each notification once: each claims a
row with a conditional update before sending (notifications/mailer.py).
PostgreSQL, two real connections in two threads, Django's in-memory mail
backend as the mail server."""

import threading

import pytest
from django.core import mail
from django.db import connection, connections

from notifications.mailer import notifications_send
from notifications.models import Notification
from notifications.services import notify

pytestmark = pytest.mark.postgres


def test_two_mailers_sending_at_once_send_each_notification_once(transactional_db, people, settings):
    if connection.vendor != "postgresql":
        pytest.skip("two concurrent transactions need PostgreSQL")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    recipients = [people[who] for who in ("member1", "member2", "member3", "chair")]
    for user in recipients:
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    for i in range(40):
        notify(recipients=recipients, kind="test", key=f"race:{i}", subject=f"Notice {i}", email_now=False)
    total = Notification.objects.count()
    assert total == 160
    mail.outbox = []

    start = threading.Barrier(2)
    sent = [None, None]

    def mailer(index):
        try:
            start.wait(5)  # both read the same pending rows, then race for each claim
            sent[index] = notifications_send(limit=500)
        except Exception as exc:  # reported by the test, not lost in the thread
            sent[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=mailer, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(isinstance(n, int) for n in sent), sent
    assert sum(sent) == total  # between them, every notification once ...
    keys = [(m.to[0], m.subject) for m in mail.outbox]
    assert len(keys) == len(set(keys)) == total  # ... and none twice
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0
    assert notifications_send() == 0
