"""The WSGI entry point (config/wsgi.py), as gunicorn loads it: the URL conf
is loaded at start, and what it loaded is left out of the garbage
collector's walks (BENCHMARKS.md, "Pauses")."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc, json, sys
import config.wsgi
print(json.dumps({"frozen": gc.get_freeze_count(), "enabled": gc.isenabled(),
                  "views_loaded": "web.commission_pages" in sys.modules,
                  "young": len(gc.get_objects())}))
"""


def _load_wsgi() -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_it_loads_the_views_at_start_and_freezes_what_it_loaded():
    state = _load_wsgi()
    # The URL conf's views are imported by the entry point itself, before the freeze ...
    assert state["views_loaded"]
    # ... so the bulk of the process's objects is frozen, and few are left for a collection to walk.
    assert state["frozen"] > 50_000
    assert state["young"] < state["frozen"] / 10
    # Collections still run, over what requests allocate.
    assert state["enabled"]
