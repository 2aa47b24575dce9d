"""The public bulletin's page, JSON and Atom feed: open without signing in,
in every language; the chair's publish button and summary control call the
services; nobody else may use them."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from commission import services
from commission.models import Bulletin
from tests.audit.helpers import SIGNING_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _signing_key(settings):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    settings.BULLETIN_DELAY = timedelta(hours=48)


@pytest.fixture
def published(people, submitted):
    submitted(people["monitor"], occurred_at=timezone.now() - timedelta(hours=60), admin1="Zaporizhzhia",
              description="Seen from the roof of the school.")
    bulletin, _ = services.bulletin_publish(actor=people["chair"], on_demand=True)
    return bulletin


def test_the_bulletin_page_json_and_feed_open_without_signing_in(web, published):
    page = web().get("/bulletin/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Zaporizhzhia" in html and "roof of the school" not in html
    assert 'type="application/atom+xml"' in html
    assert web().get(f"/bulletin/{published.pk}/").status_code == 200

    latest = web().get("/bulletin/latest.json")
    assert latest.status_code == 200 and latest["Content-Type"] == "application/json"
    assert "public" in latest["Cache-Control"]
    body = json.loads(latest.content)
    assert body["id"] == published.pk and body["tree_head"]["signature"]
    assert body["content"]["reports"]["total"] == 1

    feed = web().get("/bulletin/feed.atom")
    assert feed.status_code == 200 and feed["Content-Type"].startswith("application/atom+xml")
    assert b"<feed" in feed.content and f"/bulletin/{published.pk}/".encode() in feed.content


def test_before_any_bulletin_the_page_says_so_and_the_json_answers_404(web):
    assert "No bulletin has been published yet." in web().get("/bulletin/").content.decode()
    assert web().get("/bulletin/latest.json").status_code == 404
    assert web().get("/bulletin/feed.atom").status_code == 200
    assert web().get("/bulletin/12345/").status_code == 404


@pytest.mark.parametrize(("language", "heading"), [("fr", "Bulletin public"), ("uk", "Публічний бюлетень")])
def test_the_bulletin_page_speaks_french_and_ukrainian(web, published, language, heading):
    page = web().get("/bulletin/", HTTP_ACCEPT_LANGUAGE=language)
    assert heading in page.content.decode()


def test_the_chair_publishes_from_the_board_and_others_may_not(web, people):
    assert web().post("/board/bulletin/").status_code == 302  # to sign in
    assert not Bulletin.objects.exists()
    assert web(people["member1"]).post("/board/bulletin/").status_code == 403
    assert 'action="/board/bulletin/"' in web(people["chair"]).get("/board/").content.decode()
    response = web(people["chair"]).post("/board/bulletin/")
    bulletin = Bulletin.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/bulletin/{bulletin.pk}/"


def test_the_chair_makes_a_summary_public_from_the_case_page(web, people, case_in):
    case = case_in("measures")
    services.case_close(actor=people["chair"], case=case, summary="Attributed to RU.")
    assert web(people["member1"]).post(f"/cases/{case.pk}/summary-public/", {"public": "1"}).status_code == 403
    assert "Make the summary public" in web(people["chair"]).get(f"/cases/{case.pk}/").content.decode()
    web(people["chair"]).post(f"/cases/{case.pk}/summary-public/", {"public": "1"})
    case.refresh_from_db()
    assert case.summary_public


def test_latest_json_has_the_shape_the_api_documents_for_a_bulletin(web, published, openapi_contract):
    latest = web().get("/bulletin/latest.json")
    # The same object as GET /api/v1/bulletins/{id}/, checked against its schema.
    openapi_contract.check("GET", f"/api/v1/bulletins/{published.pk}/", 200, latest["Content-Type"], latest.content)
    assert json.loads(latest.content) == json.loads(web().get(f"/api/v1/bulletins/{published.pk}/").content)
