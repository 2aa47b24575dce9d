"""The commission's pages: each page and each form refuses people without
its role (anonymous visitors go to sign in); a bad form shows the field's
message with 400 and stores nothing; a state conflict says so with 409;
every change is made by the commission's service (its audit event is there)
and sealed ballots stay sealed on the page."""

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from commission import services
from commission.models import Ballot, Case, ConflictDeclaration, Deadline, Measure, Round

pytestmark = pytest.mark.django_db

# What the confirmation page of an irreversible action (close, decide a measure) sends.
CONFIRMED = {"confirming": "1", "confirm": "on"}

PERSONAS = ["monitor", "verifier", "chair", "member1", "auditor", "outsider"]
READERS = {"verifier", "chair", "member1", "auditor"}


def field_errors(html: str, field_id: str) -> list[str]:
    match = re.search(rf'<ul class="errorlist" id="{field_id}_errors">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", match.group(1)) if match else []


def later(days=30) -> str:
    return (timezone.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def world(people, case_in, submitted):  # noqa: F811
    """A case in measures with a proposed measure, and a report in the inbox."""
    case = case_in("measures")
    measure = services.measure_propose(actor=people["member1"], case=case, kind="sanctions", addressee="RU",
                                       description="Targeted sanctions.")
    return {
        "case": case, "measure": measure,
        "deadline": Deadline.objects.get(case=case, kind="measures"),
        "report": case.links.get().report,
        "inbox_report": submitted(people["monitor2"], lat=49.99, lon=36.23),
    }


# --- Who may open what ----------------------------------------------------------------


PAGE_ROLES = {"inbox": {"verifier", "chair"}, "cases": READERS, "case": READERS, "trail": {"auditor", "chair"},
              "board": {"chair"}}
ACTION_ROLES = {
    "open-case": {"verifier", "chair"}, "link": {"verifier", "chair"}, "detach": {"verifier", "chair"},
    "verification": {"verifier", "chair"}, "rounds": {"chair"}, "ballot": {"member1"}, "conflict": {"member1"},
    "propose": {"member1"}, "decision": {"chair"}, "compliance": {"chair"}, "extend": {"chair"}, "close": {"chair"},
    "pause": {"chair"},
}


def page_url(w, key: str) -> str:
    pk = w["case"].pk
    return {"inbox": "/inbox/", "cases": "/cases/", "case": f"/cases/{pk}/", "trail": f"/cases/{pk}/trail/",
            "board": "/board/"}[key]


def action(w, key: str) -> tuple[str, dict]:
    """POST url and a body the service would accept."""
    c, m, d = w["case"].pk, w["measure"].pk, w["deadline"].pk
    return {
        "open-case": ("/inbox/open-case/", {"title": "Kharkiv substation", "reports": [w["inbox_report"].pk]}),
        "link": (f"/cases/{c}/link/", {"report": w["inbox_report"].reference}),
        "detach": (f"/cases/{c}/detach/", {"report": w["report"].pk, "reason": "A duplicate."}),
        "verification": (f"/cases/{c}/verification/", {"outcome": "confirmed", "findings": "Craters."}),
        "rounds": (f"/cases/{c}/rounds/", {"quorum": "50", "threshold": "simple"}),
        "ballot": (f"/cases/{c}/ballot/", {"choice": "RU", "rationale": "Radar tracks."}),
        "conflict": (f"/cases/{c}/conflict/", {"reason": "I served in the unit."}),
        "propose": (f"/cases/{c}/measures/", {"kind": "sanctions", "addressee": "RU", "description": "More."}),
        "decision": (f"/cases/{c}/measures/{m}/decision/", {"decision": "adopt", "reason": "Proportionate.",
                                                             **CONFIRMED}),
        "compliance": (f"/cases/{c}/measures/{m}/compliance/", {"compliance": "complied", "note": "Seen."}),
        "extend": (f"/cases/{c}/deadlines/{d}/extend/", {"due_at": later(), "reason": "Members asked."}),
        "pause": (f"/cases/{c}/deadlines/{d}/pause/", {"reason": "Monitors denied access to the site."}),
        "close": (f"/cases/{c}/close/", {"summary": "Attributed to RU.", **CONFIRMED}),
    }[key]


@pytest.mark.parametrize("key", sorted(PAGE_ROLES))
def test_every_commission_page_sends_anonymous_visitors_to_sign_in(world, web, key):
    response = web().get(page_url(world, key))
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/?next=")


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("key", sorted(PAGE_ROLES))
def test_every_commission_page_admits_only_its_roles(people, world, web, key, persona):
    response = web(people[persona]).get(page_url(world, key))
    assert response.status_code == (200 if persona in PAGE_ROLES[key] else 403)


@pytest.mark.parametrize("key", sorted(ACTION_ROLES))
def test_every_commission_form_sends_anonymous_visitors_to_sign_in_and_stores_nothing(world, web, key):
    url, body = action(world, key)
    events = AuditEvent.objects.count()
    response = web().post(url, body)
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/?next=")
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(("key", "persona"), [(key, persona) for key, allowed in sorted(ACTION_ROLES.items())
                                              for persona in PERSONAS if persona not in allowed])
def test_every_commission_form_refuses_other_roles_and_stores_nothing(people, world, web, key, persona):
    url, body = action(world, key)
    events = AuditEvent.objects.count()
    response = web(people[persona]).post(url, body)
    assert response.status_code == 403
    assert b"Not allowed" in response.content
    assert AuditEvent.objects.count() == events


# The world's case is in measures: these forms are on its page (for their roles).
# (A member may declare a conflict in measures too: the service allows it. The chair may
# not close while a measure waits for a decision: the service refuses it, so no form.)
SHOWN_IN_MEASURES = {"open-case", "propose", "decision", "extend", "pause", "conflict"}


@pytest.mark.parametrize("key", sorted(ACTION_ROLES))
def test_every_commission_form_posted_empty_says_what_is_missing_and_stores_nothing(people, world, web, key):
    url, _body = action(world, key)
    events = AuditEvent.objects.count()
    response = web(people[sorted(ACTION_ROLES[key])[0]]).post(url, {})
    html = response.content.decode()
    if key in SHOWN_IN_MEASURES:
        assert response.status_code == 400
        assert "This field is required." in html
    else:
        # Posted from an out-of-date page: the form is not on the case's page
        # any more, so the page says why rather than showing errors nowhere.
        assert response.status_code == 409
        assert "This form no longer applies: the case is now in the Measures stage." in html
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("key", sorted(ACTION_ROLES))
def test_every_commission_form_works_for_its_role_through_the_service(people, world, case_in, submitted, web,  # noqa: F811
                                                                       key):
    """The bodies the refusals above sent do work for the right role, in a
    case at the right stage: those 403s are about the role, nothing else."""
    w = dict(world)
    if key in ("link", "detach", "verification"):
        w["case"] = case_in("verification", reports=2)
        w["report"] = w["case"].links.first().report
    elif key in ("rounds", "ballot"):
        w["case"] = case_in("attribution")
        if key == "ballot":
            services.round_open(actor=people["chair"], case=w["case"])
    elif key in ("compliance", "close"):
        # A case closes once every proposed measure is decided.
        services.measure_decide(actor=people["chair"], measure=w["measure"], adopt=True, reason="Agreed.")
    url, body = action(w, key)
    events = AuditEvent.objects.count()
    response = web(people[sorted(ACTION_ROLES[key])[0]]).post(url, body)
    assert response.status_code == 302
    assert AuditEvent.objects.count() > events


def test_the_case_page_gives_each_field_its_own_id(people, world, web):
    page = web(people["chair"]).get(f"/cases/{world['case'].pk}/").content.decode()
    ids = Counter(re.findall(r'\sid="([^"]+)"', page))
    assert [i for i, n in ids.items() if n > 1] == []
    # and each label points at a field that exists
    assert set(re.findall(r'<label for="([^"]+)"', page)) <= set(ids)


# --- Bad forms: the field's message, 400, nothing stored ------------------------------------


@pytest.fixture
def voting(people, case_in):  # noqa: F811
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case)
    return case, rnd


def test_a_ballot_without_rationale_shows_the_message_and_stores_nothing(people, voting, web):
    case, _rnd = voting
    response = web(people["member1"]).post(f"/cases/{case.pk}/ballot/", {"choice": "RU", "rationale": "   "})
    assert response.status_code == 400
    html = response.content.decode()
    assert field_errors(html, "id_ballot_rationale") == ["This field is required."]
    # What was chosen is still selected, so the member only adds the rationale.
    assert re.search(r'<input type="radio" name="choice" value="RU"[^>]* checked', html)
    assert not Ballot.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="ballot.").exists()


def test_a_ballot_for_no_choice_shows_the_message_and_stores_nothing(people, voting, web):
    case, _rnd = voting
    response = web(people["member1"]).post(f"/cases/{case.pk}/ballot/", {"choice": "XX", "rationale": "Tracks."})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "id_ballot_choice") == [
        "Select a valid choice. XX is not one of the available choices."]
    assert not Ballot.objects.exists()


def test_a_verification_without_findings_shows_the_message_and_stores_nothing(people, case_in, web):  # noqa: F811
    case = case_in("verification")
    events = AuditEvent.objects.count()
    response = web(people["verifier"]).post(f"/cases/{case.pk}/verification/", {"outcome": "confirmed"})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "id_verify_findings") == ["This field is required."]
    case.refresh_from_db()
    assert (case.stage, case.verification_outcome, case.findings) == ("verification", "", "")
    assert AuditEvent.objects.count() == events


def test_an_extension_without_reason_shows_the_message_and_stores_nothing(people, case_in, web):  # noqa: F811
    case = case_in("verification")
    deadline = Deadline.objects.get(case=case)
    due = deadline.due_at
    response = web(people["chair"]).post(f"/cases/{case.pk}/deadlines/{deadline.pk}/extend/",
                                         {"due_at": later(), "reason": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert field_errors(html, f"id_extend{deadline.pk}_reason") == ["This field is required."]
    # The form is unfolded so that the message is seen.
    assert re.search(r"<details open><summary>Extend", html)
    deadline.refresh_from_db()
    assert (deadline.due_at, deadline.status) == (due, "pending")
    assert not AuditEvent.objects.filter(action="deadline.extended").exists()


def test_an_extension_to_an_earlier_time_shows_the_services_message(people, case_in, web):  # noqa: F811
    case = case_in("verification")
    deadline = Deadline.objects.get(case=case)
    response = web(people["chair"]).post(f"/cases/{case.pk}/deadlines/{deadline.pk}/extend/",
                                         {"due_at": later(days=1), "reason": "Members asked."})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), f"id_extend{deadline.pk}_due_at") == [
        "An extension must be later than the current due time."]
    assert Deadline.objects.get(pk=deadline.pk).status == "pending"


def test_a_round_with_a_zero_quorum_is_refused_by_the_field(people, case_in, web):  # noqa: F811
    case = case_in("attribution")
    response = web(people["chair"]).post(f"/cases/{case.pk}/rounds/", {"quorum": "0", "threshold": "simple"})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "id_round_quorum") == [
        "Ensure this value is greater than or equal to 1."]
    assert not Round.objects.exists()


@pytest.mark.parametrize(("percent", "fraction"), [("50", "0.500"), ("66.7", "0.667"), ("100", "1.000")])
def test_the_round_form_takes_the_quorum_in_percent(people, case_in, web, percent, fraction):  # noqa: F811
    case = case_in("attribution")
    response = web(people["chair"]).post(f"/cases/{case.pk}/rounds/", {"quorum": percent, "threshold": "simple"})
    assert response.status_code == 302
    assert str(Round.objects.get().quorum) == fraction


def test_opening_a_case_without_a_title_or_a_report_says_so_and_stores_nothing(people, submitted, web):  # noqa: F811
    report = submitted(people["monitor"])
    client = web(people["verifier"])
    response = client.post("/inbox/open-case/", {"title": "", "reports": [report.pk]})
    assert response.status_code == 400
    html = response.content.decode()
    assert field_errors(html, "id_title") == ["This field is required."]
    assert re.search(rf'value="{report.pk}" checked', html)  # the selection is kept
    response = client.post("/inbox/open-case/", {"title": "Orikhiv"})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "id_reports") == ["Select at least one report."]
    assert not Case.objects.exists()


def test_linking_an_unknown_report_says_so(people, case_in, web):  # noqa: F811
    case = case_in("verification")
    response = web(people["verifier"]).post(f"/cases/{case.pk}/link/", {"report": "RPT-2026-999999"})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "id_link_report") == ["No submitted report with this reference."]
    assert case.links.count() == 1


# --- State conflicts: 409, said at the top, nothing stored ------------------------------------


def test_a_ballot_when_no_round_is_open_is_a_conflict(people, case_in, web):  # noqa: F811
    case = case_in("attribution")
    response = web(people["member1"]).post(f"/cases/{case.pk}/ballot/", {"choice": "RU", "rationale": "Tracks."})
    assert response.status_code == 409
    assert "No voting round is open on this case." in response.content.decode()
    assert not Ballot.objects.exists()


def test_a_ballot_after_the_round_closed_is_a_conflict(people, voting, web):
    case, rnd = voting
    services.round_close_due(round_id=rnd.pk, now=rnd.closes_at + timedelta(seconds=1))
    response = web(people["member1"]).post(f"/cases/{case.pk}/ballot/", {"choice": "RU", "rationale": "Late."})
    assert response.status_code == 409
    assert not Ballot.objects.exists()


def test_detaching_the_last_report_is_refused_with_the_services_reason(people, case_in, web):  # noqa: F811
    case = case_in("verification")
    report = case.links.get().report
    response = web(people["verifier"]).post(f"/cases/{case.pk}/detach/", {"report": report.pk, "reason": "Dup."})
    assert response.status_code == 409
    assert "A case keeps at least one report" in response.content.decode()
    assert case.links.filter(detached_at__isnull=True).count() == 1


def test_a_recused_member_cannot_vote_through_the_page(people, voting, web):
    case, _rnd = voting
    response = web(people["member5"]).post(f"/cases/{case.pk}/ballot/", {"choice": "RU", "rationale": "Tracks."})
    assert response.status_code == 403
    assert not Ballot.objects.exists()


# --- The workflow through the pages --------------------------------------------------------


def test_a_verifier_opens_a_case_from_the_inbox(people, submitted, web):  # noqa: F811
    report = submitted(people["monitor"])
    client = web(people["verifier"])
    assert report.reference in client.get("/inbox/").content.decode()
    response = client.post("/inbox/open-case/", {"title": "Shelling of Orikhiv", "reports": [report.pk]})
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.pk}/"
    assert AuditEvent.objects.get(action="case.opened").actor_username == "verifier1"
    assert report.reference not in client.get("/inbox/").content.decode()


def test_the_inbox_shows_duplicate_candidates_and_the_case_they_are_in(people, case_in, submitted, web):  # noqa: F811
    case = case_in("verification")
    fresh = submitted(people["monitor2"], lat=47.5700, lon=35.8620)
    page = web(people["verifier"]).get("/inbox/").content.decode()
    assert fresh.reference in page
    assert "Possible duplicates" in page
    assert f"in {case.reference}" in page


def test_ballots_stay_sealed_on_the_page_until_the_round_closes(people, voting, web):
    case, _rnd = voting
    member1 = web(people["member1"])
    response = member1.post(f"/cases/{case.pk}/ballot/", {"choice": "undetermined", "rationale": "Secret reasoning."})
    assert response.status_code == 302
    own = member1.get(f"/cases/{case.pk}/").content.decode()
    assert "Your sealed ballot: Undetermined." in own
    assert "Secret reasoning." in own  # their own rationale, to change it
    for other in ("chair", "member2", "auditor"):
        page = web(people[other]).get(f"/cases/{case.pk}/").content.decode()
        assert "1 of 4 eligible members have voted." in page
        assert "Secret reasoning." not in page
        assert "Your sealed ballot" not in page
        if other != "member2":  # member2 has the ballot form, whose choices include Undetermined
            assert "Undetermined" not in page
    # A change of ballot is the same form again.
    member1.post(f"/cases/{case.pk}/ballot/", {"choice": "RU", "rationale": "On reflection."})
    assert Ballot.objects.filter(voter=people["member1"], superseded=False).get().content().choice == "RU"
    assert AuditEvent.objects.filter(action="ballot.changed").count() == 1


def test_the_recused_member_sees_why_and_gets_no_ballot_form(people, voting, web):
    case, _rnd = voting
    page = web(people["member5"]).get(f"/cases/{case.pk}/").content.decode()
    assert "You cannot vote in this round." in page
    assert "Your delegation is party UA to the conflict." in page
    assert "Cast the sealed ballot" not in page


def test_a_member_who_declares_a_conflict_is_recused_from_the_open_round(people, voting, web):
    case, rnd = voting
    client = web(people["member2"])
    response = client.post(f"/cases/{case.pk}/conflict/", {"reason": "I advised one of the parties."})
    assert response.status_code == 302
    assert ConflictDeclaration.objects.filter(case=case, member=people["member2"]).exists()
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "You declared a conflict of interest on this case." in page
    assert "0 of 3 eligible members have voted." in page


def test_the_round_shows_its_result_once_closed(people, voting, web):
    case, _rnd = voting
    for who in ("member1", "member2", "member3"):
        web(people[who]).post(f"/cases/{case.pk}/ballot/", {"choice": "RU", "rationale": "Radar tracks."})
    web(people["member4"]).post(f"/cases/{case.pk}/ballot/", {"choice": "abstain", "rationale": "Not enough."})
    page = web(people["auditor"]).get(f"/cases/{case.pk}/").content.decode()
    # The party by its name, not its code (issue 12, item 3).
    assert "Result: Russian Federation" in page and "Result: RU" not in page
    assert re.search(r"<td>Russian Federation</td><td>3</td>", page)
    assert re.search(r"<td>Abstain</td><td>1</td>", page)


def test_the_chair_adopts_a_measure_and_records_compliance(people, world, web):
    case, measure = world["case"], world["measure"]
    chair = web(people["chair"])
    response = chair.post(f"/cases/{case.pk}/measures/{measure.pk}/decision/",
                          {"decision": "adopt", "reason": "Proportionate.", **CONFIRMED})
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.pk}/#h-measures"
    measure.refresh_from_db()
    assert (measure.status, measure.compliance) == ("adopted", "pending")
    response = chair.post(f"/cases/{case.pk}/measures/{measure.pk}/compliance/",
                          {"compliance": "complied", "note": "Confirmed by monitors."})
    assert response.status_code == 302
    assert Measure.objects.get(pk=measure.pk).compliance == "complied"
    assert AuditEvent.objects.filter(action="measure.compliance_recorded", actor_username="chair").count() == 1


def test_a_measure_of_another_case_is_not_found(people, world, case_in, web):  # noqa: F811
    other = case_in("measures", title="Another case")
    response = web(people["chair"]).post(f"/cases/{other.pk}/measures/{world['measure'].pk}/decision/",
                                         {"decision": "adopt", "reason": "Proportionate.", **CONFIRMED})
    assert response.status_code == 404
    assert Measure.objects.get(pk=world["measure"].pk).status == "proposed"


def test_the_chair_closes_a_case_with_a_public_summary(people, world, web):
    case = world["case"]
    response = web(people["chair"]).post(f"/cases/{case.pk}/close/", {"summary": "Attributed to RU.", **CONFIRMED})
    assert response.status_code == 409
    assert "Adopt or reject every proposed measure before closing the case." in response.content.decode()
    services.measure_decide(actor=people["chair"], measure=world["measure"], adopt=False, reason="Too broad.")
    response = web(people["chair"]).post(f"/cases/{case.pk}/close/", {"summary": "Attributed to RU.", **CONFIRMED})
    assert response.status_code == 302
    page = web(people["member3"]).get(f"/cases/{case.pk}/").content.decode()
    assert "Public summary" in page
    assert "Attributed to RU." in page
    assert Case.objects.get(pk=case.pk).stage == "closed"


def test_an_extension_moves_the_deadline_with_its_reason_in_the_trail(people, case_in, web):  # noqa: F811
    case = case_in("verification")
    deadline = Deadline.objects.get(case=case)
    response = web(people["chair"]).post(f"/cases/{case.pk}/deadlines/{deadline.pk}/extend/",
                                         {"due_at": later(), "reason": "The site is not reachable."})
    assert response.status_code == 302
    deadline.refresh_from_db()
    assert deadline.status == "extended"
    assert AuditEvent.objects.get(action="deadline.extended").reason == "The site is not reachable."


def test_the_chair_pauses_and_resumes_a_deadline_from_the_case_page(people, case_in, web):  # noqa: F811
    case = case_in("verification")
    deadline = Deadline.objects.get(case=case)
    chair = web(people["chair"])
    response = chair.post(f"/cases/{case.pk}/deadlines/{deadline.pk}/pause/", {"reason": ""})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), f"id_pause{deadline.pk}_reason") == ["This field is required."]
    assert Deadline.objects.get(pk=deadline.pk).status == "pending"
    response = chair.post(f"/cases/{case.pk}/deadlines/{deadline.pk}/pause/",
                          {"reason": "Monitors denied access to the site."})
    assert response.status_code == 302
    page = chair.get(f"/cases/{case.pk}/").content.decode()
    assert "paused since" in page and "(Monitors denied access to the site.)" in page
    assert f"/cases/{case.pk}/deadlines/{deadline.pk}/resume/" in page
    assert f"/cases/{case.pk}/deadlines/{deadline.pk}/extend/" not in page  # resume first
    board = chair.get("/board/").content.decode()
    assert "(Monitors denied access to the site.)" in board
    response = chair.post(f"/cases/{case.pk}/deadlines/{deadline.pk}/resume/", {"reason": "Access restored."})
    assert response.status_code == 302
    deadline_after = Deadline.objects.get(pk=deadline.pk)
    assert deadline_after.status == "pending" and deadline_after.due_at > deadline.due_at
    assert AuditEvent.objects.get(action="deadline.resumed").reason == "Access restored."
    # Resumed already: a second post (an out-of-date page) is refused and stores nothing.
    response = chair.post(f"/cases/{case.pk}/deadlines/{deadline.pk}/resume/", {"reason": "Again."})
    assert response.status_code == 409
    assert AuditEvent.objects.filter(action="deadline.resumed").count() == 1


def test_a_round_whose_clock_is_paused_says_so_instead_of_a_closing_time(people, case_in, web):  # noqa: F811
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case)
    services.deadline_pause(actor=people["chair"], deadline=Deadline.objects.get(round=rnd),
                            reason="Monitors denied access to the site.")
    page = web(people["member1"]).get(f"/cases/{case.pk}/").content.decode()
    assert "Its clock is paused: ballots are still taken" in page
    assert "Closes in" not in page
    assert f'action="/cases/{case.pk}/ballot/"' in page


def test_the_board_puts_a_case_with_a_missed_deadline_first(people, case_in, web):  # noqa: F811
    fine = case_in("verification", title="On time")
    late = case_in("verification", title="Late one")
    deadline = Deadline.objects.get(case=late)
    services.deadline_fire(deadline_id=deadline.pk, now=deadline.due_at + timedelta(seconds=1))
    page = web(people["chair"]).get("/board/").content.decode()
    assert page.index(late.reference) < page.index(fine.reference)
    assert "deadline missed" in page


def test_the_board_shows_the_turnout_of_an_open_round(people, voting, web):
    case, rnd = voting
    services.ballot_cast(actor=people["member1"], round=rnd, choice="RU", rationale="Tracks.")
    page = web(people["chair"]).get("/board/").content.decode()
    assert "1 of 4 ballots cast" in page


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/board/", "/cases/"])
def test_the_case_lists_cost_the_same_queries_for_two_cases_or_six(people, case_in, web, url):  # noqa: F811
    client = web(people["chair"] if url == "/board/" else people["member1"])

    def add(stage):
        case = case_in(stage)
        if stage == "attribution":
            rnd = services.round_open(actor=people["chair"], case=case)
            services.ballot_cast(actor=people["member2"], round=rnd, choice="RU", rationale="Tracks.")

    for stage in ("verification", "attribution"):
        add(stage)
    few = _queries(client, url)
    for stage in ("verification", "attribution", "measures", "attribution"):
        add(stage)
    assert _queries(client, url) == few


def test_the_inbox_finds_the_duplicate_candidates_of_its_page_in_one_query(people, submitted, web):  # noqa: F811
    # reports.similar.report_similar_many: one query for the whole page's
    # candidates, one for the cases they are in, however many cards.
    client = web(people["verifier"])
    for i in range(2):
        submitted(people["monitor"], lat=47.5 + i * 0.0001)
    few = _queries(client, "/inbox/")
    for i in range(18):
        submitted(people["monitor2"], lat=47.6 + i * 0.0001)
    page = client.get("/inbox/").content.decode()
    assert page.count("Possible duplicates") == 20
    assert _queries(client, "/inbox/") == few


# --- Other pages that show the workflow ----------------------------------------------------------


def test_the_home_page_lists_rounds_awaiting_the_members_ballot(people, voting, web):
    case, _rnd = voting
    page = web(people["member1"]).get("/").content.decode()
    assert "Rounds awaiting your ballot" in page
    assert case.reference in page
    assert "Rounds awaiting your ballot" not in web(people["member5"]).get("/").content.decode()


def test_the_home_page_tells_the_verifier_how_many_reports_wait(people, submitted, web):  # noqa: F811
    submitted(people["monitor"])
    submitted(people["monitor2"])
    page = web(people["verifier"]).get("/").content.decode()
    assert "2 submitted reports are not in a case yet." in page


def test_the_home_page_shows_the_chair_a_missed_deadline(people, case_in, web):  # noqa: F811
    case = case_in("verification")
    deadline = Deadline.objects.get(case=case)
    services.deadline_fire(deadline_id=deadline.pk, now=deadline.due_at + timedelta(seconds=1))
    page = web(people["chair"]).get("/").content.decode()
    assert "Missed deadlines" in page
    assert case.reference in page
    assert f"{case.reference}: verification deadline missed" in page  # the notification


def test_a_report_page_names_its_case_to_commission_readers_only(people, case_in, web):  # noqa: F811
    case = case_in("verification")
    report = case.links.get().report
    assert case.reference in web(people["member1"]).get(f"/reports/{report.pk}/").content.decode()
    assert case.reference not in web(people["monitor"]).get(f"/reports/{report.pk}/").content.decode()


def test_the_overview_gives_the_time_to_decision_per_stage(people, case_in, web):  # noqa: F811
    case_in("measures")
    page = web(people["auditor"]).get("/overview/").content.decode()
    assert "No decisions yet." not in page
    times = page[page.index('id="h-times"'):]
    rows = re.findall(r'<th scope="row">(\w+)</th><td>(\d+)</td>', times)
    assert rows == [("Verification", "1"), ("Attribution", "1")]


def test_the_case_trail_lists_the_cases_events_and_verifies_the_chain(people, world, web):
    page = web(people["auditor"]).get(f"/cases/{world['case'].pk}/trail/").content.decode()
    assert "Verified" in page
    for action in ("case.opened", "verification.recorded", "round.opened", "round.tallied", "measure.proposed"):
        assert action in page
    assert "report.submitted" in page  # the case's reports belong to its trail
    assert world["inbox_report"].reference not in page
