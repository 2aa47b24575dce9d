"""Sign-in that resists guessing (issue 10, item 5): after
SIGNIN_FAILURE_LIMIT wrong passwords for one username from one address, the
token endpoint, the sign-in page and the admin's login refuse that pair for
SIGNIN_LOCKOUT with 429 and Retry-After, the right password included; the
lockout is in the trail; the token endpoint is also throttled per address."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone
from rest_framework.throttling import ScopedRateThrottle

from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/v1/auth/token/"


def _token(api, password, username="member1", address="10.0.0.1"):
    return api().post(TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=address)


def _guess(api, times, **kwargs):
    return [_token(api, f"wrong-{i}", **kwargs).status_code for i in range(times)]


def test_the_token_endpoint_locks_a_username_out_after_repeated_wrong_passwords(people, api):
    limit = settings.SIGNIN_FAILURE_LIMIT
    assert _guess(api, limit) == [400] * (limit - 1) + [429]
    refused = _token(api, PASSWORD)
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(int(settings.SIGNIN_LOCKOUT.total_seconds()))
    assert refused.json()["code"] == "locked_out" and "token" not in refused.json()


def test_a_lockout_writes_one_event_to_the_trail(people, api):
    _guess(api, settings.SIGNIN_FAILURE_LIMIT + 2)
    [event] = AuditEvent.objects.filter(action="signin.locked_out")
    assert event.after["username"] == "member1" and event.after["ip_address"] == "10.0.0.1"
    assert event.actor is None and PASSWORD not in str(event.after)


def test_a_lockout_from_one_address_does_not_lock_the_person_out_from_another(people, api):
    _guess(api, settings.SIGNIN_FAILURE_LIMIT)
    assert _token(api, PASSWORD, address="10.0.0.2").status_code == 200


def test_a_right_password_before_the_limit_starts_the_count_again(people, api):
    limit = settings.SIGNIN_FAILURE_LIMIT
    _guess(api, limit - 1)
    assert _token(api, PASSWORD).status_code == 200
    assert _guess(api, limit - 1) == [400] * (limit - 1)


def test_the_lockout_ends_after_signin_lockout(people, api):
    _guess(api, settings.SIGNIN_FAILURE_LIMIT)
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.SIGNIN_LOCKOUT - timedelta(seconds=1))
    assert _token(api, PASSWORD).status_code == 200


def test_the_sign_in_page_locks_out_with_a_page_and_retry_after(people, client):
    for i in range(settings.SIGNIN_FAILURE_LIMIT):
        response = client.post("/signin/", {"username": "chair", "password": f"wrong-{i}"})
    assert response.status_code == 429
    refused = client.post("/signin/", {"username": "chair", "password": PASSWORD})
    assert refused.status_code == 429 and refused["Retry-After"]
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="signin.locked_out", after__path="/signin/").count() == 1


def test_the_admin_login_locks_out_too(people, client):
    staff = people["chair"]
    staff.is_staff = True
    staff.save()
    for i in range(settings.SIGNIN_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "chair", "password": f"wrong-{i}"})
    refused = client.post("/admin/login/", {"username": "chair", "password": PASSWORD})
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_token_endpoint_is_throttled_per_address(people, api, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "signin", "3/min")
    assert [_token(api, PASSWORD).status_code for _ in range(3)] == [200] * 3
    throttled = _token(api, PASSWORD)
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert _token(api, PASSWORD, address="10.0.0.9").status_code == 200


def test_the_lockout_page_speaks_french(people, client):
    for i in range(settings.SIGNIN_FAILURE_LIMIT):
        response = client.post("/signin/", {"username": "chair", "password": f"wrong-{i}"},
                               HTTP_ACCEPT_LANGUAGE="fr")
    assert "Connexion bloquée" in response.content.decode()
