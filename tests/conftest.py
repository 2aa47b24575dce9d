"""Shared personas: one user per role, plus an outsider with no role.

Delegations and parties mirror seed_demo: RU and UA are parties, UA's party
is linked to the UA delegation, so member5 (UA) is recused from attribution.
"""

import os
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone, translation
from rest_framework.test import APIClient

from accounts import roles
from accounts.models import Delegation, Party, User
from reports.services import report_create

# Fixture modules shared across test packages: a test anywhere asks for
# `case_in` or `browser` by name, with no import of another package's conftest.
# (pytest honours pytest_plugins only in this top-level conftest.) And every
# API response in every test is checked against the OpenAPI schema.
pytest_plugins = ["tests.commission.fixtures", "tests.web.browser", "tests.openapi_contract"]

PASSWORD = "correct-horse-battery-staple"


def streamed(response) -> bytes:
    """The whole body of a response, streamed (the exports) or not."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def streamed_json(response):
    import json

    return json.loads(streamed(response))


def token_for(user) -> str:
    """A new API token's key for `user` (only its digest is stored)."""
    from accounts.models import AuthToken

    return AuthToken.objects.create(user=user)[1]


@pytest.fixture(autouse=True)
def _postgres_marker(request):
    # A test marked postgres checks PostgreSQL's own behaviour (full text,
    # its SQL, its triggers' statements): skipped on SQLite, where `make
    # test` runs on a fresh machine; CI (PostgreSQL) forbids skips.
    if request.node.get_closest_marker("postgres"):
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip("PostgreSQL's own behaviour (marked postgres)")


@pytest.fixture(autouse=True)
def _signin_throttle_reset():
    # Tests sign in a lot, all from one address: the token endpoint's
    # throttle counts in the cache, which outlives a test (lockouts live in
    # the database and go with each test's rollback or flush).
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # `people` creates eleven users; with the production hasher that costs
    # seconds per test, and no test here is about password hashing strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _language_of_the_thread_reset():
    # A request in French leaves French active in the thread (LocaleMiddleware
    # activates it): the next test must not inherit it.
    yield
    translation.deactivate()


@pytest.fixture
def delegations(db):
    codes = {"FR": "France", "UK": "United Kingdom", "US": "United States", "UA": "Ukraine",
             "DE": "Germany", "EU": "European Union", "NATO": "NATO", "TR": "Türkiye", "JP": "Japan"}
    return {code: Delegation.objects.create(code=code, name=name) for code, name in codes.items()}


@pytest.fixture
def parties(delegations):
    return {
        "RU": Party.objects.create(code="RU", name="Russian Federation"),
        "UA": Party.objects.create(code="UA", name="Ukraine", delegation=delegations["UA"]),
    }


def _user(username, delegation, *role_names):
    user = User.objects.create_user(username=username, password=PASSWORD, delegation=delegation,
                                    email=f"{username}@example.org")
    for name in role_names:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


@pytest.fixture
def people(delegations, parties):
    d = delegations
    return {
        "monitor": _user("monitor1", d["TR"], roles.MONITOR),
        "monitor2": _user("monitor2", d["UK"], roles.MONITOR),
        "verifier": _user("verifier1", d["US"], roles.VERIFIER),
        "chair": _user("chair", d["FR"], roles.CHAIR),
        "member1": _user("member1", d["FR"], roles.MEMBER),
        "member2": _user("member2", d["UK"], roles.MEMBER),
        "member3": _user("member3", d["US"], roles.MEMBER),
        "member4": _user("member4", d["DE"], roles.MEMBER),
        "member5": _user("member5", d["UA"], roles.MEMBER),
        "auditor": _user("auditor1", d["JP"], roles.AUDITOR),
        "outsider": _user("outsider", d["EU"]),
    }


@pytest.fixture
def file_report(parties):
    """file_report(author, **flat_fields) -> Report, through the service."""

    def make(author, **fields):
        data = {
            "occurred_at": timezone.now() - timedelta(hours=2),
            "lat": 47.5689, "lon": 35.8612,  # Orikhiv
            "category": "shelling",
            "description": "Impacts observed.",
            "source_type": "direct_observation",
            "alleged_party": parties["RU"],
        }
        data.update(fields)
        report, created = report_create(actor=author, data=data)
        assert created
        return report

    return make


@pytest.fixture
def api():
    """api(user) -> an APIClient signed in as that user (None: anonymous)."""

    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


_TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}
_trail_triggers_lifted = False


@pytest.fixture(autouse=True)
def _append_only_trail_vs_flush(request):
    """A transactional test ends with a flush (TRUNCATE/DELETE of every table),
    which the trail's, the ballots', the bulletins' and the comments' append-only triggers refuse by design. Lift them after
    such a test, just before pytest-django's flush, and put them back before
    the next test that uses the database. (Production never flushes.)"""
    global _trail_triggers_lifted
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))) or bool(
        _TRANSACTIONAL_FIXTURES & set(request.fixturenames))
    if marker is None and not transactional:
        yield
        return
    # Set the database up first, so that this teardown runs before its flush.
    request.getfixturevalue("_django_db_helper")
    from django.db import connection

    from audit import triggers as trail_triggers
    from commission import triggers as ballot_triggers

    if _trail_triggers_lifted:
        trail_triggers.install(connection)
        trail_triggers.VERIFIED_POINTS.install(connection)
        ballot_triggers.install(connection)
        for trigger_set in ballot_triggers.NEVER_CHANGED:
            trigger_set.install(connection)
        # Inside a non-transactional test this DDL is rolled back with the test.
        _trail_triggers_lifted = not transactional
    yield
    if transactional:
        trail_triggers.drop(connection)
        trail_triggers.VERIFIED_POINTS.drop(connection)
        ballot_triggers.drop(connection)
        for trigger_set in ballot_triggers.NEVER_CHANGED:
            trigger_set.drop(connection)
        _trail_triggers_lifted = True


def pytest_sessionfinish(session, exitstatus):
    # The test database is gone by now: the trail's at-exit seal (owed by a
    # process that skipped seals under coalescing) has nothing to seal and
    # would only log a connection error against it.
    from audit import services

    services._coalescer.reset()
    # CI sets CI_FORBID_SKIPS: there every test must run (PostgreSQL, Redis, a
    # real worker and Chromium are all there), so a skip means something is
    # missing and the run fails rather than passing without those tests.
    if os.environ.get("CI_FORBID_SKIPS") and exitstatus == 0:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
        if skipped:
            if reporter:
                reporter.write_line(f"CI_FORBID_SKIPS: {skipped} test(s) skipped; failing the run", red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
