# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A local moto server on a free loopback port, for the demo and the end-to-end tests.

It records the requests it serves (moto's recorder, in a private temporary file) so that callers can count
the API actions a run made. The recording may hold request bodies, so it is deleted when the server stops.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import typing as t
import urllib.parse
import urllib.request

# Actions that only read; the rest are writes.
READ_PREFIXES = ("Get", "List", "Describe")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """`with MotoServer() as server:` starts moto on 127.0.0.1, `server.url` is its endpoint."""

    def __init__(self, extra_env: dict[str, str] | None = None, startup_timeout: float = 30.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._extra_env = extra_env or {}
        self._timeout = startup_timeout
        self._dir = tempfile.mkdtemp(prefix="moto-")
        self._recording = os.path.join(self._dir, "recording.jsonl")
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        env = dict(os.environ, MOTO_ENABLE_RECORDING="true", MOTO_RECORDER_FILEPATH=self._recording)
        env.update(self._extra_env)
        log = open(os.path.join(self._dir, "server.log"), "wb")  # noqa: SIM115 - the server writes it until stop()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited early: {self.log()}")
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=1).close()
                self.reset_recording()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto server did not answer on {self.url} within {self._timeout} s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def log(self) -> str:
        try:
            with open(os.path.join(self._dir, "server.log"), encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""

    def _post(self, path: str) -> bytes:
        request = urllib.request.Request(f"{self.url}{path}", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def reset_recording(self) -> None:
        self._post("/moto-api/recorder/reset-recording")

    def actions(self) -> list[str]:
        """The Query-API actions (CreatePolicy, GetUser, ...) served since the last reset, in order."""
        with urllib.request.urlopen(f"{self.url}/moto-api/recorder/download-recording", timeout=10) as response:
            lines = response.read().decode().splitlines()
        actions = []
        for line in lines:
            entry = json.loads(line)
            body: t.Any = entry.get("body") or ""
            if entry.get("body_encoded"):
                body = base64.b64decode(body).decode("utf-8", errors="replace")
            query = urllib.parse.parse_qs(body) or urllib.parse.parse_qs(urllib.parse.urlparse(entry["url"]).query)
            if "Action" in query:
                actions.append(query["Action"][0])
        return actions

    @staticmethod
    def writes(actions: list[str]) -> list[str]:
        return [action for action in actions if not action.startswith(READ_PREFIXES)]

    def env(self) -> dict[str, str]:
        """Environment for boto3/amazon.aws clients talking to this server (fake credentials, no profile)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION="us-east-1",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_ENDPOINT_URL=self.url,
        )
        return env
