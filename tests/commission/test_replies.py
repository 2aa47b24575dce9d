"""The right of reply (issue 13, item 1): the parties named in a case's
reports are called to reply when it enters attribution; each replies once,
with files, within DEADLINE_REPLY; the round waits for the window unless
the chair overrides it with a reason; representatives see only their own
cases, and only the procedure's part of them."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction
from django.utils import timezone

from accounts.services import user_authority_set
from audit.models import AuditEvent
from commission import services
from commission.models import Deadline, DeadlineKind, Reply, ReplyEvidence, ReplyNotice
from notifications.kinds import render
from notifications.models import Notification
from tests.reports.conftest import PDF_BYTES, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def reply(client, case, text="Our forces were not in range of Huliaipole that day.", files=()):
    return client.post(f"/api/v1/cases/{case.pk}/replies/", {"text": text, "files": list(files)},
                       format="multipart")


def png(name="map.png"):
    return SimpleUploadedFile(name, png_bytes(4, 4), content_type="image/png")


def window(case) -> Deadline:
    return Deadline.objects.get(case=case, kind=DeadlineKind.REPLY)


# --- The window ------------------------------------------------------------------


def test_entering_attribution_calls_the_named_party_to_reply_within_deadline_reply(
        people, representatives, case_naming, settings):
    settings.DEADLINE_REPLY = timedelta(hours=72)
    before = timezone.now()
    case = case_naming("RU")
    assert list(ReplyNotice.objects.filter(case=case).values_list("party__code", flat=True)) == ["RU"]
    due = window(case).due_at
    assert before + timedelta(hours=72) <= due <= timezone.now() + timedelta(hours=72)
    event = AuditEvent.objects.get(action="case.reply_window_opened", object_id=str(case.pk))
    assert event.after["called"] == ["RU"] and event.after["notified"] == ["rep_ru"]
    assert Notification.objects.filter(recipient=representatives["RU"], kind="reply_requested",
                                       case_id=case.pk).exists()
    # UA is not named: its representative is not told.
    assert not Notification.objects.filter(recipient=representatives["UA"]).exists()


def test_the_representative_learns_the_case_from_their_notifications_in_the_api(api, representatives, case_naming):
    case = case_naming("RU")
    listed = api(representatives["RU"]).get("/api/v1/notifications/").json()
    notes = listed["results"] if isinstance(listed, dict) else listed
    assert [(n["kind"], n["case"]) for n in notes] == [("reply_requested", case.pk)]


def test_a_named_party_without_a_representative_is_not_called_and_holds_no_round_back(
        api, people, case_naming):
    case = case_naming("RU")
    assert not Deadline.objects.filter(case=case, kind=DeadlineKind.REPLY).exists()
    assert AuditEvent.objects.get(action="case.reply_window_skipped").after == {"named": ["RU"], "called": []}
    assert api(people["chair"]).post(f"/api/v1/cases/{case.pk}/rounds/", {}, format="json").status_code == 201


def test_a_round_is_refused_during_the_reply_window(api, people, representatives, case_naming):
    case = case_naming("RU", "UA")
    response = api(people["chair"]).post(f"/api/v1/cases/{case.pk}/rounds/", {}, format="json")
    assert response.status_code == 409, response.json()
    assert "RU, UA" in json.dumps(response.json())
    assert not case.rounds.exists()
    assert not AuditEvent.objects.filter(action="round.opened").exists()


def test_the_chair_overrides_the_window_with_a_reason_the_trail_records(api, people, representatives, case_naming):
    case = case_naming("RU", "UA")
    assert reply(api(representatives["UA"]), case).status_code == 201
    response = api(people["chair"]).post(f"/api/v1/cases/{case.pk}/rounds/",
                                         {"override_reason": "Renewed shelling: the council cannot wait."},
                                         format="json")
    assert response.status_code == 201, response.json()
    event = AuditEvent.objects.get(action="round.opened")
    assert event.reason == "Renewed shelling: the council cannot wait."
    assert event.after["reply_window_overridden"] == {"unheard": ["RU"]}
    # It is in the case's own trail, where the auditor reads it.
    trail = api(people["auditor"]).get(f"/api/v1/cases/{case.pk}/trail/").json()["results"]
    assert any(e["action"] == "round.opened" and e["reason"] == event.reason for e in trail)


def test_a_blank_override_reason_does_not_override(api, people, representatives, case_naming):
    case = case_naming("RU")
    response = api(people["chair"]).post(f"/api/v1/cases/{case.pk}/rounds/", {"override_reason": "   "},
                                         format="json")
    assert response.status_code == 409


def test_a_reason_is_not_recorded_as_an_override_when_nothing_was_held_back(api, people, case_naming):
    case = case_naming("RU")  # nobody represents RU: no window
    api(people["chair"]).post(f"/api/v1/cases/{case.pk}/rounds/", {"override_reason": "just in case"}, format="json")
    event = AuditEvent.objects.get(action="round.opened")
    assert "reply_window_overridden" not in event.after and event.reason == ""


def test_the_round_may_open_once_every_called_party_has_replied(api, people, representatives, case_naming):
    case = case_naming("RU", "UA")
    assert reply(api(representatives["RU"]), case).status_code == 201
    assert api(people["chair"]).post(f"/api/v1/cases/{case.pk}/rounds/", {}, format="json").status_code == 409
    assert reply(api(representatives["UA"]), case).status_code == 201
    assert window(case).status == "met"  # closed early: everyone was heard
    assert Notification.objects.filter(recipient=people["chair"], kind="replies_complete").exists()
    assert api(people["chair"]).post(f"/api/v1/cases/{case.pk}/rounds/", {}, format="json").status_code == 201


def test_the_round_may_open_once_the_window_has_ended_and_the_sweep_records_who_did_not_reply(
        api, people, representatives, case_naming):
    case = case_naming("RU")
    later = window(case).due_at + timedelta(seconds=1)
    assert services.deadlines_sweep(now=later).fired == 1
    assert window(case).status == "missed"
    case.refresh_from_db()
    assert not case.flagged  # a party's silence is its choice, not the commission's delay
    note = Notification.objects.get(recipient=people["chair"], kind="reply_window_ended")
    assert "RU" in render(note)[1]
    assert api(people["chair"]).post(f"/api/v1/cases/{case.pk}/rounds/", {}, format="json").status_code == 201


def test_a_window_past_its_due_time_holds_nothing_back_even_before_the_sweep(
        api, people, representatives, case_naming):
    case = case_naming("RU")
    Deadline.objects.filter(pk=window(case).pk).update(due_at=timezone.now() - timedelta(seconds=1))
    assert api(people["chair"]).post(f"/api/v1/cases/{case.pk}/rounds/", {}, format="json").status_code == 201


def test_a_paused_reply_window_keeps_the_round_waiting_and_takes_the_reply(
        api, people, representatives, case_naming):
    # Paused, the window's clock stops; the procedure does not: even past its
    # old due time the round still waits and the party may still reply.
    case = case_naming("RU")
    deadline = window(case)
    paused = api(people["chair"]).post(f"/api/v1/deadlines/{deadline.pk}/pause/",
                                       {"reason": "RU's liaison office is cut off."}, format="json")
    assert paused.status_code == 200, paused.json()
    Deadline.objects.filter(pk=deadline.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    assert api(people["chair"]).post(f"/api/v1/cases/{case.pk}/rounds/", {}, format="json").status_code == 409
    assert reply(api(representatives["RU"]), case).status_code == 201
    assert api(people["chair"]).post(f"/api/v1/cases/{case.pk}/rounds/", {}, format="json").status_code == 201


def test_the_chair_extends_the_reply_window_with_a_reason(api, people, representatives, case_naming):
    case = case_naming("RU")
    deadline = window(case)
    new_due = deadline.due_at + timedelta(days=2)
    response = api(people["chair"]).post(f"/api/v1/deadlines/{deadline.pk}/extend/",
                                         {"due_at": new_due.isoformat(), "reason": "RU asked for translation time."},
                                         format="json")
    assert response.status_code == 200, response.json()
    assert window(case).due_at == new_due
    event = AuditEvent.objects.get(action="deadline.extended")
    assert event.reason == "RU asked for translation time." and event.after["kind"] == "reply"


def test_the_reply_window_reminds_the_representatives_who_have_not_replied(people, representatives, case_naming,
                                                                         settings):
    case = case_naming("RU", "UA")
    api_rep = services.reply_submit(actor=representatives["UA"], case=case, text="We were not there.")
    assert api_rep.party.code == "UA"
    soon = window(case).due_at - settings.DEADLINE_REMINDER_BEFORE + timedelta(minutes=1)
    assert services.deadlines_sweep(now=soon).reminded == 1
    event = AuditEvent.objects.get(action="deadline.reminded")
    assert event.after["recipients"] == ["rep_ru"]


# --- Replies ---------------------------------------------------------------------


def test_a_reply_with_files_is_stored_by_hash_and_audited(api, people, representatives, case_naming, media):
    case = case_naming("RU")
    response = reply(api(representatives["RU"]), case, files=[png(), SimpleUploadedFile("a.pdf", PDF_BYTES)])
    assert response.status_code == 201, response.json()
    stored = Reply.objects.get(case=case)
    assert stored.party.code == "RU" and stored.author == representatives["RU"]
    digest = hashlib.sha256(PDF_BYTES).hexdigest()
    pdf = ReplyEvidence.objects.get(reply=stored, content_type="application/pdf")
    assert pdf.sha256 == digest and pdf.file.name == f"replies/{digest[:2]}/{digest}"
    assert (media / pdf.file.name).read_bytes() == PDF_BYTES
    event = AuditEvent.objects.get(action="case.reply_submitted")
    assert event.actor_username == "rep_ru" and event.object_id == str(case.pk)
    assert event.after["party"] == "RU" and digest in [e["sha256"] for e in event.after["evidence"]]
    body = response.json()
    assert body["replies"][0]["text"] == stored.text and len(body["replies"][0]["evidence"]) == 2
    assert body["can_reply"] is False


def test_the_database_refuses_to_change_or_delete_a_reply_or_its_files(api, representatives, case_naming, media):
    case = case_naming("RU")
    assert reply(api(representatives["RU"]), case, files=[png()]).status_code == 201
    stored = Reply.objects.get(case=case)
    for change in (lambda: Reply.objects.filter(pk=stored.pk).update(text="We were never there."),
                   lambda: ReplyEvidence.objects.filter(reply=stored).update(sha256="0" * 64),
                   lambda: ReplyEvidence.objects.filter(reply=stored).delete()):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    stored.refresh_from_db()
    assert stored.text.startswith("Our forces") and stored.evidence.count() == 1


def test_a_party_replies_only_once(api, representatives, case_naming, people, parties):
    case = case_naming("RU")
    assert reply(api(representatives["RU"]), case).status_code == 201
    # A second representative of the same party is refused as well.
    from accounts.roles import PARTY_REPRESENTATIVE
    from accounts.services import user_create

    second = user_create(actor=None, username="rep_ru2", password="x", roles=[PARTY_REPRESENTATIVE],
                         represents=parties["RU"])
    for who in (representatives["RU"], second):
        response = reply(api(who), case, text="Another try.")
        assert response.status_code == 409
    assert Reply.objects.filter(case=case).count() == 1


def test_a_reply_after_the_window_is_refused(api, representatives, case_naming):
    case = case_naming("RU")
    Deadline.objects.filter(pk=window(case).pk).update(due_at=timezone.now() - timedelta(seconds=1))
    assert reply(api(representatives["RU"]), case).status_code == 409
    assert not Reply.objects.exists()


def test_a_reply_with_a_file_of_the_wrong_kind_stores_nothing(api, representatives, case_naming, media):
    case = case_naming("RU")
    response = reply(api(representatives["RU"]), case,
                     files=[png(), SimpleUploadedFile("x.html", b"<html><script></script></html>")])
    assert response.status_code == 400
    assert not Reply.objects.exists() and not ReplyEvidence.objects.exists()
    assert not AuditEvent.objects.filter(action="case.reply_submitted").exists()
    assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]


def test_a_reply_needs_text(api, representatives, case_naming):
    case = case_naming("RU")
    assert reply(api(representatives["RU"]), case, text="").status_code == 400


def test_members_see_every_reply_before_voting(api, people, representatives, case_naming):
    case = case_naming("RU", "UA")
    reply(api(representatives["RU"]), case, text="RU: not our battery.")
    reply(api(representatives["UA"]), case, text="UA: not our battery either.")
    for who in ("member1", "chair", "verifier", "auditor"):
        body = api(people[who]).get(f"/api/v1/cases/{case.pk}/replies/").json()
        assert sorted(r["text"] for r in body["replies"]) == ["RU: not our battery.", "UA: not our battery either."]
        assert all(p["replied"] for p in body["parties"])


def test_members_download_a_reply_file_and_the_read_is_recorded(api, people, representatives, case_naming):
    case = case_naming("RU")
    reply(api(representatives["RU"]), case, files=[png()])
    evidence = ReplyEvidence.objects.get()
    response = api(people["member2"]).get(f"/api/v1/cases/{case.pk}/replies/evidence/{evidence.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes(4, 4)
    assert AuditEvent.objects.get(action="reply_evidence.downloaded").actor_username == "member2"


def test_only_representatives_reply(api, people, representatives, case_naming):
    case = case_naming("RU")
    assert reply(api(people["member1"]), case).status_code == 403
    assert reply(api(people["chair"]), case).status_code == 403


# --- What a representative sees ----------------------------------------------------


def test_a_representative_is_refused_a_case_that_does_not_name_their_party(api, people, representatives,
                                                                         case_naming):
    case = case_naming("RU")
    ua = api(representatives["UA"])
    assert ua.get(f"/api/v1/cases/{case.pk}/replies/").status_code == 404
    assert reply(ua, case).status_code == 404
    # As for a case that does not exist: nothing tells the two apart.
    assert ua.get("/api/v1/cases/999999/replies/").status_code == 404


def test_a_representative_is_refused_the_case_file_the_trail_and_the_rounds(api, people, representatives,
                                                                          case_naming):
    case = case_naming("RU")
    rep = api(representatives["RU"])
    assert rep.get(f"/api/v1/cases/{case.pk}/").status_code == 403
    assert rep.get("/api/v1/cases/").status_code == 403
    assert rep.get(f"/api/v1/cases/{case.pk}/trail/").status_code == 403
    assert rep.get("/api/v1/audit/events/").status_code == 403
    assert rep.get("/api/v1/deadlines/").status_code == 403
    assert rep.post(f"/api/v1/cases/{case.pk}/conflicts/", {"reason": "x"}, format="json").status_code == 403
    rnd = services.round_open(actor=people["chair"], case=case, override_reason="Test of the rule.")
    assert rep.get(f"/api/v1/rounds/{rnd.pk}/").status_code == 403
    assert rep.post(f"/api/v1/rounds/{rnd.pk}/ballots/", {"choice": "UA", "rationale": "x"},
                    format="json").status_code == 403
    assert not representatives["RU"].has_perm("audit.view_auditevent")


def test_a_representative_sees_the_findings_and_facts_but_no_monitor_or_verifier(api, people, representatives,
                                                                               case_naming):
    case = case_naming("RU", "UA")
    reply(api(representatives["UA"]), case, text="UA: our reply.")
    response = api(representatives["RU"]).get(f"/api/v1/cases/{case.pk}/replies/")
    assert response.status_code == 200
    body = response.json()
    assert body["case"]["findings"] == "Craters and fragments match 152 mm rounds."
    assert len(body["case"]["reports"]) == 2 and body["case"]["reports"][0]["description"]
    assert body["can_reply"] is True
    text = json.dumps(body)
    for name in ("monitor1", "verifier1", "chair", "member1"):
        assert name not in text
    # The other party's reply is not theirs to read.
    assert body["replies"] == [] and "UA: our reply." not in text


def test_a_representative_sees_no_case_still_in_verification(api, representatives, case_naming):
    case = case_naming("RU", stage="verification")
    assert api(representatives["RU"]).get(f"/api/v1/cases/{case.pk}/replies/").status_code == 404


def test_who_represents_which_party_is_an_audited_change_of_authority(people, parties):
    from accounts.roles import PARTY_REPRESENTATIVE
    from accounts.services import user_create

    rep = user_create(actor=people["chair"], username="rep_x", password=None, roles=[PARTY_REPRESENTATIVE],
                      represents=parties["RU"])
    created = AuditEvent.objects.get(action="user.created", after__username="rep_x")
    assert created.after["represents"] == "RU" and created.after["roles"] == ["party_representative"]
    user_authority_set(actor=people["chair"], user=rep, represents=parties["UA"],
                       reason="Reassigned by the secretariat.")
    event = AuditEvent.objects.get(action="user.represents_changed")
    assert event.before["represents"] == "RU" and event.after["represents"] == "UA"
    assert event.reason == "Reassigned by the secretariat."
    rep.refresh_from_db()
    assert rep.represents.code == "UA"


def test_a_reply_of_text_alone_may_be_sent_as_json(api, representatives, case_naming):
    case = case_naming("RU")
    response = api(representatives["RU"]).post(f"/api/v1/cases/{case.pk}/replies/",
                                                {"text": "RU disputes the findings."}, format="json")
    assert response.status_code == 201, response.json()
    assert Reply.objects.get(case=case).text == "RU disputes the findings."
    assert response.json()["window"]["open"] is False and response.json()["window"]["closed_at"]


@pytest.mark.parametrize("state", ["waiting", "replied", "no window"])
def test_the_hearing_is_the_same_from_what_the_case_page_has_read_already(api, people, representatives,
                                                                          case_naming, state):
    from commission import selectors

    case = case_naming("RU", "UA", stage="verification" if state == "no window" else "attribution")
    if state == "replied":
        assert reply(api(representatives["RU"]), case).status_code == 201
    for user in (people["member1"], people["chair"], representatives["RU"]):
        read = selectors.hearing(case, user)
        reports = list(selectors.case_reports(case))
        window = selectors.reply_window_among(list(selectors.case_deadlines(case)))
        assert (window is None) == (state == "no window")
        assert selectors.hearing(case, user, reports=reports, window=window) == read
