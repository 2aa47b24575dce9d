"""The mailer's tasks. Safe to run twice or concurrently (the mailer claims
each notification with a conditional update)."""

from celery import shared_task

from notifications.mailer import digests_send, notifications_send


@shared_task(name="notifications.tasks.send_notifications", ignore_result=True)
def send_notifications() -> int:
    return notifications_send()


@shared_task(name="notifications.tasks.send_digests", ignore_result=True)
def send_digests() -> int:
    return digests_send()
