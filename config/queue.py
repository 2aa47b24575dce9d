"""Enqueue Celery work after the transaction commits, without ever failing it.

The broker is a nudge, not the record: deadlines and seals live in the
database and beat sweeps them, so a request whose commit succeeded must not
fail (or hang) because Redis is down at that moment.

Publishing uses its own short-lived connection with short socket timeouts
and no retries (settings.ENQUEUE_TRANSPORT_OPTIONS): with Redis down a
request gives up within about 250 ms instead of the 2-6 s that redis-py's
retries with the broker's options took. The broker's options
(CELERY_BROKER_TRANSPORT_OPTIONS) stay for the worker, whose blocking reads
must not time out that fast.
"""

import logging
import os
import threading

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

_pools: dict = {}
_pools_lock = threading.Lock()


def _pool(app):
    """This process's pool of fail-fast connections (a new one after a fork:
    a connection is never shared between processes)."""
    key = (os.getpid(), id(app), app.conf.broker_write_url or app.conf.broker_url)
    with _pools_lock:
        if key not in _pools:
            connection = app.connection_for_write(transport_options=settings.ENQUEUE_TRANSPORT_OPTIONS)
            _pools[key] = connection.Pool(limit=app.conf.broker_pool_limit or 10)
        return _pools[key]


def publish(task, args=(), kwargs=None) -> None:
    """Send one task now on a fail-fast connection; raises when the broker is unreachable."""
    if task.app.conf.task_always_eager:
        task.apply_async(args=args, kwargs=kwargs or {})
        return
    connection = _pool(task.app).acquire(block=True, timeout=0.25)
    try:
        task.apply_async(args=args, kwargs=kwargs or {}, retry=False, connection=connection)
    except Exception:
        connection.collect()  # dropped, not reused: the next publish connects afresh
        raise
    finally:
        connection.release()


def enqueue_on_commit(task, *args, **kwargs) -> None:
    def _send() -> None:
        try:
            publish(task, args, kwargs)
        except Exception:  # the broker being down must not surface to the user
            logger.warning("could not enqueue %s; the periodic sweep will pick the work up", task.name, exc_info=True)

    transaction.on_commit(_send)
