"""The wire form of a confirmation, as received by a real SMTP server: the MIME tree mail
clients look for (RFC 6047), no parser defects, header and text lines within RFC 5322's
limits, RFC 2047 encoded words of at most 75 characters."""

from __future__ import annotations

import base64
import re
from email import message_from_bytes, policy

from eventsapp.database import db, utcnow
from eventsapp.mail.delivery import deliver_due
from eventsapp.services import registrations as rules
from tests.factories import applicant, make_format, make_session

# Long enough that the Arabic subject needs three encoded words.
ARABIC_TITLE = "نظرة إلى داخل الشرطة – لقاء حوار مع الجمعيات والمواطنين في دورتموند"
ENCODED_WORD = re.compile(rb"=\?[^?]+\?[bBqQ]\?[^?]*\?=")


def _tree(part) -> object:
    if part.is_multipart():
        return (part.get_content_type(), [_tree(p) for p in part.get_payload()])
    return part.get_content_type()


def _confirmation(mail_app, smtp_server, language: str) -> bytes:
    with mail_app.app_context():
        format = make_format(
            title="Blick in die Polizei: Dialog mit Vereinen und Bürgerinnen und Bürgern",
            translations={"ar": {"title": ARABIC_TITLE}},
        )
        session = make_session(format)
        rules.register_for_session(session, applicant(language, language=language), now=utcnow())
        db.session.commit()
        assert deliver_due(now=utcnow()).sent == 1
    (received,) = smtp_server.sink.messages
    return received.data


def test_a_confirmation_has_the_shape_clients_recognise_and_no_defects(mail_app, smtp_server):
    data = _confirmation(mail_app, smtp_server, "ar")
    for each in (policy.compat32, policy.default):
        message = message_from_bytes(data, policy=each)
        defects = [(part.get_content_type(), part.defects) for part in message.walk()]
        assert all(not found for _type, found in defects), (each, defects)
    message = message_from_bytes(data, policy=policy.default)
    # The HTML and the QR code it shows for check-in belong together (multipart/related).
    assert _tree(message) == (
        "multipart/mixed",
        [
            (
                "multipart/alternative",
                ["text/plain", ("multipart/related", ["text/html", "image/png"]), "text/calendar"],
            ),
            "application/ics",
        ],
    )
    alternative, attachment = message.get_payload()
    text, related, calendar = alternative.get_payload()
    html, image = related.get_payload()
    assert related.get_param("type") == "text/html"
    content_id = image["Content-ID"].strip("<>")
    assert f'src="cid:{content_id}"' in html.get_content()
    assert image.get_content_disposition() == "inline"
    assert calendar.get_param("method") == "REQUEST" and calendar.get_content_charset() == "utf-8"
    assert "METHOD:REQUEST" in calendar.get_content()
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "einladung.ics"
    assert attachment.get_content().decode() == calendar.get_content()

    head = data.split(b"\r\n\r\n", 1)[0]
    header_lines = head.split(b"\r\n")
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    long = [line for line in header_lines if len(line) > 78]
    # Only a line that cannot be folded may pass 78: one long token (the DKIM-free mail
    # here has none, so nothing at all).
    assert long == [], long
    words = ENCODED_WORD.findall(head)
    assert words and all(len(word) <= 75 for word in words), [len(w) for w in words]
    assert message["Subject"].endswith(ARABIC_TITLE)
    assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000", message["Date"])

    # Text bodies in canonical form (CRLF) and, where the words allow, lines of 78 at most.
    for part in (text, html, calendar):
        raw = base64.b64decode(part.get_payload())
        assert b"\n" not in raw.replace(b"\r\n", b""), part.get_content_type()
    # HTML names both its colours and says it is light, so dark-mode clients keep contrast.
    page = html.get_content()
    assert '<meta name="color-scheme" content="light">' in page
    body_style = re.search(r'<body style="([^"]*)"', page).group(1)
    assert "color: #1a1a1a" in body_style and "background-color: #ffffff" in body_style
    plain = base64.b64decode(text.get_payload()).decode()
    too_long = [line for line in plain.split("\r\n") if len(line) > 78 and " " in line.strip()]
    assert too_long == []


def test_a_list_of_new_dates_stays_an_attachment(mail_app, smtp_server):
    """PUBLISH is no invitation: the file is attached, no accept/decline is offered."""
    from eventsapp.mail.mime import Outgoing, render

    mail = Outgoing(
        id=1,
        recipient="verein@example.org",
        language="de",
        subject="Neue Termine",
        body_text="Neue Termine\n",
        body_html="<p>Neue Termine</p>",
        ics="BEGIN:VCALENDAR\r\nMETHOD:PUBLISH\r\nEND:VCALENDAR\r\n",
        ics_method="PUBLISH",
        checkin_code=None,
        extra_headers="",
        message_id="<1@eventsapp.test>",
        attempts=0,
    )
    data = render(mail, sender="Dialog <termine@example.org>", recipient=mail.recipient, headers={})
    message = message_from_bytes(data, policy=policy.default)
    assert _tree(message) == (
        "multipart/mixed",
        [("multipart/alternative", ["text/plain", "text/html"]), "text/calendar"],
    )
    assert message.get_payload()[1].get_filename() == "termine.ics"


def test_replies_go_to_the_host_and_the_mail_says_calendar_answers_do_not_reach_us(
    mail_app, smtp_server
):
    with mail_app.app_context():
        session = make_session(make_format(), capacity=1)
        session.host_organisation.contact_email = "dialog@polizei-dortmund.example"
        rules.register_for_session(session, applicant("seat"), now=utcnow())
        rules.register_for_session(session, applicant("queue"), now=utcnow())
        db.session.commit()
        host = session.host_organisation.name
        assert deliver_due(now=utcnow()).sent == 2
    (confirmed,) = smtp_server.sink.to("personseat@example.org")
    (waiting,) = smtp_server.sink.to("personqueue@example.org")
    sender = mail_app.config["MAIL_DEFAULT_SENDER"]
    for message in (confirmed, waiting):
        assert message["From"] == sender
        assert message["Reply-To"] == f"{host} <dialog@polizei-dortmund.example>"
    calendar = next(p for p in confirmed.walk() if p.get_content_type() == "text/calendar")
    assert "ORGANIZER;CN=" in calendar.get_content()
    assert "mailto:dialog@polizei-dortmund.example" in calendar.get_content().replace("\r\n ", "")
    note = "Zusagen oder Absagen aus Ihrem Kalenderprogramm erreichen uns nicht."
    for part in ("plain", "html"):
        assert note in confirmed.get_body((part,)).get_content()
        assert note not in waiting.get_body((part,)).get_content()  # nothing to accept there
    assert sender.rpartition("<")[2].rstrip(">") not in confirmed.get_body(("plain",)).get_content()
