"""The bulletin's API: anyone reads it without signing in (list, one
bulletin), only the chair publishes on demand (201, then 200 with the same
one), and only the chair marks a case's summary public."""

from datetime import timedelta

import pytest

from audit.selectors import checkpoint_check
from commission import services
from commission.models import Bulletin
from tests.audit.helpers import PUBLIC_KEY, SIGNING_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _signing_key(settings):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    settings.BULLETIN_DELAY = timedelta(hours=48)


def test_anyone_reads_the_bulletins_without_signing_in(api, people, submitted):
    submitted(people["monitor"])
    bulletin, _ = services.bulletin_publish()
    listed = api().get("/api/v1/bulletins/")
    assert listed.status_code == 200
    assert [b["id"] for b in listed.json()["results"]] == [bulletin.pk]
    one = api().get(f"/api/v1/bulletins/{bulletin.pk}/")
    assert one.status_code == 200
    body = one.json()
    assert body["period"]["end"].startswith(bulletin.period_end.strftime("%Y-%m-%dT%H:%M"))
    assert checkpoint_check(body["tree_head"], public_key_hex=PUBLIC_KEY)[0]
    assert api().get("/api/v1/bulletins/999999/").status_code == 404


def test_the_chair_publishes_on_demand_and_a_second_ask_publishes_nothing_new(api, people):
    first = api(people["chair"]).post("/api/v1/bulletins/")
    assert first.status_code == 201 and first.json()["on_demand"] is True
    again = api(people["chair"]).post("/api/v1/bulletins/")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Bulletin.objects.count() == 1


def test_nobody_but_the_chair_publishes(api, people):
    assert api().post("/api/v1/bulletins/").status_code == 401
    for who in ("member1", "verifier", "auditor", "monitor"):
        assert api(people[who]).post("/api/v1/bulletins/").status_code == 403
    assert not Bulletin.objects.exists()


def test_without_a_signing_key_publishing_answers_503(api, people, settings):
    settings.AUDIT_SIGNING_KEY = None
    response = api(people["chair"]).post("/api/v1/bulletins/")
    assert response.status_code == 503 and response.json()["code"] == "checkpoints_disabled"


def test_the_chair_marks_a_closed_case_summary_public_by_api(api, people, case_in):
    case = case_in("measures")
    services.case_close(actor=people["chair"], case=case, summary="Attributed to RU.")
    assert api(people["member1"]).post(f"/api/v1/cases/{case.pk}/summary-public/", {}).status_code == 403
    response = api(people["chair"]).post(f"/api/v1/cases/{case.pk}/summary-public/", {"public": True})
    assert response.status_code == 200 and response.json()["summary_public"] is True
    response = api(people["chair"]).post(f"/api/v1/cases/{case.pk}/summary-public/", {"public": False})
    assert response.status_code == 200 and response.json()["summary_public"] is False
    open_case = case_in("verification", title="Still open")
    assert api(people["chair"]).post(f"/api/v1/cases/{open_case.pk}/summary-public/", {}).status_code == 409


def test_anonymous_reads_are_rate_limited(api, settings):
    from django.core.cache import cache

    from commission.api.bulletins import BulletinListApi

    cache.clear()
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "bulletin": "3/min"}
    # DRF reads the rates once, at import: give the throttle its own for this test.
    from rest_framework.throttling import ScopedRateThrottle

    original = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = rates
    try:
        statuses = [api().get("/api/v1/bulletins/").status_code for _ in range(4)]
    finally:
        ScopedRateThrottle.THROTTLE_RATES = original
        cache.clear()
    assert statuses == [200, 200, 200, 429]
    assert BulletinListApi.throttle_scope == "bulletin"


def test_a_stale_token_does_not_turn_a_public_read_into_a_401(api, people, submitted):
    # Public reads ignore credentials; only publishing authenticates.
    bulletin, _ = services.bulletin_publish()
    stale = api()
    stale.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert stale.get("/api/v1/bulletins/").status_code == 200
    assert stale.get(f"/api/v1/bulletins/{bulletin.pk}/").status_code == 200
    assert stale.post("/api/v1/bulletins/").status_code == 401


@pytest.mark.outside_schema
def test_a_method_the_bulletins_do_not_offer_is_405(api):
    assert api().generic("TRACE", "/api/v1/bulletins/").status_code == 405
    assert api().generic("DELETE", "/api/v1/bulletins/1/").status_code == 405
