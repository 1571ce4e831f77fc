"""Optional DKIM signing: a mail that went through a real SMTP server verifies against the
public key published in DNS (here handed to dkimpy directly: no DNS in tests)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import dkim
import pytest

from eventsapp import create_app
from eventsapp.database import db, utcnow
from eventsapp.mail.delivery import deliver_due
from eventsapp.services import registrations as rules
from tests.conftest import _create_tables, _dispose, make_app
from tests.factories import applicant, make_session

# The key tool that comes with dkimpy, as docs/operations.md tells operators to use it.
DKNEWKEY = str(Path(sys.executable).parent / "dknewkey")
SENDER = "Dialog-Termine <termine@polizei-dortmund.example>"


def _new_key(directory: Path, selector: str) -> tuple[Path, bytes]:
    subprocess.run([DKNEWKEY, selector], cwd=directory, check=True, capture_output=True)
    return directory / f"{selector}.key", (directory / f"{selector}.dns").read_bytes().strip()


def test_a_sent_mail_carries_a_signature_that_verifies_against_the_public_key(
    tmp_path, smtp_server
):
    key, record = _new_key(tmp_path, "mail2026")
    app = _create_tables(
        make_app(
            tmp_path,
            **smtp_server.config(),
            MAIL_DEFAULT_SENDER=SENDER,
            MAIL_DKIM_KEY_FILE=str(key),
            MAIL_DKIM_SELECTOR="mail2026",
        )
    )
    with app.app_context():
        session = make_session()
        rules.register_for_session(session, applicant("dkim"), now=utcnow())
        db.session.commit()
        assert deliver_due(now=utcnow()).sent == 1
    _dispose(app)
    (received,) = smtp_server.sink.messages
    asked = []

    def published(name: bytes, timeout: int = 5) -> bytes:
        asked.append(name)
        return record

    assert dkim.verify(received.data, dnsfunc=published)
    assert asked == [b"mail2026._domainkey.polizei-dortmund.example."]
    signature = received.message["DKIM-Signature"]
    assert "d=polizei-dortmund.example" in signature and "s=mail2026" in signature
    signed = signature.split("h=", 1)[1].split(";", 1)[0].lower()
    assert all(name in signed for name in ("from", "to", "subject", "date", "message-id"))
    # Whatever changes on the way no longer verifies: a header, the body, another key.
    assert not dkim.verify(received.data.replace(b"To: ", b"To: x", 1), dnsfunc=published)
    body_at = received.data.index(b"\r\n\r\n") + 4
    changed = received.data[:body_at] + received.data[body_at:].replace(b"A", b"B", 1)
    assert not dkim.verify(changed, dnsfunc=published)
    _other_key, other_record = _new_key(tmp_path, "other")
    assert not dkim.verify(received.data, dnsfunc=lambda name, timeout=5: other_record)


def test_without_a_key_mail_is_not_signed(mail_app, smtp_server):
    with mail_app.app_context():
        rules.register_for_session(make_session(), applicant("plain"), now=utcnow())
        db.session.commit()
        assert deliver_due(now=utcnow()).sent == 1
    (received,) = smtp_server.sink.messages
    assert received.message["DKIM-Signature"] is None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"MAIL_DKIM_KEY_FILE": "KEY"}, "MAIL_DKIM_SELECTOR is not"),
        ({"MAIL_DKIM_KEY_FILE": "/nonexistent/dkim.key", "MAIL_DKIM_SELECTOR": "s"}, "dkim.key"),
        ({"MAIL_DKIM_KEY_FILE": "NOT_A_KEY", "MAIL_DKIM_SELECTOR": "s"}, "NOT_A_KEY"),
    ],
)
def test_a_key_that_cannot_be_used_stops_the_app_at_start(tmp_path, settings, message):
    key, _record = _new_key(tmp_path, "start")
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----\n")
    values = {"KEY": str(key), "NOT_A_KEY": str(not_a_key)}
    settings = {name: values.get(value, value) for name, value in settings.items()}
    message = values.get(message, message)
    with pytest.raises(RuntimeError, match=re.escape(message)):
        create_app("TestConfig", SECRET_KEY="x", INSTANCE_PATH=tmp_path / "i", **settings)
