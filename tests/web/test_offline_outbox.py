"""The installable, offline-capable report form (issue 11, item 1).

Server side: the form answers the device outbox in JSON (201 with the
reference, also for a resend with the same key; 400 with the reasons;
CSRF still enforced); the manifest and the service worker are served where
they must be. Browser: the network cut mid-typing and mid-submit, the page
reloaded from the device, the outbox sent when the connection returns,
exactly one report filed; a lost answer resent files once; a refused item
shows the server's reason and goes back into the form."""

import json
import re
import uuid
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from playwright.sync_api import expect

from reports.models import Evidence, Report, ReportStatus
from tests.conftest import PASSWORD
from tests.web.browser import Session, make_png, needs_chromium
from tests.web.test_monitor_pages import form_data

JSON = {"HTTP_ACCEPT": "application/json"}


# --- The form's JSON answers ----------------------------------------------------


@pytest.mark.django_db
def test_the_outbox_gets_201_with_the_reference_of_the_filed_report(people, web):
    client = web(people["monitor"])
    key = str(uuid.uuid4())
    response = client.post("/my/reports/new/", form_data(idempotency_key=key), **JSON)
    report = Report.objects.get()
    assert response.status_code == 201
    assert response.json() == {"reference": report.reference, "url": f"/reports/{report.pk}/", "created": True}
    assert report.idempotency_key == key
    assert report.status == ReportStatus.SUBMITTED


@pytest.mark.django_db
def test_a_resend_with_the_same_key_files_once_and_answers_the_same_reference(people, web):
    client = web(people["monitor"])
    key = str(uuid.uuid4())
    first = client.post("/my/reports/new/", form_data(idempotency_key=key), **JSON)
    again = client.post("/my/reports/new/", form_data(idempotency_key=key), **JSON)
    assert first.status_code == again.status_code == 201
    assert again.json()["reference"] == first.json()["reference"]
    assert again.json()["created"] is False
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_the_key_may_come_as_the_idempotency_key_header(people, web):
    client = web(people["monitor"])
    key = str(uuid.uuid4())
    client.post("/my/reports/new/", form_data(idempotency_key=""), HTTP_IDEMPOTENCY_KEY=key, **JSON)
    client.post("/my/reports/new/", form_data(idempotency_key=""), HTTP_IDEMPOTENCY_KEY=key, **JSON)
    assert list(Report.objects.values_list("idempotency_key", flat=True)) == [key]


@pytest.mark.django_db
def test_a_refused_report_gets_400_with_the_reasons_per_field_and_nothing_is_filed(people, web):
    client = web(people["monitor"])
    response = client.post("/my/reports/new/", form_data(lat="123", description=""), **JSON)
    assert response.status_code == 400
    body = response.json()
    assert body["errors"]["lat"] == ["Ensure this value is less than or equal to 90."]
    assert body["errors"]["description"] == ["This field is required."]
    assert "Latitude: Ensure this value is less than or equal to 90." in body["reasons"]
    assert Report.objects.count() == 0


@pytest.mark.django_db
def test_the_reasons_are_in_the_monitors_language(people, web):
    client = web(people["monitor"])
    response = client.post("/my/reports/new/", form_data(lat="123"), HTTP_ACCEPT_LANGUAGE="fr", **JSON)
    assert response.status_code == 400
    assert response.json()["reasons"][0].startswith("Latitude")
    assert "90" in response.json()["reasons"][0]
    assert "less than" not in response.json()["reasons"][0]


@pytest.mark.django_db
def test_the_outbox_still_needs_the_csrf_token(people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["monitor"])
    refused = client.post("/my/reports/new/", form_data(idempotency_key=str(uuid.uuid4())), **JSON)
    assert refused.status_code == 403
    assert Report.objects.count() == 0
    # With the cookie's token in the header, as outbox.js sends it.
    client.get("/my/reports/new/")
    token = client.cookies["csrftoken"].value
    filed = client.post("/my/reports/new/", form_data(idempotency_key=str(uuid.uuid4())),
                        HTTP_X_CSRFTOKEN=token, **JSON)
    assert filed.status_code == 201
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_a_signed_out_device_is_sent_to_sign_in_and_nothing_is_filed(people, web):
    response = web(None).post("/my/reports/new/", form_data(), **JSON)
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/")
    assert Report.objects.count() == 0


@pytest.mark.django_db
def test_the_plain_form_still_redirects_without_json(people, web):
    response = web(people["monitor"]).post("/my/reports/new/", form_data())
    assert response.status_code == 302


# --- Installable ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_manifest_names_the_app_its_icons_and_the_form_as_start(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["start_url"] == "/my/reports/new/"
    assert manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix(settings.STATIC_URL if settings.STATIC_URL.startswith("/")
                                                     else "/" + settings.STATIC_URL))


@pytest.mark.django_db
def test_the_service_worker_is_served_from_the_root_and_keeps_the_form(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    assert '"/my/reports/new/"' in body and '"/outbox/"' in body
    assert "/static/web/outbox.js" in body


@pytest.mark.django_db
def test_pages_link_the_manifest_and_the_policy_allows_the_worker(people, web):
    client = web(people["monitor"])
    page = client.get("/my/reports/new/")
    html = page.content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert 'id="report-form"' in html and "data-outbox" in html and 'id="outbox"' in html
    policy = page["Content-Security-Policy"]
    assert "worker-src 'self'" in policy and "manifest-src 'self'" in policy


@pytest.mark.django_db
def test_the_outbox_page_is_the_monitors(people, web):
    assert web(people["monitor"]).get("/outbox/").status_code == 200
    assert web(people["verifier"]).get("/outbox/").status_code == 403
    assert web(None).get("/outbox/").status_code == 302


@pytest.mark.django_db
def test_editing_a_draft_does_not_use_the_outbox(people, web, file_report):
    report = file_report(people["monitor"], status=ReportStatus.DRAFT)
    html = web(people["monitor"]).get(f"/reports/{report.pk}/edit/").content.decode()
    assert "data-outbox" not in html and 'id="outbox"' not in html


# --- In the browser -----------------------------------------------------------------


@pytest.fixture
def monitor_tab(browser, live_server, people):
    s = Session(browser, live_server.url)
    s.sign_in("monitor1", PASSWORD)
    yield s
    s.close()


@pytest.fixture
def kyiv_tab(browser, live_server, people, settings, tmp_path):
    """A monitor's tab on a device set to Kyiv's time zone (UTC+2 in January)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    s = Session(browser, live_server.url, timezone_id="Europe/Kyiv")
    s.sign_in("monitor1", PASSWORD)
    yield s
    s.close()


KYIV = ("Europe/Kyiv", "Europe/Kiev")  # Chromium's ICU may still say the older name.


def outbox_fields(page) -> list:
    """The first outbox item's fields as kept in IndexedDB (files as [name, size])."""
    return page.evaluate("""() => new Promise((resolve) => {
        const open = indexedDB.open("ceasefire-device");
        open.onsuccess = () => {
            const q = open.result.transaction("outbox").objectStore("outbox").getAll();
            q.onsuccess = () => resolve(q.result[0].fields.map(
                (f) => [f[0], typeof f[1] === "string" ? f[1] : [f[1].name, f[1].size]]));
        };
    })""")


def open_form_with_worker(s: Session):
    """The form, once online, with its service worker in control (as after
    a monitor's first visit): from then on it opens with no connection."""
    page = s.go("/my/reports/new/")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.wait_for_selector("#outbox[data-ready='1']")
    return page


def outbox_item(page, state: str):
    return page.locator(f"#outbox .outbox-item[data-state='{state}']")


@pytest.mark.browser
@needs_chromium
@pytest.mark.django_db(transaction=True)
def test_a_report_typed_and_submitted_offline_is_filed_once_when_back_online(monitor_tab):
    s = monitor_tab
    page = open_form_with_worker(s)
    # On a phone.
    page.set_viewport_size({"width": 360, "height": 740})
    # Every static file the form loads is kept on the device (whatever the form's template adds).
    missing = page.evaluate("""async () => {
        const urls = [...document.querySelectorAll("script[src], link[href]")]
            .map((e) => new URL(e.src || e.href, location.href)).filter((u) => u.pathname.startsWith("/static/"));
        const out = [];
        for (const u of urls) { if (!(await caches.match(u.pathname))) out.push(u.pathname); }
        return urls.length ? out : ["no static files found"];
    }""")
    assert missing == []
    page.get_by_label("When it happened").fill("2026-01-01T10:00")
    page.get_by_label("Latitude").fill("47.5689")
    # The network goes mid-typing; the rest is typed offline.
    s.context.set_offline(True)
    page.get_by_label("Longitude").fill("35.8612")
    page.get_by_label("Category").select_option("shelling")
    page.get_by_label("Source").select_option("direct_observation")
    page.get_by_label("What happened").fill("Impacts typed with no connection.")
    # Reloaded with no connection: the page comes from the device, and so does what was typed.
    page.wait_for_timeout(400)
    assert page.reload().from_service_worker
    # (The worker's own requests are offline too: a file it never kept fails.)
    assert page.evaluate("() => fetch('/static/web/api-docs.css').then(() => 'fetched', () => 'failed')") == "failed"
    page.wait_for_selector("#outbox[data-ready='1']")
    assert page.get_by_label("Latitude").input_value() == "47.5689"
    assert page.get_by_label("Longitude").input_value() == "35.8612"
    assert page.get_by_label("Category").input_value() == "shelling"
    assert page.get_by_label("What happened").input_value() == "Impacts typed with no connection."
    # Submitted offline: kept in the outbox, waiting; nothing filed.
    page.get_by_role("button", name="Submit report").click()
    outbox_item(page, "waiting").wait_for()
    assert "Waiting to send" in outbox_item(page, "waiting").inner_text()
    expect(page.get_by_label("What happened")).to_have_value("")
    assert Report.objects.count() == 0
    # The outbox page opens with no connection too, and lists it.
    page = s.go("/outbox/")
    outbox_item(page, "waiting").wait_for()
    s.shoot("outbox-waiting")
    page.set_viewport_size({"width": 360, "height": 740})
    # Reloaded again, still offline: the item is still there.
    page.reload()
    outbox_item(page, "waiting").wait_for()
    assert Report.objects.count() == 0
    # The connection returns: sent, with its reference.
    s.context.set_offline(False)
    outbox_item(page, "sent").wait_for()
    report = Report.objects.get()
    assert report.description == "Impacts typed with no connection."
    assert report.status == ReportStatus.SUBMITTED
    assert outbox_item(page, "sent").locator("a").inner_text() == report.reference
    s.shoot("outbox")
    # The form shows it as sent as well, and its fields are free for the next report.
    page = s.go("/my/reports/new/")
    outbox_item(page, "sent").wait_for()
    expect(page.get_by_label("Latitude")).to_have_value("")
    assert Report.objects.count() == 1


@pytest.mark.browser
@needs_chromium
@pytest.mark.django_db(transaction=True)
def test_a_lost_answer_is_resent_and_files_once(monitor_tab):
    s = monitor_tab
    page = open_form_with_worker(s)
    page.get_by_label("When it happened").fill("2026-01-01T10:00")
    page.get_by_label("Latitude").fill("47.5689")
    page.get_by_label("Longitude").fill("35.8612")
    page.get_by_label("Category").select_option("shelling")
    page.get_by_label("Source").select_option("direct_observation")
    page.get_by_label("What happened").fill("The answer to this one is lost.")
    # The server files the report, but its answer never reaches the device.
    lost = []

    def lose_the_answer(route):
        route.fetch()
        lost.append(route.request.headers.get("idempotency-key"))
        route.abort("connectionreset")

    page.route("**/my/reports/new/", lambda route: lose_the_answer(route) if route.request.method == "POST"
               else route.continue_())
    page.get_by_role("button", name="Submit report").click()
    outbox_item(page, "waiting").wait_for()
    assert len(lost) == 1 and Report.objects.count() == 1
    page.unroute("**/my/reports/new/")
    # Sent again (the button; the retry on "online" or on the next page does the same).
    outbox_item(page, "waiting").get_by_role("button", name="Send now").click()
    outbox_item(page, "sent").wait_for()
    report = Report.objects.get()
    assert report.idempotency_key == lost[0]
    assert outbox_item(page, "sent").locator("a").inner_text() == report.reference


@pytest.mark.browser
@needs_chromium
@pytest.mark.django_db(transaction=True)
def test_a_refused_item_shows_the_servers_reason_and_goes_back_into_the_form(monitor_tab):
    s = monitor_tab
    page = open_form_with_worker(s)
    s.context.set_offline(True)
    page.get_by_label("When it happened").fill("2026-01-01T10:00")
    page.get_by_label("Latitude").fill("123")
    page.get_by_label("Longitude").fill("35.8612")
    page.get_by_label("Category").select_option("shelling")
    page.get_by_label("Source").select_option("direct_observation")
    page.get_by_label("What happened").fill("A latitude out of range.")
    page.get_by_role("button", name="Submit report").click()
    outbox_item(page, "waiting").wait_for()
    s.context.set_offline(False)
    refused = outbox_item(page, "refused")
    refused.wait_for()
    assert "Latitude: Ensure this value is less than or equal to 90." in refused.inner_text()
    assert Report.objects.count() == 0
    page = s.go("/outbox/")
    refused = outbox_item(page, "refused")
    refused.wait_for()
    s.shoot("outbox-refused")
    # Edit: back into the form, corrected, filed.
    refused.get_by_role("button", name="Edit").click()
    page.wait_for_url("**/my/reports/new/")
    expect(page.get_by_label("Latitude")).to_have_value("123")
    expect(page.get_by_label("What happened")).to_have_value("A latitude out of range.")
    expect(outbox_item(page, "refused")).to_have_count(0)
    page.get_by_label("Latitude").fill("47.5689")
    page.get_by_role("button", name="Submit report").click()
    page.wait_for_url(re.compile(r"/reports/\d+/$"))
    report = Report.objects.get()
    assert report.lat == pytest.approx(47.5689)
    assert page.get_by_text(f"Report {report.reference} submitted.").is_visible()


@pytest.mark.browser
@needs_chromium
@pytest.mark.django_db(transaction=True)
def test_bad_input_sent_online_shows_the_messages_next_to_the_fields(monitor_tab):
    s = monitor_tab
    page = open_form_with_worker(s)
    page.get_by_label("Latitude").fill("123")
    page.get_by_role("button", name="Submit report").click()
    page.locator("#id_lat_errors").wait_for()
    assert page.locator("#id_lat_errors").inner_text() == "Ensure this value is less than or equal to 90."
    assert page.get_by_label("Latitude").input_value() == "123"
    assert Report.objects.count() == 0


@pytest.mark.browser
@needs_chromium
@pytest.mark.django_db(transaction=True)
def test_an_item_waits_for_a_new_sign_in_when_the_session_ended(monitor_tab):
    s = monitor_tab
    page = open_form_with_worker(s)
    s.context.set_offline(True)
    page.get_by_label("When it happened").fill("2026-01-01T10:00")
    page.get_by_label("Latitude").fill("47.5689")
    page.get_by_label("Longitude").fill("35.8612")
    page.get_by_label("Category").select_option("shelling")
    page.get_by_label("Source").select_option("direct_observation")
    page.get_by_label("What happened").fill("Queued before the session ended.")
    page.get_by_role("button", name="Submit report").click()
    outbox_item(page, "waiting").wait_for()
    # The session ends while the device is offline (cookies gone: signed out, CSRF cookie too).
    s.context.clear_cookies()
    s.context.set_offline(False)
    expect(outbox_item(page, "waiting")).to_contain_text("sign in again")
    assert Report.objects.count() == 0
    # Signed in again: the outbox sends it on the next page that shows it.
    s.sign_in("monitor1", PASSWORD)
    page = s.go("/outbox/")
    outbox_item(page, "sent").wait_for()
    assert Report.objects.get().description == "Queued before the session ended."


@pytest.mark.browser
@needs_chromium
@pytest.mark.django_db(transaction=True)
def test_files_chosen_in_the_form_wait_in_the_outbox_and_go_with_the_report(kyiv_tab, tmp_path, monkeypatch):
    """The form's own evidence input (several files), a time typed in the
    device's zone and decimal commas, queued offline: the device keeps the
    files and the zone through a reload, and the replay files them all."""
    from web import pwa

    received = []
    asks_json = pwa.wants_json

    def spy(request):  # what the form view was sent (it files the report as always)
        if request.method == "POST":
            received.extend((f.name, f.size) for f in request.FILES.getlist("evidence"))
        return asks_json(request)

    monkeypatch.setattr(pwa, "wants_json", spy)
    s = kyiv_tab
    page = open_form_with_worker(s)
    first, second = tmp_path / "impact.png", tmp_path / "fragment.png"
    first.write_bytes(make_png())
    second.write_bytes(make_png(rgb=(46, 90, 176)))
    s.context.set_offline(True)
    page.get_by_label("Evidence").set_input_files([str(first), str(second)])
    page.get_by_label("When it happened").fill("2026-01-01T10:00")
    page.get_by_label("Latitude").fill("47,5689")
    page.get_by_label("Longitude").fill("35,8612")
    page.get_by_label("Category").select_option("shelling")
    page.get_by_label("Source").select_option("direct_observation")
    page.get_by_label("What happened").fill("With two photos.")
    # Reloaded with no connection: the files, the time in the device's zone and the zone come back.
    page.wait_for_timeout(400)
    assert page.reload().from_service_worker
    page.wait_for_selector("#outbox[data-ready='1']")
    assert page.evaluate("() => Array.from(document.getElementById('id_evidence').files, (f) => f.name)") == [
        "impact.png", "fragment.png"]
    assert page.get_by_label("When it happened").input_value() == "2026-01-01T10:00"
    assert page.locator("[data-utc-for='id_occurred_at']").inner_text() == "= 2026-01-01 08:00 UTC"
    assert page.locator("input[name=tz]").input_value() in KYIV
    assert page.get_by_label("Latitude").input_value() == "47,5689"
    page.get_by_role("button", name="Submit report").click()
    outbox_item(page, "waiting").wait_for()
    kept = outbox_fields(page)
    assert [f[1] for f in kept if f[0] == "evidence"] == [["impact.png", len(make_png())],
                                                          ["fragment.png", len(make_png(rgb=(46, 90, 176)))]]
    assert dict(kept)["tz"] in KYIV
    assert dict(kept)["occurred_at"] == "2026-01-01T10:00"
    assert dict(kept)["lat"] == "47,5689"
    assert Report.objects.count() == 0
    # Back online: the files go with the report that is filed, read in the device's zone.
    s.context.set_offline(False)
    outbox_item(page, "sent").wait_for()
    assert received == [("impact.png", len(make_png())), ("fragment.png", len(make_png(rgb=(46, 90, 176))))]
    report = Report.objects.get()
    assert report.occurred_at == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    assert (report.lat, report.lon) == (47.5689, 35.8612)
    assert sorted(Evidence.objects.filter(report=report).values_list("original_name", flat=True)) == [
        "fragment.png", "impact.png"]


@pytest.mark.browser
@needs_chromium
@pytest.mark.django_db(transaction=True)
def test_a_grid_reference_and_a_draft_queued_offline_are_filed_as_typed(kyiv_tab):
    s = kyiv_tab
    page = open_form_with_worker(s)
    s.context.set_offline(True)
    # A draft of one field: queued as a draft ("Save draft" goes with it).
    page.get_by_label("What happened").fill("Smoke north of the bridge; details to follow.")
    page.get_by_role("button", name="Save draft").click()
    outbox_item(page, "waiting").wait_for()
    expect(outbox_item(page, "waiting")).to_contain_text("Draft")
    expect(page.get_by_label("What happened")).to_have_value("")
    # Then a full report located by MGRS, submitted: a second item, not a draft.
    page.get_by_label("When it happened").fill("2026-01-01T10:00")
    page.get_by_label("MGRS grid reference").fill("37U DQ 12345 67890")
    page.get_by_label("Category").select_option("shelling")
    page.get_by_label("Source").select_option("direct_observation")
    page.get_by_label("What happened").fill("Located by grid reference.")
    page.get_by_role("button", name="Submit report").click()
    expect(outbox_item(page, "waiting")).to_have_count(2)
    assert Report.objects.count() == 0
    s.context.set_offline(False)
    expect(outbox_item(page, "sent")).to_have_count(2)
    draft = Report.objects.get(status=ReportStatus.DRAFT)
    assert draft.description == "Smoke north of the bridge; details to follow."
    assert draft.occurred_at is None and draft.lat is None
    report = Report.objects.get(status=ReportStatus.SUBMITTED)
    assert (round(report.lat, 3), round(report.lon, 3)) == (49.357, 37.793)
    assert report.occurred_at == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    assert Report.objects.count() == 2


@pytest.mark.browser
@needs_chromium
@pytest.mark.django_db(transaction=True)
def test_a_draft_kept_in_another_zone_comes_back_as_the_same_instants(kyiv_tab):
    """Typed in New York, opened in Kyiv: the times shown are this device's
    (as the page says), the instants the same, and the zone sent is Kyiv's."""
    s = kyiv_tab
    page = open_form_with_worker(s)
    page.evaluate("""() => new Promise((resolve, reject) => {
        const open = indexedDB.open("ceasefire-device");
        open.onsuccess = () => {
            const tx = open.result.transaction("drafts", "readwrite");
            const user = document.getElementById("outbox").dataset.user;
            tx.objectStore("drafts").put({ id: user + "|/my/reports/new/", key: "k-new-york", user: user,
                fields: [["tz", "America/New_York"], ["occurred_at", "2026-01-01T10:00"],
                         ["description", "Typed in New York."]], saved: Date.now() });
            tx.oncomplete = () => resolve();
            tx.onerror = () => reject(tx.error);
        };
    })""")
    page.reload()
    page.wait_for_selector("#outbox[data-ready='1']")
    expect(page.get_by_label("What happened")).to_have_value("Typed in New York.")
    expect(page.get_by_label("When it happened")).to_have_value("2026-01-01T17:00")
    expect(page.locator("[data-utc-for='id_occurred_at']")).to_have_text("= 2026-01-01 15:00 UTC")
    assert page.locator("input[name=tz]").input_value() in KYIV
    page.get_by_label("Latitude").fill("47.5689")
    page.get_by_label("Longitude").fill("35.8612")
    page.get_by_label("Category").select_option("shelling")
    page.get_by_label("Source").select_option("direct_observation")
    page.get_by_role("button", name="Submit report").click()
    page.wait_for_url(re.compile(r"/reports/\d+/$"))
    report = Report.objects.get()
    assert report.occurred_at == datetime(2026, 1, 1, 15, 0, tzinfo=UTC)
    assert report.description == "Typed in New York."
