"""Small helpers for the trail's tests."""

import hashlib
import json
import secrets
import subprocess
import sys
from pathlib import Path

from django.db import transaction

from audit.services import audit_record, trail_seal

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "verify_trail.py"
SIGNING_KEY = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"  # RFC 8032 test 1
PUBLIC_KEY = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"


def record(n=1, *, actor=None, action="test.changed", object_type="thing", object_id=None, after=None, seal=True):
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(audit_record(actor=actor, action=action, object_type=object_type,
                                       object_id=object_id if object_id is not None else i,
                                       after=after if after is not None else {"i": i, "note": "café ✓"}))
    if seal:
        trail_seal()
    return events


def commitment(salt, choice, rationale):
    return hashlib.sha256(f"{salt}\n{choice}\n{rationale}".encode()).hexdigest()


def run_script(export_text, *args, tmp_path):
    path = tmp_path / "export.jsonl"
    path.write_text(export_text, encoding="utf-8")
    # A separate process, with nothing of the project on its path.
    return subprocess.run([sys.executable, "-I", str(SCRIPT), str(path), *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)


def lines(export_text):
    return [json.loads(line) for line in export_text.splitlines() if line.strip()]


def new_salt():
    return secrets.token_hex(16)
