"""Fixtures for the commission's tests, and for any test that needs a case:
submitted reports, and cases brought to each stage through the services
(never by writing rows directly). Loaded for the whole suite by
tests/conftest.py's `pytest_plugins`, so tests elsewhere (the pages) ask
for them by name instead of importing them."""

import pytest

from commission import services


@pytest.fixture
def submitted(file_report):
    """submitted(author, **flat_fields) -> a submitted Report (tests/conftest.py's file_report)."""
    return file_report


@pytest.fixture
def case_in(people, submitted):
    """case_in(stage) -> a case brought to `stage` ("verification",
    "attribution", "measures") through the services."""

    def make(stage="verification", *, reports=1, title="Shelling of Orikhiv"):
        filed = [submitted(people["monitor"]) for _ in range(reports)]
        case = services.case_open(actor=people["verifier"], title=title, reports=filed)
        if stage == "verification":
            return case
        case = services.verification_record(actor=people["verifier"], case=case, outcome="confirmed",
                                            findings="Craters and fragments match 152 mm rounds.")
        if stage == "attribution":
            return case
        rnd = services.round_open(actor=people["chair"], case=case)
        for who in ("member1", "member2", "member3", "member4"):
            services.ballot_cast(actor=people[who], round=rnd, choice="RU", rationale=f"{who}: radar tracks.")
        case.refresh_from_db()
        assert case.stage == "measures"
        return case

    return make


@pytest.fixture
def representatives(people, parties, delegations):
    """rep_ru and rep_ua: party representatives of RU and UA. Made like the
    `people` personas (rows, no authority events), so that a trail written in
    a test has no account history at all rather than a partial one, which the
    eligibility check would take as accounts it never gave."""
    from django.contrib.auth.models import Group

    from accounts.models import User
    from accounts.roles import PARTY_REPRESENTATIVE
    from tests.conftest import PASSWORD

    group = Group.objects.get_or_create(name=PARTY_REPRESENTATIVE)[0]
    made = {}
    for code in ("RU", "UA"):
        user = User.objects.create_user(username=f"rep_{code.lower()}", password=PASSWORD,
                                        email=f"rep_{code.lower()}@example.org", represents=parties[code])
        user.groups.add(group)
        made[code] = user
    return made


@pytest.fixture
def case_naming(people, parties, submitted):
    """case_naming("RU", "UA", stage="attribution") -> a case whose reports
    allege each party given, brought to `stage` through the services."""

    def make(*codes, stage="attribution", title="Strikes on Huliaipole"):
        filed = [submitted(people["monitor"], alleged_party=parties[code]) for code in codes]
        case = services.case_open(actor=people["verifier"], title=title, reports=filed)
        if stage == "verification":
            return case
        return services.verification_record(actor=people["verifier"], case=case, outcome="confirmed",
                                            findings="Craters and fragments match 152 mm rounds.")

    return make
