"""The public bulletin: what it counts (filed reports past the delay, cases,
measures), what it never says (points, references, monitors, descriptions,
summaries not made public), that it is immutable and published once per
period, and that it carries a valid signed tree head of the trail."""

import json
import math
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.keys import CheckpointsDisabled
from audit.models import AuditEvent
from audit.selectors import checkpoint_check
from audit.services import trail_seal
from commission import services
from commission.models import Bulletin
from commission.selectors.bulletin import KM_PER_DEGREE_LAT, content_sha256, grid_cell, scheduled_period
from config.errors import Conflict, Forbidden
from tests.audit.helpers import PUBLIC_KEY, SIGNING_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _signing_key(settings):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    settings.BULLETIN_DELAY = timedelta(hours=48)
    settings.BULLETIN_PERIOD = timedelta(hours=24)
    settings.BULLETIN_GRID_KM = 10.0


def publish_now(people, **kwargs):
    """The chair's on-demand bulletin as if asked once the delay has passed:
    it covers the last 24 hours up to (about) now."""
    later = timezone.now() + django_settings.BULLETIN_DELAY + timedelta(minutes=1)
    bulletin, created = services.bulletin_publish(actor=people["chair"], on_demand=True, now=later, **kwargs)
    assert created
    return bulletin


def counts(rows, key):
    return {row[key]: row["count"] for row in rows}


def test_a_bulletin_counts_filed_reports_by_category_region_and_day(people, submitted):
    for category, region in [("shelling", "Zaporizhzhia"), ("shelling", "Zaporizhzhia"), ("drone_strike", "Kherson")]:
        submitted(people["monitor"], category=category, admin1=region)
    submitted(people["monitor2"], category="mine_ied")
    reports = publish_now(people).content["reports"]
    assert reports["total"] == 4
    assert counts(reports["by_category"], "category") == {"shelling": 2, "drone_strike": 1, "mine_ied": 1}
    assert counts(reports["by_region"], "region") == {"Zaporizhzhia": 2, "Kherson": 1, None: 1}
    assert sum(row["count"] for row in reports["by_day"]) == 4


def test_a_report_within_the_delay_is_not_counted(people, submitted):
    submitted(people["monitor"], occurred_at=timezone.now() - timedelta(hours=60), category="shelling")
    submitted(people["monitor"], occurred_at=timezone.now() - timedelta(hours=1), category="drone_strike")
    # Asked now: the bulletin ends 48 h ago, so the report of an hour ago waits for a later one.
    bulletin, created = services.bulletin_publish(actor=people["chair"], on_demand=True)
    assert created
    assert bulletin.period_end <= timezone.now() - timedelta(hours=48)
    assert counts(bulletin.content["reports"]["by_category"], "category") == {"shelling": 1}


def test_drafts_are_not_counted(people, submitted):
    submitted(people["monitor"], status="draft")
    submitted(people["monitor"])
    assert publish_now(people).content["reports"]["total"] == 1


def test_a_reports_point_reference_monitor_and_description_never_appear(people, submitted):
    report = submitted(people["monitor"], lat=47.56891, lon=35.86127, place_name="Orikhiv school No 2",
                       description="Seen from the roof of the school by our team.")
    text = json.dumps(publish_now(people).content)
    for secret in ("47.56891", "35.86127", "47.5689", "35.8613", report.reference, "monitor1",
                   "Orikhiv school", "roof of the school"):
        assert secret not in text


def test_locations_are_snapped_to_the_centre_of_a_cell_of_the_configured_size(people, submitted, settings):
    # Two reports some 400 m apart fall in one 10 km cell: one point, counted twice.
    # (The cell of Orikhiv is centred on 47.5247 N 35.8405 E.)
    submitted(people["monitor"], lat=47.5230, lon=35.8390)
    submitted(people["monitor"], lat=47.5260, lon=35.8430)
    cells = publish_now(people).content["reports"]["cells"]
    assert len(cells) == 1 and cells[0]["count"] == 2
    assert (cells[0]["lat"], cells[0]["lon"]) == grid_cell(47.5230, 35.8390, grid_km=10.0) == (47.5247, 35.8405)


@pytest.mark.parametrize("grid_km", [1.0, 10.0, 25.0])
def test_a_cell_centre_is_within_half_a_cell_of_the_point_and_rows_are_grid_km_apart(grid_km):
    for lat, lon in [(47.5689, 35.8612), (48.0159, 37.8028), (-33.9, 151.2), (0.01, -0.01)]:
        c_lat, c_lon = grid_cell(lat, lon, grid_km=grid_km)
        dy = (c_lat - lat) * KM_PER_DEGREE_LAT
        dx = (c_lon - lon) * 111.320 * math.cos(math.radians(c_lat))
        assert abs(dy) <= grid_km / 2 + 0.01 and abs(dx) <= grid_km / 2 + 0.01
        assert (c_lat, c_lon) != (lat, lon)
        # The next row's centre is exactly one cell further north.
        next_lat, _ = grid_cell(lat + grid_km / KM_PER_DEGREE_LAT, lon, grid_km=grid_km)
        assert next_lat - c_lat == pytest.approx(grid_km / KM_PER_DEGREE_LAT, abs=1e-3)


def test_a_coarser_grid_merges_what_a_finer_one_keeps_apart(people, submitted, settings):
    # About 6 km apart: two 1 km cells, one 50 km cell (both sit well inside it).
    submitted(people["monitor"], lat=47.80, lon=35.60)
    submitted(people["monitor"], lat=47.85, lon=35.60)
    settings.BULLETIN_GRID_KM = 1.0
    fine = publish_now(people)
    assert fine.content["grid_km"] == 1.0 and len(fine.content["reports"]["cells"]) == 2
    assert grid_cell(47.80, 35.60, grid_km=50.0) == grid_cell(47.85, 35.60, grid_km=50.0)


def test_cases_attributions_closures_and_measures_are_counted(people, case_in):
    case = case_in("measures")
    measure = services.measure_propose(actor=people["member1"], case=case, kind="sanctions", addressee="RU",
                                       description="Targeted sanctions.", compliance_due_at=None)
    services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")
    services.case_close(actor=people["chair"], case=case, summary="Attributed to RU; sanctions adopted.")
    case_in("verification", title="Another")
    content = publish_now(people).content
    assert content["cases"]["opened"] == 2
    assert content["cases"]["attributed"] == 1 and content["cases"]["attributed_to"] == [{"party": "RU", "count": 1}]
    assert content["cases"]["closed"] == 1
    assert content["measures"]["adopted"] == 1
    assert content["measures"]["adopted_by_kind"] == [{"kind": "sanctions", "count": 1}]
    assert content["measures"]["adopted_by_addressee"] == [{"party": "RU", "count": 1}]
    assert content["measures"]["compliance"] == [{"compliance": "pending", "count": 1}]


def test_a_case_summary_appears_only_when_the_chair_marked_it_public(people, case_in):
    public, private = case_in("measures", title="One"), case_in("measures", title="Two")
    services.case_close(actor=people["chair"], case=public, summary="Attributed to RU; the brigade was sanctioned.")
    services.case_close(actor=people["chair"], case=private, summary="Names the battery commander.")

    with pytest.raises(Forbidden):
        services.case_summary_publish(actor=people["member1"], case=public)
    services.case_summary_publish(actor=people["chair"], case=public)
    event = AuditEvent.objects.filter(action="case.summary_public", object_id=str(public.pk)).get()
    assert event.actor == people["chair"] and event.after["summary_public"] is True

    content = publish_now(people).content
    summaries = content["cases"]["public_summaries"]
    assert [(s["case"], s["summary"]) for s in summaries] == [
        (public.reference, "Attributed to RU; the brigade was sanctioned.")]
    assert "battery commander" not in json.dumps(content)


def test_only_a_closed_case_summary_can_be_made_public(people, case_in):
    with pytest.raises(Conflict):
        services.case_summary_publish(actor=people["chair"], case=case_in("verification"))


def test_the_database_refuses_to_change_or_delete_a_published_bulletin(people):
    bulletin = publish_now(people)
    with pytest.raises(DatabaseError), transaction.atomic():
        Bulletin.objects.filter(pk=bulletin.pk).update(content={"reports": {"total": 0}})
    with pytest.raises(DatabaseError), transaction.atomic():
        Bulletin.objects.filter(pk=bulletin.pk).delete()
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE commission_bulletin")
    bulletin.refresh_from_db()
    assert bulletin.content["period"]


def test_a_re_run_for_the_same_period_publishes_nothing_twice(people):
    # Yesterday noon: a run 30 minutes later is in the same period (from
    # 23:30 UTC on, "now + 30 minutes" fell into the next day's period).
    now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    first, created = services.bulletin_publish(now=now)
    again, created_again = services.bulletin_publish(now=now + timedelta(minutes=30))
    assert created and not created_again and again.pk == first.pk
    assert (first.period_start, first.period_end) == scheduled_period(
        now=now, period=timedelta(hours=24), delay=timedelta(hours=48))
    assert first.period_end - first.period_start == timedelta(hours=24)
    assert AuditEvent.objects.filter(action="bulletin.published").count() == 1
    # The chair asking twice within a minute also gets the same one.
    chair_first, c1 = services.bulletin_publish(actor=people["chair"], on_demand=True, now=now)
    chair_again, c2 = services.bulletin_publish(actor=people["chair"], on_demand=True, now=now)
    assert c1 and not c2 and chair_again.pk == chair_first.pk
    assert chair_first.period_start == first.period_end  # it follows on from the scheduled one


def test_the_bulletin_carries_a_validly_signed_tree_head_and_the_trail_records_it(people, submitted):
    submitted(people["monitor"])
    bulletin = publish_now(people)
    head = bulletin.tree_head
    assert head is not None and head["public_key"] == PUBLIC_KEY
    ok, message = checkpoint_check(head, public_key_hex=PUBLIC_KEY)
    assert ok, message
    trail_seal(blocking=True)
    event = AuditEvent.objects.get(action="bulletin.published", object_id=str(bulletin.pk))
    assert event.after["tree_head"] == head
    assert event.after["content_sha256"] == content_sha256(bulletin.content)
    # The head was signed before the bulletin's own event was written: it covers the trail behind the bulletin.
    assert head["seq"] == event.seq - 1
    forged = dict(head, hash="0" * 64)
    assert not checkpoint_check(forged, public_key_hex=PUBLIC_KEY)[0]


def test_without_a_signing_key_no_bulletin_is_published(people, settings):
    settings.AUDIT_SIGNING_KEY = None
    with pytest.raises(CheckpointsDisabled):
        services.bulletin_publish(actor=people["chair"], on_demand=True)
    assert not Bulletin.objects.exists()


def test_only_the_chair_publishes_on_demand(people):
    for who in ("member1", "verifier", "auditor", "monitor"):
        with pytest.raises(Forbidden):
            services.bulletin_publish(actor=people[who], on_demand=True)
    assert not Bulletin.objects.exists()


def test_beat_publishes_each_due_period_once_catching_up_after_downtime(people):
    from commission.tasks import publish_bulletin

    assert "publish-bulletin" in django_settings.CELERY_BEAT_SCHEDULE
    # Yesterday's bulletin and the one before exist; beat was then down for two days.
    now = timezone.now()
    for days in (4, 3):
        services.bulletin_publish(now=now - timedelta(days=days))
    published = services.bulletins_publish_due(now=now)
    assert len(published) == 3
    ends = sorted(Bulletin.objects.values_list("period_end", flat=True))
    assert all(later - earlier == timedelta(hours=24) for earlier, later in zip(ends, ends[1:], strict=False))
    assert ends[-1] == scheduled_period(now=now, period=timedelta(hours=24), delay=timedelta(hours=48))[1]
    # The next ticks publish nothing more (the same moment: "5 minutes later"
    # fell into the next day's period when the test ran after 23:55 UTC).
    assert services.bulletins_publish_due(now=now) == []
    assert publish_bulletin() == []
    assert all(b.published_by is None and not b.on_demand for b in Bulletin.objects.all())


def test_a_first_tick_catches_up_at_most_a_bounded_number_of_periods():
    from commission.services.bulletin import CATCH_UP_PERIODS

    assert len(services.bulletins_publish_due()) == CATCH_UP_PERIODS == Bulletin.objects.count()


def test_without_a_signing_key_beat_publishes_nothing_and_says_why(settings, caplog):
    from commission.tasks import publish_bulletin

    settings.AUDIT_SIGNING_KEY = None
    assert publish_bulletin() == []
    assert "AUDIT_SIGNING_KEY" in caplog.text
    assert not Bulletin.objects.exists()
