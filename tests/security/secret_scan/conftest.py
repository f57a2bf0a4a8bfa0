# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures of the secret scan: a moto server without request recording, the mail scenario's SMTP server."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer
from ansible_collections.mfa_onboarding.iam.tests.support.smtp_server import SmtpServer


@pytest.fixture
def moto() -> t.Iterator[MotoServer]:
    """A moto server without request recording (a recording would hold the request bodies: passwords)."""
    with MotoServer(record=False) as server:
        yield server


# The address the SMTP server refuses (550): a mail to it fails after the user's password was issued.
REFUSED_ADDRESS = "erin-gone@example.org"


@pytest.fixture
def smtp_server(tmp_path: t.Any) -> t.Iterator[SmtpServer]:
    """The mail scenario's SMTP server (STARTTLS, then AUTH; its certificate from a test CA, in `ca_file`), which
    refuses REFUSED_ADDRESS (`reject_rcpt`), starting in the background (call `wait()` before use); stopped by its
    pid afterwards. Messages land in `maildir`; the login is `login`, the password `password`."""
    server = SmtpServer(str(tmp_path / "smtp"), reject_rcpt=[REFUSED_ADDRESS])
    server.start()
    try:
        yield server
    finally:
        server.stop()
