"""One source of "what may happen next": for every persona and every stage,
the case page shows a form if and only if the service would accept that
action, and the API's `allowed_actions` says the same."""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from commission import selectors, services
from commission.models import Deadline, Measure, Round
from config.errors import ApplicationError

pytestmark = pytest.mark.django_db

PERSONAS = ["verifier", "chair", "member1", "member5", "auditor"]


class _Rollback(Exception):
    pass


def _accepted(call) -> bool:
    """Whether the service takes the action; whatever it did is rolled back."""
    try:
        with transaction.atomic():
            call()
            raise _Rollback
    except _Rollback:
        return True
    except ApplicationError:
        return False


def _service_calls(people, case, user, spare_report):
    """Every action of the case page as the service call it makes, with valid input."""
    calls = {
        "link": lambda: services.case_link_reports(actor=user, case=case, reports=[spare_report]),
        "verify": lambda: services.verification_record(actor=user, case=case, outcome="confirmed",
                                                       findings="Craters match."),
        "round": lambda: services.round_open(actor=user, case=case),
        "conflict": lambda: services.conflict_declare(actor=user, case=case, reason="My brother is the attaché."),
        "measure": lambda: services.measure_propose(actor=user, case=case, kind="sanctions", addressee="RU",
                                                    description="Targeted sanctions."),
        "close": lambda: services.case_close(actor=user, case=case, summary="Closed."),
    }
    for report in selectors.case_reports(case):
        calls[f"detach:{report.pk}"] = (lambda r=report: services.case_detach_report(
            actor=user, case=case, report=r, reason="Wrong place."))
    rnd = selectors.round_open_for_case(case)
    if rnd is not None:
        calls["ballot"] = lambda: services.ballot_cast(actor=user, round=rnd, choice="RU", rationale="Radar.")
    for measure in Measure.objects.filter(case=case):
        calls[f"decision:{measure.pk}"] = (lambda m=measure: services.measure_decide(
            actor=user, measure=m, adopt=True, reason="Proportionate."))
        calls[f"compliance:{measure.pk}"] = (lambda m=measure: services.measure_compliance_record(
            actor=user, measure=m, compliance="complied", note="Verified."))
    for deadline in Deadline.objects.filter(case=case):
        later = max(deadline.due_at, timezone.now()) + timedelta(days=3)
        calls[f"extend:{deadline.pk}"] = (lambda d=deadline, t=later: services.deadline_extend(
            actor=user, deadline=d, due_at=t, reason="Access was denied."))
        calls[f"pause:{deadline.pk}"] = (lambda d=deadline: services.deadline_pause(
            actor=user, deadline=d, reason="Monitors denied access to the site."))
        calls[f"resume:{deadline.pk}"] = (lambda d=deadline: services.deadline_resume(
            actor=user, deadline=d, reason="Access restored."))
    return calls


def _forms_on_page(html: str, case) -> set[str]:
    """The case page's action forms, named as in _service_calls."""
    shown = set()
    base = f"/cases/{case.pk}/"
    for action in re.findall(r'<form[^>]*action="([^"]+)"', html):
        if not action.startswith(base):
            continue
        rest = action[len(base):].strip("/")
        named = {"link": "link", "verification": "verify", "rounds": "round", "ballot": "ballot",
                 "conflict": "conflict", "measures": "measure", "close": "close"}
        if rest in named:
            shown.add(named[rest])
        elif rest == "detach":
            shown.update(f"detach:{pk}" for pk in re.findall(
                r'name="report" value="(\d+)"', html))
        elif m := re.fullmatch(r"(?:measures/(\d+)/(decision|compliance))|(?:deadlines/(\d+)/(extend|pause|resume))",
                               rest):
            pk, name = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            shown.add(f"{name}:{pk}")
    return shown


def _api_actions(actions: dict) -> set[str]:
    names = {"link_reports": "link", "record_verification": "verify", "open_round": "round",
             "cast_ballot": "ballot", "declare_conflict": "conflict", "propose_measure": "measure", "close": "close"}
    out = {names[a] for a in actions["case"] if a in names}
    for pk, allowed in actions["measures"].items():
        out.update(f"{'decision' if a == 'decide' else 'compliance'}:{pk}" for a in allowed)
    for pk, allowed in actions["deadlines"].items():
        out.update(f"{a}:{pk}" for a in allowed)
    return out


@pytest.fixture
def stages(people, case_in, submitted):
    """name -> a case in that situation, built through the services."""
    now = timezone.now()

    def voting():
        case = case_in("attribution")
        services.round_open(actor=people["chair"], case=case, closes_at=now + timedelta(days=2))
        return case

    def voting_paused():
        case = voting()
        services.deadline_pause(actor=people["chair"], deadline=Deadline.objects.get(case=case, kind="vote"),
                                reason="Monitors denied access to the site.")
        return case

    def after_tie():
        case = case_in("attribution")
        rnd = services.round_open(actor=people["chair"], case=case, closes_at=now + timedelta(days=2))
        for who, choice in (("member1", "RU"), ("member2", "RU"), ("member3", "UA"), ("member4", "UA")):
            services.ballot_cast(actor=people[who], round=rnd, choice=choice, rationale="Tracks.")
        return case

    def measures():
        case = case_in("measures")
        for n in range(2):
            services.measure_propose(actor=people["member1"], case=case, kind="sanctions", addressee="RU",
                                     description=f"Measure {n}.", compliance_due_at=now + timedelta(days=9))
        first = Measure.objects.filter(case=case).order_by("id").first()
        services.measure_decide(actor=people["chair"], measure=first, adopt=True, reason="Yes.")
        return case

    def closed_with_compliance_due():
        case = measures()
        second = Measure.objects.filter(case=case).order_by("id").last()
        services.measure_decide(actor=people["chair"], measure=second, adopt=False, reason="No.")
        services.case_close(actor=people["chair"], case=case, summary="Sanctions adopted.")
        return case

    return {
        "verification, two reports": lambda: case_in("verification", reports=2),
        "verification, one report": lambda: case_in("verification"),
        "attribution": lambda: case_in("attribution"),
        "voting": voting,
        "voting, clock paused": voting_paused,
        "after a tie": after_tie,
        "measures": measures,
        "closed, compliance due": closed_with_compliance_due,
        "closed by findings": lambda: services.verification_record(
            actor=people["verifier"], case=case_in("verification"), outcome="unfounded", findings="Nothing there."),
    }


@pytest.mark.parametrize("stage", ["verification, two reports", "verification, one report", "attribution",
                                   "voting", "voting, clock paused", "after a tie", "measures", "closed, compliance due",
                                   "closed by findings"])
def test_a_form_is_shown_if_and_only_if_the_service_would_accept_it(people, stages, submitted, stage):
    case = stages[stage]()
    case.refresh_from_db()
    spare = submitted(people["monitor"])
    for who in PERSONAS:
        user = people[who]
        client = Client()
        client.force_login(user)
        page = client.get(f"/cases/{case.pk}/")
        assert page.status_code == 200
        shown = _forms_on_page(page.content.decode(), case)
        accepted = {name for name, call in _service_calls(people, case, user, spare).items() if _accepted(call)}
        assert shown == accepted, f"{who} in {stage}: shown {sorted(shown)}, accepted {sorted(accepted)}"
        detach = {a for a in accepted if a.startswith("detach:")}
        actions = selectors.case_actions(user, case)
        assert _api_actions(actions) == accepted - detach, f"{who} in {stage}"
        assert ("detach_report" in actions["case"]) == bool(detach), f"{who} in {stage}"


def test_the_api_shows_allowed_actions_on_the_case(api, people, stages):
    case = stages["after a tie"]()
    assert Round.objects.filter(case=case).count() == 1
    chair = api(people["chair"]).get(f"/api/v1/cases/{case.pk}/").json()["allowed_actions"]
    member = api(people["member1"]).get(f"/api/v1/cases/{case.pk}/").json()["allowed_actions"]
    assert set(chair["case"]) == {"open_round", "close", "post_comment"}
    assert set(member["case"]) == {"declare_conflict", "post_comment"}
    assert all(v == [] for v in member["deadlines"].values())
