"""Two public bulletins prove, to anyone holding them, that the trail behind
the second only extends the trail behind the first (issue 13: "two
bulletins' tree heads proved consistent"), checked offline by the published
script alone, from what the public endpoints and the proof endpoint answer;
and a trail rewritten between two bulletins fails that check."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.services import trail_seal
from commission import services
from tests.audit.helpers import PUBLIC_KEY, SIGNING_KEY
from tests.audit.test_proofs import _rewrite_from, verify, write

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _bulletin_settings(settings):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    settings.BULLETIN_DELAY = timedelta(hours=48)
    settings.BULLETIN_PERIOD = timedelta(hours=24)


def publish_two_bulletins(people, submitted, api, *, between=None):
    """Beat's bulletins of two consecutive days, reports filed before each;
    their tree heads as the public reads them (no sign-in)."""
    now = timezone.now() + timedelta(hours=48)
    submitted(people["monitor"])
    first, _ = services.bulletin_publish(now=now)
    trail_seal(blocking=True)
    if between:
        between()
    submitted(people["monitor"])
    submitted(people["monitor2"])
    second, _ = services.bulletin_publish(now=now + timedelta(hours=24))
    public = api(None)
    heads = [public.get(f"/api/v1/bulletins/{b.pk}/").json()["tree_head"] for b in (first, second)]
    assert heads[0]["tree_size"] < heads[1]["tree_size"]
    return heads


def check_consistency(api, people, heads, tmp_path):
    first, second = heads
    # Anyone signed in may ask for the proof: it carries hashes only.
    proof = api(people["monitor"]).get(
        f"/api/v1/audit/consistency/?first={first['tree_size']}&second={second['tree_size']}").json()
    return verify("consistency", "--first", write(tmp_path, "first.json", first),
                  "--second", write(tmp_path, "second.json", second),
                  "--proof", write(tmp_path, "proof.json", proof), "--public-key", PUBLIC_KEY, tmp_path=tmp_path)


def test_two_bulletins_tree_heads_are_proved_consistent_offline(api, people, submitted, tmp_path):
    heads = publish_two_bulletins(people, submitted, api)
    result = check_consistency(api, people, heads, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (f"consistent: the tree of {heads[1]['tree_size']} events extends the tree of "
            f"{heads[0]['tree_size']} events") in result.stdout


def test_a_trail_rewritten_between_two_bulletins_fails_their_consistency_proof(api, people, submitted, tmp_path):
    heads = publish_two_bulletins(people, submitted, api, between=lambda: _rewrite_from(1))
    result = check_consistency(api, people, heads, tmp_path)
    assert result.returncode == 1, result.stdout
    assert "the trail was rewritten" in result.stdout
