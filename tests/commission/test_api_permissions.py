"""Who may do what: every persona and an anonymous client against every
commission endpoint and method. Each row sets up the state in which the
action is allowed, so a refusal can only come from who is asking (member5's
delegation is a party, so their ballot is refused with 403 too)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from commission import services
from notifications.models import Notification

pytestmark = pytest.mark.django_db

PERSONAS = ["monitor", "verifier", "chair", "member1", "member5", "auditor", "outsider", None]

R = (403, 200, 200, 200, 200, 200, 403, 401)  # the commission reads; auditors read only
#   endpoint              method    monitor verifier chair member1 member5 auditor outsider anonymous
MATRIX = {
    ("cases", "get"):             R,
    ("cases", "post"):            (403, 201, 201, 403, 403, 403, 403, 401),
    ("case", "get"):              R,
    ("link", "post"):             (403, 200, 200, 403, 403, 403, 403, 401),
    ("detach", "post"):           (403, 200, 200, 403, 403, 403, 403, 401),
    ("verification", "post"):     (403, 200, 200, 403, 403, 403, 403, 401),
    ("conflicts", "post"):        (403, 403, 403, 201, 201, 403, 403, 401),
    ("rounds", "post"):           (403, 403, 201, 403, 403, 403, 403, 401),
    ("round", "get"):             R,
    ("ballots", "post"):          (403, 403, 403, 201, 403, 403, 403, 401),
    ("measures", "post"):         (403, 403, 403, 201, 201, 403, 403, 401),
    ("adopt", "post"):            (403, 403, 200, 403, 403, 403, 403, 401),
    ("reject", "post"):           (403, 403, 200, 403, 403, 403, 403, 401),
    ("compliance", "post"):       (403, 403, 200, 403, 403, 403, 403, 401),
    ("close", "post"):            (403, 403, 200, 403, 403, 403, 403, 401),
    # The previews of the irreversible actions: the chair's, like the actions.
    ("adopt", "get"):             (403, 403, 200, 403, 403, 403, 403, 401),
    ("reject", "get"):            (403, 403, 200, 403, 403, 403, 403, 401),
    ("close", "get"):             (403, 403, 200, 403, 403, 403, 403, 401),
    ("trail", "get"):             (403, 403, 200, 403, 403, 200, 403, 401),
    ("deadlines", "get"):         R,
    ("extend", "post"):           (403, 403, 200, 403, 403, 403, 403, 401),
    ("pause", "post"):            (403, 403, 200, 403, 403, 403, 403, 401),
    ("resume", "post"):           (403, 403, 200, 403, 403, 403, 403, 401),
    ("notifications", "get"):     (200, 200, 200, 200, 200, 200, 403, 401),
    ("read", "post"):             (200, 200, 200, 200, 200, 200, 403, 401),
}
CASES = [
    (endpoint, method, who, expected)
    for (endpoint, method), statuses in MATRIX.items()
    for who, expected in zip(PERSONAS, statuses, strict=True)
]
SOON = timezone.now() + timedelta(days=3)


def _scene(endpoint, people, user, case_in, submitted):
    """(url, body) for the endpoint, in a state where the action is allowed."""
    monitor = people["monitor"]
    if endpoint == "cases":
        return "/api/v1/cases/", {"title": "Drone strike near Kupiansk", "reports": [submitted(monitor).pk]}
    if endpoint in ("case", "trail"):
        case = case_in("verification")
        return f"/api/v1/cases/{case.pk}/" + ("trail/" if endpoint == "trail" else ""), {}
    if endpoint == "link":
        case = case_in("verification")
        return f"/api/v1/cases/{case.pk}/reports/", {"reports": [submitted(monitor).pk]}
    if endpoint == "detach":
        case = case_in("verification", reports=2)
        report = case.links.order_by("id").first().report
        return f"/api/v1/cases/{case.pk}/reports/{report.pk}/detach/", {"reason": "A duplicate of the other."}
    if endpoint == "verification":
        case = case_in("verification")
        return f"/api/v1/cases/{case.pk}/verification/", {"outcome": "confirmed", "findings": "Craters match."}
    if endpoint == "conflicts":
        case = case_in("attribution")
        return f"/api/v1/cases/{case.pk}/conflicts/", {"reason": "My delegation's liaison filed a report."}
    if endpoint == "rounds":
        case = case_in("attribution")
        return f"/api/v1/cases/{case.pk}/rounds/", {}
    if endpoint in ("round", "ballots"):
        case = case_in("attribution")
        rnd = services.round_open(actor=people["chair"], case=case, closes_at=SOON)
        if endpoint == "round":
            return f"/api/v1/rounds/{rnd.pk}/", {}
        return f"/api/v1/rounds/{rnd.pk}/ballots/", {"choice": "RU", "rationale": "Radar tracks."}
    if endpoint == "measures":
        case = case_in("measures")
        return f"/api/v1/cases/{case.pk}/measures/", {"kind": "sanctions", "addressee": "RU",
                                                      "description": "Targeted sanctions."}
    if endpoint in ("adopt", "reject", "compliance"):
        case = case_in("measures")
        measure = services.measure_propose(actor=people["member1"], case=case, kind="sanctions", addressee="RU",
                                           description="Targeted sanctions.", compliance_due_at=SOON)
        if endpoint == "compliance":
            services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")
            return f"/api/v1/measures/{measure.pk}/compliance/", {"compliance": "complied", "note": "Done."}
        return f"/api/v1/measures/{measure.pk}/{endpoint}/", {"reason": "Proportionate.", "confirm": True}
    if endpoint == "close":
        case = case_in("measures")
        return f"/api/v1/cases/{case.pk}/close/", {"summary": "Attributed to RU.", "confirm": True}
    if endpoint == "deadlines":
        case_in("verification")
        return "/api/v1/deadlines/", {}
    if endpoint == "extend":
        case = case_in("verification")
        deadline = case.deadlines.get()
        return (f"/api/v1/deadlines/{deadline.pk}/extend/",
                {"due_at": (deadline.due_at + timedelta(days=1)).isoformat(), "reason": "Lab results pending."})
    if endpoint in ("pause", "resume"):
        case = case_in("verification")
        deadline = case.deadlines.get()
        if endpoint == "resume":
            services.deadline_pause(actor=people["chair"], deadline=deadline, reason="Access denied.")
        return f"/api/v1/deadlines/{deadline.pk}/{endpoint}/", {"reason": "Monitors denied access to the site."}
    if endpoint in ("notifications", "read"):
        # Stored directly: what makes one (a reminder, an escalation) is not what is tested here.
        owner = user or people["outsider"]
        note = Notification.objects.create(recipient=owner, kind="deadline_reminder", subject="Due soon",
                                           key="test:1")
        return ("/api/v1/notifications/" + (f"{note.pk}/read/" if endpoint == "read" else "")), {}
    raise AssertionError(endpoint)


@pytest.mark.parametrize(("endpoint", "method", "who", "expected"), CASES,
                         ids=[f"{e}-{m}-{w or 'anonymous'}" for e, m, w, _x in CASES])
def test_the_permission_matrix(api, people, case_in, submitted, endpoint, method, who, expected):
    user = people[who] if who else None
    url, body = _scene(endpoint, people, user, case_in, submitted)
    events_before = AuditEvent.objects.count()
    response = getattr(api(user), method)(url, body, format="json")
    assert response.status_code == expected, getattr(response, "data", response)
    if expected in (401, 403) and method == "post":
        # A refused write leaves nothing behind in the trail.
        assert AuditEvent.objects.count() == events_before


def test_a_refused_ballot_says_why_the_member_is_not_eligible(api, people, case_in):
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case, closes_at=SOON)
    response = api(people["member5"]).post(f"/api/v1/rounds/{rnd.pk}/ballots/",
                                          {"choice": "RU", "rationale": "x"}, format="json")
    assert response.status_code == 403
    assert response.data["code"] == "not_eligible"
    assert "party UA" in response.data["detail"]


def test_someone_elses_notification_is_not_found(api, people):
    note = Notification.objects.create(recipient=people["member1"], kind="k", subject="s", key="k:1")
    response = api(people["member2"]).post(f"/api/v1/notifications/{note.pk}/read/")
    assert response.status_code == 404
    note.refresh_from_db()
    assert note.read_at is None
    listed = api(people["member2"]).get("/api/v1/notifications/")
    assert listed.status_code == 200 and listed.data["results"] == []
