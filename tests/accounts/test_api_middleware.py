"""The API answers two kinds of clients: a browser signed in by its session
(with a CSRF token for writes) and a program with a token. Django's stock
session, auth and messages middleware run for both; DRF decides which
credentials count."""

from django.test import Client

from reports.models import Report
from tests.conftest import token_for
from tests.reports.conftest import body


def _token(user) -> str:
    return token_for(user)


def test_a_browser_api_call_still_gets_its_session_and_user(people):
    client = Client()
    client.force_login(people["monitor"])
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "monitor1"
    assert hasattr(response.wsgi_request, "session")


def test_a_web_page_with_a_token_header_is_still_signed_in_by_its_session(people):
    # Pages use the session only: a token header does not change who is signed in.
    client = Client()
    client.force_login(people["monitor"])
    response = client.get("/my/reports/", HTTP_AUTHORIZATION=f"Token {_token(people['verifier'])}")
    assert response.status_code == 200
    assert response.wsgi_request.user == people["monitor"]


def test_another_authorization_scheme_is_not_signed_in(people):
    response = Client().get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer abc")
    assert response.status_code == 401


def test_a_signed_in_browser_files_a_report_through_the_api_only_with_its_csrf_token(people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["monitor"])
    refused = client.post("/api/v1/reports/", body(), content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    client.get("/my/reports/")  # a page with a form sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post("/api/v1/reports/", body(), content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201
    assert Report.objects.get().author == people["monitor"]


def test_a_token_wins_over_a_session_and_a_bad_token_never_falls_back_to_it(people):
    client = Client()
    client.force_login(people["monitor"])
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {_token(people['verifier'])}")
    assert response.json()["username"] == "verifier1"
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert response.status_code == 401
    # Any case of the keyword, as DRF reads it.
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"token {_token(people['chair'])}")
    assert response.json()["username"] == "chair"


def test_a_token_api_call_still_answers_in_the_language_asked_for(people):
    response = Client().post("/api/v1/reports/", {}, content_type="application/json",
                             HTTP_AUTHORIZATION=f"Token {_token(people['monitor'])}", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 400
    assert response["Content-Language"] == "fr"
