"""`flask demo-data` loads the Dortmund programme once; running it again changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from eventsapp.database import db, utcnow
from eventsapp.models import Format, Organisation, Registration, Session, SessionStatus


def _counts() -> tuple[int, ...]:
    return tuple(
        db.session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in (Organisation, Format, Session, Registration)
    )


def test_demo_data_is_complete_and_idempotent(app, runner):
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        after_first = _counts()
    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0, second.output
    assert "0 new sessions" in second.output
    with app.app_context():
        assert _counts() == after_first
        organisations = db.session.execute(select(Organisation)).scalars().all()
        assert len(organisations) == 13
        assert {o.kind for o in organisations} == {"host", "partner"}
        names = {o.name for o in organisations}
        assert "Rat der muslimischen Gemeinden in Dortmund" in names
        assert "Verein Kamerunischer Ingenieure und Informatiker e.V." in names

        now = utcnow()
        for slug in ("blick-in-die-polizei", "blick-in-die-organisation"):
            format = db.session.execute(select(Format).where(Format.slug == slug)).scalar_one()
            sessions = (
                db.session.execute(
                    select(Session)
                    .where(Session.format_id == format.id)
                    .order_by(Session.starts_at)
                )
                .scalars()
                .all()
            )
            assert len(sessions) >= 5
            assert all(s.status == SessionStatus.PUBLISHED and s.starts_at > now for s in sessions)
            assert sessions[-1].starts_at > now + timedelta(days=150)
            assert sessions[-1].starts_at < now + timedelta(days=200)

        visits = (
            db.session.execute(
                select(Session).join(Format).where(Format.slug == "blick-in-die-organisation")
            )
            .scalars()
            .all()
        )
        hosts = [s.host_organisation.slug for s in visits]
        assert len(set(hosts)) == len(hosts)  # a different partner each time
        assert "polizei-dortmund" not in hosts
