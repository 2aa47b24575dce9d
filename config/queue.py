"""Enqueue Celery work after the transaction commits, without ever failing it.

The broker is a nudge, not the record: deadlines and seals live in the
database and beat sweeps them, so a request whose commit succeeded must not
fail (or hang) because Redis is down at that moment.
"""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    def _send() -> None:
        try:
            task.apply_async(args=args, kwargs=kwargs, retry=False)
        except Exception:  # the broker being down must not surface to the user
            logger.warning("could not enqueue %s; the periodic sweep will pick the work up", task.name, exc_info=True)

    transaction.on_commit(_send)
