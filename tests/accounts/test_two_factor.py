"""Two-factor sign-in (issue 10, item 5): where REQUIRE_2FA is on, the chair,
members, auditors and staff pass a TOTP code (or a single-use recovery code)
after their password, on the pages, the admin and the API's token endpoint;
monitors and verifiers do not; with it off nothing changes. Enrolment, a used
recovery code and a failed second factor are in the trail, never a secret or
a code."""

import json

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts import selectors, services
from accounts.models import AuthToken
from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def code_now(key: str, drift: int = 0) -> str:
    totp = TOTP(bytes.fromhex(key), step=30, t0=0, digits=6, drift=drift)
    return f"{totp.token():06d}"


def enrol(user) -> tuple[str, list[str]]:
    """Give `user` an authenticator: (its secret, the recovery codes)."""
    key = random_hex(20)
    _device, codes = services.two_factor_enrol(actor=user, key=key, code=code_now(key))
    return key, codes


def next_code(key: str) -> str:
    """A code not yet used (enrolment used the current step)."""
    return code_now(key, drift=1)


@pytest.fixture
def required(settings):
    settings.REQUIRE_2FA = True


def _token(api, username, **extra):
    return api().post("/api/v1/auth/token/", {"username": username, "password": PASSWORD, **extra}, format="json")


def test_with_2fa_off_a_member_gets_a_token_with_a_password_alone(people, api, settings):
    assert settings.REQUIRE_2FA is False
    assert _token(api, "member1").status_code == 200


def test_with_2fa_on_the_chair_members_auditors_representatives_and_staff_need_it_monitors_and_verifiers_do_not(
        people, representatives, required):
    people["monitor"].is_staff = False
    assert selectors.two_factor_required(representatives["RU"])
    assert selectors.two_factor_required(people["chair"])
    assert selectors.two_factor_required(people["member1"])
    assert selectors.two_factor_required(people["auditor"])
    assert not selectors.two_factor_required(people["monitor"])
    assert not selectors.two_factor_required(people["verifier"])
    people["verifier"].is_staff = True
    assert selectors.two_factor_required(people["verifier"])


def test_a_member_without_a_second_factor_gets_no_token(people, api, required):
    response = _token(api, "member1")
    assert response.status_code == 400
    assert response.json()["code"] == "two_factor_not_set_up"
    assert not AuthToken.objects.exists()


def test_a_member_who_sends_no_code_gets_no_token(people, api, required):
    enrol(people["member1"])
    response = _token(api, "member1")
    assert response.status_code == 400 and response.json()["code"] == "otp_required"
    assert not AuthToken.objects.exists()


def test_a_wrong_code_gets_no_token_and_is_audited_without_the_code(people, api, required):
    key, _codes = enrol(people["member1"])
    wrong = "000000" if next_code(key) != "000000" else "111111"
    response = _token(api, "member1", otp=wrong)
    assert response.status_code == 401 and response.json()["code"] == "otp_invalid"
    assert not AuthToken.objects.exists()
    event = AuditEvent.objects.get(action="two_factor.failed")
    assert event.actor == people["member1"] and event.after["via"] == "api"
    assert wrong not in json.dumps([event.before, event.after, event.reason])


def test_a_member_with_the_right_code_gets_a_token(people, api, required):
    key, _codes = enrol(people["member1"])
    response = _token(api, "member1", otp=next_code(key))
    assert response.status_code == 200, response.content
    assert AuthToken.objects.filter(user=people["member1"]).count() == 1


def test_a_recovery_code_works_once_and_its_use_is_audited(people, api, required):
    _key, codes = enrol(people["member1"])
    assert _token(api, "member1", otp=codes[0]).status_code == 200
    assert _token(api, "member1", otp=codes[0]).status_code == 401
    used = AuditEvent.objects.get(action="two_factor.recovery_code_used")
    assert used.after["recovery_codes_left"] == len(codes) - 1
    assert codes[0] not in json.dumps([used.before, used.after])


def test_a_totp_code_cannot_be_replayed(people, api, required):
    key, _codes = enrol(people["member1"])
    code = next_code(key)
    assert _token(api, "member1", otp=code).status_code == 200
    assert _token(api, "member1", otp=code).status_code == 401


def test_monitors_and_verifiers_are_not_asked_for_a_second_factor(people, api, required):
    assert _token(api, "monitor1").status_code == 200
    assert _token(api, "verifier1").status_code == 200


def test_enrolment_is_audited_without_the_secret_or_the_codes(people):
    key, codes = enrol(people["chair"])
    event = AuditEvent.objects.get(action="two_factor.enrolled")
    stored = json.dumps([event.before, event.after, event.reason])
    assert event.actor == people["chair"] and key not in stored
    assert not any(c in stored for c in codes)
    assert TOTPDevice.objects.get(user=people["chair"]).confirmed


def test_enrolment_refuses_a_wrong_first_code(people):
    from django.core.exceptions import ValidationError

    key = random_hex(20)
    wrong = "123456" if code_now(key) != "123456" else "654321"
    with pytest.raises(ValidationError):
        services.two_factor_enrol(actor=people["member1"], key=key, code=wrong)
    assert not selectors.two_factor_enrolled(people["member1"])
    assert not AuditEvent.objects.filter(action="two_factor.enrolled").exists()


def test_a_session_that_owes_its_second_factor_reads_nothing_from_the_api(people, client, required):
    enrol(people["member1"])
    client.force_login(people["member1"])
    assert client.get("/api/v1/me/").status_code in (401, 403)
