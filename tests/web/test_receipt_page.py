"""The monitor's report page shows the filing receipt and offers it as a JSON
file, which docs/verify_receipt.py checks; nobody else sees it."""

import json
import subprocess
import sys

import pytest

from tests.audit.helpers import PUBLIC_KEY, ROOT, SIGNING_KEY

pytestmark = pytest.mark.django_db


def test_the_author_sees_the_receipt_and_downloads_one_that_verifies(people, web, file_report, settings, tmp_path):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    report = file_report(people["monitor"])
    page = web(people["monitor"]).get(f"/reports/{report.pk}/").content.decode()
    assert 'id="receipt"' in page and f"/reports/{report.pk}/receipt.json" in page
    download = web(people["monitor"]).get(f"/reports/{report.pk}/receipt.json")
    assert download.status_code == 200 and download["Content-Type"] == "application/json"
    assert f'filename="receipt-{report.reference}.json"' in download["Content-Disposition"]
    receipt = json.loads(download.content)
    assert receipt["reference"] == report.reference and receipt["sha256"] in page
    path = tmp_path / "receipt.json"
    path.write_bytes(download.content)
    result = subprocess.run([sys.executable, "-I", str(ROOT / "docs" / "verify_receipt.py"), "receipt", str(path),
                             "--public-key", PUBLIC_KEY], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_nobody_but_the_author_gets_the_receipt(people, web, file_report, settings):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    report = file_report(people["monitor"])
    assert 'id="receipt"' not in web(people["verifier"]).get(f"/reports/{report.pk}/").content.decode()
    assert web(people["verifier"]).get(f"/reports/{report.pk}/receipt.json").status_code == 403
    assert web(people["monitor2"]).get(f"/reports/{report.pk}/receipt.json").status_code == 404


def test_a_draft_has_no_receipt_to_download(people, web, file_report, settings):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    draft = file_report(people["monitor"], status="draft")
    assert 'id="receipt"' not in web(people["monitor"]).get(f"/reports/{draft.pk}/").content.decode()
    assert web(people["monitor"]).get(f"/reports/{draft.pk}/receipt.json").status_code == 404


def test_the_author_downloads_the_receipt_with_its_proof_which_verifies(people, web, file_report, settings, tmp_path):
    from audit.services import checkpoint_publish

    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    report = file_report(people["monitor"])
    checkpoint_publish()  # seals the filing event and signs a tree head over it
    download = web(people["monitor"]).get(f"/reports/{report.pk}/receipt.json?proof=1")
    assert download.status_code == 200
    assert f'filename="receipt-proof-{report.reference}.json"' in download["Content-Disposition"]
    bundle = json.loads(download.content)
    assert bundle["tree_head"]["tree_size"] == 1 and bundle["proof"]["leaf_index"] == 0
    path = tmp_path / "bundle.json"
    path.write_bytes(download.content)
    result = subprocess.run([sys.executable, "-I", str(ROOT / "docs" / "verify_receipt.py"), "inclusion", "--bundle",
                             str(path), "--public-key", PUBLIC_KEY], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert web(people["monitor2"]).get(f"/reports/{report.pk}/receipt.json?proof=1").status_code == 404
