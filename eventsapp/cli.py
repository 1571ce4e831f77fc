"""Flask CLI commands (`flask --app wsgi …`), going through the same services as the UI."""

from __future__ import annotations

import json
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import FrameType
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from eventsapp.database import db, utcnow
from eventsapp.emails import EmailNotValidError, normalise_email
from eventsapp.models import Format, Organisation, Role, Session, SessionStatus
from eventsapp.services.recurrence import RecurrenceError

outbox_cli = AppGroup("outbox", help="Deliver queued mail.")
users_cli = AppGroup("users", help="Manage accounts.")
sessions_cli = AppGroup("sessions", help="Plan and change sessions, as organisers do.")
jobs_cli = AppGroup("jobs", help="Housekeeping that runs on a schedule.")
reports_cli = AppGroup("reports", help="The steering group's reports.")


def _where() -> str:
    if current_app.config.get("MAIL_SERVER"):
        return ""
    return f" (written to {current_app.config['MAIL_FILE_DIR']})"


def _retention() -> dict[str, int]:
    return {
        "retention_days": current_app.config["OUTBOX_RETENTION_DAYS"],
        "registration_days": current_app.config["EVENTSAPP_RETENTION_DAYS"],
    }


def _fail(message: object) -> None:
    db.session.rollback()
    raise click.ClickException(str(message))


# --- outbox --------------------------------------------------------------------------------


@contextmanager
def _stop_on_signals() -> Iterator[Callable[[], bool]]:
    """Yield "has a stop been asked for?": SIGTERM (`systemctl stop`, `kill`, the trap in
    `make run`) and Ctrl+C set a flag instead of interrupting whatever runs.

    The delivery loop asks between mails, so a worker never stops halfway through an SMTP
    conversation or a transaction: it finishes the mail in hand, claims no more and exits,
    leaving nothing "sending". A second Ctrl+C stops at once, as before (the mail in hand
    then waits for its lease). A signal ignored when the process started (SIGINT in a
    background job) stays ignored; the previous handlers come back afterwards.
    """
    asked: list[int] = []

    def ask(signum: int, frame: FrameType | None) -> None:
        if asked and signum == signal.SIGINT:
            raise KeyboardInterrupt
        asked.append(signum)

    previous = {}
    if threading.current_thread() is threading.main_thread():  # only it may set handlers
        for signum in (signal.SIGTERM, signal.SIGINT):
            if signal.getsignal(signum) is not signal.SIG_IGN:
                previous[signum] = signal.signal(signum, ask)
    try:
        yield lambda: bool(asked)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _pause(seconds: float, stop: Callable[[], bool]) -> None:
    """Sleep, but wake within a tenth of a second once a stop is asked for (a signal
    handler that only sets a flag does not cut `time.sleep` short)."""
    deadline = time.monotonic() + seconds
    while not stop() and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.1))


@outbox_cli.command("send")
def outbox_send() -> None:
    """Deliver every mail that is due now, then exit."""
    from eventsapp.mail.delivery import deliver_due

    sent = failed = 0
    with _stop_on_signals() as stop:
        while not stop():
            report = deliver_due(now=utcnow(), stop=stop)
            sent += report.sent
            failed += report.failed + report.dead
            if report.sent + report.failed + report.dead + report.rendered == 0:
                break  # failed rows wait for their next attempt, so this loop always ends
    click.echo(f"outbox: {sent} sent, {failed} failed{_where()}")


@outbox_cli.command("work")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls.")
def outbox_work(interval: float) -> None:
    """Keep delivering mail as it becomes due (stop with Ctrl+C or SIGTERM)."""
    click.echo(f"outbox worker polling every {interval:g}s")
    _work(interval, jobs_every=None)
    click.echo("outbox worker stopped")


def _work(interval: float, *, jobs_every: float | None) -> None:
    """Deliver due mail every `interval` seconds (at once while a batch goes out cleanly),
    and run the housekeeping jobs every `jobs_every` seconds; until SIGTERM or Ctrl+C,
    which end it between two mails (`_stop_on_signals`)."""
    from eventsapp.mail.delivery import deliver_due
    from eventsapp.services.housekeeping import run_jobs

    next_jobs = 0.0
    try:
        with _stop_on_signals() as stop:
            while not stop():
                if jobs_every is not None and time.monotonic() >= next_jobs:
                    run_jobs(now=utcnow(), **_retention())
                    db.session.commit()
                    next_jobs = time.monotonic() + jobs_every
                report = deliver_due(now=utcnow(), stop=stop)
                if report.sent or report.failed or report.dead:
                    failed = report.failed + report.dead
                    click.echo(f"outbox: {report.sent} sent, {failed} failed{_where()}")
                db.session.remove()
                if not (report.sent and not report.failed):
                    _pause(interval, stop)
    except KeyboardInterrupt:
        pass  # a second Ctrl+C


# --- jobs ----------------------------------------------------------------------------------


@jobs_cli.command("run")
def jobs_run() -> None:
    """Run the housekeeping jobs once: reminders, contingent releases, retention."""
    from eventsapp.services.housekeeping import run_jobs

    report = run_jobs(now=utcnow(), **_retention())
    db.session.commit()
    click.echo(str(report))


@click.command("worker")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between mail polls.")
@click.option("--jobs-every", default=60.0, show_default=True, help="Seconds between job runs.")
@with_appcontext
def worker(interval: float, jobs_every: float) -> None:
    """Deliver mail and run the housekeeping jobs, until stopped (Ctrl+C or SIGTERM)."""
    click.echo(f"worker: mail every {interval:g}s, jobs every {jobs_every:g}s")
    _work(interval, jobs_every=jobs_every)
    click.echo("worker stopped")


# --- demo data and users -------------------------------------------------------------------


@click.command("demo-data")
@with_appcontext
def demo_data() -> None:
    """Load the Dortmund demo programme; running it again changes nothing."""
    from eventsapp.services.demo import load_demo_data

    summary = load_demo_data(now=utcnow())
    db.session.commit()
    click.echo(summary)


def _organisation_by_slug(slug: str | None) -> Organisation | None:
    if not slug:
        return None
    organisation = db.session.execute(
        select(Organisation).where(Organisation.slug == slug)
    ).scalar_one_or_none()
    if organisation is None:
        _fail(f"no organisation with slug {slug!r}")
    return organisation


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--organisation", "organisation_slug", help="Slug of the user's organisation.")
@click.option("--name", default=None, help="Display name (default: the part before @).")
@click.option("--password", default=None, help="Default: a random one, printed once.")
def users_create(
    email: str, role: str, organisation_slug: str | None, name: str | None, password: str | None
) -> None:
    """Create an account with a password (printed when generated)."""
    from eventsapp.services import accounts

    try:
        email = normalise_email(email)
    except EmailNotValidError as error:
        _fail(f"invalid email: {error}")
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        user = accounts.create_user(
            email=email,
            name=name or email.split("@")[0],
            role=Role(role),
            organisation=_organisation_by_slug(organisation_slug),
            password=password,
            now=utcnow(),
        )
    except accounts.AccountError as error:
        _fail(error.message)
    db.session.commit()
    click.echo(
        f"created {user.role} {user.email}" + (f" with password {password}" if generated else "")
    )


# --- sessions ------------------------------------------------------------------------------


def _format_by_slug(slug: str) -> Format:
    format = db.session.execute(select(Format).where(Format.slug == slug)).scalar_one_or_none()
    if format is None:
        _fail(f"no format with slug {slug!r}")
    return format


def _session_by_id(session_id: int) -> Session:
    session = db.session.get(Session, session_id)
    if session is None:
        _fail(f"no session with id {session_id}")
    return session


def _aware(value: datetime, timezone: str) -> datetime:
    """ISO 8601 with an offset is taken as given; without one, as local time."""
    from eventsapp.services.recurrence import local_to_utc

    if value.tzinfo is not None:
        return value
    return local_to_utc(value, timezone)


@sessions_cli.command("list")
@click.option("--format", "format_slug", help="Only this format.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def sessions_list(format_slug: str | None, as_json: bool) -> None:
    """List sessions with their status and seats."""
    from eventsapp.services.registrations import seat_counts_for

    stmt = select(Session).order_by(Session.starts_at)
    if format_slug:
        stmt = stmt.where(Session.format_id == _format_by_slug(format_slug).id)
    sessions = list(db.session.execute(stmt).scalars())
    counts = seat_counts_for(sessions, now=utcnow())
    rows = [
        {
            "id": s.id,
            "format": s.format.slug,
            "starts_at": s.local_start.isoformat(),
            "ends_at": s.local_end.isoformat(),
            "status": s.status.value,
            "venue": s.venue_name,
            "capacity": s.capacity,
            "taken": counts[s.id].taken,
            "waitlist": counts[s.id].waitlisted,
            "sequence": s.sequence,
        }
        for s in sessions
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['id']:>5}  {row['starts_at'][:16]}  {row['status']:<9}  "
            f"{row['taken']:>3}/{row['capacity']:<3} wl {row['waitlist']:<3} "
            f"{row['format']}  {row['venue']}"
        )


@sessions_cli.command("generate")
@click.option("--format", "format_slug", required=True)
@click.option("--until", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
def sessions_generate(format_slug: str, until: datetime) -> None:
    """Expand the format's recurrence into draft sessions up to a date."""
    from eventsapp.services.scheduling import generate_sessions

    format = _format_by_slug(format_slug)
    if not (format.rrule or format.rdates):
        _fail(f"format {format_slug!r} has no recurrence rule")
    try:
        created = generate_sessions(format, now=utcnow(), until=until.date())
    except RecurrenceError as error:
        _fail(error.message)
    db.session.commit()
    click.echo(f"{len(created)} draft sessions created for {format.slug}")


@sessions_cli.command("publish")
@click.option("--format", "format_slug", required=True)
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
def sessions_publish(format_slug: str, until: datetime | None) -> None:
    """Publish the format's drafts (up to a date); this announces them."""
    from eventsapp.services.scheduling import publish_sessions

    format = _format_by_slug(format_slug)
    stmt = select(Session).where(
        Session.format_id == format.id,
        Session.status == SessionStatus.DRAFT,
        Session.starts_at > utcnow(),
    )
    drafts = list(db.session.execute(stmt.order_by(Session.starts_at)).scalars())
    if until is not None:
        last = until.date()
        drafts = [s for s in drafts if s.local_start.date() <= last]
    try:
        publication = publish_sessions(format, drafts, now=utcnow())
    except RecurrenceError as error:
        _fail(error.message)
    db.session.commit()
    click.echo(f"{len(drafts)} sessions of {format.slug} published (publication {publication.id})")


@sessions_cli.command("move")
@click.argument("session_id", type=int)
@click.option("--start", required=True, help="ISO 8601; without offset: local time.")
@click.option("--end", default=None, help="ISO 8601; default: keep the length.")
def sessions_move(session_id: int, start: str, end: str | None) -> None:
    """Move a session; registrants are told by mail."""
    from eventsapp.services.scheduling import reschedule_session

    session = _session_by_id(session_id)
    try:
        new_start = _aware(datetime.fromisoformat(start), session.timezone)
        new_end = (
            _aware(datetime.fromisoformat(end), session.timezone)
            if end
            else new_start + (session.ends_at - session.starts_at)
        )
    except ValueError as error:
        _fail(getattr(error, "message", None) or f"not an ISO 8601 time: {error}")
    local_start = new_start.astimezone(session.tz).replace(tzinfo=None)
    try:
        reschedule_session(
            session, local_start=local_start, duration=new_end - new_start, now=utcnow()
        )
    except RecurrenceError as error:
        _fail(error.message)
    db.session.commit()
    click.echo(
        f"session {session.id} now starts {session.local_start.isoformat()} "
        f"(sequence {session.sequence})"
    )


@sessions_cli.command("cancel")
@click.argument("session_id", type=int)
@click.option("--reason", required=True)
def sessions_cancel(session_id: int, reason: str) -> None:
    """Cancel a published session; registrants are told by mail."""
    from eventsapp.services.scheduling import cancel_session

    session = _session_by_id(session_id)
    if not reason.strip():
        _fail("a reason is required")
    try:
        cancel_session(session, reason=reason.strip(), now=utcnow())
    except RecurrenceError as error:
        _fail(error.message)
    db.session.commit()
    click.echo(f"session {session.id} cancelled")


# --- reports -------------------------------------------------------------------------------


@reports_cli.command("export")
@click.option("--format", "format_slug", default=None, help="Only this format (default: all).")
@click.option("--year", required=True, type=int)
@click.option(
    "--group",
    "grouping",
    default="session",
    show_default=True,
    type=click.Choice(["session", "format", "host", "quarter", "year"]),
)
@click.option("--pdf", "pdf_file", type=click.File("wb"), help="Write the report as PDF.")
@click.option("--csv-dir", type=click.Path(file_okay=False), help="Write both tables as CSV.")
@click.option("--lang", default="de", show_default=True, help="Language of the PDF.")
def reports_export(
    format_slug: str | None,
    year: int,
    grouping: str,
    pdf_file,
    csv_dir: str | None,
    lang: str,
) -> None:
    """Write a year's report as PDF and/or CSV, with the same figures (and the same
    withheld ones) as the reports page."""
    from pathlib import Path

    from flask_babel import force_locale

    from eventsapp.services import report_exports, report_pdf, reports

    if pdf_file is None and csv_dir is None:
        _fail("give --pdf FILE and/or --csv-dir DIR")
    now = utcnow()
    if not reports.FIRST_YEAR <= year <= now.year:
        _fail(f"--year must be from {reports.FIRST_YEAR} to {now.year}")
    if lang not in current_app.config["EVENTSAPP_LANGUAGES"]:
        _fail(f"--lang must be one of {', '.join(current_app.config['EVENTSAPP_LANGUAGES'])}")
    format_ids = None if format_slug is None else [_format_by_slug(format_slug).id]
    zone = current_app.config["EVENTSAPP_TIMEZONE"]
    report = reports.year_report(
        year, reports.Grouping(grouping), zone=zone, now=now, format_ids=format_ids
    )
    if csv_dir is not None:
        folder = Path(csv_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for table, build in (
            ("participation", report_exports.participation_csv),
            ("feedback", report_exports.feedback_csv),
        ):
            path = folder / f"bericht-{table}-{year}-{grouping}.csv"
            path.write_bytes(build(report.groups, report.grouping))
            click.echo(f"written: {path}")
    if pdf_file is not None:
        # url_for and the templates need a request; its address is the configured one.
        with current_app.test_request_context(), force_locale(lang):
            pdf_file.write(report_pdf.pdf(report, today=now.astimezone(ZoneInfo(zone)).date()))
        click.echo(f"written: {pdf_file.name}")


def register(app: Flask) -> None:
    for group in (outbox_cli, users_cli, sessions_cli, jobs_cli, reports_cli):
        app.cli.add_command(group)
    app.cli.add_command(demo_data)
    app.cli.add_command(worker)
