"""The home page shows what waits for the signed-in person."""

import pytest

from reports.services import report_create


def draft(user, description="half-written"):
    return report_create(actor=user, data={
        "occurred_at": "2026-01-01T10:00:00Z", "lat": 47.5, "lon": 35.8, "category": "shelling",
        "source_type": "uav", "description": description, "status": "draft"})[0]


@pytest.mark.django_db
def test_a_monitor_sees_their_drafts_and_nobody_elses(people, web):
    mine = draft(people["monitor"])
    theirs = draft(people["monitor2"])
    page = web(people["monitor"]).get("/").content.decode()
    assert "Your drafts" in page
    assert mine.reference in page
    assert theirs.reference not in page


@pytest.mark.django_db
def test_a_person_without_a_role_is_told_so(people, web):
    page = web(people["outsider"]).get("/").content.decode()
    assert "You have no role yet" in page


@pytest.mark.django_db
def test_the_navigation_offers_only_the_pages_of_ones_roles(people, web):
    page = web(people["member1"]).get("/").content.decode()
    assert 'href="/cases/"' in page
    assert 'href="/overview/"' in page
    assert 'href="/my/reports/new/"' not in page
    assert 'href="/board/"' not in page
    assert 'href="/trail/"' not in page


@pytest.mark.django_db
def test_evidence_cannot_be_attached_by_a_member(people, web):
    report = report_create(actor=people["monitor"], data={
        "occurred_at": "2026-01-01T10:00:00Z", "lat": 47.5, "lon": 35.8, "category": "shelling",
        "source_type": "uav", "description": "x"})[0]
    assert web(people["member1"]).post(f"/reports/{report.pk}/evidence/", {}).status_code == 403
    assert web(people["member1"]).get(f"/reports/{report.pk}/").status_code == 200


@pytest.mark.django_db
def test_signing_out_needs_a_post(people, web):
    client = web(people["monitor"])
    assert client.get("/signout/").status_code == 405
    assert client.get("/").status_code == 200
