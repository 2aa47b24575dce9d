"""Celery tasks of the workflow: they take ids (or nothing) and call a service.

Nothing here is scheduled for later with an ETA or countdown: deadlines are
rows, and beat runs sweep_deadlines every DEADLINE_SWEEP_INTERVAL. Every task
is safe to run twice or concurrently (the services claim their work).
"""

from celery import shared_task

from commission import services


@shared_task(name="commission.tasks.sweep_deadlines", ignore_result=True)
def sweep_deadlines() -> dict:
    result = services.deadlines_sweep()
    # Emails of what the sweep stored go out in the same run, so a notification
    # whose on-commit nudge was lost (broker down) still leaves.
    sent = services.notifications_send()
    return {"fired": result.fired, "reminded": result.reminded, "emailed": sent}


@shared_task(name="commission.tasks.fire_deadline", ignore_result=True)
def fire_deadline(deadline_id: int) -> bool:
    return services.deadline_fire(deadline_id=deadline_id)


@shared_task(name="commission.tasks.send_notifications", ignore_result=True)
def send_notifications() -> int:
    return services.notifications_send()
