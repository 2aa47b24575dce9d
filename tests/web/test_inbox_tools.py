"""The inbox's tools: sort and filters (the map shows what the list shows),
"add to the case its duplicate is in" in one click, and bulk return or link
of the selected reports, each all or nothing."""

import json
import re

import pytest

from audit.models import AuditEvent
from commission import services
from commission.models import CaseReport
from notifications.models import Notification
from reports.models import Report, ReportStatus

pytestmark = pytest.mark.django_db

QUESTION = "Which direction did the fire come from?"


def listed(page: str) -> list[str]:
    """References of the inbox's cards, in order."""
    return re.findall(r'<input type="checkbox" name="reports" value="\d+"[^>]*>\s*<span><strong>(RPT-[\d-]+)</strong>',
                      page)


def mapped(page: str) -> set[str]:
    data = re.search(r'data-features="([^"]*)"', page).group(1)
    import html
    return {f["properties"]["reference"] for f in json.loads(html.unescape(data))["features"]}


@pytest.fixture
def inbox(people, parties, submitted):
    m = people["monitor"]
    return {
        "orikhiv": submitted(m, place_name="Orikhiv", admin1="Zaporizhzhia Oblast",
                             description="Tirs d'artillerie au nord."),
        "kharkiv": submitted(m, lat=49.99, lon=36.23, admin1="Kharkiv Oblast", alleged_party=parties["UA"],
                             category="drone_strike", description="Drone over the market."),
        "kherson": submitted(people["monitor2"], lat=46.63, lon=32.61, admin1="Kherson Oblast",
                             category="small_arms_fire", description="Стрілянина біля мосту."),
    }


def test_the_inbox_sorts_and_filters_and_the_map_follows(web, people, inbox):
    client = web(people["verifier"])
    o, k, h = (inbox[n].reference for n in ("orikhiv", "kharkiv", "kherson"))
    page = client.get("/inbox/").text
    assert listed(page) == [o, k, h]
    assert listed(client.get("/inbox/?sort=newest").text) == [h, k, o]
    assert listed(client.get("/inbox/?sort=category").text) == [k, o, h]
    page = client.get("/inbox/?party=UA").text
    assert listed(page) == [k] and mapped(page) == {k}
    assert listed(client.get("/inbox/?category=small_arms_fire").text) == [h]
    assert listed(client.get("/inbox/?admin1=zaporizhzhia+oblast").text) == [o]
    assert listed(client.get("/inbox/?search=мосту").text) == [h]
    # A bad value is dropped; the rest still applies.
    response = client.get("/inbox/?sort=sideways&party=UA")
    assert response.status_code == 200 and listed(response.text) == [k]


def test_only_reports_with_duplicates_can_be_shown(web, people, inbox, submitted):
    twin = submitted(people["monitor2"], description="Same shelling, seen from the east.")
    page = web(people["verifier"]).get("/inbox/?duplicates=on").text
    assert listed(page) == [inbox["orikhiv"].reference, twin.reference]
    assert mapped(page) == {inbox["orikhiv"].reference, twin.reference}


def test_a_report_joins_the_case_of_its_duplicate_in_one_click(web, people, inbox, submitted):
    client = web(people["verifier"])
    case = services.case_open(actor=people["verifier"], title="Orikhiv", reports=[inbox["orikhiv"]])
    twin = submitted(people["monitor2"], description="Same shelling, seen from the east.")
    page = client.get("/inbox/").text
    assert f'action="/inbox/{twin.pk}/add-to/{case.pk}/"' in page
    assert f"Add to {case.reference}" in page
    response = client.post(f"/inbox/{twin.pk}/add-to/{case.pk}/")
    assert response.status_code == 302
    assert CaseReport.objects.filter(case=case, report=twin, detached_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action="case.report_linked", after__report=twin.reference).count() == 1
    # Twice: the report is in the case already, a conflict, nothing more written.
    again = client.post(f"/inbox/{twin.pk}/add-to/{case.pk}/")
    assert again.status_code == 409
    assert AuditEvent.objects.filter(action="case.report_linked", after__report=twin.reference).count() == 1


def test_no_one_click_add_to_a_case_past_verification(web, people, inbox, submitted):
    case = services.case_open(actor=people["verifier"], title="Orikhiv", reports=[inbox["orikhiv"]])
    services.verification_record(actor=people["verifier"], case=case, outcome="confirmed", findings="Craters.")
    twin = submitted(people["monitor2"], description="Same shelling.")
    page = web(people["verifier"]).get("/inbox/").text
    assert f"/add-to/{case.pk}/" not in page and f"in {case.reference}" in page
    assert web(people["verifier"]).post(f"/inbox/{twin.pk}/add-to/{case.pk}/").status_code == 409
    assert not CaseReport.objects.filter(report=twin).exists()


def test_bulk_return_sends_one_question_to_each_report(web, people, inbox):
    chosen = [inbox["orikhiv"], inbox["kherson"]]
    response = web(people["verifier"]).post("/inbox/return/", {"reports": [r.pk for r in chosen],
                                                                "bulk_reason": QUESTION, "title": ""})
    assert response.status_code == 302
    for report in chosen:
        report.refresh_from_db()
        assert report.status == ReportStatus.RETURNED and report.returned_reason == QUESTION
    assert AuditEvent.objects.filter(action="report.returned").count() == 2
    assert sorted(n.recipient.username for n in Notification.objects.all()) == ["monitor1", "monitor2"]
    inbox["kharkiv"].refresh_from_db()
    assert inbox["kharkiv"].status == ReportStatus.SUBMITTED


def test_bulk_return_is_all_or_nothing(web, people, inbox):
    services.case_open(actor=people["verifier"], title="Kherson", reports=[inbox["kherson"]])
    response = web(people["verifier"]).post("/inbox/return/", {
        "reports": [inbox["orikhiv"].pk, inbox["kherson"].pk], "bulk_reason": QUESTION})
    assert response.status_code == 409
    assert inbox["kherson"].reference in response.text
    assert not Report.objects.filter(status=ReportStatus.RETURNED).exists()
    assert not AuditEvent.objects.filter(action="report.returned").exists()
    assert not Notification.objects.filter(kind="report_returned").exists()


def test_bulk_return_needs_a_question_and_a_selection(web, people, inbox):
    client = web(people["verifier"])
    response = client.post("/inbox/return/", {"reports": [inbox["orikhiv"].pk], "bulk_reason": "  "})
    assert response.status_code == 400 and 'id="id_bulk_reason_errors"' in response.text
    response = client.post("/inbox/return/", {"bulk_reason": QUESTION})
    assert response.status_code == 400 and "Select at least one report." in response.text
    assert not Report.objects.filter(status=ReportStatus.RETURNED).exists()


def test_bulk_link_puts_the_selected_reports_in_an_existing_case(web, people, inbox, submitted):
    case = services.case_open(actor=people["verifier"], title="Orikhiv", reports=[inbox["orikhiv"]])
    chosen = [inbox["kharkiv"], inbox["kherson"]]
    response = web(people["chair"]).post("/inbox/link/", {"reports": [r.pk for r in chosen],
                                                           "bulk_case": case.reference.lower()})
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert set(CaseReport.objects.filter(case=case).values_list("report_id", flat=True)) == {
        inbox["orikhiv"].pk, *(r.pk for r in chosen)}
    assert AuditEvent.objects.filter(action="case.report_linked", object_id=str(case.pk)).count() == 3


def test_bulk_link_is_all_or_nothing(web, people, inbox):
    case = services.case_open(actor=people["verifier"], title="Orikhiv", reports=[inbox["orikhiv"]])
    other = services.case_open(actor=people["verifier"], title="Kherson", reports=[inbox["kherson"]])
    response = web(people["verifier"]).post("/inbox/link/", {
        "reports": [inbox["kharkiv"].pk, inbox["kherson"].pk], "bulk_case": case.reference})
    assert response.status_code == 409
    assert not CaseReport.objects.filter(report=inbox["kharkiv"]).exists()
    assert CaseReport.objects.get(report=inbox["kherson"]).case == other
    response = web(people["verifier"]).post("/inbox/link/", {"reports": [inbox["kharkiv"].pk],
                                                              "bulk_case": "CASE-1999-000001"})
    assert response.status_code == 400 and 'id="id_bulk_case_errors"' in response.text


def test_only_verifiers_and_the_chair_use_the_inbox_tools(web, people, inbox):
    for who in ("member1", "monitor", "auditor"):
        client = web(people[who])
        assert client.post("/inbox/return/", {"reports": [inbox["orikhiv"].pk],
                                              "bulk_reason": QUESTION}).status_code == 403
        assert client.post("/inbox/link/", {"reports": [inbox["orikhiv"].pk],
                                            "bulk_case": "CASE-2026-000001"}).status_code == 403
    assert not Report.objects.filter(status=ReportStatus.RETURNED).exists()


def test_the_inbox_costs_the_same_queries_with_every_filter(web, people, inbox, submitted,
                                                           django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = web(people["verifier"])
    url = "/inbox/?search=artillerie&sort=newest&category=shelling&party=RU&admin1=Zaporizhzhia+Oblast&duplicates=on"
    submitted(people["monitor2"], admin1="Zaporizhzhia Oblast", description="Artillerie, vue de l'est.")
    with CaptureQueriesContext(connection) as ctx:
        assert len(listed(client.get(url).text)) == 2
    for i in range(4):
        submitted(people["monitor2"], admin1="Zaporizhzhia Oblast", description=f"Artillerie, salve {i}.")
    # Duplicate candidates are looked up once per report (reports.similar.report_similar): that
    # lookup is the only query that grows with the page, one per extra card.
    with django_assert_max_num_queries(len(ctx.captured_queries) + 4):
        assert len(listed(client.get(url).text)) == 6


def test_the_bulk_return_service_refuses_other_roles_and_unknown_ids(people, inbox):
    from django.core.exceptions import ValidationError

    from config.errors import Forbidden

    with pytest.raises(Forbidden):
        services.report_return_many(actor=people["member1"], reports=[inbox["orikhiv"]], reason=QUESTION)
    with pytest.raises(ValidationError):
        services.report_return_many(actor=people["verifier"], reports=[inbox["orikhiv"].pk, 999_999],
                                    reason=QUESTION)
    assert not Report.objects.filter(status=ReportStatus.RETURNED).exists()
    assert not AuditEvent.objects.filter(action="report.returned").exists()
