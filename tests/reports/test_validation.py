"""Each rule of a report body: refused with the field named, nothing stored,
no audit event written."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from reports.models import Report
from tests.reports.conftest import body, iso

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/"


def _location(**changes):
    location = body()["location"]
    location.update(changes)
    return location


def _without(key):
    data = body()
    del data[key]
    return data


def _without_lat():
    data = body()
    del data["location"]["lat"]
    return data


def _casualties(**changes):
    return {**body()["casualties"], **changes}


BAD = [
    ("lat above 90", lambda: body(location=_location(lat=90.5)), ("location", "lat")),
    ("lat below -90", lambda: body(location=_location(lat=-91)), ("location", "lat")),
    ("lon above 180", lambda: body(location=_location(lon=180.01)), ("location", "lon")),
    ("lon below -180", lambda: body(location=_location(lon=-200)), ("location", "lon")),
    ("lat not a number", lambda: body(location=_location(lat="north")), ("location", "lat")),
    ("lat NaN", lambda: body(location=_location(lat="NaN")), ("location", "lat")),
    ("lat missing", _without_lat, ("location", "lat")),
    ("location missing", lambda: _without("location"), ("location",)),
    ("negative precision", lambda: body(location=_location(precision_m=-1)), ("location", "precision_m")),
    ("occurred_at missing", lambda: _without("occurred_at"), ("occurred_at",)),
    ("occurred_at not a time", lambda: body(occurred_at="yesterday"), ("occurred_at",)),
    ("occurred_at in the future", lambda: body(occurred_at=iso(timezone.now() + timedelta(minutes=30))),
     ("occurred_at",)),
    ("occurred_until in the future", lambda: body(occurred_until=iso(timezone.now() + timedelta(hours=1))),
     ("occurred_until",)),
    ("occurred_until before occurred_at", lambda: body(occurred_at="2026-01-10T10:00:00Z",
                                                       occurred_until="2026-01-10T09:59:00Z"), ("occurred_until",)),
    ("unknown category", lambda: body(category="bombing"), ("category",)),
    ("category missing", lambda: _without("category"), ("category",)),
    ("unknown source type", lambda: body(source_type="rumour"), ("source_type",)),
    ("unknown party", lambda: body(alleged_party="XX"), ("alleged_party",)),
    ("negative civilian_killed", lambda: body(casualties=_casualties(civilian_killed=-1)),
     ("casualties", "civilian_killed")),
    ("negative military_injured", lambda: body(casualties=_casualties(military_injured=-3)),
     ("casualties", "military_injured")),
    ("fractional casualties", lambda: body(casualties=_casualties(civilian_injured=1.5)),
     ("casualties", "civilian_injured")),
    ("severity 0", lambda: body(severity=0), ("severity",)),
    ("severity 6", lambda: body(severity=6), ("severity",)),
    ("description missing", lambda: _without("description"), ("description",)),
    ("description blank", lambda: body(description="   "), ("description",)),
    ("link not a URL", lambda: body(links=["not a url"]), ("links",)),
    ("link not http(s)", lambda: body(links=["ftp://example.org/x"]), ("links",)),
    ("javascript link", lambda: body(links=["javascript:alert(1)"]), ("links",)),
    ("too many links", lambda: body(links=[f"https://example.org/{i}" for i in range(21)]), ("links",)),
    ("unknown status", lambda: body(status="published"), ("status",)),
    ("weapons too long", lambda: body(weapons="x" * 501), ("weapons",)),
]


@pytest.mark.parametrize(("make", "path"), [(m, p) for _n, m, p in BAD], ids=[n for n, _m, _p in BAD])
def test_it_refuses_a_bad_body_naming_the_field_and_stores_nothing(api, people, make, path):
    response = api(people["monitor"]).post(URL, make(), format="json")
    assert response.status_code == 400, response.json()
    errors = response.json()
    for key in path:
        assert key in errors, errors
        errors = errors[key]
    assert Report.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_it_refuses_a_description_longer_than_the_setting(api, people, settings):
    settings.REPORT_DESCRIPTION_MAX = 50
    response = api(people["monitor"]).post(URL, body(description="x" * 51), format="json")
    assert response.status_code == 400 and "description" in response.json()
    assert Report.objects.count() == 0 and AuditEvent.objects.count() == 0
    assert api(people["monitor"]).post(URL, body(description="x" * 50), format="json").status_code == 201


def test_it_allows_a_few_minutes_of_clock_skew(api, people):
    response = api(people["monitor"]).post(URL, body(occurred_at=iso(timezone.now() + timedelta(minutes=2))),
                                           format="json")
    assert response.status_code == 201, response.json()


def test_optional_fields_may_be_left_out(api, people):
    data = body()
    for key in ("alleged_party", "casualties", "weapons", "severity", "links"):
        del data[key]
    data["location"] = {"lat": 1.5, "lon": -2.5}
    response = api(people["monitor"]).post(URL, data, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["alleged_party"] is None and response.json()["casualties"]["civilian_killed"] == 0


def test_the_service_enforces_the_rules_for_callers_other_than_the_api(people):
    from django.core.exceptions import ValidationError

    from reports.services import report_create

    data = {"occurred_at": timezone.now() + timedelta(hours=1), "lat": 95.0, "lon": 0.0, "category": "bogus",
            "description": "", "source_type": "uav"}
    with pytest.raises(ValidationError) as caught:
        report_create(actor=people["monitor"], data=data)
    assert {"occurred_at", "lat", "category", "description"} <= set(caught.value.message_dict)
    assert Report.objects.count() == 0 and AuditEvent.objects.count() == 0
