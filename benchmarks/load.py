"""Page and form throughput under gunicorn, against a bare Flask "hello" served the same way.

For SQLite and (when it answers) PostgreSQL: 2 sync gunicorn workers, wrk -t2 -c16, the
median of three 5-second runs after a warm-up, on the home page, a session page, the
registration POST and /api/v1/sessions. Prints requests/s, p50/p99, the ratio to hello, and
the CPU time per request of the gunicorn workers, of PostgreSQL and of wrk (from /proc): the
machine's cores are shared by all three, so these say where a page's throughput goes.

Every registration is a new person for one session with 2 public seats and unreleased
contingents for two partners (the session of `benchmarks/rush.py`), CSRF token and cookie
included (rate limits switched off explicitly): the first two take the public seats, the
thousands after them go on the waitlist while the partners' seats stay kept.

On PostgreSQL two more rows serve the same POSTs to `benchmarks/bare_registration.py`: the
registration's transaction with no framework around it, one round trip per statement and
pipelined. They show how much of a registration's cost is the database work itself. The
registration rows are served at the same time and their runs take turns (five each, the
median shown), so the ratio between them does not depend on which minute each ran in.

Run with `make bench-load`, or `.venv/bin/python -m benchmarks.load`. Prints; asserts nothing.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import urllib.request
from pathlib import Path

from benchmarks import rush
from benchmarks._serve import APP_ENV, ROOT, gunicorn, median_wrk, on_each_engine, wrk

RUNS = 5  # registration runs per row, taking turns


def seed(database: str, tmp: Path) -> int:
    """The demo programme (the home page and the API list its dates) and, for the page and
    registration rows, the hardest case: a date whose seats are kept for two partners
    (benchmarks/rush.py), so every registration after the first two goes on a waitlist
    that grows by thousands while the contingents stay kept."""
    return rush.seed(database, tmp, demo=True)


def browser_session(base: str, session_id: int) -> tuple[str, str]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/sessions/{session_id}").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, token


def registration_rows(targets: list[tuple[str, str, str]]) -> list[tuple[str, object]]:
    """Registration POSTs to each (name, server, path), the runs taking turns: this
    machine's speed drifts by a third from one minute to the next, and rows measured in
    the same minutes can be compared with each other. The median run of five each."""
    script = str(ROOT / "benchmarks" / "register.lua")
    results: dict[str, list] = {name: [] for name, _base, _path in targets}
    for turn in range(RUNS + 1):
        for name, base, path in targets:
            os.environ["BENCH_PATH"] = path
            result = wrk(base + "/", seconds=2 if turn == 0 else 5, script=script)
            if turn:  # the first turn warms up
                results[name].append(result)
    return [
        (name, sorted(runs, key=lambda r: r.requests_per_second)[len(runs) // 2])
        for name, runs in results.items()
    ]


def measure(label: str, database: str, tmp: Path) -> list[tuple[str, object]]:
    session_id = seed(database, tmp)
    env = {
        "DATABASE_URL": database,
        **APP_ENV,
        "FEED_RECHECK_SECONDS": "2",
    }
    rows = []
    with gunicorn("benchmarks.hello_app:app", env) as base:
        wrk(base + "/", seconds=2)
        rows.append(("bare Flask hello", median_wrk(base + "/")))
    with gunicorn("wsgi:app", env) as base:
        for name, path in (
            ("home page", "/"),
            ("session page", f"/sessions/{session_id}"),
            ("/api/v1/sessions", "/api/v1/sessions"),
        ):
            wrk(base + path, seconds=2)
            rows.append((name, median_wrk(base + path)))
        cookie, token = browser_session(base, session_id)
        os.environ.update(BENCH_COOKIE=cookie, BENCH_TOKEN=token)
        targets = [("registration POST", base, f"/sessions/{session_id}/register")]
        with contextlib.ExitStack() as stack:
            if database.startswith("postgresql"):
                # The registration's transaction alone, without the framework
                # (bare_registration.py), served at the same time.
                dsn = database.replace("postgresql+psycopg://", "postgresql://")
                bare = stack.enter_context(
                    gunicorn("benchmarks.bare_registration:app", {**env, "BARE_DSN": dsn})
                )
                targets += [
                    ("registration, transaction only", bare, f"/plain/{session_id}"),
                    ("registration, transaction only, pipelined", bare, f"/pipelined/{session_id}"),
                ]
            rows += registration_rows(targets)
    return [(f"{label}: {name}", result) for name, result in rows]


def main() -> None:
    results = on_each_engine(measure, "load")

    print(
        "gunicorn, 2 sync workers; wrk -t2 -c16, median of three 5 s runs "
        "(registrations: of five, the rows taking turns)"
    )
    print("CPU ms per request: gunicorn workers (app), PostgreSQL processes (db), wrk")
    print(
        f"  {'':<56}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'vs hello':>9}{'non-2xx/3xx':>12}"
        f"{'app':>7}{'db':>7}{'wrk':>7}"
    )
    hello = None
    for label, result in results:
        if label.endswith("bare Flask hello"):
            hello = result.requests_per_second
        cpu = "".join(
            f"{value:7.2f}" if value is not None else f"{'-':>7}"
            for value in (result.app_cpu_ms, result.db_cpu_ms, result.client_cpu_ms)
        )
        print(
            f"  {label:<56}{result.requests_per_second:8.0f}{result.p50_ms:9.2f}"
            f"{result.p99_ms:9.2f}{result.requests_per_second / hello:9.2f}{result.non_2xx:12}"
            + cpu
        )
    rates = {label: result.requests_per_second for label, result in results}
    for engine in ("SQLite", "PostgreSQL"):
        reference = rates.get(f"{engine}: registration, transaction only")
        if reference:
            ratio = rates[f"{engine}: registration POST"] / reference
            print(f"  {engine}: registration POST / transaction only: {ratio:.2f}")


if __name__ == "__main__":
    main()
