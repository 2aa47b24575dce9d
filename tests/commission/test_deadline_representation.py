"""A deadline's representation (commission.serializers.DeadlineSerializer)
is written directly, not by DRF's field-by-field walk: the same values as
that walk over the declared fields, which stay the schema, in every state a
deadline has and in any time zone."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from commission import services
from commission.models import Deadline
from commission.serializers import CaseSummarySerializer, DeadlineSerializer

pytestmark = pytest.mark.django_db

ZONES = ("UTC", "Europe/Kyiv", "America/St_Johns")


def _stock(deadline) -> dict:
    """DRF's own Serializer.to_representation over DeadlineSerializer's fields."""
    return dict(serializers.Serializer.to_representation(DeadlineSerializer(), deadline))


@pytest.fixture
def deadlines(people, case_in):
    for stage in ("verification", "attribution"):
        case_in(stage)
    case = case_in("measures")
    measure = services.measure_propose(actor=people["member1"], case=case, kind="sanctions", addressee="RU",
                                       description="Targeted sanctions on the battery's brigade.",
                                       compliance_due_at=timezone.now() + timedelta(days=30))
    services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")
    rows = list(Deadline.objects.order_by("id"))
    assert {d.kind for d in rows} >= {"verification"} and any(d.round_id for d in rows) and any(
        d.measure_id for d in rows)
    # Every state's times: one paused with a reason in several scripts, one
    # settled on a whole second in UTC, one due a microsecond after midnight.
    paused, settled, odd = rows[0], rows[1], rows[-1]
    Deadline.objects.filter(pk=paused.pk).update(status="paused", paused_at=timezone.now(),
                                                 pause_reason="Talks «en pause» — перемир'я ✓")
    Deadline.objects.filter(pk=settled.pk).update(status="missed", settled_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    Deadline.objects.filter(pk=odd.pk).update(due_at=datetime(2026, 10, 25, 0, 0, 0, 1, tzinfo=UTC))
    return list(Deadline.objects.select_related("case").order_by("id"))


@pytest.mark.parametrize("zone", ZONES)
def test_a_deadline_reads_as_drfs_walk_over_its_fields(deadlines, zone):
    with timezone.override(zone):
        for deadline in deadlines:
            assert DeadlineSerializer(deadline).data == _stock(deadline)
            assert list(DeadlineSerializer(deadline).data) == list(DeadlineSerializer().fields)
        shown = DeadlineSerializer(deadlines, many=True).data
    assert any(d["paused_at"] and d["pause_reason"] for d in shown)
    assert any(d["settled_at"] for d in shown) and any(d["settled_at"] is None for d in shown)
    if zone == "UTC":
        assert any(d["settled_at"] == "2026-03-01T12:00:00Z" for d in shown)


def test_the_case_list_carries_the_same_deadlines(people, api, deadlines):
    # Through the API (prefetched, no select_related of the case): the same values.
    body = api(people["member1"]).get("/api/v1/cases/").json()
    listed = {d["id"]: d for case in body["results"] for d in case["deadlines"]}
    assert listed and set(listed) == {d.pk for d in deadlines}
    for deadline in deadlines:
        assert listed[deadline.pk] == _stock(deadline)
    assert CaseSummarySerializer().fields["deadlines"].child.__class__ is DeadlineSerializer
