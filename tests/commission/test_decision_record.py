"""The decision record (issue 12, item 4): a page and a PDF of a case for the
delegations to sign, read by the case's readers only, with the reports (not
who filed them), findings, rounds and their revealed ballots, measures,
deadlines, and the case's trail head with a signed checkpoint covering it,
which the auditors' script reports the same on the case's export."""

import io
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from audit.models import AuditEvent
from commission import selectors, services
from tests.audit.helpers import PUBLIC_KEY, SIGNING_KEY, run_script

pytestmark = pytest.mark.django_db

PDF = "/api/v1/cases/{}/record.pdf"


def page_url(case):
    return f"/cases/{case.pk}/record/"


@pytest.fixture
def closed_case(people, case_in):
    """A case through every stage: findings, a round of four ballots with
    rationales (member5's delegation is the party's: recused), a measure
    adopted and complied with, closed with a summary."""
    case = case_in("measures", title="Обстріл Оріхова")
    measure = services.measure_propose(actor=people["member2"], case=case, kind="sanctions", addressee="RU",
                                       description="Targeted sanctions on the brigade.",
                                       compliance_due_at=timezone.now() + timedelta(days=30))
    measure = services.measure_decide(actor=people["chair"], measure=measure, adopt=True, reason="Proportionate.")
    services.measure_compliance_record(actor=people["chair"], measure=measure, compliance="complied",
                                       note="Sanctions in force since Monday.")
    case = services.case_close(actor=people["chair"], case=case, summary="Attributed; sanctions complied with.")
    return selectors.case_get_for(people["chair"], case.pk)


def signed_in(client, user):
    client.force_login(user)
    return client


def pdf_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


# --- Who reads it -------------------------------------------------------------------


@pytest.mark.parametrize("who", ["member1", "chair", "verifier", "auditor"])
def test_the_cases_readers_read_its_record_page_and_pdf(client, api, people, closed_case, who):
    assert signed_in(client, people[who]).get(page_url(closed_case)).status_code == 200
    response = api(people[who]).get(PDF.format(closed_case.pk))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert f'filename="{closed_case.reference}-record.pdf"' in response["Content-Disposition"]


def test_a_client_may_ask_for_a_pdf_and_errors_stay_json(api, people, closed_case):
    response = api(people["chair"]).get(PDF.format(closed_case.pk), HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    refused = api(people["monitor"]).get(PDF.format(closed_case.pk), HTTP_ACCEPT="application/pdf")
    assert refused.status_code == 403 and refused["Content-Type"] == "application/json"
    assert "detail" in refused.json()


@pytest.mark.parametrize("who", ["monitor", "outsider"])
def test_monitors_and_people_without_a_commission_role_do_not_read_it(client, api, people, closed_case, who):
    assert signed_in(client, people[who]).get(page_url(closed_case)).status_code == 403
    assert api(people[who]).get(PDF.format(closed_case.pk)).status_code == 403


def test_party_representatives_do_not_read_it(client, api, closed_case, representatives):
    # The record holds every ballot and rationale; a representative's hearing shows neither.
    assert signed_in(client, representatives["RU"]).get(page_url(closed_case)).status_code == 403
    assert api(representatives["RU"]).get(PDF.format(closed_case.pk)).status_code == 403


def test_nobody_signed_in_gets_nothing(client, api, closed_case):
    assert client.get(page_url(closed_case)).status_code == 302
    assert api().get(PDF.format(closed_case.pk)).status_code == 401


def test_an_unknown_case_has_no_record(client, api, people):
    assert signed_in(client, people["chair"]).get("/cases/999999/record/").status_code == 404
    assert api(people["chair"]).get(PDF.format(999999)).status_code == 404


# --- What it says ---------------------------------------------------------------------


def test_a_closed_cases_record_holds_reports_findings_ballots_measures_and_deadlines(client, people, closed_case):
    html = signed_in(client, people["member1"]).get(page_url(closed_case)).content.decode()
    report = selectors.case_reports(closed_case).first()
    assert closed_case.reference in html and "Обстріл Оріхова" in html
    assert report.reference in html and "Impacts observed." in html
    assert "Craters and fragments match 152 mm rounds." in html
    # The round: its result named, why it closed, quorum as a share, and each revealed ballot.
    assert 'data-testid="record-result">Russian Federation (RU)' in html
    assert "early: every eligible member had voted" in html
    assert "50 % of 4 eligible members" in html
    assert html.count('data-testid="record-ballot"') == 4
    for who in ("member1", "member2", "member3", "member4"):
        assert f"{who}: radar tracks." in html
    assert "member5" not in html  # recused: their delegation is a party's
    # The measure and its compliance; the deadlines and how they ended.
    assert "Targeted sanctions on the brigade." in html and "Sanctions in force since Monday." in html
    assert "Complied" in html and "Met" in html
    assert "Attributed; sanctions complied with." in html
    # Signature lines for every delegation; no interim mark.
    assert "Signatures of the delegations" in html and "United Kingdom (UK)" in html and "Japan (JP)" in html
    assert 'data-testid="interim"' not in html


def test_the_record_leaves_out_who_filed_the_reports(client, people, closed_case):
    html = signed_in(client, people["chair"]).get(page_url(closed_case)).content.decode()
    assert people["monitor"].username not in html
    assert "monitors are sources" in html


def test_ballots_of_an_open_round_stay_sealed_in_an_interim_record(client, people, case_in):
    case = case_in("attribution")
    rnd = services.round_open(actor=people["chair"], case=case)
    services.ballot_cast(actor=people["member1"], round=rnd, choice="RU", rationale="secret until the close")
    html = signed_in(client, people["chair"]).get(page_url(case)).content.decode()
    assert "secret until the close" not in html and 'data-testid="record-ballot"' not in html
    assert "ballots stay sealed until it closes" in html


def test_an_open_cases_record_is_marked_interim_on_the_page_and_every_pdf_page(client, api, people, case_in):
    case = case_in("attribution")
    html = signed_in(client, people["chair"]).get(page_url(case)).content.decode()
    assert 'data-testid="interim"' in html and "INTERIM — NOT A DECISION" in html
    assert "Signatures of the delegations" not in html
    response = api(people["chair"]).get(PDF.format(case.pk))
    assert f'filename="{case.reference}-interim.pdf"' in response["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    for page in reader.pages:
        assert "INTERIM — NOT A DECISION" in page.extract_text()


def test_the_pdf_pages_are_numbered_with_the_case_reference(api, people, closed_case):
    pages, text = pdf_text(api(people["chair"]).get(PDF.format(closed_case.pk)).content)
    assert pages >= 2
    assert f"{closed_case.reference} — page 1 of {pages}" in text
    assert f"{closed_case.reference} — page {pages} of {pages}" in text


def test_a_ukrainian_record_renders_in_ukrainian(api, people, closed_case):
    response = api(people["member1"]).get(PDF.format(closed_case.pk), HTTP_ACCEPT_LANGUAGE="uk")
    assert response.status_code == 200
    pages, text = pdf_text(response.content)
    # The title in Cyrillic, the document's own words in Ukrainian, the footer too.
    assert "Обстріл Оріхова" in text
    assert "Протокол рішення" in text
    assert f"{closed_case.reference} — сторінка 1 з {pages}" in text
    # Embedded, a font that has the Cyrillic letters (fonts-dejavu-core, README's production notes).
    reader = PdfReader(io.BytesIO(response.content))
    fonts = {str(font.get_object()["/BaseFont"]) for page in reader.pages
             for font in page["/Resources"]["/Font"].values()}
    assert any("DejaVu" in name for name in fonts), fonts


# --- Checking it against the trail ----------------------------------------------------


def _head_hash(html: str) -> str:
    return re.search(r'data-testid="record-head-hash">([0-9a-f]{64})<', html).group(1)


def test_the_trail_head_is_the_hash_of_the_cases_last_event(client, people, closed_case):
    html = signed_in(client, people["auditor"]).get(page_url(closed_case)).content.decode()
    refs = selectors.case_object_refs(closed_case)
    last = max((e for e in AuditEvent.objects.filter(seq__isnull=False)
                if (e.object_type, e.object_id) in set(refs)), key=lambda e: e.seq)
    assert _head_hash(html) == last.hash
    assert f"event seq {last.seq}" in html


def test_verify_trail_reports_the_records_head_on_the_cases_export(settings, client, people, closed_case, tmp_path):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    html = signed_in(client, people["auditor"]).get(page_url(closed_case)).content.decode()
    out = StringIO()
    call_command("export_audit", "--case", closed_case.reference, stdout=out)
    result = run_script(out.getvalue(), "--partial", "--public-key", PUBLIC_KEY, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    reported = re.search(r"head seq (\d+) ([0-9a-f]{64})", result.stdout)
    assert reported is not None, result.stdout
    assert reported.group(2) == _head_hash(html)
    assert f"event seq {reported.group(1)}" in html


def test_the_record_names_a_signed_checkpoint_covering_its_head(settings, client, people, closed_case):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    html = signed_in(client, people["chair"]).get(page_url(closed_case)).content.decode()
    head = selectors.case_trail_head(closed_case)
    checkpoint = selectors.checkpoint_covering(head.seq)
    assert checkpoint is not None and checkpoint.seq >= head.seq
    assert checkpoint.signature in html and PUBLIC_KEY in html and checkpoint.root_hash in html
    assert 'data-testid="record-uncovered"' not in html


def test_without_a_signing_key_the_record_says_its_head_is_not_yet_covered(settings, client, people, closed_case):
    settings.AUDIT_SIGNING_KEY = None
    html = signed_in(client, people["chair"]).get(page_url(closed_case)).content.decode()
    assert 'data-testid="record-uncovered"' in html and "Not yet covered by a signed checkpoint" in html


def test_reading_the_record_writes_no_event_and_signs_no_second_checkpoint(settings, client, api, people,
                                                                           closed_case):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    signed_in(client, people["chair"]).get(page_url(closed_case))
    from audit.models import Checkpoint

    events, checkpoints = AuditEvent.objects.count(), Checkpoint.objects.count()
    signed_in(client, people["member1"]).get(page_url(closed_case))
    api(people["auditor"]).get(PDF.format(closed_case.pk))
    assert AuditEvent.objects.count() == events and Checkpoint.objects.count() == checkpoints


def test_the_case_page_links_to_its_record(client, people, closed_case, case_in):
    html = signed_in(client, people["member1"]).get(f"/cases/{closed_case.pk}/").content.decode()
    assert f'href="/cases/{closed_case.pk}/record/"' in html and "Decision record (page and PDF)" in html
    open_case = case_in("verification")
    html = client.get(f"/cases/{open_case.pk}/").content.decode()
    assert "Interim record (not a decision)" in html
