"""The export verifies with docs/verify_trail.py, run as a separate process."""

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from audit.services import audit_record
from tests.audit.helpers import PUBLIC_KEY, SIGNING_KEY, lines, record, run_script

pytestmark = pytest.mark.django_db


def _export(*args):
    out = StringIO()
    call_command("export_audit", *args, stdout=out)
    return out.getvalue()


def test_the_script_does_not_import_the_project():
    from tests.audit.helpers import SCRIPT

    source = SCRIPT.read_text()
    for name in ("django", "audit", "config", "commission", "reports", "accounts"):
        assert f"import {name}" not in source and f"from {name}" not in source


def test_an_export_verifies_with_the_auditors_script(settings, people, tmp_path):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    record(3, actor=people["monitor"])
    record(2, actor=None, after={"nested": {"b": [1, 2.5, None], "a": "Київ"}, "flag": False})
    text = _export()
    assert json.loads(text.splitlines()[-1])["checkpoint"]["seq"] == 5
    result = run_script(text, "--public-key", PUBLIC_KEY, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "chain intact: 5 events" in result.stdout and "final checkpoint seq 5 matches" in result.stdout


def test_the_script_names_the_first_altered_event(people, tmp_path):
    record(4, actor=people["monitor"])
    events = lines(_export())
    events[2]["after"]["i"] = 999
    text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)
    result = run_script(text, tmp_path=tmp_path)
    assert result.returncode == 1
    assert "seq 3: hash does not match" in result.stdout


@pytest.mark.parametrize("change", ["remove", "swap", "insert"])
def test_the_script_catches_a_removed_reordered_or_inserted_event(tmp_path, change):
    record(5)
    events = lines(_export())
    if change == "remove":
        del events[2]
    elif change == "swap":
        events[1], events[2] = events[2], events[1]
    else:
        events.insert(2, dict(events[2]))
    text = "".join(json.dumps(e) + "\n" for e in events)
    result = run_script(text, tmp_path=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "seq 3" in result.stdout or "seq 2" in result.stdout


def test_a_truncated_export_fails_against_a_saved_checkpoint(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    record(4)
    text = _export()
    saved = tmp_path / "saved.json"
    saved.write_text(text.splitlines()[-1])
    truncated = "".join(line + "\n" for line in text.splitlines()[:2])
    result = run_script(truncated, "--public-key", PUBLIC_KEY, "--checkpoint", str(saved), tmp_path=tmp_path)
    assert result.returncode == 1
    assert "tail was removed" in result.stdout


def test_the_script_refuses_a_forged_checkpoint(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    record(2)
    events = lines(_export())
    events[-1]["checkpoint"]["signature"] = "ab" * 64
    text = "".join(json.dumps(e) + "\n" for e in events)
    result = run_script(text, "--public-key", PUBLIC_KEY, tmp_path=tmp_path)
    assert result.returncode == 1 and "signature is invalid" in result.stdout


def test_the_script_checks_a_downloaded_evidence_file(people, tmp_path):
    content = b"\x89PNG fake image bytes"
    with transaction.atomic():
        audit_record(actor=people["monitor"], action="evidence.uploaded", object_type="evidence", object_id=7,
                     after={"report": 1, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)})
    record(1)
    text = _export()
    good = tmp_path / "photo.png"
    good.write_bytes(content)
    result = run_script(text, "--evidence", str(good), tmp_path=tmp_path)
    assert result.returncode == 0 and "evidence 7" in result.stdout
    bad = tmp_path / "doctored.png"
    bad.write_bytes(content + b"!")
    result = run_script(text, "--evidence", str(bad), tmp_path=tmp_path)
    assert result.returncode == 1 and "matches no evidence.uploaded event" in result.stdout


def test_export_by_case_fails_clearly_without_the_commission_hook(monkeypatch):
    from audit import scopes

    monkeypatch.setattr(scopes, "_case_scope", None)  # as if no app had registered cases
    with pytest.raises(CommandError, match="not available"):
        _export("--case", "CASE-2026-000001")


def test_a_case_export_is_a_partial_export_that_still_verifies(monkeypatch, tmp_path):
    from audit import scopes

    record(6, object_type="report")
    monkeypatch.setattr(scopes, "_case_scope", lambda reference: {("report", "1"), ("report", "3"), ("report", "4")})
    text = _export("--case", "CASE-2026-000001")
    assert [e["object_id"] for e in lines(text)] == ["1", "3", "4"]
    assert run_script(text, tmp_path=tmp_path).returncode == 1  # not a whole chain ...
    result = run_script(text, "--partial", tmp_path=tmp_path)  # ... but every event and link in it holds
    assert result.returncode == 0, result.stdout
    assert "partial export: 3 events" in result.stdout


@pytest.mark.parametrize("jobs", ["1", "3"])
def test_the_script_checks_a_large_export_split_between_processes(settings, tmp_path, jobs):
    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    record(40)
    text = _export()
    ok = run_script(text, "--jobs", jobs, "--chunk-bytes", "500", "--public-key", PUBLIC_KEY, tmp_path=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "chain intact: 40 events" in ok.stdout
    for victim in (1, 13, 27, 38):  # wherever the chunks' joints fall, a removal is caught
        events = lines(text)
        del events[victim]
        broken = "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in events)
        result = run_script(broken, "--jobs", jobs, "--chunk-bytes", "500", tmp_path=tmp_path)
        assert result.returncode == 1 and f"seq {victim + 1} is missing" in result.stdout, result.stdout
    without_tail = "".join(line + "\n" for i, line in enumerate(text.splitlines()) if i != 39)
    result = run_script(without_tail, "--jobs", jobs, "--chunk-bytes", "500", tmp_path=tmp_path)
    assert result.returncode == 1 and "the tail was removed" in result.stdout
    events = lines(text)
    events[20]["reason"] = "altered"
    altered = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)
    result = run_script(altered, "--jobs", jobs, "--chunk-bytes", "500", tmp_path=tmp_path)
    assert result.returncode == 1 and "seq 21: hash does not match" in result.stdout


def test_the_short_script_printed_in_docs_audit_md_verifies_an_export(settings, tmp_path):
    import re
    import subprocess
    import sys

    from tests.audit.helpers import ROOT

    settings.AUDIT_SIGNING_KEY = SIGNING_KEY
    record(5)
    source = re.search(r"```python\n(# verify_chain\.py.*?)```", (ROOT / "docs" / "audit.md").read_text(), re.S)
    script = tmp_path / "verify_chain.py"
    script.write_text(source.group(1))
    export = tmp_path / "export.jsonl"
    export.write_text(_export(), encoding="utf-8")
    ok = subprocess.run([sys.executable, "-I", str(script), str(export)], capture_output=True, text=True)
    assert ok.returncode == 0 and "OK: 5 events" in ok.stdout, ok.stdout + ok.stderr
    events = lines(export.read_text())
    events[1]["reason"] = "altered"
    export.write_text("".join(json.dumps(e) + "\n" for e in events))
    bad = subprocess.run([sys.executable, "-I", str(script), str(export)], capture_output=True, text=True)
    assert bad.returncode == 1 and "seq 2: altered" in bad.stderr
