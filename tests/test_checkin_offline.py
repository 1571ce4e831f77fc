"""The check-in page at a door without network, in real Chromium: it keeps the list on the
device, checks people in offline by code and by name, survives a reload offline, and sends
exactly those check-ins when the network is back; the same person checked in on two
devices counts once. And it is accessible online, offline and printed."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import segno
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from eventsapp.database import db, utcnow
from eventsapp.models import OrganisationKind, Registration, Role
from eventsapp.services import registrations as rules
from eventsapp.tokens import checkin_code, spaced_code
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import (
    PASSWORD,
    applicant,
    make_format,
    make_organisation,
    make_session,
    make_user,
)
from tests.test_accessibility import violations

NAMES = ["Ayşe Kaya", "Bilal Haddad", "Chiara Rossi", "Dmytro Koval", "Elif Demir", "Farid Nouri"]


@pytest.fixture
def door(live_app):
    app, base = live_app
    with app.app_context():
        host = make_organisation(OrganisationKind.HOST, name="Polizei Dortmund")
        make_user(Role.ORGANISER, host, email="kim@polizei.example")
        session = make_session(
            make_format(host, title="Blick in die Polizei"),
            capacity=10,
            starts_at=utcnow() + timedelta(minutes=20),
        )
        people = [
            rules.register_for_session(session, applicant(n, name=name), now=utcnow())
            for n, name in enumerate(NAMES)
        ]
        db.session.commit()
        codes = {r.name: checkin_code(r) for r in people}
        url = f"{base}/organiser/sessions/{session.id}/checkin"
    return app, base, url, codes


def _signed_in(browser, base: str, **options):
    context = browser.new_context(locale="de-DE", **options)
    page = context.new_page()
    page.goto(f"{base}/auth/login")
    page.locator("#email").fill("kim@polizei.example")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Einloggen").click()
    page.wait_for_url(f"{base}/organiser/**")
    return context, page


def _ready_for_offline(page, url: str) -> None:
    """The page loaded its list, its service worker controls it and its files are kept."""
    page.goto(url)
    expect(page.locator("#connection")).to_have_text("Online: Alle Check-ins sind übertragen.")
    page.wait_for_function("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(
        "url => caches.open('eventsapp-checkin').then(c => c.match(url)).then(Boolean)", arg=url
    )
    page.reload()  # from now on the service worker answers for the page
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    expect(page.locator("#connection")).to_have_text("Online: Alle Check-ins sind übertragen.")


def _wait_for_the_list(page, url: str) -> None:
    """The page has the session's list on the device and keeps its files."""
    page.wait_for_function(
        "() => Object.keys(localStorage).some(k => /checkin-\\d+$/.test(k)"
        " && JSON.parse(localStorage.getItem(k)).people.length > 0)"
    )
    page.wait_for_function(
        "url => caches.open('eventsapp-checkin').then(c => c.match(url)).then(Boolean)", arg=url
    )


def _check_in_by_code(page, code: str) -> None:
    page.locator("#code").fill(code)  # its label: "Code" (German), "الرمز" (Arabic)
    page.locator("#code").press("Enter")


def _id(app, name: str) -> int:
    with app.app_context():
        return db.session.execute(
            select(Registration.id).where(Registration.name == name)
        ).scalar_one()


def _checked_in(app) -> dict[str, object]:
    with app.app_context():
        rows = db.session.execute(
            select(Registration.name, Registration.checked_in_at).where(
                Registration.attended.is_(True)
            )
        ).all()
        return dict(rows)


def test_offline_check_ins_survive_a_reload_and_sync_exactly_once(door, browser):
    app, base, url, codes = door
    context, page = _signed_in(browser, base)
    _ready_for_offline(page, url)

    context.set_offline(True)
    expect(page.locator("#connection")).to_contain_text("Offline")
    # Three by code: scanned codes arrive as plain text, typed ones with spaces or hyphens.
    _check_in_by_code(page, codes["Ayşe Kaya"])
    expect(page.locator("#door-result")).to_have_text("Eingecheckt: Ayşe Kaya")
    _check_in_by_code(page, spaced_code(codes["Bilal Haddad"]).lower())
    expect(page.locator("#door-result")).to_have_text("Eingecheckt: Bilal Haddad")
    _check_in_by_code(page, codes["Chiara Rossi"])
    expect(page.locator("#door-result")).to_have_text("Eingecheckt: Chiara Rossi")
    # The same code again: amber, and a made-up one: red.
    _check_in_by_code(page, codes["Ayşe Kaya"])
    expect(page.locator("#door-result")).to_contain_text("Schon eingecheckt um")
    _check_in_by_code(page, "AAAA-BBBB-CCCC")
    expect(page.locator("#door-result")).to_have_text(
        "Dieser Code gehört zu keiner Anmeldung für diesen Termin."
    )
    # One by name.
    page.get_by_label("Name, E-Mail oder Organisation").fill("dmytro")
    expect(page.locator("#checkin-list li:not([hidden])")).to_have_count(1)
    page.locator("#checkin-list li:not([hidden])").get_by_role("button", name="Einchecken").click()
    expect(page.locator("#door-result")).to_have_text("Eingecheckt: Dmytro Koval")
    expect(page.locator("#connection")).to_contain_text("Noch nicht übertragen: 4")
    assert _checked_in(app) == {}  # nothing has reached the server

    # Reloaded without network: the page comes from the device, with the four present.
    page.reload()
    expect(page.locator("#present-count")).to_have_text("Anwesend: 4 von 6")
    expect(page.locator("#checkin-list li.present")).to_have_count(4)
    expect(page.locator("#r{} .present-mark".format(_id(app, "Dmytro Koval")))).to_contain_text(
        "✓ anwesend seit "
    )
    expect(page.locator("#connection")).to_contain_text("Noch nicht übertragen: 4")
    assert _checked_in(app) == {}

    context.set_offline(False)
    expect(page.locator("#connection")).to_have_text("Online: Alle Check-ins sind übertragen.")
    assert set(_checked_in(app)) == {"Ayşe Kaya", "Bilal Haddad", "Chiara Rossi", "Dmytro Koval"}

    # After the session the list leaves the device: storage and the kept page.
    stored = "() => Object.keys(localStorage).filter(k => /checkin-\\d+$/.test(k)).length"
    kept = "url => caches.open('eventsapp-checkin').then(c => c.match(url)).then(Boolean)"
    assert page.evaluate(stored) == 1 and page.evaluate(kept, url)
    with app.app_context():
        session = db.session.execute(select(Registration)).scalars().first().session
        session.starts_at -= timedelta(hours=10)
        session.ends_at -= timedelta(hours=10)
        db.session.commit()
    page.reload()
    expect(page.get_by_text("Der Einlass für diesen Termin ist geschlossen.")).to_be_visible()
    page.wait_for_function(f"() => ({stored})() === 0")
    page.wait_for_function(f"url => ({kept})(url).then(found => !found)", arg=url)
    context.close()


def test_a_code_typed_before_the_list_has_arrived_is_decided_by_the_server(door, browser):
    """Online, the page needs its list to test a code; until the list is there (slow
    network, or it failed), the code goes to the server like without script."""
    app, base, url, codes = door
    # Without the service worker, which would fetch the list past the page's routes.
    context, page = _signed_in(browser, base, service_workers="block")
    page.route("**/checkin/list.json", lambda route: route.abort())
    page.goto(url)
    expect(page.locator("#connection")).to_have_text("Online: Alle Check-ins sind übertragen.")
    _check_in_by_code(page, codes["Chiara Rossi"])
    expect(page.locator("#door-done")).to_have_text("Eingecheckt: Chiara Rossi")
    assert set(_checked_in(app)) == {"Chiara Rossi"}
    # And a name picked from the list: the server checks the person in, too.
    page.get_by_label("Name, E-Mail oder Organisation").fill("farid")
    page.locator("#checkin-list li:not([hidden])").get_by_role("button", name="Einchecken").click()
    expect(page.locator(f"#r{_id(app, 'Farid Nouri')}-done")).to_have_text(
        "Anwesenheit eingetragen."
    )
    assert set(_checked_in(app)) == {"Chiara Rossi", "Farid Nouri"}
    context.close()


def test_the_same_person_on_two_offline_devices_counts_once_with_the_earlier_time(door, browser):
    app, base, url, codes = door
    first, page_one = _signed_in(browser, base)
    second, page_two = _signed_in(browser, base)
    _ready_for_offline(page_one, url)
    _ready_for_offline(page_two, url)
    first.set_offline(True)
    second.set_offline(True)
    _check_in_by_code(page_one, codes["Elif Demir"])
    expect(page_one.locator("#door-result")).to_have_text("Eingecheckt: Elif Demir")
    page_one.wait_for_timeout(1100)
    _check_in_by_code(page_two, codes["Elif Demir"])
    expect(page_two.locator("#door-result")).to_have_text("Eingecheckt: Elif Demir")
    kept = "Object.keys(localStorage).find(k => /checkin-\\d+$/.test(k))"
    earlier = page_one.evaluate(f"() => JSON.parse(localStorage.getItem({kept})).queue[0].at")

    second.set_offline(False)  # the later device comes back first
    expect(page_two.locator("#connection")).to_have_text("Online: Alle Check-ins sind übertragen.")
    first.set_offline(False)
    expect(page_one.locator("#connection")).to_have_text("Online: Alle Check-ins sind übertragen.")
    checked_in = _checked_in(app)
    assert list(checked_in) == ["Elif Demir"]
    assert (
        checked_in["Elif Demir"].isoformat(timespec="milliseconds").replace("+00:00", "Z")
        == earlier
    )
    # Both devices now show her present once, and the count is one.
    for page in (page_one, page_two):
        page.reload()
        expect(page.locator("#present-count")).to_have_text("Anwesend: 1 von 6")
    first.close()
    second.close()


@pytest.mark.parametrize("language", ["de", "ar"])
@pytest.mark.parametrize("width", [320, 1280])
def test_the_door_pages_have_no_wcag_violations(door, browser, language, width):
    _app, base, url, codes = door
    context, page = _signed_in(browser, base, viewport={"width": width, "height": 900})
    page.goto(f"{url}?lang={language}")
    _wait_for_the_list(page, url)
    _check_in_by_code(page, codes["Ayşe Kaya"])
    expect(page.locator("#door-result .flash-ok")).to_be_visible()
    assert violations(page) == [], ("online", language, width)
    context.set_offline(True)
    _check_in_by_code(page, codes["Ayşe Kaya"])  # amber
    expect(page.locator("#door-result .flash-already")).to_be_visible()
    assert violations(page) == [], ("offline", language, width)
    _check_in_by_code(page, "0000-0000-0000")  # red
    expect(page.locator("#door-result .flash-unknown")).to_be_visible()
    assert violations(page) == [], ("offline, unknown code", language, width)
    context.set_offline(False)
    page.goto(f"{url}/print?lang={language}")
    assert violations(page) == [], ("print", language, width)
    page.emulate_media(media="print")
    assert violations(page) == [], ("print media", language, width)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    context.close()


def _camera_film(path, code: str) -> None:
    """A few seconds of a camera pointed at the QR code of `code` (Y4M, which Chromium's
    fake camera plays): the QR code as the confirmation mail draws it, on white."""
    buffer = io.BytesIO()
    segno.make(code, error="m", micro=False).save(buffer, kind="png", scale=8, border=4)
    qr = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    frame = Image.new("L", (640, 480), 255)
    frame.paste(qr, ((640 - qr.width) // 2, (480 - qr.height) // 2))
    luma, chroma = frame.tobytes(), bytes([128]) * (320 * 240)
    with open(path, "wb") as film:
        film.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(30):
            film.write(b"FRAME\n" + luma + chroma + chroma)


def test_the_camera_reads_the_qr_code_and_checks_the_person_in(door, browser, tmp_path):
    """Chromium's fake camera films Bilal's QR code; the page reads it (BarcodeDetector
    where the browser has it, else jsQR served from our own origin) and checks him in."""
    app, base, url, codes = door
    film = tmp_path / "camera.y4m"
    _camera_film(film, codes["Bilal Haddad"])
    with_camera = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={film}",
        ],
    )
    try:
        context, page = _signed_in(with_camera, base)
        context.grant_permissions(["camera"], origin=base)
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(url)
        page.get_by_role("button", name="Mit der Kamera scannen").click()
        expect(page.locator("#door-result")).to_have_text(
            "Eingecheckt: Bilal Haddad", timeout=15000
        )
        expect(page.locator("#scan-video")).to_be_hidden()  # the camera is switched off again
        # Shown at once, sent in the background: the page says when the server has it.
        expect(page.locator("#connection")).to_have_text("Online: Alle Check-ins sind übertragen.")
        assert set(_checked_in(app)) == {"Bilal Haddad"}
        assert all(request.startswith(base) for request in requests)  # nothing from elsewhere
        context.close()
    finally:
        with_camera.close()
