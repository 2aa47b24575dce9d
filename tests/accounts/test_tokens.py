"""API tokens no one can read back (issue 10, item 1): only a digest is
stored, tokens expire, and signing out, a password change, deactivation and
the loss of a role revoke them; a person lists and revokes their own; issuing
and revoking are in the trail, never with the key."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts import roles, services
from accounts.models import AuthToken
from audit.models import AuditEvent
from tests.conftest import PASSWORD, token_for

pytestmark = pytest.mark.django_db


def _sign_in(api, username="member1", **headers):
    response = api().post("/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json",
                          **headers)
    assert response.status_code == 200, response.content
    return response.json()


def _client(api, key):
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _everything_stored() -> str:
    """Every row of the tokens' table and of the trail, as text."""
    tokens = list(AuthToken.objects.values())
    events = list(AuditEvent.objects.values("before", "after", "reason"))
    return json.dumps([tokens, events], default=str)


def test_it_stores_only_a_digest_of_a_token_never_the_key(people, api):
    key = _sign_in(api)["token"]
    [row] = AuthToken.objects.all()
    assert row.digest != key and key not in _everything_stored()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('authtoken_token')")
            assert cursor.fetchone()[0] is None  # DRF's table of clear keys is gone


def test_the_token_endpoint_answers_a_token_with_its_expiry_after_token_ttl(people, api, settings):
    before = timezone.now()
    answer = _sign_in(api)
    expiry = AuthToken.objects.get().expiry
    assert before + settings.TOKEN_TTL <= expiry <= timezone.now() + settings.TOKEN_TTL
    assert answer["expiry"] is not None
    assert _client(api, answer["token"]).get("/api/v1/me/").json()["username"] == "member1"


def test_it_refuses_an_expired_token_and_forgets_it(people, api):
    key = token_for(people["member1"])
    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    response = _client(api, key).get("/api/v1/me/")
    assert response.status_code == 401
    assert not AuthToken.objects.exists()


def test_it_refuses_a_token_that_only_shares_the_stored_prefix(people, api):
    key = token_for(people["member1"])
    forged = key[:15] + ("0" if key[15] != "0" else "1") + key[16:]
    assert _client(api, forged).get("/api/v1/me/").status_code == 401


def test_issuing_a_token_writes_an_event_without_the_key(people, api):
    key = _sign_in(api, HTTP_USER_AGENT="field-app/2.1")["token"]
    [event] = AuditEvent.objects.filter(action="token.issued")
    token = AuthToken.objects.get()
    assert event.actor == people["member1"] and event.object_id == str(token.pk)
    assert event.after["label"] == "field-app/2.1"
    assert key not in json.dumps(event.after) and token.digest not in json.dumps(event.after)


def test_signing_out_revokes_the_token_used_and_no_other(people, api):
    first, second = _sign_in(api)["token"], _sign_in(api)["token"]
    client = _client(api, first)
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get("/api/v1/me/").status_code == 401
    assert _client(api, second).get("/api/v1/me/").status_code == 200
    [event] = AuditEvent.objects.filter(action="token.revoked")
    assert event.actor == people["member1"] and event.reason == "signed out"
    assert first not in _everything_stored()


def test_it_refuses_to_sign_out_a_request_made_without_a_token(people, api):
    assert api(people["member1"]).post("/api/v1/auth/logout/").status_code == 400


def test_signing_out_everywhere_revokes_every_token_of_ones_own_only(people, api):
    mine = [_sign_in(api)["token"] for _ in range(3)]
    theirs = token_for(people["member2"])
    assert _client(api, mine[0]).post("/api/v1/auth/logout/all/").status_code == 204
    assert all(_client(api, key).get("/api/v1/me/").status_code == 401 for key in mine)
    assert _client(api, theirs).get("/api/v1/me/").status_code == 200
    [event] = AuditEvent.objects.filter(action="tokens.revoked")
    assert event.after["cause"] == "signed_out_everywhere" and len(event.before["tokens"]) == 3


def test_a_password_change_revokes_every_token(people, api):
    key = token_for(people["member1"])
    user = people["member1"]
    user.set_password("a-new-and-long-passphrase")
    user.save()
    assert _client(api, key).get("/api/v1/me/").status_code == 401
    [event] = AuditEvent.objects.filter(action="tokens.revoked")
    assert event.after["cause"] == "password_changed"


def test_saving_a_user_without_changing_the_password_keeps_the_tokens(people, api):
    key = token_for(people["member1"])
    people["member1"].email = "new@example.org"
    people["member1"].save()
    assert _client(api, key).get("/api/v1/me/").status_code == 200


def test_deactivation_revokes_every_token(people, api):
    key = token_for(people["monitor"])
    services.user_authority_set(actor=people["chair"], user=people["monitor"], flags={"is_active": False},
                                reason="Left the mission.")
    assert not AuthToken.objects.filter(user=people["monitor"]).exists()
    assert _client(api, key).get("/api/v1/me/").status_code == 401
    [event] = AuditEvent.objects.filter(action="tokens.revoked")
    assert event.after["cause"] == "deactivated" and event.actor == people["chair"]


def test_the_loss_of_a_role_revokes_every_token(people, api):
    key = token_for(people["auditor"])
    services.user_authority_set(actor=people["chair"], user=people["auditor"], roles=[roles.AUDITOR, roles.CHAIR],
                                reason="Acting chair.")
    assert _client(api, key).get("/api/v1/me/").status_code == 200  # more authority: the token lives on
    services.user_authority_set(actor=people["chair"], user=people["auditor"], roles=[roles.AUDITOR],
                                reason="Recess over.")
    assert _client(api, key).get("/api/v1/me/").status_code == 401
    [event] = AuditEvent.objects.filter(action="tokens.revoked")
    assert event.after["cause"] == "authority_reduced"


def test_a_person_lists_only_their_own_live_tokens_and_never_a_key(people, api):
    used = _sign_in(api)["token"]
    other = _sign_in(api)["token"]
    token_for(people["member2"])
    stale = AuthToken.objects.create(user=people["member1"], expiry=timedelta(days=1))[0]
    AuthToken.objects.filter(pk=stale.pk).update(expiry=timezone.now() - timedelta(minutes=1))
    response = _client(api, used).get("/api/v1/auth/tokens/")
    assert response.status_code == 200
    listed = response.json()
    assert len(listed) == 2 and [t["current"] for t in listed].count(True) == 1
    text = json.dumps(listed)
    assert used not in text and other not in text
    assert not any(t.digest in text for t in AuthToken.objects.all())


def test_a_person_revokes_one_of_their_tokens_by_its_id(people, api):
    used, other = _sign_in(api)["token"], _sign_in(api)["token"]
    client = _client(api, used)
    target = next(t for t in client.get("/api/v1/auth/tokens/").json() if not t["current"])
    assert client.delete(f"/api/v1/auth/tokens/{target['id']}/").status_code == 204
    assert _client(api, other).get("/api/v1/me/").status_code == 401
    assert client.get("/api/v1/me/").status_code == 200


def test_it_refuses_to_revoke_another_persons_token(people, api):
    token_for(people["member2"])
    theirs = AuthToken.objects.get(user=people["member2"])
    response = _client(api, token_for(people["member1"])).delete(f"/api/v1/auth/tokens/{theirs.pk}/")
    assert response.status_code == 404
    assert AuthToken.objects.filter(pk=theirs.pk).exists()


def test_no_admin_page_shows_a_key_or_its_digest(people, client):
    staff = people["chair"]
    staff.is_staff = staff.is_superuser = True
    staff.save()
    key = token_for(people["member1"])
    token = AuthToken.objects.get()
    client.force_login(staff)
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 404
    for url in ("/admin/accounts/authtoken/", f"/admin/accounts/authtoken/{token.pk}/change/"):
        page = client.get(url)
        assert page.status_code == 200
        assert key not in page.content.decode() and token.digest not in page.content.decode()
        assert key[:15] not in page.content.decode()
    assert client.get("/admin/accounts/authtoken/add/").status_code == 403


def test_staff_revoking_a_token_in_the_admin_is_audited(people, client):
    staff = people["chair"]
    staff.is_staff = staff.is_superuser = True
    staff.save()
    token_for(people["member1"])
    token = AuthToken.objects.get()
    client.force_login(staff)
    response = client.post(f"/admin/accounts/authtoken/{token.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AuthToken.objects.exists()
    [event] = AuditEvent.objects.filter(action="token.revoked")
    assert event.actor == staff and event.reason == "revoked in the admin"
