"""With Redis down, a request that enqueues work gives up on the broker
within about 250 ms (config/queue.py's own fail-fast connection) and still
answers: the broker is a nudge, the sweep the durable path. Against a real
closed port, not a mocked broker."""

import contextlib
import logging
import socket
import time

import pytest
from kombu.exceptions import OperationalError

from config.celery import app
from config.queue import publish

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: connecting is refused
    return port


@pytest.fixture
def broker_down():
    saved = app.conf.broker_url, app.conf.broker_write_url
    app.conf.broker_url, app.conf.broker_write_url = f"redis://127.0.0.1:{_closed_port()}/0", None
    from commission.tasks import sweep_deadlines
    # The first publish of a process also imports kombu's transport: not what is timed.
    with contextlib.suppress(Exception):
        publish(sweep_deadlines)
    yield
    app.conf.broker_url, app.conf.broker_write_url = saved


def test_with_redis_down_a_request_that_enqueues_answers_within_half_a_second(
        broker_down, api, people, submitted, django_capture_on_commit_callbacks, caplog):
    report = submitted(people["monitor"])
    caplog.set_level(logging.WARNING, logger="config.queue")
    # Not timed: the first API answer of a test process loads what every later one reuses.
    api(people["verifier"]).get(f"/api/v1/reports/{report.pk}/")
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        # Returning a report notifies its monitor, which enqueues the mailer.
        response = api(people["verifier"]).post(f"/api/v1/reports/{report.pk}/return/",
                                                {"reason": "Which village exactly?"}, format="json")
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.content
    assert callbacks
    assert "could not enqueue" in caplog.text  # ... and the broker really was unreachable
    assert elapsed < 0.5, f"the request took {elapsed:.2f} s with Redis down"


def test_enqueueing_gives_up_on_an_unreachable_broker_within_250_ms(broker_down):
    from commission.tasks import sweep_deadlines
    for _ in range(3):
        started = time.monotonic()
        with pytest.raises(OperationalError):
            publish(sweep_deadlines)
        assert time.monotonic() - started < 0.25


def test_the_worker_keeps_the_broker_options_and_only_requests_fail_fast(settings):
    # The worker's blocking reads must not be cut at the publishing side's timeouts.
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["socket_timeout"] >= 1
    assert settings.ENQUEUE_TRANSPORT_OPTIONS["socket_timeout"] <= 0.25
    assert settings.ENQUEUE_TRANSPORT_OPTIONS["socket_connect_timeout"] <= 0.25
