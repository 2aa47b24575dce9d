"""`make run`: migrate, seed the demo, and start web, worker and beat together.

Run through scripts/with_redis.py, so REDIS_URL is always set here.
Ctrl-C stops all three (honcho forwards it), then with_redis stops Redis.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"


def main() -> int:
    VAR.mkdir(exist_ok=True)
    env = dict(os.environ)
    # Put the venv's python/celery first on PATH for the Procfile's commands.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if not env.get("AUDIT_SIGNING_KEY"):
        key_file = VAR / "dev_audit_signing_key.hex"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
            print(f"Generated a development checkpoint signing key in {key_file}")
        env["AUDIT_SIGNING_KEY"] = key_file.read_text().strip()
    port = env.setdefault("PORT", "8000")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=ROOT, check=True)
    subprocess.run([*manage, "seed_demo"], env=env, cwd=ROOT, check=True)
    print(
        f"\n  Open http://127.0.0.1:{port}/ and sign in with a demo login above."
        f"\n  API docs:                 http://127.0.0.1:{port}/api/docs/"
        f"\n  Django admin (user admin): http://127.0.0.1:{port}/admin/"
        "\n  Ctrl-C stops everything.\n",
        flush=True,
    )
    honcho = Path(sys.executable).parent / "honcho"
    # exec, not a child: a SIGTERM from with_redis.py (or a supervisor) must
    # reach honcho itself, which then stops web, worker and beat; a Python
    # parent in between would die alone and leave them running.
    os.chdir(ROOT)
    os.execve(str(honcho), [str(honcho), "start", "-f", str(ROOT / "Procfile")], env)  # noqa: S606


if __name__ == "__main__":
    sys.exit(main())
