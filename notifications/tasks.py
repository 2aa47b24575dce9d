"""The mailer's task. Safe to run twice or concurrently (the mailer claims
each notification with a conditional update)."""

from celery import shared_task

from notifications.mailer import notifications_send


@shared_task(name="notifications.tasks.send_notifications", ignore_result=True)
def send_notifications() -> int:
    return notifications_send()
