"""Each person chooses, kind by kind, whether a notification is emailed at
once, in one daily digest, or not at all; it is listed in the app anyway."""

from datetime import timedelta

import pytest
from django.core import mail

from commission import services
from notifications.kinds import KINDS
from notifications.mailer import digests_send, notifications_send
from notifications.models import Notification, NotificationPreference
from notifications.services import notification_preferences_set
from notifications.tasks import send_digests

pytestmark = pytest.mark.django_db


def test_without_a_preference_kinds_to_act_on_are_emailed_at_once_and_the_others_go_to_the_digest():
    assert all(k.email == ("immediate" if k.act else "digest") for k in KINDS.values())


def test_off_means_listed_in_the_app_and_never_emailed(people, case_in):
    notification_preferences_set(actor=people["member1"], email={"round_opened": "off"})
    services.round_open(actor=people["chair"], case=case_in("attribution"))
    mail.outbox.clear()
    notifications_send()
    digests_send()
    assert "member1@example.org" not in [m.to[0] for m in mail.outbox]
    assert Notification.objects.filter(recipient=people["member1"], kind="round_opened").exists()


def test_a_digest_is_one_email_a_day_with_every_item_and_a_second_run_sends_nothing(people, case_in):
    notification_preferences_set(actor=people["member1"], email={"round_opened": "digest"})
    first = case_in("attribution", title="Shelling of Orikhiv")
    second = case_in("attribution", title="Strikes on Huliaipole")
    services.round_open(actor=people["chair"], case=first)
    services.round_open(actor=people["chair"], case=second)
    mail.outbox.clear()
    notifications_send()
    assert "member1@example.org" not in [m.to[0] for m in mail.outbox]  # not at once
    mail.outbox.clear()
    assert send_digests() == 1
    assert send_digests() == 0  # the task run twice: one email
    [digest] = mail.outbox
    assert digest.to == ["member1@example.org"] and "2" in digest.subject
    assert first.reference in digest.body and second.reference in digest.body
    assert not Notification.objects.filter(recipient=people["member1"], emailed_at__isnull=True).exists()


def test_a_digest_is_written_in_the_recipients_language(people, case_in):
    people["member2"].language = "fr"
    people["member2"].save()
    notification_preferences_set(actor=people["member2"], email={"round_opened": "digest"})
    services.round_open(actor=people["chair"], case=case_in("attribution"))
    mail.outbox.clear()
    digests_send()
    [digest] = mail.outbox
    assert digest.subject == "Votre résumé du jour : 1 notification"
    assert "le tour 1 est ouvert" in digest.body


def test_a_digest_claimed_by_a_run_that_died_is_sent_by_the_next_one_after_the_timeout(people, case_in):
    notification_preferences_set(actor=people["member1"], email={"round_opened": "digest"})
    services.round_open(actor=people["chair"], case=case_in("attribution"))
    from django.utils import timezone
    Notification.objects.filter(recipient=people["member1"]).update(email_claimed_at=timezone.now())
    mail.outbox.clear()
    assert digests_send() == 0
    Notification.objects.filter(recipient=people["member1"]).update(
        email_claimed_at=timezone.now() - timedelta(minutes=11))
    assert digests_send() == 1


def test_the_api_lists_every_kind_with_its_mode_and_sets_them(people, api):
    client = api(people["member1"])
    listed = client.get("/api/v1/notifications/preferences/")
    assert listed.status_code == 200
    kinds = {k["kind"]: k for k in listed.json()["kinds"]}
    # The kinds a member may receive, not a monitor's or the chair's.
    assert set(kinds) == {"round_opened", "deadline_reminder", "round_closed", "measure_adopted", "measure_rejected",
                          "case_closed", "comment_reply", "comment_mention"}
    assert kinds["round_closed"]["email"] == "digest" and kinds["round_opened"]["email"] == "immediate"
    changed = client.put("/api/v1/notifications/preferences/",
                         {"language": "uk", "email": {"round_closed": "off", "round_opened": "digest"}}, format="json")
    assert changed.status_code == 200
    kinds = {k["kind"]: k["email"] for k in changed.json()["kinds"]}
    assert (kinds["round_closed"], kinds["round_opened"], kinds["case_closed"]) == ("off", "digest", "digest")
    people["member1"].refresh_from_db()
    assert people["member1"].language == "uk" and changed.json()["language"] == "uk"


@pytest.mark.parametrize("body", [{"email": {"no_such_kind": "off"}}, {"email": {"round_closed": "weekly"}},
                                  {"language": "de"}])
def test_the_api_refuses_an_unknown_kind_mode_or_language_and_changes_nothing(people, api, body):
    answer = api(people["member1"]).put("/api/v1/notifications/preferences/",
                                        {**body, "email": {**body.get("email", {}), "case_closed": "off"}},
                                        format="json")
    assert answer.status_code == 400
    assert not NotificationPreference.objects.exists()
    people["member1"].refresh_from_db()
    assert people["member1"].language == ""


def test_the_preferences_page_saves_the_language_and_the_modes(people, client):
    client.force_login(people["chair"])
    page = client.get("/account/notifications/")
    assert page.status_code == 200 and 'name="email-measure_proposed"' in page.content.decode()
    saved = client.post("/account/notifications/", {"language": "fr", "email-measure_proposed": "digest"})
    assert saved.status_code == 302
    people["chair"].refresh_from_db()
    assert people["chair"].language == "fr"
    assert NotificationPreference.objects.get(user=people["chair"], kind="measure_proposed").email == "digest"


def test_preferences_need_a_sign_in_and_are_only_ever_ones_own(people, api):
    assert api().get("/api/v1/notifications/preferences/").status_code == 401
    assert api().put("/api/v1/notifications/preferences/", {"language": "fr"}, format="json").status_code == 401
    # The auditor (who acts on nothing) sets their own, and the member's stay as they were.
    auditor = api(people["auditor"])
    kinds = {k["kind"] for k in auditor.get("/api/v1/notifications/preferences/").json()["kinds"]}
    assert "comment_mention" in kinds and not {"round_opened", "reply_requested"} & kinds
    assert auditor.put("/api/v1/notifications/preferences/", {"language": "uk", "email": {"comment_mention": "off"}},
                       format="json").status_code == 200
    people["auditor"].refresh_from_db()
    people["member1"].refresh_from_db()
    assert people["auditor"].language == "uk" and people["member1"].language == ""
