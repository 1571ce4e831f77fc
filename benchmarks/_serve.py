"""Helpers shared by the benchmarks: free ports, gunicorn processes, wrk runs, and where the
CPU time of a run went (read from /proc, on Linux)."""

from __future__ import annotations

import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
_SERVERS: dict[str, int] = {}  # base URL -> gunicorn master pid, while it serves

# What every benchmark's app is served with, besides its database: rate limits off (one
# client sends thousands of requests), no DNS check of the made-up addresses, plain HTTP.
APP_ENV = {
    "SECRET_KEY": "benchmark",
    "RATELIMIT_ENABLED": "false",
    "EMAIL_CHECK_DELIVERABILITY": "false",
    "SESSION_COOKIE_SECURE": "false",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict[str, str], workers: int = 2):
    """Serve `app` with gunicorn on a free loopback port until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"gunicorn for {app} did not start") from None
                time.sleep(0.2)
        _SERVERS[base] = process.pid
        yield base
    finally:
        _SERVERS.pop(base, None)
        process.terminate()
        process.wait(timeout=30)


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    # CPU milliseconds per request spent by the gunicorn workers, by every PostgreSQL
    # process of the machine and by wrk itself (None where /proc cannot tell).
    app_cpu_ms: float | None = None
    db_cpu_ms: float | None = None
    client_cpu_ms: float | None = None


def _stat(pid: str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _cpu_seconds(fields: list[str]) -> float:
    # utime and stime, fields 14 and 15 of /proc/<pid>/stat, cover all the threads.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_cpu(master: int | None) -> tuple[float, float] | None:
    """CPU seconds so far of the gunicorn workers of `master` and of PostgreSQL."""
    if master is None or not os.path.isdir("/proc/self"):
        return None
    app = db = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        fields = _stat(pid)
        if fields is None:
            continue
        if fields[1] == str(master):
            app += _cpu_seconds(fields)
        else:
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().startswith("postgres"):
                        db += _cpu_seconds(fields)
            except OSError:
                continue
    return app, db


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(
    url: str,
    *,
    seconds: int = 8,
    connections: int = 16,
    headers: dict[str, str] | None = None,
    script: str | None = None,
) -> WrkResult:
    """A bounded wrk run against a loopback URL."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (or use `make bench-feeds`)")
    assert url.startswith("http://127.0.0.1:"), "benchmarks only ever target loopback"
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    master = next((pid for base, pid in _SERVERS.items() if url.startswith(base)), None)
    server_before, client_before = _server_cpu(master), _client_cpu()
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    server_after, client_after = _server_cpu(master), _client_cpu()
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result = WrkResult(rps, p50, p99, int(non_2xx.group(1)) if non_2xx else 0)
    per_request = 1000 / max(requests, 1)
    result.client_cpu_ms = (client_after - client_before) * per_request
    if server_before is not None and server_after is not None:
        result.app_cpu_ms = (server_after[0] - server_before[0]) * per_request
        result.db_cpu_ms = (server_after[1] - server_before[1]) * per_request
    return result


def median_wrk(url: str, *, runs: int = 3, seconds: int = 5, **kwargs) -> WrkResult:
    """The run with the median throughput of several: one noisy run decides nothing."""
    results = sorted(
        (wrk(url, seconds=seconds, **kwargs) for _ in range(runs)),
        key=lambda r: r.requests_per_second,
    )
    return results[len(results) // 2]


POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def on_each_engine(measure, name: str) -> list:
    """`measure(label, database_url, tmp)` on a fresh SQLite file, then, when PostgreSQL
    answers, in a schema of its own that is dropped afterwards; the results of both, joined."""
    from sqlalchemy import create_engine, text

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results += measure("SQLite", f"sqlite:///{Path(tmp) / name}.sqlite", Path(tmp)) or []
    try:
        engine = create_engine(POSTGRES, connect_args={"connect_timeout": 3})
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception:  # no PostgreSQL here: SQLite figures only
        return results
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
            results += measure("PostgreSQL", url, Path(tmp)) or []
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
    return results
