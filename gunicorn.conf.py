"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app` (see `make serve`).

Everything can be overridden from the environment (GUNICORN_BIND, WEB_CONCURRENCY, …).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# On PostgreSQL a worker waiting for the database leaves the core to another: 2 × cores + 1.
# SQLite lets one writer in at a time, and more workers than cores only make writers wait
# longer for each other (registration p99 162 ms with 5 workers, 35 ms with 2 on two cores;
# docs/decisions.md, "SQLite writers wait in SQLite's busy handler").
_sqlite = not os.environ.get("DATABASE_URL", "").startswith("postgresql")
_cores = multiprocessing.cpu_count()
_default_workers = _cores if _sqlite else _cores * 2 + 1
workers = int(os.environ.get("WEB_CONCURRENCY", _default_workers))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle a worker now and then (a guard against slow leaks), but rarely: a new worker
# imports the app, compiles its templates and fills its page and feed caches again, and the
# requests queued behind it wait meanwhile (every 2,000 requests cost 0.5 s tails under load,
# see docs/performance.md).
max_requests = 100_000
max_requests_jitter = 10_000
# No access log: its lines would hold the secret manage and feed links in the path.
# The reverse proxy logs requests (see deploy/nginx-eventsapp.conf, which masks them).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
