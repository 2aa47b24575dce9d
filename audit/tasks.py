import logging

from celery import shared_task
from django.conf import settings

from audit.services import checkpoint_publish, trail_seal, trail_verify

logger = logging.getLogger(__name__)


@shared_task(name="audit.tasks.seal_trail")
def seal_trail() -> int:
    """Beat's safety net: seals events whose on-commit seal did not run (the
    process died between commit and seal, or the lock was busy at the end of
    a burst). Blocking on the lock is fine here; it is held for milliseconds."""
    return trail_seal(blocking=True)


@shared_task(name="audit.tasks.publish_checkpoint")
def publish_checkpoint() -> int | None:
    """Periodic, and enqueued after a case closes. Idempotent: nothing new is
    signed when the head has not moved."""
    if not settings.AUDIT_SIGNING_KEY:
        logger.warning("AUDIT_SIGNING_KEY is not set; no checkpoint published")
        return None
    checkpoint = checkpoint_publish(actor=None)
    return checkpoint.seq if checkpoint else None


@shared_task(name="audit.tasks.verify_trail")
def verify_trail() -> bool:
    """The full pass, daily by default (AUDIT_VERIFY_INTERVAL): pages check
    only what follows the head it found intact."""
    report = trail_verify(full=True)
    if not report.ok:
        logger.error("trail NOT intact: first bad seq %s: %s", report.first_bad_seq, report.problem)
    return report.ok
