"""Who may vote is recomputable from the trail alone: accounts, roles,
delegations and parties' links are audited (accounts.services), a round's
opening event names the eligible and the recused with the reason, and
docs/verify_trail.py replays the one against the other. A link changed in the
database behind the services' back shows as a mismatch."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import User
from audit.models import AuditEvent
from commission import services
from reports.services import report_create
from tests.audit.helpers import run_script

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("seed_demo", "--password", "demo-pass-for-tests", stdout=StringIO())
    return {u.username: u for u in User.objects.all()}


def _new_case_in_attribution(people):
    report = report_create(actor=people["monitor1"], data={
        "occurred_at": "2026-01-01T10:00:00Z", "lat": 47.5, "lon": 35.8, "category": "shelling",
        "source_type": "uav", "description": "impacts", "alleged_party": "RU"})[0]
    case = services.case_open(actor=people["verifier1"], title="Eligibility check", reports=[report])
    case = services.verification_record(actor=people["verifier1"], case=case, outcome="confirmed",
                                        findings="Craters and fragments match 152 mm rounds.")
    # The demo's rep_ru is called to reply; RU's reply ends the window, so the round may open.
    services.reply_submit(actor=people["rep_ru"], case=case, text="RU disputes the findings.")
    return case


def _export():
    out = StringIO()
    call_command("export_audit", stdout=out)
    return out.getvalue()


def test_the_demo_trail_recomputes_every_rounds_eligible_and_recused_members(demo, tmp_path):
    case = _new_case_in_attribution(demo)
    services.round_open(actor=demo["chair"], case=case)
    opened = AuditEvent.objects.filter(action="round.opened").count()
    result = run_script(_export(), tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout
    assert f"eligibility: {opened} rounds' eligible and recused members recomputed" in result.stdout


def test_a_party_unlinked_in_the_database_shows_as_a_round_the_trail_does_not_explain(demo, tmp_path):
    case = _new_case_in_attribution(demo)
    # An operator frees UA's delegation from recusal without the services.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_party SET delegation_id = NULL WHERE code = 'UA'")
    rnd = services.round_open(actor=demo["chair"], case=case)
    assert "member5" in AuditEvent.objects.get(action="round.opened", object_id=str(rnd.pk)).after["eligible"]
    result = run_script(_export(), tmp_path=tmp_path)
    assert result.returncode == 1
    assert "member5" in result.stdout and "authority events give" in result.stdout


def test_a_party_unlinked_through_the_services_is_explained_by_the_trail(demo, tmp_path):
    from accounts.models import Party
    from accounts.services import party_delegation_set

    case = _new_case_in_attribution(demo)
    party_delegation_set(actor=demo["admin"], party=Party.objects.get(code="UA"), delegation=None,
                         reason="Test of the rule.")
    services.round_open(actor=demo["chair"], case=case)
    result = run_script(_export(), tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout


# --- The app's own verification gives the same answer ---------------------------------


def test_the_apps_verification_recomputes_eligibility_and_ballots_on_the_demo_trail(demo):
    from audit.services import trail_verify

    case = _new_case_in_attribution(demo)
    services.round_open(actor=demo["chair"], case=case)
    report = trail_verify()
    assert report.ok, report.problem
    checks = {c.name: c for c in report.checks}
    assert checks["eligibility"].checked == AuditEvent.objects.filter(action="round.opened").count()
    assert checks["ballots"].checked == AuditEvent.objects.filter(action="round.tallied").count() > 0


def test_the_apps_verification_fails_on_a_round_the_trail_does_not_explain(demo, api):
    from audit.services import trail_verify

    case = _new_case_in_attribution(demo)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_party SET delegation_id = NULL WHERE code = 'UA'")
    rnd = services.round_open(actor=demo["chair"], case=case)
    report = trail_verify()
    opened = AuditEvent.objects.get(action="round.opened", object_id=str(rnd.pk))  # sealed by the verification
    assert not report.ok and report.first_bad_seq == opened.seq and report.problem.startswith("eligibility:")
    body = api(demo["auditor1"]).get("/api/v1/audit/verify/").json()
    assert body["ok"] is False and body["first_bad_seq"] == opened.seq


def _round_event(rnd):
    return AuditEvent.objects.get(action="round.opened", object_id=str(rnd.pk))


def test_a_conflict_declared_in_one_case_recuses_the_member_in_that_case_only(demo):
    from audit.services import trail_verify

    first, second = _new_case_in_attribution(demo), _new_case_in_attribution(demo)
    services.conflict_declare(actor=demo["member1"], case=first, reason="I inspected this site myself.")
    in_first = services.round_open(actor=demo["chair"], case=first)
    in_second = services.round_open(actor=demo["chair"], case=second)
    assert "member1" not in _round_event(in_first).after["eligible"]
    assert "member1" in _round_event(in_second).after["eligible"]
    report = trail_verify()
    assert report.ok, report.problem


def test_an_authority_change_between_two_rounds_is_followed_by_the_next_rounds_check(demo):
    """The check works out who may vote once per authority change: a change
    through the services between two rounds is the second round's rule."""
    from accounts.services import user_authority_set
    from audit.services import trail_verify

    first, second = _new_case_in_attribution(demo), _new_case_in_attribution(demo)
    services.round_open(actor=demo["chair"], case=first)
    user_authority_set(actor=demo["admin"], user=demo["member1"], roles=[], reason="Left the commission.")
    later = services.round_open(actor=demo["chair"], case=second)
    assert "member1" not in _round_event(later).after["eligible"]
    report = trail_verify()
    assert report.ok, report.problem


def test_a_role_taken_away_behind_the_services_between_two_rounds_is_caught_at_the_second(demo):
    from audit.services import trail_verify

    first, second = _new_case_in_attribution(demo), _new_case_in_attribution(demo)
    services.round_open(actor=demo["chair"], case=first)
    demo["member1"].groups.clear()  # an operator, not the services: no event
    later = services.round_open(actor=demo["chair"], case=second)
    report = trail_verify()
    assert not report.ok and report.first_bad_seq == _round_event(later).seq
    assert report.problem.startswith("eligibility:") and "member1" in report.problem
