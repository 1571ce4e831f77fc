"""Mail delivery throughput, measured in one run on this machine.

A local aiosmtpd sink runs in its own process. Its ceiling is measured first: a raw smtplib
loop sending one prepared announcement 5,000 times over one connection. Then 5,000
announcement digests (3 new dates, text + HTML + .ics, List-Unsubscribe) are queued by
publishing, and the outbox worker's delivery loop (`deliver_due`, as `flask outbox send`
runs it) sends them to the same sink.

Run with `make bench-mail`, or `.venv/bin/python -m benchmarks.mail`. Prints; asserts nothing.
"""

from __future__ import annotations

import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, update

from benchmarks._serve import free_port
from eventsapp import create_app
from eventsapp.database import db
from eventsapp.mail.delivery import claim_due, deliver_due, message_bytes
from eventsapp.models import (
    Format,
    Organisation,
    OrganisationKind,
    OutboxMessage,
    OutboxStatus,
    Session,
    SessionStatus,
    Subscription,
    SubscriptionSource,
    SubscriptionStatus,
)
from eventsapp.services import scheduling
from eventsapp.tokens import hash_token

MAILS = 5000


def start_sink(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("aiosmtpd sink did not start")


def seed(
    app, *, count: int = MAILS, title: str = "Blick in die Polizei", languages=("de",)
) -> tuple[int, list[int]]:
    """`count` confirmed subscribers (languages in turn) of a format with three drafts;
    the ids of the format and the drafts."""
    with app.app_context():
        db.create_all()
        host = Organisation(
            slug="polizei",
            name="Polizeipräsidium Dortmund",
            kind=OrganisationKind.HOST,
            contact_email="dialog@polizei.example",
        )
        format = Format(
            slug="blick",
            title=title,
            host_organisation=host,
            summary="Bürgerinnen und Bürger besuchen das Polizeipräsidium.",
        )
        db.session.add_all([host, format])
        first = datetime.now(UTC) + timedelta(days=20)
        drafts = [
            Session(
                format=format,
                starts_at=first + timedelta(days=7 * n),
                ends_at=first + timedelta(days=7 * n, hours=2),
                venue_name="Polizeipräsidium Dortmund",
                venue_address="Markgrafenstraße 102, 44139 Dortmund",
                host_organisation=host,
                capacity=25,
                status=SessionStatus.DRAFT,
            )
            for n in range(3)
        ]
        db.session.add_all(drafts)
        db.session.flush()
        now = datetime.now(UTC)
        db.session.execute(
            insert(Subscription),
            [
                {
                    "format_id": format.id,
                    "email": f"abonnent{n}@example.org",
                    "language": languages[n % len(languages)],
                    "source": SubscriptionSource.SELF,
                    "status": SubscriptionStatus.CONFIRMED,
                    "consent_text_version": "bench",
                    "created_at": now,
                    "confirmed_at": now,
                    "token_nonce": f"nonce-{n}",
                    "token_hash": hash_token(f"token-{n}"),
                }
                for n in range(count)
            ],
        )
        db.session.commit()
        return format.id, [d.id for d in drafts]


def main() -> None:
    port = free_port()
    sink = start_sink(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = create_app(
                "Config",
                SQLALCHEMY_DATABASE_URI=f"sqlite:///{Path(tmp) / 'mail.sqlite'}",
                SECRET_KEY="benchmark",
                EVENTSAPP_BASE_URL="https://termine.example.org",
                INSTANCE_PATH=Path(tmp) / "instance",
                MAIL_SERVER="127.0.0.1",
                MAIL_PORT=port,
                MAIL_USE_TLS=False,
            )
            format_id, draft_ids = seed(app)
            with app.app_context(), app.test_request_context():
                format = db.session.get(Format, format_id)
                drafts = [db.session.get(Session, i) for i in draft_ids]
                start = time.perf_counter()
                scheduling.publish_sessions(format, drafts, now=datetime.now(UTC))
                db.session.commit()
                queue_seconds = time.perf_counter() - start

                # One representative digest, rendered as the worker renders it, then put back.
                sample = claim_due(now=datetime.now(UTC), limit=1)[0]
                prepared = message_bytes(sample)
                db.session.execute(
                    update(OutboxMessage).values(status=OutboxStatus.PENDING, attempts=0)
                )
                db.session.commit()

                start = time.perf_counter()
                with smtplib.SMTP("127.0.0.1", port) as smtp:
                    for n in range(MAILS):
                        smtp.sendmail(
                            "no-reply@eventsapp.invalid", [f"raw{n}@example.org"], prepared
                        )
                ceiling = MAILS / (time.perf_counter() - start)

                start = time.perf_counter()
                sent = 0
                while True:
                    report = deliver_due(now=datetime.now(UTC))
                    sent += report.sent
                    if report.sent + report.failed + report.dead == 0:
                        break
                ours = sent / (time.perf_counter() - start)
                batch = app.config["OUTBOX_BATCH_SIZE"]
    finally:
        sink.terminate()
        sink.wait(timeout=10)

    print(
        f"{MAILS} announcement digests of {len(prepared) / 1024:.1f} KiB "
        f"(3 dates, text + HTML + .ics)"
    )
    print(f"  queued by publishing (render + insert)    {MAILS / queue_seconds:8.0f} mails/s")
    print(f"  sink ceiling: raw smtplib, one connection {ceiling:8.0f} mails/s   1.00")
    print(
        f"  eventsapp outbox delivery (batches of {batch}) {ours:6.0f} mails/s "
        f"{ours / ceiling:6.2f}   ({sent} sent)"
    )


if __name__ == "__main__":
    main()
