"""/admin/outbox: the mails one by one, addresses masked, with a search, a state filter,
pages and a retry per dead mail; for admins only, safe against hostile input, accessible."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from eventsapp.admin.outbox import PER_PAGE, mask_address, mask_addresses_in
from eventsapp.database import db, utcnow
from eventsapp.logs import EMAIL
from eventsapp.models import OrganisationKind, OutboxMessage, OutboxStatus, Role
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD, make_organisation, make_user
from tests.test_accessibility import violations
from tests.test_hostile_input import hostile as common_hostile

# --- masking -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("ayse@example.org", "ay***@ex***.org"),
        ("ab@example.org", "a***@ex***.org"),  # never more than half of a part
        ("a@b.de", "***@***.de"),
        ("p.q@mail.polizei.nrw.de", "p***@ma***.de"),
        ("ayşe@örnek.de", "ay***@ör***.de"),
        ("root@localhost", "ro***@lo***"),
        ("no address", "no***"),
        ("", ""),
    ],
)
def test_mask_address(address, masked):
    assert mask_address(address) == masked


def test_addresses_in_error_texts_are_masked():
    text = "SMTPRecipientsRefused: {'ayse@example.org': (550, b'5.1.1 <ayse%40example.org>')}"
    masked = mask_addresses_in(text)
    assert "ayse@example.org" not in masked and "ayse%40example.org" not in masked
    assert masked.count("ay***@ex***.org") == 2
    assert EMAIL.search(masked) is None


@given(
    local=st.from_regex(r"[a-z0-9._+-]{1,30}", fullmatch=True),
    domain=st.from_regex(r"[a-z0-9-]{1,20}(\.[a-z0-9-]{1,10}){1,3}", fullmatch=True),
)
def test_a_masked_address_shows_at_most_two_characters_of_each_part(local, domain):
    masked = mask_address(f"{local}@{domain}")
    shown_local, _, shown_domain = masked.partition("@")
    assert shown_local == local[: min(2, len(local) // 2)] + "***"
    name, _, top = domain.rpartition(".")
    assert shown_domain == name[: min(2, len(name) // 2)] + "***." + top
    assert EMAIL.search(masked) is None  # not an address any more, for a harvester either


# --- the page ------------------------------------------------------------------------------

BASE = datetime(2027, 1, 12, 17, 0, tzinfo=UTC)  # 18:00 in Berlin


def _mail(n: int, recipient: str, status: OutboxStatus = OutboxStatus.SENT, **values) -> dict:
    return {
        "recipient": recipient,
        "language": "de",
        "subject": f"Betreff {n:03d}",
        "body_text": "Hallo",
        "body_html": None,
        "deferred_template": None,
        "dedupe_key": f"test:{n}",
        "message_id": f"<test-{n}@eventsapp.test>",
        "status": status,
        "attempts": 1,
        "next_attempt_at": BASE + timedelta(minutes=n),
        "last_error": "",
        "extra_headers": "",
        "created_at": BASE + timedelta(minutes=n),
        **values,
    }


def _queue(app, *rows: dict) -> None:
    with app.app_context():
        db.session.execute(insert(OutboxMessage), list(rows))
        db.session.commit()


def _state(app, n: int):
    with app.app_context():
        return db.session.execute(
            select(
                OutboxMessage.status,
                OutboxMessage.attempts,
                OutboxMessage.next_attempt_at,
                OutboxMessage.last_error,
            ).where(OutboxMessage.dedupe_key == f"test:{n}")
        ).one()


def _subjects(html: str) -> list[str]:
    """The rows of the list, by their subjects, top to bottom."""
    return re.findall(r"<td[^>]*>(Betreff \d+)</td>", html)


@pytest.fixture
def admin(app):
    with app.app_context():
        make_user(Role.ADMIN, email="admin@example.org")
        db.session.commit()
    client = app.test_client()
    assert login(client, "admin@example.org").status_code == 303
    return client


@pytest.fixture
def mails(app):
    """A sent, a waiting, a deferred, a dead and a purged mail."""
    refused = "SMTPRecipientsRefused: {'bernd.kaya@vmdo.example': (550, b'5.1.1 unknown user')}"
    _queue(
        app,
        _mail(1, "ayse.yilmaz@example.org"),
        _mail(2, "AYLA@example.org", OutboxStatus.PENDING, attempts=2, last_error="timed out"),
        _mail(3, "carla@example.org", OutboxStatus.PENDING, subject="", deferred_template="reg"),
        _mail(4, "bernd.kaya@vmdo.example", OutboxStatus.DEAD, attempts=8, last_error=refused),
        _mail(5, "", OutboxStatus.DEAD, subject="", purged_at=BASE),
    )


def test_the_list_shows_every_mail_masked_newest_first(app, admin, mails):
    response = admin.get("/admin/outbox")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for address in ("ayse.yilmaz@example.org", "AYLA@example.org", "bernd.kaya@vmdo.example"):
        assert address not in html and address.lower() not in html.lower()
    assert EMAIL.findall(html) == []  # no address at all, not even inside the error text
    assert "ay***@ex***.org" in html and "be***@vm***.example" in html
    assert _subjects(html) == ["Betreff 004", "Betreff 002", "Betreff 001"]
    assert "<code>reg</code>" in html  # not rendered yet: the template's name
    assert "Adresse gelöscht" in html
    assert "550" in html and "timed out" in html
    for word in ("Verschickt", "Wartend", "Nicht zustellbar"):
        assert html.count(word) >= 2  # in the counts and in the list (and the filter)
    assert '<time datetime="2027-01-12T17:01:00+00:00">Di., 12.01.2027, 18:01</time>' in html
    # One retry per dead mail that can still be sent: not for the purged one.
    assert len(re.findall(r'name="message" value="\d+"', html)) == 1


def test_a_long_error_is_cut_short(app, admin):
    _queue(app, _mail(1, "x@example.org", OutboxStatus.DEAD, last_error="E" * 5000))
    html = admin.get("/admin/outbox").get_data(as_text=True)
    assert "E" * 159 + "…" in html and "E" * 160 not in html


def test_search_by_part_of_the_address_ignores_case(app, admin, mails):
    cases = {
        "ay": ["Betreff 004", "Betreff 002", "Betreff 001"],  # bernd.kAYa too
        "AYSE": ["Betreff 001"],
        "ayla@EXAMPLE.org": ["Betreff 002"],
        "@vmdo": ["Betreff 004"],
        "example.org": ["Betreff 002", "Betreff 001"],
        "_": [],  # taken literally, not as LIKE's "any character"
        "%": [],
        "nobody": [],
    }
    for query, expected in cases.items():
        response = admin.get("/admin/outbox", query_string={"q": query})
        html = response.get_data(as_text=True)
        assert response.status_code == 200, query
        assert _subjects(html) == expected, query
        assert "ayse.yilmaz@example.org" not in html
        if not expected:
            assert "Keine E-Mails gefunden." in html


def test_filter_by_state_and_together_with_the_search(app, admin, mails):
    def listed(**query) -> list[str]:
        response = admin.get("/admin/outbox", query_string=query)
        assert response.status_code == 200
        return _subjects(response.get_data(as_text=True))

    assert listed(status="pending") == ["Betreff 002"]
    assert listed(status="sent") == ["Betreff 001"]
    assert listed(status="dead") == ["Betreff 004"]
    assert listed(status="sending") == []
    assert listed(status="pending", q="ayse") == []
    assert listed(status="", q="ayse") == ["Betreff 001"]
    html = admin.get("/admin/outbox?status=dead").get_data(as_text=True)
    assert '<option selected value="dead">Nicht zustellbar</option>' in html


def _links(html: str) -> dict[str, dict]:
    found = {}
    for rel, href in re.findall(r'<a rel="(prev|next)" href="([^"]+)"', html):
        found[rel] = parse_qs(urlsplit(unescape(href)).query)
    return found


def test_pages_of_fifty_with_links_that_keep_the_filter(app, admin):
    total = 2 * PER_PAGE + 20
    _queue(app, *(_mail(n, f"person{n}@example.org") for n in range(1, total + 1)))
    _queue(app, _mail(999, "other@example.org", OutboxStatus.DEAD))
    first = admin.get("/admin/outbox?q=person").get_data(as_text=True)
    assert _subjects(first) == [f"Betreff {n:03d}" for n in range(total, total - PER_PAGE, -1)]
    assert "Seite 1 von 3" in first and f"{total} E-Mails gefunden." in first
    assert _links(first) == {"next": {"q": ["person"], "page": ["2"]}}

    second = admin.get("/admin/outbox?q=person&page=2").get_data(as_text=True)
    assert _subjects(second)[0] == f"Betreff {total - PER_PAGE:03d}"
    assert _links(second) == {
        "prev": {"q": ["person"], "page": ["1"]},
        "next": {"q": ["person"], "page": ["3"]},
    }
    last = admin.get("/admin/outbox?q=person&page=3").get_data(as_text=True)
    assert _subjects(last) == [f"Betreff {n:03d}" for n in range(20, 0, -1)]
    assert set(_links(last)) == {"prev"}
    # Pages that do not exist: the nearest one that does.
    for page, shown in (("999", 3), ("99999999999999999999999", 3), ("0", 1), ("-4", 1)):
        html = admin.get(f"/admin/outbox?q=person&page={page}").get_data(as_text=True)
        assert f"Seite {shown} von 3" in html, page
    assert "Seite 1 von 3" in admin.get("/admin/outbox?q=person&page=zwei").get_data(as_text=True)
    # A page of one mail has no page links.
    html = admin.get("/admin/outbox?status=dead").get_data(as_text=True)
    assert _subjects(html) == ["Betreff 999"] and _links(html) == {} and "Seite " not in html


ONLY_LETTERS = "Bitte verwenden Sie nur Buchstaben, Ziffern und Satzzeichen."


def _field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="error" id="{name}-error">([^<]*)</p>', html)
    assert match, f"no message next to {name}"
    attached = rf'<(?:input|select)[^>]*aria-describedby="{name}-error"[^>]*id="{name}"'
    assert re.search(attached, html), f"{name} does not point at its message"
    return match[1].strip()


@pytest.mark.parametrize(
    ("query", "name", "message"),
    [
        ({"q": "a" * 255}, "q", "Bitte höchstens 254 Zeichen."),
        ({"q": "ayse\x1b[31m"}, "q", ONLY_LETTERS),
        ({"q": "ay\u2028se"}, "q", ONLY_LETTERS),
        ({"status": "bogus"}, "status", "Bitte wählen Sie einen Eintrag aus der Liste."),
        ({"status": "<script>"}, "status", "Bitte wählen Sie einen Eintrag aus der Liste."),
    ],
)
def test_bad_input_gets_a_message_next_to_the_field(app, admin, mails, query, name, message):
    response = admin.get("/admin/outbox", query_string=query)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _field_error(html, name) == message
    assert 'class="error-summary"' in html
    assert _subjects(html) == []  # no list that looks filtered but is not


def test_a_nul_byte_is_refused_before_the_page(app, admin):
    # The app refuses NUL in any query (eventsapp/security.py) before the view runs.
    response = admin.get("/admin/outbox", query_string={"q": "ay\x00se"})
    assert response.status_code == 400


# --- retrying -------------------------------------------------------------------------------


def test_retrying_one_dead_mail_keeps_the_search(app, admin):
    _queue(
        app,
        _mail(1, "ayse@example.org", OutboxStatus.DEAD, attempts=8, last_error="554 refused"),
        _mail(2, "ayla@example.org", OutboxStatus.DEAD, attempts=8, last_error="554 refused"),
    )
    html = admin.get("/admin/outbox?q=ay&status=dead").get_data(as_text=True)
    ids = re.findall(r'name="message" value="(\d+)"', html)
    assert len(ids) == 2
    with app.app_context():
        first = db.session.execute(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == "test:1")
        ).scalar_one()
    before = utcnow()
    response = admin.post(
        "/admin/outbox/retry",
        data={
            "csrf_token": csrf_token(admin, "/admin/outbox"),
            "message": first,
            "q": "ay",
            "status": "dead",
        },
    )
    assert response.status_code == 303
    assert parse_qs(urlsplit(response.headers["Location"]).query) == {
        "q": ["ay"],
        "status": ["dead"],
    }
    status, attempts, next_attempt_at, last_error = _state(app, 1)
    assert (status, attempts, last_error) == (OutboxStatus.PENDING, 0, "")
    assert before <= next_attempt_at <= utcnow()
    assert _state(app, 2).status == OutboxStatus.DEAD  # only the one asked for
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 E-Mail wird erneut versucht." in page
    assert 'value="ay"' in page and '<option selected value="dead">' in page
    assert _subjects(page) == ["Betreff 002"]


def test_retrying_all_keeps_the_page(app, admin):
    _queue(app, *(_mail(n, f"p{n}@example.org", OutboxStatus.DEAD) for n in range(1, 61)))
    response = admin.post(
        "/admin/outbox/retry",
        data={"csrf_token": csrf_token(admin, "/admin/outbox"), "page": "2", "q": "p"},
    )
    assert response.status_code == 303
    assert parse_qs(urlsplit(response.headers["Location"]).query) == {"q": ["p"], "page": ["2"]}
    assert {_state(app, n).status for n in range(1, 61)} == {OutboxStatus.PENDING}
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "60 E-Mails werden erneut versucht." in page


@pytest.mark.parametrize("message", ["", "abc", "0", "-1", "99999999999999999999", "1e3"])
def test_a_broken_retry_form_retries_nothing(app, admin, message):
    _queue(app, _mail(1, "ayse@example.org", OutboxStatus.DEAD, attempts=8))
    token = csrf_token(admin, "/admin/outbox")
    response = admin.post("/admin/outbox/retry", data={"csrf_token": token, "message": message})
    assert response.status_code == 400
    assert _state(app, 1).status == OutboxStatus.DEAD


def test_retry_needs_the_csrf_token(app, admin):
    _queue(app, _mail(1, "ayse@example.org", OutboxStatus.DEAD, attempts=8))
    assert admin.post("/admin/outbox/retry", data={"message": "1"}).status_code == 400
    assert _state(app, 1).status == OutboxStatus.DEAD


def test_a_mail_emptied_for_privacy_is_not_retried(app, admin, mails):
    token = csrf_token(admin, "/admin/outbox")
    admin.post("/admin/outbox/retry", data={"csrf_token": token})
    assert _state(app, 4).status == OutboxStatus.PENDING
    assert _state(app, 5).status == OutboxStatus.DEAD  # no address left to send to


def test_unsafe_filter_values_are_not_carried_into_the_redirect(app, admin):
    token = csrf_token(admin, "/auth/account")
    response = admin.post(
        "/admin/outbox/retry",
        data={"csrf_token": token, "status": "bogus", "q": "x", "_external": "1"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/outbox"


# --- who may see it ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["anonymous", "partner", "organiser"])
def test_only_admins_reach_the_outbox(app, mails, role):
    with app.app_context():
        make_user(Role.PARTNER, make_organisation(OrganisationKind.PARTNER), email="p@example.org")
        make_user(Role.ORGANISER, email="o@example.org")
        db.session.commit()
    client = app.test_client()
    if role != "anonymous":
        email = {"partner": "p@example.org", "organiser": "o@example.org"}[role]
        assert login(client, email).status_code == 303
    token = csrf_token(client, "/auth/login" if role == "anonymous" else "/auth/account")
    responses = [
        client.get("/admin/outbox"),
        client.get("/admin/outbox?q=ayse&status=dead"),
        client.post("/admin/outbox/retry", data={"csrf_token": token}),
        client.post("/admin/outbox/retry", data={"csrf_token": token, "message": "4"}),
    ]
    for response in responses:
        if role == "anonymous":
            assert response.status_code == 302
            assert response.headers["Location"].startswith("/auth/login")
        else:
            assert response.status_code == 403
        assert "ay***" not in response.get_data(as_text=True)
    assert _state(app, 4).status == OutboxStatus.DEAD


# --- hostile input -------------------------------------------------------------------------

# The suite's hostile strings (tests/test_hostile_input.py), and what a LIKE search
# must take literally.
hostile = st.one_of(
    common_hostile,
    st.sampled_from(
        [
            "%",
            "_",
            "/",
            "\\",
            "'; DROP TABLE outbox_messages; --",
        ]
    ),
)
HOSTILE_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _no_markup_from(html: str) -> None:
    for payload in ("<script>alert(1)</script>", "<img src=x onerror"):
        assert payload not in html


def test_hostile_search_and_filter_never_break_the_page(app, admin, mails):
    @HOSTILE_SETTINGS
    @given(q=hostile, status=st.one_of(st.sampled_from(["dead", "sent"]), hostile), page=hostile)
    def search(q, status, page):
        query = {"q": q, "status": status, "page": page}
        response = admin.get("/admin/outbox", query_string=query)
        assert response.status_code in (200, 400, 422), (query, response.status_code)
        html = response.get_data(as_text=True)
        _no_markup_from(html)
        assert "ayse.yilmaz@example.org" not in html
        if response.status_code != 400:
            assert "&lt;script&gt;" in html or "<script>alert(1)</script>" not in q

    search()


def test_hostile_retry_forms_never_break_anything(app, admin, mails):
    token = csrf_token(admin, "/admin/outbox")

    @HOSTILE_SETTINGS
    @given(message=hostile, q=hostile, status=hostile, page=hostile)
    def retry(message, q, status, page):
        data = {"csrf_token": token, "message": message, "q": q, "status": status, "page": page}
        before = _state(app, 4)
        response = admin.post("/admin/outbox/retry", data=data)
        assert response.status_code in (303, 400), (data, response.status_code)
        if response.status_code == 303:
            follow = admin.get(response.headers["Location"])
            assert follow.status_code == 200, response.headers["Location"]
            _no_markup_from(follow.get_data(as_text=True))
        else:
            assert _state(app, 4) == before  # refused: nothing retried

    retry()


# --- accessibility ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["de", "ar"])
def test_the_outbox_page_has_no_wcag_violations(live_app, browser, language):
    app, base = live_app
    with app.app_context():
        make_user(Role.ADMIN, email="admin@example.org")
        db.session.commit()
    long_error = "SMTPDataError: (554, b'5.7.1 <ayse@example.org>: message refused " + "x" * 300
    _queue(
        app,
        *(_mail(n, f"person{n}@example.org") for n in range(1, PER_PAGE + 5)),
        _mail(100, "ayse@example.org", OutboxStatus.DEAD, attempts=8, last_error=long_error),
        _mail(101, "ayla@example.org", OutboxStatus.PENDING, deferred_template="registered"),
        _mail(102, "", OutboxStatus.DEAD, subject="", purged_at=BASE),
        _mail(103, "ayman@example.org", OutboxStatus.DEAD, attempts=8, last_error="554"),
    )
    found = {}
    for width in (320, 1280):
        page = browser.new_page(viewport={"width": width, "height": 800}, locale="de-DE")
        page.goto(base + f"/auth/login?lang={language}")
        page.locator("#email").fill("admin@example.org")
        page.locator("#password").fill(PASSWORD)
        with page.expect_navigation():
            page.locator("form button[type=submit]").click()
        page.goto(base + f"/admin/outbox?lang={language}")
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        assert page.locator("table.list tbody tr").count() == PER_PAGE
        found[f"{width} list"] = violations(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        html = page.content()
        assert "ayse@example.org" not in html and "person1@example.org" not in html
        # A search, a retry and its message, with the keyboard's path through the form.
        page.locator("#q").fill("ay")
        page.locator("#status").select_option("dead")
        with page.expect_navigation():
            page.locator("form[role=search] button[type=submit]").click()
        assert "q=ay" in page.url
        with page.expect_navigation():
            page.locator("td.actions button").first.click()
        assert "q=ay" in page.url and "status=dead" in page.url
        assert page.locator(".flash-success").count() == 1
        found[f"{width} after retry"] = violations(page)
        page.goto(base + "/admin/outbox?q=" + "a" * 300)
        assert page.locator("#q-error").count() == 1
        found[f"{width} with an error"] = violations(page)
        page.close()
    assert {k: v for k, v in found.items() if v} == {}
