"""The report form as a monitor fills it in the field: a draft with one
field; coordinates with a decimal comma or as an MGRS grid reference; times
typed in the device's zone; several files sent with the report, all stored
or none."""

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from reports.models import Evidence, Report, ReportStatus
from tests.reports.conftest import png_bytes
from tests.web.test_monitor_pages import field_errors, form_data

pytestmark = pytest.mark.django_db
NEW = "/my/reports/new/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def only(**fields):
    return {"idempotency_key": "one-field", **fields}


def test_a_draft_with_only_a_description_is_saved(people, web):
    response = web(people["monitor"]).post(NEW, only(description="Smoke north of the bridge.", action="draft"))
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.status == ReportStatus.DRAFT
    assert report.description == "Smoke north of the bridge."
    assert report.occurred_at is None and report.lat is None and report.category == ""


def test_a_draft_with_one_field_opens_for_editing_and_lists(people, web):
    client = web(people["monitor"])
    client.post(NEW, only(place_name="Orikhiv, near the school", action="draft"))
    report = Report.objects.get()
    assert 'value="Orikhiv, near the school"' in client.get(f"/reports/{report.pk}/edit/").content.decode()
    assert report.reference in client.get("/my/reports/").content.decode()
    assert client.get(f"/reports/{report.pk}/").status_code == 200
    assert report.reference in client.get("/").content.decode()


def test_submitting_an_incomplete_draft_names_every_missing_field(people, web):
    client = web(people["monitor"])
    client.post(NEW, only(description="Smoke.", action="draft"))
    report = Report.objects.get()
    page = client.post(f"/reports/{report.pk}/edit/", only(description="Smoke.", category="shelling",
                                                             action="submit")).content.decode()
    for field in ("occurred_at", "lat", "lon", "source_type"):
        assert field_errors(page, field) == ["This field is required."], field
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT
    assert report.category == ""


def test_a_field_cleared_in_a_draft_is_cleared(people, web):
    client = web(people["monitor"])
    client.post(NEW, form_data(action="draft"))
    report = Report.objects.get()
    client.post(f"/reports/{report.pk}/edit/", form_data(lat="", lon="", category="", action="draft"))
    report.refresh_from_db()
    assert (report.lat, report.lon, report.category) == (None, None, "")


@pytest.mark.parametrize(("lat", "lon"), [("47,5689", "35,8612"), ("47.5689", "35.8612"), (" 47,5689 ", "35.8612")])
def test_either_decimal_separator_is_taken(people, web, lat, lon):
    response = web(people["monitor"]).post(NEW, form_data(lat=lat, lon=lon))
    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.lat, report.lon) == (47.5689, 35.8612)


def test_a_number_with_two_commas_is_refused_with_the_apis_message(people, web):
    page = web(people["monitor"]).post(NEW, form_data(lat="47,5,689")).content.decode()
    assert field_errors(page, "lat") == ["A valid number is required."]
    assert Report.objects.count() == 0


@pytest.mark.parametrize("grid", ["36T YT 15196 72354", "36TYT1519672354", "36t yt 15196 72354"])
def test_an_mgrs_grid_reference_gives_the_position(people, web, grid):
    response = web(people["monitor"]).post(NEW, form_data(lat="", lon="", mgrs=grid))
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.lat == pytest.approx(47.5689, abs=1e-4)
    assert report.lon == pytest.approx(35.8612, abs=1e-4)


def test_an_mgrs_reference_wins_over_the_boxes(people, web):
    web(people["monitor"]).post(NEW, form_data(lat="10", lon="10", mgrs="37U DQ 12345 67890"))
    report = Report.objects.get()
    assert round(report.lat, 3) == 49.357 and round(report.lon, 3) == 37.793


@pytest.mark.parametrize("grid", ["37U DQ 1234 567", "99U DQ 12 34", "37I DQ 12 34", "somewhere", "47.5 35.8"])
def test_a_bad_mgrs_reference_is_refused_with_a_clear_message(people, web, grid):
    response = web(people["monitor"]).post(NEW, form_data(mgrs=grid))
    assert response.status_code == 200
    errors = field_errors(response.content.decode(), "mgrs")
    assert len(errors) == 1 and errors[0].startswith("Not an MGRS grid reference")
    assert Report.objects.count() == 0


def test_the_place_name_is_kept_as_typed(people, web):
    web(people["monitor"]).post(NEW, form_data(place_name="Orikhiv — school No. 2 (north gate)"))
    assert Report.objects.get().place_name == "Orikhiv — school No. 2 (north gate)"


@pytest.mark.parametrize(("tz", "typed", "utc"), [
    ("Europe/Kyiv", "2026-01-01T10:00", datetime(2026, 1, 1, 8, 0, tzinfo=UTC)),
    ("Europe/Kyiv", "2026-07-01T10:00", datetime(2026, 7, 1, 7, 0, tzinfo=UTC)),
    ("America/New_York", "2026-01-01T10:00", datetime(2026, 1, 1, 15, 0, tzinfo=UTC)),
    ("", "2026-01-01T10:00", datetime(2026, 1, 1, 10, 0, tzinfo=UTC)),
])
def test_a_time_typed_in_the_devices_zone_is_stored_as_its_utc_instant(people, web, tz, typed, utc):
    web(people["monitor"]).post(NEW, form_data(tz=tz, occurred_at=typed, occurred_until=""))
    assert Report.objects.get().occurred_at == utc


def test_an_unknown_time_zone_is_refused(people, web):
    response = web(people["monitor"]).post(NEW, form_data(tz="Mars/Olympus"))
    assert response.status_code == 200
    assert "Unknown time zone" in response.content.decode()
    assert Report.objects.count() == 0


def test_a_time_in_the_future_of_the_device_zone_is_refused(people, web):
    page = web(people["monitor"]).post(NEW, form_data(tz="Pacific/Kiritimati", occurred_at="2999-01-01T00:00"))
    assert "Cannot be in the future." in field_errors(page.content.decode(), "occurred_at")


def test_pages_show_times_as_utc_marked_for_the_viewers_zone(people, web):
    client = web(people["monitor"])
    client.post(NEW, form_data(tz="Europe/Kyiv", occurred_at="2026-01-01T10:00"))
    report = Report.objects.get()
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert '<time datetime="2026-01-01T08:00:00Z" data-local>2026-01-01 08:00 UTC</time>' in page
    assert "web/localtime.js" in page


def photo(name, width=1):
    return SimpleUploadedFile(name, png_bytes(width=width), content_type="image/png")


def test_two_photos_chosen_in_the_form_are_stored_with_the_report(people, web):
    response = web(people["monitor"]).post(NEW, {**form_data(), "evidence": [photo("a.png"), photo("b.png", 2)]})
    assert response.status_code == 302
    report = Report.objects.get()
    evidence = list(Evidence.objects.filter(report=report).order_by("id"))
    assert [e.original_name for e in evidence] == ["a.png", "b.png"]
    assert AuditEvent.objects.filter(action="evidence.uploaded").count() == 2


def test_a_draft_takes_its_files_too(people, web):
    web(people["monitor"]).post(NEW, {**only(description="Smoke.", action="draft"), "evidence": [photo("a.png")]})
    assert Evidence.objects.get().report.status == ReportStatus.DRAFT


def test_one_refused_file_refuses_the_whole_report_and_stores_nothing(people, web, settings):
    bad = SimpleUploadedFile("notes.txt", b"just text, not a photo", content_type="image/png")
    response = web(people["monitor"]).post(NEW, {**form_data(), "evidence": [photo("a.png"), bad]})
    assert response.status_code == 200
    errors = field_errors(response.content.decode(), "evidence")
    assert len(errors) == 1 and errors[0].startswith("notes.txt: Unsupported file type")
    assert Report.objects.count() == 0
    assert Evidence.objects.count() == 0
    assert AuditEvent.objects.count() == 0
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_a_replayed_form_with_files_attaches_them_once(people, web):
    client = web(people["monitor"])
    client.post(NEW, {**form_data(), "evidence": [photo("a.png")]})
    client.post(NEW, {**form_data(), "evidence": [photo("a.png")]})
    assert Report.objects.count() == 1
    assert Evidence.objects.count() == 1


def test_the_form_is_one_multipart_form_with_a_map_and_the_basemap(people, web):
    page = web(people["monitor"]).get(NEW).content.decode()
    assert '<form method="post" enctype="multipart/form-data"' in page
    assert 'id="report-form"' in page
    assert 'name="evidence"' in page and "multiple" in page
    assert 'id="location-map"' in page and "vendor/world-atlas/countries-50m.json" in page
    assert 'name="tz"' in page and 'name="mgrs"' in page


def test_the_inbox_maps_the_reports_it_lists(people, web, file_report):
    report = file_report(people["monitor"])
    page = web(people["verifier"]).get("/inbox/").content.decode()
    assert 'id="inbox-map"' in page and "vendor/world-atlas/countries-50m.json" in page
    assert f"&quot;reference&quot;:&quot;{report.reference}&quot;" in page
