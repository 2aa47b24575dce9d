"""The README's API walk-through (docs/api_walkthrough.py) runs against the
live test server with the demo's personas: a change to the API that breaks
the documented flow fails here, before CI runs the same script against
gunicorn on a seeded database (scripts/walkthrough_live.sh)."""

import importlib.util
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "api_walkthrough.py"

pytestmark = pytest.mark.django_db(transaction=True)


def _walkthrough():
    # A script under docs/, not a package: loaded from its file.
    spec = importlib.util.spec_from_file_location("api_walkthrough", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_walkthrough_goes_from_reports_to_a_closed_case(people, representatives, live_server):
    # With the demo's representatives: the script has rep_ru reply before the chair opens the vote.
    walkthrough = _walkthrough()
    reference = walkthrough.walk(walkthrough.Api(live_server.url, quiet=True), PASSWORD)
    assert reference.startswith("CASE-")


def test_the_walkthrough_fails_loudly_on_an_unexpected_status(people, live_server):
    walkthrough = _walkthrough()
    with pytest.raises(walkthrough.WalkthroughFailed, match="expected 200, got 400"):
        walkthrough.walk(walkthrough.Api(live_server.url, quiet=True), "not-the-password")
