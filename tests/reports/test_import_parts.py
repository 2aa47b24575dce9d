"""A batch checked one part ahead (reports.imports.one_part_ahead): while a
part is written, the next is checked on a second thread. That thread must
not query (its connection is not the batch's transaction), and a failure in
any part leaves nothing of the others. test_import.py runs every import rule
both ways (whole and in parts)."""

import pytest

from audit.models import AuditEvent
from reports.imports import import_records, records_from
from reports.models import Report
from reports.services import batch
from tests.reports.test_import import SAMPLE_CIR

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def parts_of_two(settings):
    settings.REPORT_IMPORT_PART_ROWS = 2


def run(people):
    header, records = records_from(SAMPLE_CIR, "text/csv")
    return import_records(actor=people["monitor"], header=header, records=records)


def test_a_check_that_queries_the_database_is_stopped_and_nothing_is_stored(people, parties, monkeypatch):
    """A query on the second thread would read outside the batch's
    transaction (missing its own rows): it raises instead."""
    real_check = batch._check

    def querying_check(report):
        Report.objects.exists()
        real_check(report)

    monkeypatch.setattr(batch, "_check", querying_check)
    with pytest.raises(RuntimeError, match="without queries"):
        run(people)
    assert not Report.objects.exists() and not AuditEvent.objects.exists()


def test_a_failure_writing_a_later_part_leaves_nothing_of_the_earlier_ones(people, parties, monkeypatch):
    real_insert, calls = batch._insert_ignoring_conflicts, []

    def failing_second_insert(reports):
        calls.append(len(reports))
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real_insert(reports)

    monkeypatch.setattr(batch, "_insert_ignoring_conflicts", failing_second_insert)
    with pytest.raises(RuntimeError, match="went away"):
        run(people)
    assert calls[0] == 2  # the first part was written before the second failed
    assert not Report.objects.exists() and not AuditEvent.objects.exists()


def test_the_same_file_files_the_same_way_whole_and_in_parts(people, parties, settings):
    """The outcomes of a file with good, bad and repeated rows spread over
    three parts are those of the whole batch, row for row."""
    in_parts = run(people).as_dict()
    Report.objects.all().delete()
    settings.REPORT_IMPORT_PART_ROWS = 0
    whole = run(people).as_dict()

    def shape(result):
        return [(row["row"], row["status"], row["errors"]) for row in result["rows"]]

    assert shape(in_parts) == shape(whole)
    assert (in_parts["filed"], in_parts["duplicates"], in_parts["refused"]) == (2, 1, 2)
