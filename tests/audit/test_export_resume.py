"""The trail's export keeps up and resumes: keyset batches, after_seq, and
the same bytes as the recipe's json.dumps, line for line."""

import io
import json
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit import chain, selectors, verification
from audit.models import AuditEvent
from audit.services import audit_record, trail_seal
from tests.audit.helpers import PUBLIC_KEY, SIGNING_KEY, record, run_script

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit/export/"
BATCH = 5


@pytest.fixture(autouse=True)
def small_batches(settings):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    settings.EXPORT_BATCH_SIZE = BATCH


def body(response) -> str:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content).decode("utf-8")


def test_an_export_cut_after_k_lines_and_resumed_after_its_last_seq_is_the_whole_export(api, people, tmp_path):
    record(23, actor=people["monitor"])
    client = api(people["auditor"])
    whole = body(client.get(URL))
    lines = whole.splitlines(keepends=True)
    assert len(lines) == 24 and "checkpoint" in json.loads(lines[-1])
    for k in (0, 1, 4, 5, 6, 10, 22, 23):
        last_seq = json.loads(lines[k - 1])["seq"] if k else 0
        rest = body(client.get(URL, {"after_seq": last_seq}))
        assert "".join(lines[:k]) + rest == whole, k  # no gap, no duplicate, same checkpoint line
    assert run_script(whole, "--public-key", PUBLIC_KEY, tmp_path=tmp_path).returncode == 0


def test_a_resumed_export_holds_the_events_after_seq_in_seq_order(api, people):
    record(12)
    lines = body(api(people["chair"]).get(URL, {"after_seq": 7})).splitlines()
    assert [json.loads(line)["seq"] for line in lines[:-1]] == [8, 9, 10, 11, 12]
    beyond = body(api(people["chair"]).get(URL, {"after_seq": 99})).splitlines()
    assert len(beyond) == 1 and "checkpoint" in json.loads(beyond[0])


def test_a_case_export_resumes_the_same_way():
    record(8, object_type="case", object_id="1")
    record(8, object_type="case", object_id="2")
    refs = {("case", "1")}
    whole = "".join(selectors.export_lines(refs=refs))  # no checkpoint signed yet: events only
    events = [json.loads(line) for line in whole.splitlines()]
    assert [e["object_id"] for e in events] == ["1"] * 8
    after = events[2]["seq"]
    rest = "".join(selectors.export_lines(refs=refs, after_seq=after))
    assert "".join(whole.splitlines(keepends=True)[:3]) + rest == whole


def test_export_audit_resumes_with_after_seq():
    record(6)
    out = io.StringIO()
    call_command("export_audit", "--after-seq", "4", stdout=out)
    assert [json.loads(line).get("seq") for line in out.getvalue().splitlines()] == [5, 6, None]


@pytest.mark.parametrize("value", ["x", "-1", "1.5", "5.0", "+5", " 5", "٣", "9223372036854775808", "1e3"])
def test_it_refuses_an_after_seq_that_is_not_a_whole_number_from_0(api, people, value):
    record(1)
    response = api(people["auditor"]).get(URL, {"after_seq": value})
    assert response.status_code == 400
    assert "after_seq" in response.json()


def test_the_largest_after_seq_is_an_empty_export_not_an_error(api, people):
    record(1)
    lines = body(api(people["auditor"]).get(URL, {"after_seq": str(2**63 - 1)})).splitlines()
    assert len(lines) == 1 and "checkpoint" in json.loads(lines[0])


@pytest.mark.parametrize(("who", "status"), [
    ("auditor", 200), ("chair", 200), ("monitor", 403), ("member1", 403), ("verifier", 403), ("outsider", 403),
    (None, 401),
])
def test_who_may_export_is_unchanged_by_resuming(api, people, who, status):
    record(2)
    assert api(people[who] if who else None).get(URL, {"after_seq": 1}).status_code == status


def _export_queries(client, **params) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        body(client.get(URL, params))
    batch_reads = [q["sql"] for q in queries.captured_queries
                   if 'FROM "audit_auditevent"' in q["sql"] and '"audit_auditevent"."seq" >' in q["sql"]]
    return len(queries), batch_reads


def test_an_export_runs_one_query_per_batch(api, people, django_assert_max_num_queries):
    client = api(people["auditor"])
    record(23)
    total_23, reads_23 = _export_queries(client)
    record(23)
    total_46, reads_46 = _export_queries(client)
    assert len(reads_23) == math.ceil(23 / BATCH) and len(reads_46) == math.ceil(46 / BATCH)
    assert total_46 - len(reads_46) <= total_23 - len(reads_23)  # nothing else grows with the trail
    with django_assert_max_num_queries(total_23 - len(reads_23) + math.ceil(46 / BATCH)):
        body(client.get(URL))


def test_an_export_holds_at_most_one_batch_of_rows(api, people):
    record(17)
    _total, reads = _export_queries(api(people["auditor"]))  # signs a checkpoint
    assert reads and all(sql.endswith(f"LIMIT {BATCH}") for sql in reads)  # never more rows than a batch
    chunks = list(selectors.export_lines())
    assert [chunk.count("\n") for chunk in chunks] == [5, 5, 5, 2, 1]  # one string per batch, then the checkpoint


def test_events_sealed_during_an_export_wait_for_the_next_one():
    from audit.services import checkpoint_publish

    record(7)
    checkpoint_publish(actor=None)
    lines = selectors.export_lines()
    first = next(lines)
    record(3)
    rest = "".join(lines)
    seqs = [json.loads(line).get("seq") for line in (first + rest).splitlines()]
    assert seqs == [1, 2, 3, 4, 5, 6, 7, None]
    checkpoint = json.loads((first + rest).splitlines()[-1])["checkpoint"]
    assert checkpoint["seq"] <= 7  # the checkpoint line covers no event the export left out


TRICKY = [
    {"z": 1, "a": {"y": [3, 2, {"b": None, "a": True}], "x": "é"}, "A": "Z"},
    {"text": 'quote " backslash \\ newline \n tab \t nul-ish \x01 \x1f del \x7f',
     "separators": "\u2028\u2029", "emoji": "🕊", "cyrillic": "Кураховe", "": "empty key"},
    {"floats": [0.1 + 0.2, 1e-05, 1e16, -0.0, 48.0, 1.5e300, 123456789.123], "big": 2**70, "neg": -7},
    [1, "two", None, False, {"b": 1, "a": 2}],
    "just a string",
    42,
    {},
    [],
]


def test_the_lines_are_byte_for_byte_the_stock_json_dumps_of_each_event(people):
    with transaction.atomic():
        for i, payload in enumerate(TRICKY):
            audit_record(actor=people["monitor"] if i % 2 else None, action=f"test.tricky{i}", object_type="thing",
                         object_id=f"id \"{i}\" ✓", before=None if i % 3 else TRICKY[-1 - i], after=payload,
                         reason="" if i % 2 else f"reason {i}: ünïcode\u2028")
    trail_seal()
    stock = "".join(selectors._dump_line(selectors.event_export_dict(e)) for e in AuditEvent.objects.order_by("seq"))
    # The old export's path, raw rows through chain.obj_from_row, agrees too.
    old = "".join(selectors._dump_line({**chain.obj_from_row(row), "hash": row[-1]})
                  for row in verification.sealed_rows())
    fast = "".join(selectors.export_lines(batch_size=3))  # no checkpoint signed: events only
    assert fast == stock == old
    # and every line is still what the chain hashed
    for line in fast.split("\n")[:-1]:  # (splitlines() would also split at U+2028)
        event = json.loads(line)
        digest = event.pop("hash")
        assert chain.event_hash(event["prev_hash"], event) == digest


@pytest.mark.parametrize("at", [
    datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 24, 10, 0, 0, 123456, tzinfo=UTC),
    datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=timezone(timedelta(hours=2))),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
])
def test_the_time_of_a_line_is_the_recipes_format(at):
    assert selectors._at_text(at) == chain.format_at(at)
