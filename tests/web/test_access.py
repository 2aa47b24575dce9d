"""Every page refuses people without its role: anonymous visitors are sent
to the sign-in page, signed-in people with another role get 403."""

import pytest

from reports.models import Report

PERSONAS = ["monitor", "verifier", "chair", "member1", "auditor", "outsider"]

# url -> personas allowed (every other persona gets 403)
PAGES = {
    "/my/reports/": {"monitor"},
    "/my/reports/new/": {"monitor"},
    "/outbox/": {"monitor"},
    "/inbox/": {"verifier", "chair"},
    "/cases/": {"verifier", "chair", "member1", "auditor"},
    "/board/": {"chair"},
    "/trail/": {"auditor", "chair"},
    "/overview/": {"verifier", "chair", "member1", "auditor"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("url", sorted(PAGES))
def test_it_sends_anonymous_visitors_to_sign_in(web, url):
    response = web().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/?next=")


@pytest.mark.django_db
@pytest.mark.parametrize("url", sorted(PAGES))
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_page_admits_only_its_roles(people, web, url, persona):
    response = web(people[persona]).get(url)
    if persona in PAGES[url]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert b"Not allowed" in response.content


@pytest.mark.django_db
def test_it_refuses_a_draft_to_anyone_but_its_author(people, web):
    from reports.services import report_create

    draft, _ = report_create(actor=people["monitor"], data={
        "occurred_at": "2026-01-01T10:00:00Z", "lat": 47.5, "lon": 35.8, "category": "shelling",
        "source_type": "uav", "description": "draft", "status": "draft"})
    assert web(people["monitor"]).get(f"/reports/{draft.pk}/").status_code == 200
    assert web(people["monitor2"]).get(f"/reports/{draft.pk}/").status_code == 404
    assert web(people["verifier"]).get(f"/reports/{draft.pk}/").status_code == 404
    assert web(people["outsider"]).get(f"/reports/{draft.pk}/").status_code == 403
    assert web(people["monitor2"]).get(f"/reports/{draft.pk}/edit/").status_code == 404
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_the_home_page_needs_a_sign_in(web):
    response = web().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/")


@pytest.mark.django_db
def test_sign_in_and_out(people, web):
    from tests.conftest import PASSWORD

    client = web()
    response = client.post("/signin/", {"username": "monitor1", "password": "wrong"})
    assert response.status_code == 200
    assert b"did not match" in response.content
    response = client.post("/signin/", {"username": "monitor1", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert client.post("/signout/").status_code == 302
    assert client.get("/my/reports/").status_code == 302
