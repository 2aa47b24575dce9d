"""The commission API through HTTP: the whole flow, bad input (400 with a
message per field and nothing stored), unknown objects (404), state
conflicts (409), and lists whose query count does not grow with their length."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from commission import services
from commission.models import Ballot, Case, CaseReport, Deadline, Measure, Round
from notifications.models import Notification

pytestmark = pytest.mark.django_db

SOON = timezone.now() + timedelta(days=3)


def _ok(response, code=200):
    assert response.status_code == code, getattr(response, "data", response)
    return response.data


def test_a_case_goes_from_reports_to_closure_through_the_api(api, people, submitted):
    verifier, chair, auditor = api(people["verifier"]), api(people["chair"]), api(people["auditor"])
    first, second, third = (submitted(people["monitor"]) for _ in range(3))

    case = _ok(verifier.post("/api/v1/cases/", {"title": "Shelling of Orikhiv", "reports": [first.pk]},
                             format="json"), 201)
    assert case["reference"].startswith("CASE-") and case["stage"] == "verification"
    assert case["reports"] == [{"id": first.pk, "reference": first.reference}]
    assert [(d["kind"], d["status"]) for d in case["deadlines"]] == [("verification", "pending")]
    url = f"/api/v1/cases/{case['id']}/"

    case = _ok(verifier.post(url + "reports/", {"reports": [second.pk, third.pk]}, format="json"))
    assert [r["id"] for r in case["reports"]] == [first.pk, second.pk, third.pk]
    case = _ok(verifier.post(url + f"reports/{third.pk}/detach/", {"reason": "Another town."}, format="json"))
    assert [r["id"] for r in case["reports"]] == [first.pk, second.pk]
    detached = [link for link in case["links"] if link["detached"]]
    assert [(d["report"]["id"], d["detach_reason"], d["detached_by"]) for d in detached] == [
        (third.pk, "Another town.", "verifier1")]

    case = _ok(verifier.post(url + "verification/", {"outcome": "confirmed", "findings": "Craters match."},
                             format="json"))
    assert case["stage"] == "attribution"
    assert case["verification"]["outcome"] == "confirmed" and case["verification"]["by"] == "verifier1"

    rnd = _ok(chair.post(url + "rounds/", {"quorum": "0.75", "threshold": "two_thirds"}, format="json"), 201)
    assert (rnd["status"], rnd["eligible_count"], rnd["ballots_cast"], rnd["result"]) == ("open", 4, 0, None)
    assert rnd["quorum"] == 0.75 and rnd["threshold"] == "two_thirds"
    ballots = f"/api/v1/rounds/{rnd['id']}/ballots/"
    member1 = api(people["member1"])
    mine = _ok(member1.post(ballots, {"choice": "UA", "rationale": "First look."}, format="json"), 201)
    assert mine["my_ballot"]["choice"] == "UA" and mine["eligible"] is True and mine["ballots_cast"] == 1
    changed = _ok(member1.post(ballots, {"choice": "RU", "rationale": "Radar tracks."}, format="json"), 200)
    assert changed["my_ballot"]["choice"] == "RU" and changed["ballots_cast"] == 1
    again = _ok(member1.post(ballots, {"choice": "RU", "rationale": "Radar tracks."}, format="json"), 200)
    assert again["my_ballot"]["commitment"] == changed["my_ballot"]["commitment"]
    for who in ("member2", "member3"):
        _ok(api(people[who]).post(ballots, {"choice": "RU", "rationale": "Fragments."}, format="json"), 201)
    last = _ok(api(people["member4"]).post(ballots, {"choice": "abstain", "rationale": "Unsure."}, format="json"),
               201)
    assert last["status"] == "closed" and last["closed_because"] == "all_voted"
    result = last["result"]
    assert (result["outcome"], result["outcome_name"], result["counts"]) == (
        "RU", "Russian Federation", {"RU": 3, "abstain": 1})
    assert [(b["voter"], b["choice"]) for b in result["ballots"]] == [
        ("member1", "RU"), ("member2", "RU"), ("member3", "RU"), ("member4", "abstain")]

    case = _ok(auditor.get(url))
    assert case["stage"] == "measures" and case["attributed_party"] == "RU"
    assert case["rounds"][0]["result"]["outcome"] == "RU"

    member2 = api(people["member2"])
    measure = _ok(member2.post(url + "measures/", {
        "kind": "sanctions", "addressee": "RU", "description": "Targeted sanctions on the brigade.",
        "compliance_due_at": (timezone.now() + timedelta(days=30)).isoformat()}, format="json"), 201)
    assert (measure["status"], measure["compliance"], measure["proposed_by"]) == ("proposed", "", "member2")
    other = _ok(member2.post(url + "measures/", {"kind": "military_reassurance", "addressee": "RU",
                                                 "description": "Air policing."}, format="json"), 201)
    _ok(chair.post(f"/api/v1/measures/{other['id']}/reject/", {"reason": "Disproportionate.", "confirm": True}, format="json"))
    adopted = _ok(chair.post(f"/api/v1/measures/{measure['id']}/adopt/", {"reason": "Proportionate.", "confirm": True},
                             format="json"))
    assert (adopted["status"], adopted["compliance"], adopted["decided_by"]) == ("adopted", "pending", "chair")
    complied = _ok(chair.post(f"/api/v1/measures/{measure['id']}/compliance/",
                              {"compliance": "complied", "note": "Confirmed by monitors."}, format="json"))
    assert complied["compliance"] == "complied"

    case = _ok(chair.post(url + "close/", {"summary": "Attributed to RU; sanctions complied.", "confirm": True},
                          format="json"))
    assert case["stage"] == "closed" and case["summary"].startswith("Attributed") and case["closed_at"]
    assert {(d["kind"], d["status"]) for d in case["deadlines"]} == {
        ("verification", "met"), ("vote", "met"), ("measures", "met"), ("compliance", "met")}
    assert [m["status"] for m in case["measures"]] == ["adopted", "rejected"]

    trail = _ok(auditor.get(url + "trail/?page_size=500"))
    actions = [e["action"] for e in trail["results"]]
    assert actions[0] == "report.submitted" and "case.closed" in actions and "round.tallied" in actions
    # Every event so far belongs to this case (the detached report's included).
    assert trail["next"] is None and len(actions) == AuditEvent.objects.count()


def test_the_case_trail_holds_only_the_cases_events_in_chain_order(api, people, case_in):
    mine, other = case_in("attribution"), case_in("verification", title="Another case")
    from audit.services import trail_seal

    trail_seal(blocking=True)
    events = _ok(api(people["chair"]).get(f"/api/v1/cases/{mine.pk}/trail/"))["results"]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and None not in seqs
    assert all(e["hash"] for e in events)
    assert {e["object_id"] for e in events if e["object_type"] == "case"} == {str(mine.pk)}
    assert {"report.submitted", "case.opened", "verification.recorded", "deadline.met"} <= {
        e["action"] for e in events}
    assert other.reference not in str(events)
    assert _ok(api(people["auditor"]).get("/api/v1/cases/999999/trail/"), 404)


def test_a_conflict_recuses_the_member_and_is_declared_once(api, people, case_in):
    case = case_in("attribution")
    url = f"/api/v1/cases/{case.pk}/conflicts/"
    member2 = api(people["member2"])
    first = _ok(member2.post(url, {"reason": "My brother commands the unit."}, format="json"), 201)
    again = _ok(member2.post(url, {"reason": "Said twice."}, format="json"), 200)
    assert first == again and first["member"] == "member2"
    rnd = _ok(api(people["chair"]).post(f"/api/v1/cases/{case.pk}/rounds/", {}, format="json"), 201)
    assert rnd["eligible_count"] == 3  # member1, 3, 4: member5's delegation is a party, member2 declared
    seen = _ok(member2.get(f"/api/v1/rounds/{rnd['id']}/"))
    assert seen["eligible"] is False and "conflict of interest" in seen["recused_reason"]
    seen = _ok(api(people["member5"]).get(f"/api/v1/rounds/{rnd['id']}/"))
    assert seen["eligible"] is False and "party UA" in seen["recused_reason"] and seen["my_ballot"] is None
    seen = _ok(api(people["chair"]).get(f"/api/v1/rounds/{rnd['id']}/"))
    assert seen["eligible"] is False and seen["recused_reason"] is None
    assert _ok(api(people["auditor"]).get(f"/api/v1/cases/{case.pk}/"))["conflicts"][0]["member"] == "member2"


# --- Bad input: 400, a message per field, nothing stored ----------------------------------------


def test_opening_a_case_with_bad_input_says_what_is_wrong_and_stores_nothing(api, people, submitted):
    draft = submitted(people["monitor"], status="draft")
    client = api(people["verifier"])
    events = AuditEvent.objects.count()
    response = client.post("/api/v1/cases/", {"title": "", "reports": []}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"title", "reports"}
    response = client.post("/api/v1/cases/", {"title": "x" * 201, "reports": ["one"]}, format="json")
    assert response.status_code == 400 and set(response.data) == {"title", "reports"}
    response = client.post("/api/v1/cases/", {"title": "Drafts", "reports": [draft.pk, 999999]}, format="json")
    assert response.status_code == 400 and "999999" in str(response.data["reports"])
    response = client.post("/api/v1/cases/", {"title": "Drafts", "reports": [draft.pk]}, format="json")
    assert response.status_code == 400 and "submitted" in str(response.data["reports"])
    assert Case.objects.count() == 0 and CaseReport.objects.count() == 0 and Deadline.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_bad_verification_round_ballot_measure_and_extension_input_is_refused_per_field(api, people, case_in):
    chair = api(people["chair"])
    case = case_in("verification")
    response = api(people["verifier"]).post(f"/api/v1/cases/{case.pk}/verification/",
                                            {"outcome": "probably", "findings": "  "}, format="json")
    assert response.status_code == 400 and set(response.data) == {"outcome", "findings"}
    case.refresh_from_db()
    assert case.stage == "verification" and case.findings == ""

    deadline = case.deadlines.get()
    for body, field in (({"due_at": "2020-01-01T00:00:00Z", "reason": "Late."}, "due_at"),
                        ({"due_at": "tomorrow", "reason": ""}, "due_at"),
                        ({"due_at": (deadline.due_at - timedelta(hours=1)).isoformat(), "reason": "x"}, "due_at")):
        response = chair.post(f"/api/v1/deadlines/{deadline.pk}/extend/", body, format="json")
        assert response.status_code == 400 and field in response.data, response.data
    deadline.refresh_from_db()
    assert deadline.status == "pending"

    case = case_in("attribution")
    for body, fields in (({"quorum": "2"}, {"quorum"}), ({"quorum": "abc", "threshold": "most"}, {"quorum", "threshold"}),
                         ({"closes_at": "2020-01-01T00:00:00Z"}, {"closes_at"})):
        response = chair.post(f"/api/v1/cases/{case.pk}/rounds/", body, format="json")
        assert response.status_code == 400 and set(response.data) == fields, response.data
    assert Round.objects.count() == 0

    rnd = services.round_open(actor=people["chair"], case=case, closes_at=SOON)
    response = api(people["member1"]).post(f"/api/v1/rounds/{rnd.pk}/ballots/", {"choice": "XX", "rationale": "y"},
                                           format="json")
    assert response.status_code == 400 and set(response.data) == {"choice"}
    response = api(people["member1"]).post(f"/api/v1/rounds/{rnd.pk}/ballots/", {"choice": "RU"}, format="json")
    assert response.status_code == 400 and set(response.data) == {"rationale"}
    assert Ballot.objects.count() == 0

    case = case_in("measures")
    response = api(people["member1"]).post(f"/api/v1/cases/{case.pk}/measures/",
                                           {"kind": "bombing", "addressee": "ZZ", "description": ""}, format="json")
    assert response.status_code == 400 and set(response.data) == {"kind", "description"}
    response = api(people["member1"]).post(f"/api/v1/cases/{case.pk}/measures/",
                                           {"kind": "sanctions", "addressee": "ZZ", "description": "d"}, format="json")
    assert response.status_code == 400 and set(response.data) == {"addressee"}
    assert Measure.objects.count() == 0


def test_bad_filters_are_refused(api, people):
    client = api(people["chair"])
    assert client.get("/api/v1/cases/?stage=limbo").status_code == 400
    assert client.get("/api/v1/deadlines/?due_before=soon").status_code == 400
    assert client.get("/api/v1/deadlines/?kind=lunch").status_code == 400
    assert client.get("/api/v1/notifications/?unread=perhaps").status_code == 400


def test_lists_filter(api, people, case_in):
    verification, attribution = case_in("verification"), case_in("attribution", title="Second")
    Case.objects.filter(pk=attribution.pk).update(flagged=True)
    client = api(people["member1"])
    assert [c["id"] for c in _ok(client.get("/api/v1/cases/"))["results"]] == [attribution.pk, verification.pk]
    assert [c["id"] for c in _ok(client.get("/api/v1/cases/?stage=verification"))["results"]] == [verification.pk]
    assert [c["id"] for c in _ok(client.get("/api/v1/cases/?flagged=true"))["results"]] == [attribution.pk]
    assert [c["id"] for c in _ok(client.get("/api/v1/cases/?flagged=false"))["results"]] == [verification.pk]
    deadlines = _ok(client.get(f"/api/v1/deadlines/?case={attribution.pk}"))["results"]
    assert [(d["kind"], d["status"], d["case_reference"]) for d in deadlines] == [
        ("verification", "met", attribution.reference)]
    assert len(_ok(client.get("/api/v1/deadlines/?status=pending&kind=verification"))["results"]) == 1
    later = (timezone.now() + timedelta(days=30)).isoformat().replace("+00:00", "Z")
    assert len(_ok(client.get("/api/v1/deadlines/", {"due_before": later}))["results"]) == 2
    assert _ok(client.get("/api/v1/deadlines/", {"due_before": "2020-01-01T00:00:00Z"}))["results"] == []


def test_notifications_are_listed_and_marked_read(api, people, case_in):
    case = case_in("verification")
    old = Notification.objects.create(recipient=people["chair"], case_id=case.pk, case_reference=case.reference,
                                      kind="deadline_missed",
                                      subject="Missed", key="a")
    new = Notification.objects.create(recipient=people["chair"], kind="deadline_reminder", subject="Soon", key="b")
    Notification.objects.create(recipient=people["member1"], kind="x", subject="Not the chair's", key="c")
    client = api(people["chair"])
    listed = _ok(client.get("/api/v1/notifications/"))["results"]
    assert [n["id"] for n in listed] == [new.pk, old.pk] and listed[1]["case_reference"] == case.reference
    read = _ok(client.post(f"/api/v1/notifications/{old.pk}/read/"))
    assert read["read_at"] is not None
    assert _ok(client.post(f"/api/v1/notifications/{old.pk}/read/"))["read_at"] == read["read_at"]
    assert [n["id"] for n in _ok(client.get("/api/v1/notifications/?unread=true"))["results"]] == [new.pk]
    assert [n["id"] for n in _ok(client.get("/api/v1/notifications/?unread=false"))["results"]] == [old.pk]


# --- 404 and 409 --------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "method", "url"), [
    ("member1", "get", "/api/v1/cases/999999/"),
    ("chair", "get", "/api/v1/rounds/999999/"),
    ("member1", "post", "/api/v1/rounds/999999/ballots/"),
    ("verifier", "post", "/api/v1/cases/999999/verification/"),
    ("chair", "post", "/api/v1/measures/999999/adopt/"),
    ("chair", "post", "/api/v1/measures/999999/compliance/"),
    ("chair", "post", "/api/v1/deadlines/999999/extend/"),
    ("member1", "post", "/api/v1/notifications/999999/read/"),
    ("auditor", "get", "/api/v1/cases/999999/trail/"),
])
def test_unknown_objects_are_not_found(api, people, who, method, url):
    assert getattr(api(people[who]), method)(url, {}, format="json").status_code == 404


def test_detaching_an_unknown_report_is_not_found_and_an_unlinked_one_is_refused(api, people, case_in, submitted):
    case = case_in("verification", reports=2)
    client = api(people["verifier"])
    assert client.post(f"/api/v1/cases/{case.pk}/reports/999999/detach/", {"reason": "x"},
                       format="json").status_code == 404
    stray = submitted(people["monitor"])
    response = client.post(f"/api/v1/cases/{case.pk}/reports/{stray.pk}/detach/", {"reason": "x"}, format="json")
    assert response.status_code == 400 and "report" in response.data


def test_a_ballot_after_the_close_is_a_conflict_and_changes_nothing(api, people, case_in):
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case, closes_at=SOON)
    url = f"/api/v1/rounds/{rnd.pk}/ballots/"
    _ok(api(people["member1"]).post(url, {"choice": "RU", "rationale": "Tracks."}, format="json"), 201)
    Round.objects.filter(pk=rnd.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    assert services.round_close_due(round_id=rnd.pk)
    response = api(people["member2"]).post(url, {"choice": "UA", "rationale": "Late."}, format="json")
    assert response.status_code == 409 and response.data["code"] == "round_closed"
    response = api(people["member1"]).post(url, {"choice": "UA", "rationale": "Changed my mind."}, format="json")
    assert response.status_code == 409
    assert [(b.voter.username, b.content().choice) for b in Ballot.objects.all()] == [("member1", "RU")]
    shown = _ok(api(people["member2"]).get(f"/api/v1/rounds/{rnd.pk}/"))
    assert shown["status"] == "closed" and shown["result"]["outcome"] == "no_quorum"


def test_state_conflicts_are_409(api, people, case_in):
    chair = api(people["chair"])
    case = case_in("attribution")
    again = api(people["verifier"]).post(f"/api/v1/cases/{case.pk}/verification/",
                                         {"outcome": "confirmed", "findings": "Again."}, format="json")
    assert again.status_code == 409
    _ok(chair.post(f"/api/v1/cases/{case.pk}/rounds/", {}, format="json"), 201)
    assert chair.post(f"/api/v1/cases/{case.pk}/rounds/", {}, format="json").status_code == 409
    closing = chair.post(f"/api/v1/cases/{case.pk}/close/", {"summary": "Done.", "confirm": True}, format="json")
    assert closing.status_code == 409 and closing.data["code"] == "round_open"
    linking = api(people["verifier"]).post(f"/api/v1/cases/{case.pk}/reports/", {"reports": [1]}, format="json")
    assert linking.status_code == 409

    measures = case_in("measures", title="Measures")
    measure = services.measure_propose(actor=people["member1"], case=measures, kind="sanctions", addressee="RU",
                                       description="Sanctions.")
    assert chair.post(f"/api/v1/measures/{measure.pk}/compliance/", {"compliance": "complied", "note": "n"},
                      format="json").status_code == 409
    _ok(chair.post(f"/api/v1/measures/{measure.pk}/adopt/", {"reason": "Yes.", "confirm": True}, format="json"))
    assert chair.post(f"/api/v1/measures/{measure.pk}/reject/", {"reason": "No.", "confirm": True}, format="json").status_code == 409


def test_a_report_already_in_a_case_is_a_conflict(api, people, case_in):
    case = case_in("verification")
    report = case.links.get().report
    response = api(people["verifier"]).post("/api/v1/cases/", {"title": "Twice", "reports": [report.pk]},
                                            format="json")
    assert response.status_code == 409 and response.data["code"] == "already_in_case"
    assert Case.objects.count() == 1


def test_an_extension_moves_the_deadline_with_its_reason(api, people, case_in):
    case = case_in("verification")
    deadline = case.deadlines.get()
    due = deadline.due_at + timedelta(days=2)
    shown = _ok(api(people["chair"]).post(f"/api/v1/deadlines/{deadline.pk}/extend/",
                                          {"due_at": due.isoformat(), "reason": "Lab results pending."},
                                          format="json"))
    assert shown["status"] == "extended" and shown["due_at"] == due.isoformat().replace("+00:00", "Z")
    event = AuditEvent.objects.get(action="deadline.extended")
    assert event.reason == "Lab results pending."


# --- Query counts -------------------------------------------------------------------------------


def _queries(client, url) -> int:
    client.get(url)  # the first request of a forced-authentication client also reads the user's roles
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/api/v1/cases/", "/api/v1/deadlines/"])
def test_case_and_deadline_lists_cost_the_same_for_one_item_and_for_many(api, people, case_in, url):
    client = api(people["member1"])
    case_in("verification")
    one = _queries(client, url)
    for n in range(21):
        case_in("verification", title=f"Case {n}")
    many = _queries(client, url)
    assert len(client.get(url).data["results"]) == 22
    assert many == one


def test_the_notification_list_costs_the_same_for_one_item_and_for_many(api, people, case_in):
    client = api(people["chair"])
    case = case_in("verification")
    Notification.objects.create(recipient=people["chair"], case_id=case.pk, case_reference=case.reference, kind="k",
                                subject="s", key="0")
    one = _queries(client, "/api/v1/notifications/")
    for n in range(1, 25):
        Notification.objects.create(recipient=people["chair"], case_id=case.pk if n % 2 else None,
                                    case_reference=case.reference if n % 2 else "", kind="k",
                                    subject="s", key=str(n))
    many = _queries(client, "/api/v1/notifications/")
    assert len(client.get("/api/v1/notifications/").data["results"]) == 25
    assert many == one


def test_every_commission_endpoint_is_in_the_schema_with_its_errors(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    expected = {
        "/api/v1/cases/": {"get", "post"}, "/api/v1/cases/{id}/": {"get"},
        "/api/v1/cases/{id}/reports/": {"post"}, "/api/v1/cases/{id}/reports/{report_id}/detach/": {"post"},
        "/api/v1/cases/{id}/verification/": {"post"}, "/api/v1/cases/{id}/conflicts/": {"post"},
        "/api/v1/cases/{id}/rounds/": {"post"}, "/api/v1/cases/{id}/measures/": {"post"},
        "/api/v1/cases/{id}/close/": {"get", "post"}, "/api/v1/cases/{id}/trail/": {"get"},
        "/api/v1/rounds/{id}/": {"get"}, "/api/v1/rounds/{id}/ballots/": {"post"},
        "/api/v1/measures/{id}/adopt/": {"get", "post"}, "/api/v1/measures/{id}/reject/": {"get", "post"},
        "/api/v1/measures/{id}/compliance/": {"post"}, "/api/v1/deadlines/": {"get"},
        "/api/v1/deadlines/{id}/extend/": {"post"}, "/api/v1/deadlines/{id}/pause/": {"post"},
        "/api/v1/deadlines/{id}/resume/": {"post"}, "/api/v1/notifications/": {"get"},
        "/api/v1/notifications/{id}/read/": {"post"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) >= methods, path
        for method in methods:
            responses = paths[path][method]["responses"]
            assert {"401", "403"} <= set(responses), (path, method)
            if method == "post" and path != "/api/v1/notifications/{id}/read/":
                assert "400" in responses and "requestBody" in paths[path][method], (path, method)
            if "{id}" in path:
                assert "404" in responses, (path, method)
