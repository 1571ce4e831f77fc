"""`make run` on another port: what a newcomer does when port 5000 is taken. The links in
the mail written to instance/mail/ must lead back to the port the app is served on."""

from __future__ import annotations

import email
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from email import policy
from http.cookiejar import CookieJar
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
# The virtualenv the suite runs in (not the interpreter its python links to).
VENV = Path(sys.prefix) if sys.prefix != sys.base_prefix else None
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "instance", "node_modules", "__pycache__", "*.mo", ".pytest_cache"
)


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            assert process.poll() is None, "make run stopped"
            assert time.monotonic() < deadline, f"{url} did not answer"
            time.sleep(0.5)


def _register(base: str, name: str, address: str) -> None:
    """Register `address` for the first demo date that takes registrations, as a browser."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    home = opener.open(base + "/").read().decode()
    for session_id in dict.fromkeys(re.findall(r'href="/sessions/(\d+)"', home)):
        page = opener.open(f"{base}/sessions/{session_id}").read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        if token is None or 'name="consent"' not in page:
            continue  # no form: not open for registration
        form = {
            "csrf_token": token.group(1),
            "name": name,
            "email": address,
            "language": "de",
            "consent": "y",
        }
        answer = opener.open(
            f"{base}/sessions/{session_id}/register", urllib.parse.urlencode(form).encode()
        )
        assert answer.url.endswith(f"/sessions/{session_id}/registered"), answer.url
        return
    raise AssertionError("no demo date takes registrations")


def _mail_to(folder: Path, address: str, seconds: float = 60) -> email.message.EmailMessage:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for path in sorted(folder.glob("*.eml")) if folder.is_dir() else ():
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if address in message["To"]:
                return message
        time.sleep(0.5)
    raise AssertionError(f"no mail to {address} in {folder}")


def test_make_run_on_another_port_mails_links_to_that_port(tmp_path):
    checkout = tmp_path / "eventsapp"
    shutil.copytree(ROOT, checkout, ignore=IGNORED)  # copy2 keeps the files' times
    port = free_port()
    command = ["make", "run", f"PORT={port}"]
    if VENV is not None:
        # The suite's own venv, taken as it is: never installed again from the copy.
        command += [f"VENV={VENV}", "-o", f"{VENV}/.installed"]
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("EVENTSAPP_", "MAIL_", "DATABASE_URL", "FLASK_"))
    }
    process = subprocess.Popen(
        command,
        cwd=checkout,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # make, the worker and the server: one group to stop
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/", process)
        _register(base, "Ayşe Demir", "ayse.demir@example.org")

        message = _mail_to(checkout / "instance" / "mail", "ayse.demir@example.org")
        text = message.get_body(preferencelist=("plain",)).get_content()
        links = re.findall(r"https?://[^\s<>\"]+", text)
        manage = [link for link in links if "/registrations/" in link]
        assert manage, text
        assert all(link.startswith(base + "/") for link in links if "127.0.0.1" in link)
        assert ":5000" not in text

        page = urllib.request.urlopen(manage[0]).read().decode()
        assert "Ihre Anmeldung" in page and "Ayşe Demir" in page
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
