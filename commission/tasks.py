"""Celery tasks of the workflow: they take ids (or nothing) and call a service.

Nothing here is scheduled for later with an ETA or countdown: deadlines are
rows, and beat runs sweep_deadlines every DEADLINE_SWEEP_INTERVAL. Every task
is safe to run twice or concurrently (the services claim their work).
"""

import logging

from celery import shared_task

from commission import services
from notifications.mailer import notifications_send

logger = logging.getLogger(__name__)


@shared_task(name="commission.tasks.sweep_deadlines", ignore_result=True)
def sweep_deadlines() -> dict:
    result = services.deadlines_sweep()
    # The sweep stores its notifications without a publish each; they are
    # emailed here, in the same run (so one whose on-commit nudge was lost,
    # the broker being down, still leaves).
    sent = notifications_send()
    return {"fired": result.fired, "reminded": result.reminded, "emailed": sent}


@shared_task(name="commission.tasks.fire_deadline", ignore_result=True)
def fire_deadline(deadline_id: int) -> bool:
    return services.deadline_fire(deadline_id=deadline_id)


@shared_task(name="commission.tasks.publish_bulletin", ignore_result=True)
def publish_bulletin() -> list[int]:
    """Beat, hourly: the bulletins of the periods past their delay that have
    none yet (a no-op on most ticks). Without a signing key there is no
    bulletin to publish."""
    from audit.keys import CheckpointsDisabled

    try:
        published = services.bulletins_publish_due()
    except CheckpointsDisabled as exc:
        logger.warning("bulletin not published: %s", exc)
        return []
    return [bulletin.pk for bulletin in published]
