# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A local moto server on a free loopback port, for the demo and the end-to-end tests.

As a class (`with MotoServer() as server:`), it records the requests it serves (moto's recorder, in a private
temporary file) so that callers can count the API actions a run made. The recording may hold request bodies, so
it is deleted when the server stops.

As a command, it starts a server that outlives the command and stops it again later, for molecule scenarios:

    python -m ansible_collections.mfa_onboarding.iam.tests.support.moto_server start --state-file DIR/moto.json \
        [--record] [--timeout 30]
    python -m ansible_collections.mfa_onboarding.iam.tests.support.moto_server stop --state-file DIR/moto.json

`start` waits until the server answers, writes its url, port and pid into the state file (mode 0600) and prints
them as JSON; it reuses a server that the state file names and that still answers. Request recording is off
unless `--record` is given, since recordings hold request bodies (passwords). `stop` stops the server that the
state file names, if it still runs, and removes the state file; with no state file it does nothing.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import typing as t
import urllib.parse
import urllib.request

import boto3

from ansible_collections.mfa_onboarding.iam.tests.support import recorder

# moto's server, with what moto lacks answered as AWS would (tests/support/moto_patched.py).
MOTO_SERVER = "ansible_collections.mfa_onboarding.iam.tests.support.moto_patched"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """`with MotoServer() as server:` starts moto on 127.0.0.1, `server.url` is its endpoint."""

    def __init__(
        self,
        extra_env: dict[str, str] | None = None,
        startup_timeout: float = 30.0,
        *,
        record: bool = True,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.record = record
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

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def directory(self) -> str:
        """The private temporary directory of the server's log (and recording)."""
        return self._dir

    def start(self, *, detach: bool = False) -> None:
        """Start the server and wait until it answers; `detach` lets it outlive this process (own session)."""
        # The recording always goes to the private directory. moto reads MOTO_ENABLE_RECORDING with bool(), so
        # any value, "false" included, turns it on: to keep it off, the variable must be absent.
        env = dict(os.environ, MOTO_RECORDER_FILEPATH=self._recording)
        env.pop("MOTO_ENABLE_RECORDING", None)
        if self.record:
            env["MOTO_ENABLE_RECORDING"] = "true"
        env.update(self._extra_env)
        log = open(os.path.join(self._dir, "server.log"), "wb")  # noqa: SIM115 - the server writes it until stop()
        self._process = subprocess.Popen(
            [sys.executable, "-m", MOTO_SERVER, "-H", "127.0.0.1", "-p", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=detach,
        )
        log.close()
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                message = f"moto server exited early: {self.log()}"
                self.stop()
                raise RuntimeError(message)
            if answers(self.url):
                if self.record:
                    self.reset_recording()
                return
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

    def reset(self) -> None:
        """Forget every resource (moto's own reset); the recording, if any, goes on."""
        self._post("/moto-api/reset")

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
        """The writes among actions (`recorder.is_write`)."""
        return recorder.writes(actions)

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

    def iam_client(self) -> t.Any:
        """A boto3 IAM client for this server, with the same fake credentials and region as `env()`."""
        return iam_client(self.url)


def iam_client(url: str, **options: t.Any) -> t.Any:
    """A boto3 IAM client for the moto server at `url` (fake credentials, us-east-1); `options` go to
    boto3.client (e.g. `config`)."""
    return boto3.client(
        "iam",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        **options,
    )


def answers(url: str) -> bool:
    """Whether a moto server answers on `url`."""
    try:
        urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=1).close()
    except OSError:
        return False
    return True


# The command line: a server that outlives the command, named by a state file.


def _running(pid: int, port: int) -> bool:
    """Whether `pid` is a live (not zombie) moto server on `port`; without /proc, whether the pid exists."""
    proc = f"/proc/{pid}"
    if os.path.isdir("/proc"):
        try:
            with open(f"{proc}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
            with open(f"{proc}/stat", encoding="ascii", errors="replace") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state != "Z" and b"moto.server" in argv and str(port).encode() in argv
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _read_state(path: str) -> dict[str, t.Any] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return t.cast("dict[str, t.Any]", json.load(handle))
    except FileNotFoundError:
        return None


def _write_state(path: str, state: dict[str, t.Any]) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".moto-state-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2)
        handle.write("\n")
    os.replace(tmp, path)


def command_start(args: argparse.Namespace) -> int:
    state = _read_state(args.state_file)
    if state and _running(state["pid"], state["port"]) and answers(state["url"]):
        print(json.dumps(dict(state, started=False)))
        return 0
    server = MotoServer(startup_timeout=args.timeout, record=args.record)
    try:
        server.start(detach=True)
    except RuntimeError as error:
        print(f"moto_server: {error}", file=sys.stderr)
        return 1
    state = {"url": server.url, "port": server.port, "pid": server.pid, "dir": server.directory, "record": args.record}
    _write_state(args.state_file, state)
    print(json.dumps(dict(state, started=True)))
    return 0


def command_stop(args: argparse.Namespace) -> int:
    state = _read_state(args.state_file)
    if state is None:
        print(json.dumps({"stopped": False, "reason": "no state file"}))
        return 0
    pid, port = int(state["pid"]), int(state["port"])
    stopped = _running(pid, port)
    if stopped:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + args.timeout
        while _running(pid, port) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _running(pid, port):
            os.kill(pid, signal.SIGKILL)
    directory = str(state.get("dir") or "")
    if os.path.basename(directory).startswith("moto-") and os.path.dirname(directory) == tempfile.gettempdir():
        shutil.rmtree(directory, ignore_errors=True)
    os.unlink(args.state_file)
    print(json.dumps({"stopped": stopped, "url": state["url"], "pid": pid}))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start or stop a moto server that outlives this command.")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start a server in the background and wait until it answers")
    start.add_argument("--state-file", required=True, help="JSON file that receives url, port and pid")
    start.add_argument("--record", action="store_true", help="enable moto's request recorder (holds request bodies)")
    start.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the server (30)")
    start.set_defaults(handler=command_start)
    stop = commands.add_parser("stop", help="stop the server named by the state file, if it runs")
    stop.add_argument("--state-file", required=True)
    stop.add_argument("--timeout", type=float, default=10.0, help="seconds to wait before SIGKILL (10)")
    stop.set_defaults(handler=command_stop)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
