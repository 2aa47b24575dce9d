"""The commission's working day in a real browser (issue 12, "What must be
shown"), one role after another on one case:

- the chair finds the verified case on their home and opens a round from it;
- the members are told: in-app, and by email in their own language (member1
  chose French on their settings page); on a French page the same
  notification reads French, and it leads to the case;
- they discuss the case while the round is open (no ballot shows), then vote;
  the recused member is not asked to;
- the last ballot closes the round early; the case page names the party and
  shows every rationale;
- a member proposes a measure, the chair adopts it after confirming, and closes
  the case after confirming;
- the chair downloads the decision record's PDF, an auditor exports the case's
  trail, and docs/verify_trail.py reports on that export the very head hash the
  PDF prints.

New states are saved as screenshots at 1280 and 360 px; pages that matter on a
phone are checked not to be wider than 360 px."""

import io
import re
from pathlib import Path

import pytest
from django.core import mail
from pypdf import PdfReader

from commission import selectors
from commission.models import Case, Comment
from notifications.mailer import notifications_send
from notifications.models import Notification
from tests.audit.helpers import PUBLIC_KEY, SIGNING_KEY, run_script
from tests.web.browser import Session, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]

VOTERS = ("member1", "member2", "member3", "member4")  # member5 (UA's delegation) is recused
RATIONALES = {
    "member1": "The radar log puts the launch north-east of the town.",
    "member2": "152 mm fragments, and the crater axis points east.",
    "member3": "The verifier's findings and the trajectory agree.",
    "member4": "Not enough for me to name a party.",
}


def fits_a_phone(s: Session) -> bool:
    s.page.set_viewport_size({"width": 360, "height": 740})
    width = s.page.evaluate("document.documentElement.scrollWidth")
    s.page.set_viewport_size({"width": 1280, "height": 800})
    return width <= 360


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_commissions_working_day(settings, people, case_in, session, tmp_path):
    # Checkpoints are signed, so that the record names one covering its head
    # and the export ends with one the script checks.
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    case = case_in("attribution", title="Shelling of Orikhiv, northern outskirts")
    case_path = f"/cases/{case.pk}/"
    mail.outbox.clear()

    # member1 chooses to read the commission's emails in French.
    m1 = session("member1")
    page = m1.go("/account/notifications/")
    page.get_by_label("Language of your emails").select_option("fr")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/account/notifications/")
    assert "Your notification settings were saved." in page.inner_text("main")

    # --- The chair: the verified case is on their home; they open a round from it.
    chair = session("chair")
    page = chair.page  # signed in: on the home page
    # The chair's home lists the verified cases waiting for a round.
    link = page.locator("section[aria-labelledby=h-round]").get_by_role("link", name=case.reference)
    assert link.count() == 1, "the chair's home does not list the verified case waiting for a round"
    assert fits_a_phone(chair)
    chair.shoot("home-chair-waiting-round")
    link.click()
    page.wait_for_url(f"**{case_path}")
    page.get_by_role("button", name="Open the round").click()
    page.wait_for_url(f"**{case_path}#h-attribution")
    assert page.get_by_text("0 of 4 eligible members have voted.").is_visible()

    # --- The members are told: in-app, and by email in their language.
    # A round opened notifies its voters (not the recused member), in the app
    # and by email (at once, the default for a kind that asks to act), each
    # email in its reader's language.
    told = set(Notification.objects.filter(case_id=case.pk, kind="round_opened")
               .values_list("recipient__username", flat=True))
    assert told == set(VOTERS), f"round_opened told {sorted(told)}"
    notifications_send()  # the mailer's run, as the worker does once the round commits
    emails = {m.to[0]: m for m in mail.outbox}
    assert set(emails) == {f"{u}@example.org" for u in VOTERS}, sorted(emails)
    french = emails["member1@example.org"]
    assert french.subject.startswith(f"{case.reference} : le tour 1 est ouvert"), french.subject
    assert "Shelling of Orikhiv, northern outskirts" in french.body and "bulletin" in french.body
    english = emails["member2@example.org"]
    assert english.subject.startswith(f"{case.reference}: round 1 is open"), english.subject

    page = m1.go("/")
    assert f"{case.reference}: round 1 is open" in page.inner_text("main")
    # Switched to French, the page shows the same notification in French: its
    # words are rendered when read, not stored in English.
    page.locator("#lang-select").select_option("fr")
    page.locator("form.lang-form button").click()
    page.wait_for_selector("html[lang=fr]")
    assert f"{case.reference} : le tour 1 est ouvert" in page.inner_text("main")
    assert fits_a_phone(m1)
    m1.shoot("home-member-round-opened-fr")
    page.locator("#lang-select").select_option("en")
    page.locator("form.lang-form button").click()
    page.wait_for_selector("html[lang=en]")
    # The notification leads to the case.
    page.get_by_role("link", name=re.compile(f"{case.reference}: round 1 is open")).click()
    page.wait_for_url(f"**{case_path}")

    # The recused member is not asked to vote: not on their home, and the case says why.
    m5 = session("member5")
    assert m5.page.locator("#h-vote").count() == 0
    page = m5.go(case_path)
    assert "cannot vote" in page.get_by_test_id("recusal").inner_text()
    assert page.get_by_role("button", name="Cast the sealed ballot").count() == 0

    # --- The members discuss while the round is open; member3 has already voted.
    m3 = session("member3")
    page = m3.go(case_path)
    page.get_by_label("RU · Russian Federation").check()
    page.get_by_label("Rationale").fill(RATIONALES["member3"])
    page.get_by_role("button", name="Cast the sealed ballot").click()
    page.wait_for_url(f"**{case_path}#h-attribution")

    page = m1.go(case_path)
    page.get_by_label("Your comment").fill("The radar log puts the launch at 04:10, north-east of the town. "
                                           "@member2, do the fragments match?")
    page.get_by_role("button", name="Post the comment").click()
    page.wait_for_url(f"**{case_path}#h-discussion")

    m2 = session("member2")
    page = m2.go(case_path)
    page.get_by_test_id("reply-link").first.click()
    page.get_by_label("Your comment").fill("They do: 152 mm, and the crater axis points the same way.")
    page.get_by_role("button", name="Post the comment").click()
    page.wait_for_url(f"**{case_path}#h-discussion")
    assert Comment.objects.get(author=people["member2"]).parent.author == people["member1"]
    discussion = page.get_by_test_id("discussion").inner_text()
    assert "in reply to member1" in discussion
    # The discussion shows no ballot: member3's sealed rationale is nowhere on the page.
    assert RATIONALES["member3"] not in page.content()

    # --- The others vote; the last ballot closes the round early.
    for username, s, choice in (("member1", m1, "RU · Russian Federation"), ("member2", m2, "RU · Russian Federation"),
                                ("member4", session("member4"), "Abstain")):
        page = s.go(case_path)
        page.get_by_label(choice).check()
        page.get_by_label("Rationale").fill(RATIONALES[username])
        page.get_by_role("button", name="Cast the sealed ballot").click()
        page.wait_for_url(f"**{case_path}#h-attribution")

    # --- The result names the party, says why the round closed, and shows every rationale.
    page = chair.go(case_path)
    result = page.get_by_test_id("round-result").inner_text()
    assert "Result: Russian Federation" in result
    assert "Closed early: every eligible member had voted." in result
    for rationale in RATIONALES.values():
        assert rationale in result
    assert "Measures" in page.locator("h1").inner_text()
    page.get_by_test_id("round-result").scroll_into_view_if_needed()
    chair.shoot("working-day-result")

    # --- A member proposes a measure; the chair adopts it after confirming.
    page = m2.go(case_path)
    page.get_by_label("Kind of measure").select_option("sanctions")
    page.get_by_label("Addressed to").select_option("RU")
    page.get_by_label("Description").fill("Targeted sanctions on the brigade that fired.")
    page.get_by_role("button", name="Propose the measure").click()
    page.wait_for_url(f"**{case_path}#h-measures")

    page = chair.go(case_path)
    page.get_by_label("Adopt").check()
    page.locator("form[action*='/decision/'] textarea[name=reason]").fill("Proportionate; agreed in discussion.")
    page.get_by_role("button", name="Record the decision").click()
    assert "cannot be undone" in page.get_by_test_id("consequences").inner_text()
    assert fits_a_phone(chair)
    page.get_by_label("I understand that this decision cannot be undone.").check()
    page.get_by_role("button", name="Adopt the measure").click()
    page.wait_for_url(f"**{case_path}#h-measures")
    assert page.locator("#h-measures ~ article .badge", has_text="Adopted").count() == 1

    # The chair closes the case, again after confirming.
    page.get_by_label("Public summary").fill("Shelling attributed to the Russian Federation; sanctions adopted.")
    page.get_by_role("button", name="Close the case").click()
    page.wait_for_url(f"**/cases/{case.pk}/close/")
    page.get_by_label("I understand that closing the case cannot be undone.").check()
    page.get_by_role("button", name="Close the case").click()
    page.wait_for_url(f"**{case_path}")
    assert Case.objects.get(pk=case.pk).stage == "closed"

    # --- The decision record: its page, and the PDF the delegations sign.
    page.get_by_role("link", name="Decision record (page and PDF)").click()
    page.wait_for_url(f"**/cases/{case.pk}/record/")
    assert page.get_by_test_id("record-result").inner_text() == "Russian Federation (RU)"
    assert page.get_by_test_id("record-ballot").count() == 4
    page_hash = page.get_by_test_id("record-head-hash").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PDF").click()
    pdf = Path(tmp_path) / "record.pdf"
    download.value.save_as(pdf)
    assert download.value.suggested_filename == f"{case.reference}-record.pdf"
    text = pdf_text(pdf.read_bytes())
    assert "Russian Federation" in text and RATIONALES["member2"].split(",")[0] in text

    # --- An auditor exports the case's trail; the published script checks it
    # and reports the head hash that the PDF prints.
    auditor = session("auditor1")
    page = auditor.go(f"{case_path}trail/")
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Export {case.reference} (JSON Lines)").click()
    export = Path(tmp_path) / "export.jsonl"
    download.value.save_as(export)
    checked = run_script(export.read_text(encoding="utf-8"), "--partial", "--public-key", PUBLIC_KEY,
                         tmp_path=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    reported = re.search(r"head seq (\d+) ([0-9a-f]{64})", checked.stdout)
    assert reported is not None, checked.stdout
    seq, head_hash = int(reported.group(1)), reported.group(2)
    assert head_hash == page_hash == selectors.case_trail_head(case).hash
    # Hashes may wrap across lines in the PDF: compare without whitespace.
    assert head_hash in re.sub(r"\s+", "", text)
    assert f"event seq {seq}" in text
