"""Email addresses as the rules compare them; likely typos; domains that take no mail."""

from __future__ import annotations

import difflib
import logging

import dns.exception
import dns.resolver
from email_validator import EmailNotValidError, EmailUndeliverableError, validate_email
from rapidfuzz.distance import OSA

__all__ = [
    "EmailNotValidError",
    "accepts_mail",
    "normalise_email",
    "suggest_domain",
    "suggest_email",
]

log = logging.getLogger(__name__)


def normalise_email(address: str) -> str:
    """Validate an address (syntax only, no DNS) and return its canonical form.

    The whole address is lower-cased: mailbox names are case-insensitive at every provider
    our users have, and "Ayse@…" and "ayse@…" must count as the same person.
    """
    result = validate_email(address.strip(), check_deliverability=False)
    return result.normalized.lower()


# Providers people here type most, for "Meinten Sie …?". Only the hint uses this list: an
# address at any other domain is as welcome as before.
PROVIDERS = (
    "gmail.com",
    "googlemail.com",
    "web.de",
    "gmx.de",
    "gmx.net",
    "gmx.at",
    "gmx.ch",
    "gmx.com",
    "t-online.de",
    "freenet.de",
    "hotmail.com",
    "hotmail.de",
    "hotmail.fr",
    "outlook.com",
    "outlook.de",
    "live.com",
    "live.de",
    "yahoo.com",
    "yahoo.de",
    "yahoo.fr",
    "ymail.com",
    "icloud.com",
    "aol.com",
    "aol.de",
    "mail.com",
    "email.com",
    "mail.de",
    "posteo.de",
    "mailbox.org",
    "arcor.de",
    "protonmail.com",
    "proton.me",
    "orange.fr",
    "ukr.net",
)
# The same providers' other countries: real addresses, never "corrected" to the German one.
_COUNTRIES = ("de", "at", "ch", "fr", "it", "es", "nl", "be", "pl", "se", "dk", "pt", "gr", "ie")
_KNOWN = frozenset(PROVIDERS) | {
    f"{name}.{country}"
    for name in ("hotmail", "outlook", "live", "yahoo", "msn", "gmx", "aol", "icloud")
    for country in (*_COUNTRIES, "com", "co.uk", "com.tr", "com.ua")
}


_DOUBLED = frozenset({"com", "de", "net", "org"})


def _reach(provider: str) -> int:
    """How many typos still point to `provider`: short names are near too many others."""
    return 2 if len(provider) >= 9 else 1


def suggest_domain(domain: str) -> str | None:
    """The provider `domain` is probably a typo of, or None (also for every provider).

    Near means within `_reach` edits, the provider with its dot typed as part of the name
    ("webde.de", "gmailcom.com"), or with an ending typed twice ("gmail.com.com"). Of
    equally near providers the most similar wins ("gmx.ne": gmx.net rather than gmx.de).
    """
    domain = domain.lower().rstrip(".")
    if domain in _KNOWN:
        return None
    first_label = domain.partition(".")[0]
    near = []
    for provider in PROVIDERS:
        name, _, ending = provider.partition(".")
        if first_label == name + ending.replace(".", "") or (
            domain.startswith(provider + ".") and domain[len(provider) + 1 :] in _DOUBLED
        ):
            near.append((0, provider))
        elif abs(len(provider) - len(domain)) <= _reach(provider):
            # Edits (insert, delete, replace, swap two neighbours) up to the reach; one
            # more means "further".
            edits = OSA.distance(domain, provider, score_cutoff=_reach(provider))
            if edits <= _reach(provider):
                near.append((edits, provider))
    if not near:
        return None
    return min(near, key=lambda pair: (pair[0], -_similarity(domain, pair[1])))[1]


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def suggest_email(address: str) -> str | None:
    """`address` at the provider its domain is probably a typo of, or None."""
    local, _, domain = address.rpartition("@")
    suggestion = suggest_domain(domain) if local else None
    return f"{local}@{suggestion}" if suggestion else None


# --- can the domain receive mail? -----------------------------------------------------

DNS_TIMEOUT = 2.0  # seconds for the whole check (MX, then A/AAAA): a form must not hang
_resolver: dns.resolver.Resolver | None = None


def dns_resolver() -> dns.resolver.Resolver | None:
    """The system's resolver with a short lifetime and a shared cache, or None when this
    machine has no DNS configuration (then nothing is checked)."""
    global _resolver
    if _resolver is None:
        try:
            resolver = dns.resolver.Resolver()
        except (dns.exception.DNSException, OSError) as error:
            log.debug("no DNS configuration (%s): domains are not checked", type(error).__name__)
            return None
        resolver.lifetime = DNS_TIMEOUT
        resolver.cache = dns.resolver.LRUCache()
        _resolver = resolver
    return _resolver


def accepts_mail(address: str) -> bool:
    """False only when DNS answers that the address's domain takes no mail: it does not
    exist, or it has no MX and no A/AAAA record, or a null MX. True when it does, and when
    DNS cannot tell (no resolver, timeout, no nameserver answers): then the address is
    taken as it is. Logs at debug level, never the address."""
    resolver = dns_resolver()
    if resolver is None:
        return True
    try:
        result = validate_email(address, check_deliverability=True, dns_resolver=resolver)
    except EmailUndeliverableError as error:
        cause = error.__cause__
        if cause is None or isinstance(cause, dns.resolver.NXDOMAIN | dns.resolver.NoAnswer):
            return False
        log.debug("domain not checked: DNS failed (%s)", type(cause).__name__)
        return True
    except EmailNotValidError:
        return True  # a syntax error is the syntax check's to report
    if not getattr(result, "mx", None):  # email-validator's "unknown deliverability"
        log.debug("domain not checked: DNS gave no answer in time")
    return True


def _mask_part(text: str) -> str:
    """At most two characters and never more than half of `text`, then ***."""
    return text[: min(2, len(text) // 2)] + "***"


def mask_address(address: str) -> str:
    """'ay***@ex***.org' for 'ayse@example.org': the start of the mailbox and of the domain
    and the top-level domain; how long either is stays hidden. '' stays ''."""
    if not address:
        return ""
    local, at, domain = address.rpartition("@")
    if not at:
        return _mask_part(address)
    name, dot, top = domain.rpartition(".")
    return f"{_mask_part(local)}@{_mask_part(name) + '.' + top if dot else _mask_part(domain)}"
