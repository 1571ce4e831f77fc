"""Typo-safe addresses: "Meinten Sie …?" for misspelt providers, and domains that take no
mail refused where DNS can tell (a tiny DNS server on 127.0.0.1 plays the internet)."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import dns.message
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.rrset
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from playwright.sync_api import expect
from rapidfuzz.distance import OSA
from sqlalchemy import func, select

from eventsapp import emails
from eventsapp.database import db
from eventsapp.emails import (
    PROVIDERS,
    accepts_mail,
    normalise_email,
    suggest_domain,
    suggest_email,
)
from eventsapp.models import OutboxMessage, Registration, Subscription
from tests.conftest import csrf_token, make_app
from tests.factories import make_format, make_session
from tests.test_accessibility import violations

# --- the table --------------------------------------------------------------------------

TYPOS = {
    "gmial.com": "gmail.com",
    "gmai.com": "gmail.com",
    "gmail.con": "gmail.com",
    "gmail.co": "gmail.com",
    "gmail.com.com": "gmail.com",
    "googlemail.con": "googlemail.com",
    "hotmial.com": "hotmail.com",
    "hotmail.con": "hotmail.com",
    "outlok.com": "outlook.com",
    "yaho.com": "yahoo.com",
    "yahoo.con": "yahoo.com",
    "icloud.con": "icloud.com",
    "wed.de": "web.de",
    "web.dr": "web.de",
    "webde.de": "web.de",
    "gmx.dr": "gmx.de",
    "gmc.de": "gmx.de",
    "gmx.ne": "gmx.net",
    "tonline.de": "t-online.de",
    "t-onlien.de": "t-online.de",
    "freenet.dr": "freenet.de",
    "frenet.de": "freenet.de",
    "aol.con": "aol.com",
    "GMIAL.COM": "gmail.com",
}
# Real domains a hint must leave alone: the providers' other countries, and everything else.
NO_HINT = [
    "example.org",
    "polizei.nrw.de",
    "dortmund.de",
    "hotmail.es",
    "yahoo.it",
    "live.be",
    "gmx.at",
    "hotmail.com.tr",
    "mail.de",
    "web.com",
    "uni-dortmund.de",
]


@pytest.mark.parametrize(("typo", "provider"), TYPOS.items())
def test_common_typos_get_the_provider(typo, provider):
    assert suggest_domain(typo) == provider
    assert suggest_email(f"ayse@{typo.lower()}") == f"ayse@{provider}"


@pytest.mark.parametrize("domain", [*PROVIDERS, *NO_HINT])
def test_real_domains_get_no_hint(domain):
    assert suggest_domain(domain) is None
    assert suggest_email(f"ayse@{domain}") is None


providers = st.sampled_from(PROVIDERS)
domain_letters = st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-.")


@st.composite
def one_edit(draw) -> tuple[str, str]:
    """A provider and the same with one typo: a letter more, less, replaced or swapped."""
    provider = draw(providers)
    kind = draw(st.sampled_from(["insert", "delete", "replace", "swap"]))
    at = draw(st.integers(0, len(provider) - (0 if kind == "insert" else 1)))
    if kind == "insert":
        typo = provider[:at] + draw(domain_letters) + provider[at:]
    elif kind == "delete":
        typo = provider[:at] + provider[at + 1 :]
    elif kind == "replace":
        typo = provider[:at] + draw(domain_letters) + provider[at + 1 :]
    else:
        at = min(at, len(provider) - 2)
        typo = provider[:at] + provider[at + 1] + provider[at] + provider[at + 2 :]
    return provider, typo


@given(providers, st.booleans())
def test_a_provider_never_gets_a_suggestion(provider, upper):
    assert suggest_domain(provider.upper() if upper else provider) is None


@given(one_edit())
def test_one_edit_from_a_provider_gets_a_provider_one_edit_away(pair):
    provider, typo = pair
    # Not another provider, the same letter again, or the provider with a root dot
    # ("web.de."), which is the provider itself.
    assume(typo.rstrip(".") not in emails._KNOWN)
    suggestion = suggest_domain(typo)
    assert suggestion in PROVIDERS
    assert OSA.distance(typo, suggestion) <= OSA.distance(typo, provider) == 1


# --- the registration form --------------------------------------------------------------


@pytest.fixture
def quiet_app(tmp_path):
    """The app without rate limits: these tests send a form many times from one client."""
    app = make_app(tmp_path, RATELIMIT_ENABLED=False)
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def session_id(quiet_app) -> int:
    with quiet_app.app_context():
        session = make_session(make_format(title="Blick in die Polizei"), capacity=20)
        db.session.commit()
        return session.id


@pytest.fixture
def client(quiet_app):
    return quiet_app.test_client()


def register(client, session_id: int, email: str, **extra):
    data = {
        "name": "Ayşe Demir",
        "email": email,
        "language": "de",
        "consent": "y",
        "csrf_token": csrf_token(client, f"/sessions/{session_id}"),
        **extra,
    }
    return client.post(f"/sessions/{session_id}/register", data=data)


def registered(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Registration.email).order_by(Registration.id)))


def mails(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_first_submit_shows_the_hint_and_writes_nothing(quiet_app, client, session_id):
    response = register(client, session_id, "Ayse@Gmial.com")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Meinten Sie ayse@gmail.com?" in html
    assert 'name="email_suggestion" value="ayse@gmail.com"' in html
    assert 'name="email_suggestion" value="ayse@gmial.com"' in html
    assert "Die Adresse stimmt so: ayse@gmial.com" in html
    assert 'aria-describedby="email-hint email-error"' in html
    assert registered(quiet_app) == [] and mails(quiet_app) == 0


def test_accepting_the_suggestion_registers_the_corrected_address(quiet_app, client, session_id):
    response = register(client, session_id, "ayse@gmial.com", email_suggestion="ayse@gmail.com")
    assert response.status_code == 303
    assert registered(quiet_app) == ["ayse@gmail.com"]


def test_keeping_the_address_registers_it_as_typed(quiet_app, client, session_id):
    response = register(client, session_id, "ayse@gmial.com", email_suggestion="ayse@gmial.com")
    assert response.status_code == 303
    assert registered(quiet_app) == ["ayse@gmial.com"]


def test_kept_address_stays_chosen_when_another_field_fails(quiet_app, client, session_id):
    response = register(
        client, session_id, "ayse@gmial.com", email_suggestion="ayse@gmial.com", consent=None
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Meinten Sie" not in html  # the address is settled; the consent is missing
    assert 'value="ayse@gmial.com" checked' in html
    assert registered(quiet_app) == []


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("bob@gmial.com", "ayse@gmail.com"),  # changed the address after the hint
        ("ayse@gmial.com", "someone@else.example.org"),  # an answer never offered
        ("ayse@gmial.com", ""),  # sent again without choosing
    ],
)
def test_an_answer_counts_only_for_the_address_it_was_offered_for(
    quiet_app, client, session_id, typed, answer
):
    response = register(client, session_id, typed, email_suggestion=answer)
    assert response.status_code == 422
    assert "Meinten Sie" in response.get_data(as_text=True)
    assert registered(quiet_app) == []


def test_correct_addresses_go_through_at_once(quiet_app, client, session_id):
    assert register(client, session_id, "ayse@gmail.com").status_code == 303
    assert register(client, session_id, "kim@polizei.nrw.de").status_code == 303
    assert registered(quiet_app) == ["ayse@gmail.com", "kim@polizei.nrw.de"]


def test_the_hint_is_in_the_page_language(client, session_id):
    client.get(f"/sessions/{session_id}?lang=ar")
    html = register(client, session_id, "ayse@gmial.com").get_data(as_text=True)
    assert 'dir="rtl"' in html
    assert 'value="ayse@gmail.com"' in html


def test_every_form_for_an_address_we_write_to_shows_the_hint(quiet_app, client):
    with quiet_app.app_context():
        format = make_format(slug="blick")
        db.session.commit()
        format_id = format.id
    token = csrf_token(client, "/privacy")
    for url, data in [
        ("/formats/blick/subscribe", {"language": "de"}),
        ("/privacy/my-data", {}),
        ("/accessibility", {"message": "Der Kontrast ist zu schwach."}),
        ("/auth/reset-password", {}),
    ]:
        response = client.post(url, data={"email": "x@gmx.dr", "csrf_token": token, **data})
        assert response.status_code == 422, url
        assert "Meinten Sie x@gmx.de?" in response.get_data(as_text=True), url
    with quiet_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0
    assert mails(quiet_app) == 0
    # Signing in takes the address as it is: an account's address is what it is.
    response = client.post(
        "/auth/login", data={"email": "x@gmx.dr", "password": "secret", "csrf_token": token}
    )
    assert "Meinten Sie" not in response.get_data(as_text=True)
    # Following, once confirmed, works with the chosen address.
    response = client.post(
        "/formats/blick/subscribe",
        data={
            "email": "x@gmx.dr",
            "email_suggestion": "x@gmx.de",
            "language": "de",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    with quiet_app.app_context():
        assert db.session.scalars(
            select(Subscription.email).where(Subscription.format_id == format_id)
        ).all() == ["x@gmx.de"]


def test_organiser_adding_a_person_gets_the_hint(office):
    client, session_id = office["client"], office["session"]
    token = csrf_token(client, f"/organiser/sessions/{session_id}")
    data = {"name": "Ayşe Demir", "email": "ayse@hotmial.com", "language": "de"}
    url = f"/organiser/sessions/{session_id}/registrations"
    response = client.post(url, data={**data, "csrf_token": token})
    assert response.status_code == 422
    assert "Meinten Sie ayse@hotmail.com?" in response.get_data(as_text=True)
    response = client.post(
        url, data={**data, "csrf_token": token, "email_suggestion": "ayse@hotmail.com"}
    )
    assert response.status_code in (302, 303)
    assert registered(client.application) == ["ayse@hotmail.com"]


def test_the_suggestion_is_escaped_in_the_page(client, session_id):
    html = register(client, session_id, "o'neil&co@gmial.com").get_data(as_text=True)
    assert "Meinten Sie o&#39;neil&amp;co@gmail.com?" in html
    assert 'value="o&#39;neil&amp;co@gmail.com"' in html
    assert "o'neil&co@" not in html


# --- hostile input -----------------------------------------------------------------------

local_parts = st.text(
    alphabet=st.sampled_from("abcxyz019.!#$%&'*+/=?^_`{|}~-<>\"\\ @äöüşğ😀\u202e\x00"),
    min_size=1,
    max_size=40,
)
typo_domains = st.sampled_from(sorted(TYPOS))
hostile_addresses = st.one_of(
    st.builds("{}@{}".format, local_parts, typo_domains),
    st.text(max_size=300),
    st.sampled_from(["@gmial.com", "a@", "<script>@gmial.com", "a@gmial.com\r\nBcc: x@y.z"]),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(email=hostile_addresses, answer=st.one_of(st.none(), st.text(max_size=60), local_parts))
def test_hostile_addresses_never_break_the_form(quiet_app, client, session_id, email, answer):
    before = (registered(quiet_app), mails(quiet_app))
    extra = {} if answer is None else {"email_suggestion": answer}
    response = register(client, session_id, email, **extra)
    html = response.get_data(as_text=True)
    assert response.status_code in (303, 422), response.status_code
    if response.status_code == 422:
        assert (registered(quiet_app), mails(quiet_app)) == before
    assert "<script>@" not in html
    if "Meinten Sie" in html:
        expected = suggest_email(normalise_email(email))
        shown = html.split('name="email_suggestion" value="', 1)[1].split('"', 1)[0]
        assert shown == str(escape(expected))  # in the attribute
        assert f"Meinten Sie {escape(expected)}?" in html  # in the text


# --- domains that take no mail: a tiny DNS server on 127.0.0.1 ----------------------------

ZONES: dict[str, dict[str, list[str]] | str] = {
    "post.example.org": {"MX": ["10 mx.post.example.org."]},
    "gmail.com": {"MX": ["5 gmail-smtp-in.l.google.com."]},
    "gmial.com": {"MX": ["10 mx.gmial.com."]},
    "nur-a.example.org": {"A": ["93.184.215.14"]},
    "ohne-post.example.org": {"TXT": ['"nur eine Webseite"']},
    "null-mx.example.org": {"MX": ["0 ."]},
    "stumm.example.org": "silent",
}


class TinyDNS:
    """Answers from ZONES with dnspython's own messages: NXDOMAIN for names not listed,
    an empty answer for types not listed, nothing at all for "silent" names."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.queries: list[tuple[str, str]] = []
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while self.running:
            try:
                wire, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True).lower()
            rdtype = dns.rdatatype.to_text(question.rdtype)
            self.queries.append((name, rdtype))
            zone = ZONES.get(name)
            if zone == "silent":
                continue
            response = dns.message.make_response(query)
            if zone is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif zone.get(rdtype):
                response.answer.append(
                    dns.rrset.from_text(question.name, 300, "IN", rdtype, *zone[rdtype])
                )
            self.sock.sendto(response.to_wire(), peer)

    def resolver(self, lifetime: float = 0.5) -> dns.resolver.Resolver:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = self.port
        resolver.lifetime = lifetime
        return resolver

    def stop(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()


@pytest.fixture
def dns_server(monkeypatch) -> Iterator[TinyDNS]:
    """The tiny server, and the app's lookups sent to it (at the resolver boundary)."""
    server = TinyDNS()
    monkeypatch.setattr(emails, "dns_resolver", server.resolver)
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("address", "takes_mail"),
    [
        ("ayse@post.example.org", True),
        ("ayse@nur-a.example.org", True),  # no MX, but an A record (RFC 5321 fallback)
        ("ayse@nirgendwo.example.org", False),  # NXDOMAIN
        ("ayse@ohne-post.example.org", False),  # exists, but no MX, no A, no AAAA
        ("ayse@null-mx.example.org", False),  # RFC 7505: "I take no mail"
        ("ayse@stumm.example.org", True),  # DNS does not answer in time: not refused
    ],
)
def test_accepts_mail_asks_dns(dns_server, address, takes_mail):
    assert accepts_mail(address) is takes_mail
    assert (address.partition("@")[2], "MX") in dns_server.queries


def test_without_a_nameserver_every_domain_is_accepted(monkeypatch, caplog):
    closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there any more

    def resolver() -> dns.resolver.Resolver:
        r = dns.resolver.Resolver(configure=False)
        r.nameservers, r.port, r.lifetime = ["127.0.0.1"], port, 0.3
        return r

    monkeypatch.setattr(emails, "dns_resolver", resolver)
    caplog.set_level(logging.DEBUG, logger="eventsapp.emails")
    assert accepts_mail("ayse@nirgendwo.example.org") is True
    assert "domain not checked" in caplog.text
    assert "ayse" not in caplog.text and "nirgendwo" not in caplog.text


def test_without_dns_configuration_nothing_is_looked_up(monkeypatch, caplog):
    def no_configuration(*args, **kwargs):
        raise dns.resolver.NoResolverConfiguration("no /etc/resolv.conf")

    monkeypatch.setattr(emails, "_resolver", None)
    monkeypatch.setattr(dns.resolver, "Resolver", no_configuration)
    caplog.set_level(logging.DEBUG, logger="eventsapp.emails")
    assert emails.dns_resolver() is None
    assert accepts_mail("ayse@nirgendwo.example.org") is True
    assert "no DNS configuration" in caplog.text and "ayse" not in caplog.text


def test_the_system_resolver_waits_two_seconds_at_most(monkeypatch):
    real = dns.resolver.Resolver
    monkeypatch.setattr(emails, "_resolver", None)
    monkeypatch.setattr(dns.resolver, "Resolver", lambda: real(configure=False))
    resolver = emails.dns_resolver()
    assert resolver.lifetime == emails.DNS_TIMEOUT == 2.0
    assert isinstance(resolver.cache, dns.resolver.LRUCache)
    assert emails.dns_resolver() is resolver  # one resolver, one cache


@pytest.fixture
def checking_app(quiet_app, dns_server):
    assert quiet_app.config["EMAIL_CHECK_DELIVERABILITY"] is False  # off in tests by default
    quiet_app.config["EMAIL_CHECK_DELIVERABILITY"] = True
    return quiet_app


@pytest.mark.parametrize(
    "domain", ["nirgendwo.example.org", "ohne-post.example.org", "null-mx.example.org"]
)
def test_a_domain_without_mail_is_refused_next_to_the_field(
    checking_app, client, session_id, domain
):
    response = register(client, session_id, f"ayse@{domain}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        "An diese Adresse kann keine E-Mail zugestellt werden: die Domain "
        f"{domain} nimmt keine E-Mail an. Bitte prüfen Sie die Schreibweise."
    ) in html
    assert '<p class="error" id="email-error">' in html
    assert registered(checking_app) == [] and mails(checking_app) == 0


def test_a_domain_dns_cannot_answer_for_is_accepted(checking_app, client, session_id):
    assert register(client, session_id, "ayse@stumm.example.org").status_code == 303
    assert registered(checking_app) == ["ayse@stumm.example.org"]


def test_a_domain_with_mail_is_accepted(checking_app, client, session_id, dns_server):
    assert register(client, session_id, "ayse@post.example.org").status_code == 303
    assert ("post.example.org", "MX") in dns_server.queries


def test_the_hint_comes_before_dns_and_the_choice_is_checked(
    checking_app, client, session_id, dns_server
):
    response = register(client, session_id, "ayse@gmial.com")
    assert "Meinten Sie ayse@gmail.com?" in response.get_data(as_text=True)
    assert dns_server.queries == []  # no lookup for an address not yet settled
    response = register(client, session_id, "ayse@gmial.com", email_suggestion="ayse@gmail.com")
    assert response.status_code == 303
    assert ("gmail.com", "MX") in dns_server.queries


def test_sign_in_forms_never_ask_dns(checking_app, client, monkeypatch):
    monkeypatch.setattr(emails, "dns_resolver", lambda: pytest.fail("DNS asked"))
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/reset-password",
        data={"email": "kim@nirgendwo.example.org", "csrf_token": token},
    )
    assert response.status_code == 303
    client.post(
        "/auth/login",
        data={"email": "kim@nirgendwo.example.org", "password": "x", "csrf_token": token},
    )


def test_switched_off_nothing_is_looked_up(quiet_app, client, session_id, monkeypatch):
    monkeypatch.setattr(emails, "dns_resolver", lambda: pytest.fail("DNS asked"))
    assert register(client, session_id, "ayse@nirgendwo.example.org").status_code == 303


# --- in a browser: axe-core, German and Arabic, 320 and 1280 px ---------------------------


@pytest.mark.parametrize("language", ["de", "ar"])
@pytest.mark.parametrize("width", [320, 1280])
def test_the_hint_has_no_wcag_violations(live_app, browser, language, width):
    app, base = live_app
    with app.app_context():
        session = make_session(make_format(title="Blick in die Polizei"), capacity=20)
        db.session.commit()
        session_id = session.id
    page = browser.new_page(viewport={"width": width, "height": 800}, locale="de-DE")
    page.goto(f"{base}/sessions/{session_id}?lang={language}")
    page.locator("#name").fill("Ayşe Demir")
    page.locator("#email").fill("ayse.demir-yilmaz@gmial.com")
    page.locator("#consent").check()
    page.locator("form[action$='/register'] button[type=submit]").click()
    expect(page.locator("#email-error")).to_contain_text("ayse.demir-yilmaz@gmail.com")
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    assert violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # Choosing the suggestion with the keyboard's Space works without any script.
    page.locator("#email-suggested").check()
    page.locator("form[action$='/register'] button[type=submit]").click()
    page.wait_for_url(f"**/sessions/{session_id}/registered")
    page.close()
    assert registered(app) == ["ayse.demir-yilmaz@gmail.com"]
