"""Several processes appending at once leave one chain: no fork, gap or duplicate."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.services import trail_verify
from tests.audit.helpers import ROOT

WRITER = """
import sys
import django
django.setup()
from django.db import transaction
from audit.services import audit_record

tag, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    with transaction.atomic():
        audit_record(actor=None, action="load.appended", object_type="load", object_id=f"{tag}-{i}",
                     after={"writer": tag, "i": i})
"""

PROCESSES = 4
EACH = 200


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_from_several_processes_leave_a_chain_that_verifies():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    env = dict(os.environ, DATABASE_URL=_database_url(), DJANGO_SETTINGS_MODULE="config.settings")
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, f"w{n}", str(EACH)], cwd=ROOT, env=env)
        for n in range(PROCESSES)
    ]
    assert [w.wait(timeout=300) for w in writers] == [0] * PROCESSES

    # Every event was sealed by the writers' own on-commit seals (a sealer
    # re-checks after it releases the lock), without waiting for beat.
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 0
    seqs = sorted(AuditEvent.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, PROCESSES * EACH + 1))
    report = trail_verify()
    assert report.ok, report.problem
    assert report.checked == PROCESSES * EACH
    # Each writer's events are in its own commit order along the chain.
    for n in range(PROCESSES):
        ids = list(AuditEvent.objects.filter(object_id__startswith=f"w{n}-").order_by("seq")
                   .values_list("object_id", flat=True))
        assert ids == [f"w{n}-{i}" for i in range(EACH)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_process_that_coalesced_its_seals_seals_the_rest_when_it_exits():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    # A gap far longer than the run: only the first commit seals on the way,
    # the other nine are owed, and the exit hook pays them.
    env = dict(os.environ, DATABASE_URL=_database_url(), DJANGO_SETTINGS_MODULE="config.settings",
               AUDIT_SEAL_COALESCE_MS="600000")
    writer = subprocess.run([sys.executable, "-c", WRITER, "solo", "10"], cwd=ROOT, env=env, timeout=120)
    assert writer.returncode == 0
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 0
    assert list(AuditEvent.objects.order_by("seq").values_list("object_id", flat=True)) == [
        f"solo-{i}" for i in range(10)]
    assert trail_verify().ok
