"""Two publishers of the same period at once (beat ticking twice, or beat and
the chair), with real concurrent transactions on PostgreSQL: the unique
period lets one bulletin in, the other publisher answers with it, and the
trail records one bulletin.published."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from audit.models import AuditEvent
from commission import services
from commission.models import Bulletin
from tests.audit.helpers import SIGNING_KEY

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PUBLISHERS = 4


@pytest.fixture(autouse=True)
def _postgres_only(settings):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    settings.BULLETIN_DELAY = timedelta(hours=48)


def test_publishers_racing_for_one_period_publish_one_bulletin(people, submitted):
    submitted(people["monitor"], occurred_at=timezone.now() - timedelta(hours=60))
    now = timezone.now()
    barrier = threading.Barrier(PUBLISHERS)
    results, errors = [], []

    def publish():
        try:
            barrier.wait(timeout=10)
            bulletin, created = services.bulletin_publish(now=now)
            results.append((bulletin.pk, created))
        except BaseException as exc:  # reported to the test, not swallowed
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=publish) for _ in range(PUBLISHERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a publisher is stuck"
    assert not errors, errors
    assert len({pk for pk, _created in results}) == 1
    assert sum(created for _pk, created in results) == 1
    assert Bulletin.objects.count() == 1
    assert AuditEvent.objects.filter(action="bulletin.published").count() == 1
