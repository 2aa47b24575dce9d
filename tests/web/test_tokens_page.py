"""The tokens page: a person sees and revokes their own API tokens, in
English and French, never a key."""

import pytest

from accounts.models import AuthToken
from audit.models import AuditEvent
from tests.conftest import token_for

pytestmark = pytest.mark.django_db


def test_the_tokens_page_lists_ones_own_tokens_without_their_keys(people, client):
    key = token_for(people["monitor"])
    token_for(people["monitor2"])
    client.force_login(people["monitor"])
    page = client.get("/account/tokens/")
    assert page.status_code == 200
    html = page.content.decode()
    assert key not in html and key[:15] not in html
    assert html.count("/revoke/") == 1


def test_a_person_revokes_a_token_from_the_page_and_it_is_audited(people, client):
    token_for(people["monitor"])
    token = AuthToken.objects.get()
    client.force_login(people["monitor"])
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 302
    assert not AuthToken.objects.exists()
    assert AuditEvent.objects.filter(action="token.revoked", actor=people["monitor"]).exists()


def test_the_page_refuses_to_revoke_another_persons_token(people, client):
    token_for(people["monitor2"])
    theirs = AuthToken.objects.get()
    client.force_login(people["monitor"])
    assert client.post(f"/account/tokens/{theirs.pk}/revoke/").status_code == 404
    assert AuthToken.objects.filter(pk=theirs.pk).exists()


def test_revoking_every_token_from_the_page_keeps_others_tokens(people, client):
    token_for(people["monitor"])
    token_for(people["monitor"])
    token_for(people["monitor2"])
    client.force_login(people["monitor"])
    assert client.post("/account/tokens/revoke-all/").status_code == 302
    assert list(AuthToken.objects.values_list("user__username", flat=True)) == ["monitor2"]


def test_the_tokens_page_speaks_french(people, client):
    client.force_login(people["monitor"])
    page = client.get("/account/tokens/", HTTP_ACCEPT_LANGUAGE="fr")
    assert "Mes jetons d'API" in page.content.decode()


def test_the_tokens_page_asks_to_sign_in(db, client):
    assert client.get("/account/tokens/").status_code == 302
