"""Staff browse reports and evidence in the admin, read-only (changes go
through the services so that they are in the trail)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from reports.services import evidence_add
from tests.reports.conftest import png_bytes

pytestmark = pytest.mark.django_db


def test_staff_see_reports_and_evidence_but_cannot_change_them(client, people, file_report):
    report = file_report(people["monitor"])
    evidence = evidence_add(actor=people["monitor"], report=report,
                            upload=SimpleUploadedFile("p.png", png_bytes(), content_type="image/png"))
    client.force_login(User.objects.create_superuser("staff", "staff@example.org", "pw"))
    listing = client.get("/admin/reports/report/")
    assert listing.status_code == 200 and report.reference in listing.content.decode()
    page = client.get(f"/admin/reports/report/{report.pk}/change/")
    assert page.status_code == 200 and evidence.sha256 in page.content.decode()
    assert client.get(f"/admin/reports/evidence/{evidence.pk}/change/").status_code == 200
    assert client.get("/admin/reports/evidence/").status_code == 200
    assert client.get("/admin/reports/report/add/").status_code == 403
    response = client.post(f"/admin/reports/report/{report.pk}/change/", {"description": "tampered"})
    assert response.status_code == 403
    report.refresh_from_db()
    assert report.description == "Impacts observed."
