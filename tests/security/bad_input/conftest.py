# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures of the bad-input suite: an in-process moto with a recorder of every API call for the module runs, a
moto server per worker for the playbook runs, an SMTP server that refuses every login, a mail trap that counts the
connections made to it, and the table of cases that the last case to finish prints."""

from __future__ import annotations

import contextlib
import dataclasses
import hmac
import json
import os
import socket
import ssl
import sys
import tempfile
import threading
import typing as t
import uuid
import warnings

import boto3
import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args
from moto import mock_aws

from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import free_port
from ansible_collections.mfa_onboarding.iam.tests.support.recorder import Recorder
from ansible_collections.mfa_onboarding.iam.tests.support.smtp_server import make_tls

HERE = os.path.dirname(os.path.abspath(__file__))

# The tests whose runs make up the table.
CASE_TESTS = ("test_module_case", "test_playbook_case")


# The module runs: in-process, against moto in-process, every botocore call recorded.


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")


@pytest.fixture
def iam(aws_env: None) -> t.Iterator[t.Any]:
    """A boto3 IAM client on a fresh in-process moto backend."""
    with mock_aws():
        yield boto3.client("iam", region_name="us-east-1")


@pytest.fixture
def api_calls(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Records every botocore API call made while `api_calls.active` is true."""
    return Recorder(active=False).attach(monkeypatch)


@pytest.fixture
def run_module(capsys: pytest.CaptureFixture[str]) -> t.Callable[..., dict[str, t.Any]]:
    """run_module(module, args) -> the module's JSON result, run in-process as tests/unit does."""

    def run(module: t.Any, args: dict[str, t.Any]) -> dict[str, t.Any]:
        capsys.readouterr()
        ansible_warnings._global_warnings.clear()
        ansible_warnings._global_deprecations.clear()
        full_args = dict(args, _ansible_check_mode=False, _ansible_diff=False)
        with patch_module_args(full_args), pytest.raises(SystemExit) as exit_info:
            module.main()
        result = json.loads(capsys.readouterr().out)
        assert bool(result.get("failed")) == bool(exit_info.value.code), result
        return result

    return run


# The playbook runs: a moto server per worker (reset before each case).


@pytest.fixture(scope="session")
def moto_server() -> t.Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture(scope="session")
def moto_server_with_aws_policies() -> t.Iterator[MotoServer]:
    """A moto server that holds the AWS-managed policies (PowerUserAccess, ...), for the few cases that name one:
    loading them costs a few seconds after each reset, so the other cases use the plain server."""
    with MotoServer(extra_env={"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}) as server:
        yield server


# An SMTP server on loopback that offers STARTTLS and AUTH, and refuses every login.


@dataclasses.dataclass
class RefusingSmtp:
    host: str
    port: int
    attempts: list[str]
    ca_file: str  # the test CA that issued the server's certificate


@pytest.fixture(scope="session")
def refusing_smtp(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[RefusingSmtp]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
    from aiosmtpd.smtp import LoginPassword

    # The certificate helper of the SMTP server of the mail scenario (a test CA, a certificate it issues for
    # localhost and 127.0.0.1): a client that trusts the CA gets as far as the login.
    tls = make_tls(str(tmp_path_factory.mktemp("smtp-tls")))

    warnings.filterwarnings("ignore", message="Session.login_data is deprecated")
    attempts: list[str] = []
    lock = threading.Lock()

    def authenticator(server: t.Any, session: t.Any, envelope: t.Any, mechanism: str, data: t.Any) -> AuthResult:
        login = data.login.decode(errors="replace") if isinstance(data, LoginPassword) else "?"
        with lock:
            attempts.append(login)
        # Refuse every login, even the right one (compare_digest keeps the shape of a real check).
        hmac.compare_digest(b"never", b"matches")
        return AuthResult(success=False, handled=False)

    class Handler:
        async def handle_DATA(self, server: t.Any, session: t.Any, envelope: t.Any) -> str:
            return "554 no mail is accepted here"

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls["cert"], tls["key"])
    port = free_port()
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield RefusingSmtp("127.0.0.1", port, attempts, tls["ca_file"])
    finally:
        controller.stop()


# A mail trap: a TCP port on loopback that counts the connections made to it and closes each at once. A case whose
# mail must be refused before anything is sent points the mail host at it and expects no connection at all.


class MailTrap:
    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self._socket = socket.create_server((self.host, 0))
        self.port = self._socket.getsockname()[1]
        self._lock = threading.Lock()
        self._count = 0
        self._thread = threading.Thread(target=self._serve, name="mail-trap", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _peer = self._socket.accept()
            except OSError:  # closed
                return
            with self._lock:
                self._count += 1
            connection.close()

    @property
    def connections(self) -> int:
        with self._lock:
            return self._count

    def reset(self) -> None:
        with self._lock:
            self._count = 0

    def close(self) -> None:
        self._socket.close()


@pytest.fixture(scope="session")
def _mail_trap() -> t.Iterator[MailTrap]:
    trap = MailTrap()
    try:
        yield trap
    finally:
        trap.close()


@pytest.fixture
def mail_trap(_mail_trap: MailTrap) -> MailTrap:
    """The worker's mail trap, its count at zero."""
    _mail_trap.reset()
    return _mail_trap


# The table of cases, printed once all of them have run (by whichever worker runs the last one).


@dataclasses.dataclass
class Row:
    index: int
    via: str
    case: str
    expected: str
    message: str
    writes: list[str]
    passed: bool = False


class Table:
    def __init__(self, directory: str, total: int, capsys: pytest.CaptureFixture[str]) -> None:
        self.directory = directory
        self.total = total
        self.capsys = capsys

    @contextlib.contextmanager
    def row(self, **fields: t.Any) -> t.Iterator[Row]:
        """`with table.row(index=, via=, case=, expected=, message=, writes=):` records the row whatever the
        assertions inside say (passed is set when they all hold)."""
        row = Row(**fields)
        try:
            yield row
            row.passed = True
        finally:
            self._save(row)

    def _save(self, row: Row) -> None:
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"{row.index:03d}.json")
        with open(f"{path}.tmp", "w", encoding="utf-8") as handle:
            json.dump(dataclasses.asdict(row), handle)
        os.replace(f"{path}.tmp", path)
        done = [name for name in os.listdir(self.directory) if name.endswith(".json")]
        if len(done) < self.total:
            return
        try:  # exactly one worker prints
            os.close(os.open(os.path.join(self.directory, "printed"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        rows = []
        for name in sorted(done):
            with open(os.path.join(self.directory, name), encoding="utf-8") as handle:
                rows.append(Row(**json.load(handle)))
        text = render_table(rows)
        with self.capsys.disabled():
            # Under pytest-xdist only a worker's stderr reaches the terminal.
            stream = sys.stderr if os.environ.get("PYTEST_XDIST_WORKER") else sys.stdout
            stream.write(text)
            stream.flush()
        for name in os.listdir(self.directory):
            os.unlink(os.path.join(self.directory, name))
        os.rmdir(self.directory)


def render_table(rows: list[Row]) -> str:
    def cell(text: str) -> str:
        return " ".join(text.split()).replace("|", "\\|")

    lines = [
        "",
        f"Bad-input table ({len(rows)} cases, {sum(r.passed for r in rows)} as expected):",
        "| # | via | case | expected | message | writes | ok |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        shown = f"{len(r.writes)}" + (f" ({', '.join(r.writes)})" if r.writes else "")
        ok = "yes" if r.passed else "NO"
        lines.append(
            f"| {r.index} | {r.via} | {cell(r.case)} | {cell(r.expected)} | {cell(r.message)} | {shown} | {ok} |"
        )
    return "\n".join(lines) + "\n\n"


@pytest.fixture(scope="session")
def _table_directory() -> str:
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
    return os.path.join(tempfile.gettempdir(), f"mfa-onboarding-bad-input-{run}")


@pytest.fixture
def table(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str], _table_directory: str) -> Table:
    total = sum(
        1
        for item in request.session.items
        if getattr(item, "originalname", "") in CASE_TESTS and str(item.path).startswith(HERE + os.sep)
    )
    return Table(_table_directory, total, capsys)
