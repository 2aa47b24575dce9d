"""Ballots are sealed until the round closes: nobody, the chair included,
sees another member's choice or a running count. With an open round where
three members voted distinct choices (one changed their ballot), every
response an open round can produce is searched for what only the others
know: their rationales and salts (distinctive strings), any "choice" that is
not the viewer's own, and any count. After the close, the result and the
counts appear."""

import contextlib
import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from audit.services import trail_export
from commission import services
from commission.models import Ballot, Case, CaseReport, ConflictDeclaration, Deadline, Round, RoundVoter
from notifications.models import Notification

pytestmark = pytest.mark.django_db

VOTES = {  # member -> (choice, rationale); member1 changes from the first to the second
    "member1": [("abstain", "Zq-old-rationale-of-member1"), ("RU", "Zq-alpha-rationale-of-member1")],
    "member2": [("UA", "Zq-bravo-rationale-of-member2")],
    "member3": [("undetermined", "Zq-charlie-rationale-of-member3")],
}
PERSONAS = ["monitor", "verifier", "chair", "member1", "member2", "member3", "member4", "member5", "auditor",
            "outsider", None]


@pytest.fixture
def open_round(people, case_in, api):
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case, closes_at=timezone.now() + timedelta(days=3))
    posts = {}
    for who, ballots in VOTES.items():
        for choice, rationale in ballots:
            response = api(people[who]).post(f"/api/v1/rounds/{rnd.pk}/ballots/",
                                             {"choice": choice, "rationale": rationale}, format="json")
            assert response.status_code in (200, 201)
            posts.setdefault(who, []).append(response)
    # A reminder for member4, who has not voted: notifications exist while the round is open.
    deadline = Deadline.objects.get(round=rnd)
    assert services.deadline_remind(deadline_id=deadline.pk, now=deadline.due_at - timedelta(minutes=1))
    rnd.refresh_from_db()
    assert rnd.status == "open"
    return case, rnd, posts


def _secrets(rnd, *, except_voter=None) -> list[str]:
    """Rationales and salts of every ballot not cast by except_voter."""
    found = []
    for ballot in Ballot.objects.filter(round=rnd).exclude(voter=except_voter).select_related("voter"):
        opened = ballot.content()
        found += [opened.rationale, opened.salt]
    assert found
    return found


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _walk(obj, path=()):
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield path + (key,), value
            yield from _walk(value, path + (key,))
    elif isinstance(obj, list):
        for item in obj:
            yield from _walk(item, path)


def _assert_sealed(text: str, *, viewer, rnd, where: str):
    # The viewer's own choices, the one a change replaced included (an earlier response showed it).
    own = {b.content().choice for b in Ballot.objects.filter(round=rnd, voter=viewer)} if viewer else set()
    for secret in _secrets(rnd, except_voter=viewer):
        assert secret not in text, f"{where}: {secret!r} shown to {viewer}"
    documents = []
    for line in text.splitlines() or [text]:
        with contextlib.suppress(ValueError):  # HTML pages are searched as text only
            documents.append(json.loads(line))
    for document in documents:
        for path, value in _walk(document):
            key = path[-1]
            if key == "choice":
                assert path[-2:] == ("my_ballot", "choice") and value in own, (where, path)
            if key == "counts":
                assert not value, (where, path, value)
            if key == "result" and "rounds" in path or path == ("result",):
                assert value is None, (where, path, value)


def _responses(api, people, case, rnd):
    """(viewer, label, response) for every API read an open round touches."""
    urls = [f"/api/v1/rounds/{rnd.pk}/", f"/api/v1/cases/{case.pk}/", "/api/v1/cases/", "/api/v1/deadlines/",
            "/api/v1/notifications/", f"/api/v1/cases/{case.pk}/trail/?page_size=500",
            "/api/v1/audit/events/?page_size=500", f"/api/v1/audit/events/?case={case.reference}&page_size=500",
            "/api/v1/audit/export/", f"/api/v1/audit/export/?case={case.reference}"]
    for who in PERSONAS:
        viewer = people[who] if who else None
        client = api(viewer)
        for url in urls:
            yield viewer, f"GET {url} as {who}", client.get(url)


def test_no_response_reveals_another_members_choice_or_a_count_while_the_round_is_open(api, people, open_round):
    case, rnd, posts = open_round
    seen_ok = 0
    for viewer, label, response in _responses(api, people, case, rnd):
        seen_ok += response.status_code == 200
        _assert_sealed(_body(response), viewer=viewer, rnd=rnd, where=label)
    # The readers did read (not a page of 403s): 8 readers x 5 commission reads, the chair and the
    # auditor x 5 trail reads, and the monitor's notifications.
    assert seen_ok == 8 * 5 + 2 * 5 + 1
    for who, responses in posts.items():
        for response in responses:
            _assert_sealed(_body(response), viewer=people[who], rnd=rnd, where=f"POST ballot of {who}")


def test_a_voter_sees_their_own_ballot_and_only_turnout(api, people, open_round):
    _case, rnd, _posts = open_round
    shown = api(people["member2"]).get(f"/api/v1/rounds/{rnd.pk}/").data
    assert shown["my_ballot"]["choice"] == "UA" and shown["my_ballot"]["rationale"] == VOTES["member2"][0][1]
    assert (shown["status"], shown["ballots_cast"], shown["eligible_count"], shown["result"]) == ("open", 3, 4, None)
    assert api(people["member4"]).get(f"/api/v1/rounds/{rnd.pk}/").data["my_ballot"] is None
    assert api(people["chair"]).get(f"/api/v1/rounds/{rnd.pk}/").data["my_ballot"] is None


def test_the_exports_hold_commitments_only_while_the_round_is_open(people, open_round):
    case, rnd, _posts = open_round
    texts = {"trail_export": "".join(trail_export()),
             "trail_export case": "".join(trail_export(case_reference=case.reference))}
    for args in ((), ("--case", case.reference)):
        out = io.StringIO()
        call_command("export_audit", *args, stdout=out)
        texts[f"export_audit {args}"] = out.getvalue()
    for where, text in texts.items():
        assert Ballot.objects.get(round=rnd, voter=people["member2"]).commitment in text, where
        _assert_sealed(text, viewer=None, rnd=rnd, where=where)


def _admin_pages(client, rnd, case):
    models = {"case": Case, "casereport": CaseReport, "conflictdeclaration": ConflictDeclaration, "round": Round,
              "roundvoter": RoundVoter, "ballot": Ballot, "deadline": Deadline, "notifications/notification": Notification}
    for name, model in models.items():
        path = name if "/" in name else f"commission/{name}"
        yield f"/admin/{path}/", client.get(f"/admin/{path}/")
        for pk in model.objects.values_list("pk", flat=True):
            url = f"/admin/{path}/{pk}/change/"
            yield url, client.get(url)
    yield "/admin/commission/ballot/?q=Zq", client.get("/admin/commission/ballot/?q=Zq")


def test_the_admin_shows_staff_no_open_ballot(client, people, open_round):
    case, rnd, _posts = open_round
    client.force_login(User.objects.create_superuser("staff", "staff@example.org", "pw"))
    for url, response in _admin_pages(client, rnd, case):
        assert response.status_code == 200, url
        text = response.content.decode()
        _assert_sealed(text, viewer=None, rnd=rnd, where=url)
        assert "field-choice" not in text and "field-rationale" not in text and "field-salt" not in text, url
        assert "undetermined" not in text and "abstain" not in text, url
    # The admin filters any local field from the query string; a filter on a
    # choice would reveal it by the number of rows it leaves.
    for lookup in ("sealed__startswith=g", "sealed__contains=A", "sealed=x"):
        assert client.get(f"/admin/commission/ballot/?{lookup}").status_code == 400, lookup


def test_after_the_close_the_result_counts_and_ballots_appear(api, client, people, open_round):
    case, rnd, _posts = open_round
    response = api(people["member4"]).post(f"/api/v1/rounds/{rnd.pk}/ballots/",
                                           {"choice": "RU", "rationale": "Zq-delta-rationale-of-member4"},
                                           format="json")
    assert response.status_code == 201 and response.data["status"] == "closed"
    counts = {"RU": 2, "UA": 1, "undetermined": 1}
    assert response.data["result"]["counts"] == counts
    for who in ("member2", "chair", "auditor", "verifier"):
        shown = api(people[who]).get(f"/api/v1/rounds/{rnd.pk}/").data
        assert shown["status"] == "closed" and shown["result"]["counts"] == counts
        assert shown["result"]["outcome"] == response.data["result"]["outcome"] != ""
    detail = api(people["member3"]).get(f"/api/v1/cases/{case.pk}/").data
    assert detail["rounds"][0]["result"]["counts"] == counts
    trail = api(people["auditor"]).get(f"/api/v1/cases/{case.pk}/trail/?page_size=500")
    text = _body(trail)
    for _choice, rationale in VOTES["member1"] + VOTES["member2"]:
        assert rationale in text  # the tally reveals every ballot, superseded ones included
    # The admin shows no sealed content even after the close: the trail's tally event is where ballots are read.
    client.force_login(User.objects.create_superuser("staff", "staff@example.org", "pw"))
    ballot = Ballot.objects.get(round=rnd, voter=people["member2"])
    page = client.get(f"/admin/commission/ballot/{ballot.pk}/change/").content.decode()
    assert "field-sealed" not in page and VOTES["member2"][0][1] not in page
