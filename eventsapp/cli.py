"""Flask CLI commands (`flask --app wsgi …`)."""

from __future__ import annotations

import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from eventsapp.database import db, utcnow

outbox_cli = AppGroup("outbox", help="Deliver queued mail.")


def _where() -> str:
    if current_app.config.get("MAIL_SERVER"):
        return ""
    return f" (written to {current_app.config['MAIL_FILE_DIR']})"


@outbox_cli.command("send")
def outbox_send() -> None:
    """Deliver every mail that is due now, then exit."""
    from eventsapp.mail.delivery import deliver_due

    sent = failed = 0
    while True:
        report = deliver_due(now=utcnow())
        sent += report.sent
        failed += report.failed + report.dead
        if report.sent + report.failed + report.dead == 0:
            break  # failed rows wait for their next attempt, so this loop always ends
    click.echo(f"outbox: {sent} sent, {failed} failed{_where()}")


@outbox_cli.command("work")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls.")
def outbox_work(interval: float) -> None:
    """Keep delivering mail as it becomes due (stop with Ctrl+C)."""
    from eventsapp.mail.delivery import deliver_due

    click.echo(f"outbox worker polling every {interval:g}s")
    try:
        while True:
            report = deliver_due(now=utcnow())
            if report.sent or report.failed or report.dead:
                failed = report.failed + report.dead
                click.echo(f"outbox: {report.sent} sent, {failed} failed{_where()}")
            db.session.remove()
            if not (report.sent and not report.failed):
                time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("outbox worker stopped")


@click.command("demo-data")
@with_appcontext
def demo_data() -> None:
    """Load the Dortmund demo programme; running it again changes nothing."""
    from eventsapp.services.demo import load_demo_data

    summary = load_demo_data(now=utcnow())
    db.session.commit()
    click.echo(summary)


def register(app: Flask) -> None:
    app.cli.add_command(outbox_cli)
    app.cli.add_command(demo_data)
