"""Logs never carry a secret link or a mail address."""

from __future__ import annotations

import logging

from eventsapp.logs import JSONFormatter, RedactingFilter, redact


def test_secret_paths_and_addresses_are_masked():
    line = (
        'GET /registrations/AbC_12-x HTTP/1.1 "/feeds/zzz.ics" mail to ayse@example.org '
        "/subscriptions/tok/confirm /my-data/abc.json /auth/set-password/t.o.k"
    )
    masked = redact(line)
    for secret in ("AbC_12-x", "zzz.ics", "ayse@example.org", "tok/", "abc.json", "t.o.k"):
        assert secret not in masked
    assert "/registrations/<secret>" in masked and "<email>" in masked


def test_records_are_masked_and_written_as_json():
    record = logging.LogRecord(
        "eventsapp",
        logging.WARNING,
        __file__,
        1,
        "mail %s to %s failed",
        ("/registrations/Xyz123", "a@b.de"),
        None,
    )
    assert RedactingFilter().filter(record)
    line = JSONFormatter().format(record)
    assert '"level": "warning"' in line and "Xyz123" not in line and "a@b.de" not in line
