"""Helpers for the commission's tests: submitted reports, and cases brought
to each stage through the services (never by writing rows directly)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from commission import services
from reports.services import report_create


@pytest.fixture
def submitted(parties):
    """submitted(author, **flat_fields) -> a submitted Report, through the service."""

    def make(author, **fields):
        data = {
            "occurred_at": timezone.now() - timedelta(hours=2),
            "lat": 47.5689, "lon": 35.8612,
            "category": "shelling",
            "description": "Impacts observed on the northern outskirts.",
            "source_type": "direct_observation",
            "alleged_party": parties["RU"],
        }
        data.update(fields)
        report, created = report_create(actor=author, data=data)
        assert created
        return report

    return make


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
