# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures of the secret scan: a moto server without request recording, the mail scenario's SMTP server."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer
from ansible_collections.mfa_onboarding.iam.tests.support.smtp_server import MODULE as SMTP_SERVER


@pytest.fixture
def moto() -> t.Iterator[MotoServer]:
    """A moto server without request recording (a recording would hold the request bodies: passwords)."""
    with MotoServer(record=False) as server:
        yield server


class SmtpServer:
    """The mail scenario's SMTP server (STARTTLS, then AUTH), run through its own command line.

    `start()` launches it in the background; `wait()` waits until it answers (so that it can start while
    something else runs). Messages land in `maildir`; the login is `login`, the password `password`.
    """

    login = "onboarding-mailer"

    def __init__(self, directory: str) -> None:
        self.password = secrets.token_urlsafe(18)
        self.state_file = os.path.join(directory, "smtp.json")
        self.maildir = os.path.join(directory, "mail")
        self.port = 0
        self._starting: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = dict(os.environ, SCENARIO_SMTP_USERNAME=self.login, SCENARIO_SMTP_PASSWORD=self.password)
        argv = [sys.executable, "-m", SMTP_SERVER, "start", "--state-file", self.state_file]
        argv += ["--maildir", self.maildir]
        self._starting = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def wait(self) -> None:
        if self.port:
            return
        assert self._starting is not None, "start() first"
        out, err = self._starting.communicate(timeout=60)
        if self._starting.returncode != 0:
            raise RuntimeError(f"the SMTP server did not start: {err.decode(errors='replace')}")
        self.port = int(json.loads(out)["port"])

    def stop(self) -> None:
        if self._starting is not None and self._starting.poll() is None:
            self._starting.communicate(timeout=60)
        subprocess.run(
            [sys.executable, "-m", SMTP_SERVER, "stop", "--state-file", self.state_file],
            capture_output=True,
            timeout=30,
            check=False,
        )


@pytest.fixture
def smtp_server(tmp_path: t.Any) -> t.Iterator[SmtpServer]:
    """An SMTP server starting in the background (call `wait()` before use); stopped afterwards."""
    server = SmtpServer(str(tmp_path / "smtp"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
