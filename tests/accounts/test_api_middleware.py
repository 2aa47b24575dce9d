"""Sessions, the session's user and messages serve browsers; API calls with a
token skip them (config/middleware.py), and nothing else changes."""

from django.test import Client
from rest_framework.authtoken.models import Token

from reports.models import Report
from tests.reports.conftest import body


def _token(user) -> str:
    return Token.objects.create(user=user).key


def test_a_token_api_call_skips_the_browser_middleware(people):
    client = Client()
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {_token(people['monitor'])}")
    assert response.status_code == 200
    request = response.wsgi_request
    assert not hasattr(request, "session")
    assert not hasattr(request, "_messages")
    # DRF sets the user itself, from the token.
    assert request.user == people["monitor"]
    assert "Cookie" not in response.get("Vary", "")
    assert not response.cookies


def test_a_browser_api_call_still_gets_its_session_and_user(people):
    client = Client()
    client.force_login(people["monitor"])
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "monitor1"
    assert hasattr(response.wsgi_request, "session")


def test_only_the_token_scheme_on_api_paths_skips_the_browser_middleware(people):
    client = Client()
    # Another scheme: DRF would try the session next, so the session is there.
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer abc")
    assert response.status_code == 401
    assert hasattr(response.wsgi_request, "session")
    # A web page with a token header is still a web page.
    client.force_login(people["monitor"])
    response = client.get("/my/reports/", HTTP_AUTHORIZATION=f"Token {_token(people['verifier'])}")
    assert response.status_code == 200
    assert hasattr(response.wsgi_request, "session")
    assert response.wsgi_request.user == people["monitor"]


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
    assert not hasattr(response.wsgi_request, "session")


def test_a_token_api_call_still_answers_in_the_language_asked_for(people):
    response = Client().post("/api/v1/reports/", {}, content_type="application/json",
                             HTTP_AUTHORIZATION=f"Token {_token(people['monitor'])}", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 400
    assert response["Content-Language"] == "fr"
