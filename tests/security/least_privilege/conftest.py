# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""moto with IAM enforcement, a root that sets the scene and a principal (operator, auditor) that runs the code.

Two ways in, one enforcement (moto's: every request signed by a known access key and allowed by its policies):

- `account`, for the playbook runs: a moto server started with INITIAL_NO_AUTH_ACTION_COUNT=3, so that the first
  three requests (CreateUser, CreateAccessKey and PutUserPolicy of the operator) go through unauthenticated. Root
  work after that (setting up a scene, enabling an MFA device) runs inside `account.as_root()`, which lifts the
  enforcement through POST /moto-api/reset-auth and restores it afterwards.
- `enforced`, for the module runs: moto in this process (`mock_aws`), the module run in-process as ansible would
  run it (tests/support/module_runner.py), every botocore call recorded. Root work runs inside
  `enforced.as_root()` (moto's disable_iam_authentication), the principal's run inside its
  enable_iam_authentication. No server and no ansible-playbook: a run costs a fraction of a second.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import os
import subprocess
import sys
import time
import typing as t
import urllib.request
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.core.authorization import disable_iam_authentication
from moto.core.authorization import enable_iam_authentication

from ansible_collections.mfa_onboarding.iam.tests.support import moto_patched
from ansible_collections.mfa_onboarding.iam.tests.support.module_runner import run_module
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer
from ansible_collections.mfa_onboarding.iam.tests.support.recorder import Recorder

REPO = Path(__file__).resolve().parents[3]
POLICY_FILE = REPO / "files" / "operator-policy.json"
AUDITOR_POLICY_FILE = REPO / "files" / "auditor-policy.json"

# The operator's CreateUser, CreateAccessKey and PutUserPolicy: the only unauthenticated requests.
OPERATOR_SETUP_CALLS = 3
OPERATOR = "operator"


def for_moto(policy: dict[str, t.Any]) -> dict[str, t.Any]:
    """The policy as moto can evaluate it: every Resource becomes "*".

    moto authorises IAM calls against the resource "*" (it never works out the ARN a call touches), so a
    statement scoped to `arn:aws:iam::*:user/*` would never match there. Actions, effects and the statement
    structure stay as they are: they are what this suite proves.
    """
    policy = copy.deepcopy(policy)
    for statement in policy["Statement"]:
        statement["Resource"] = "*"
    return policy


@dataclasses.dataclass
class Run:
    """One ansible-playbook run: exit code, stdout and stderr together, and the API actions it made."""

    args: list[str]
    rc: int
    output: str
    actions: list[str]
    seconds: float

    def describe(self) -> str:
        return f"$ {' '.join(self.args)}\nexit {self.rc} after {self.seconds:.1f} s\n{self.output}"


class Account:
    """One moto account: root access for setting scenes, an operator for the playbooks."""

    def __init__(self, server: t.Any, workdir: Path) -> None:
        self.server = server
        self.workdir = workdir
        self.root = server.iam_client()
        self.operator_name = OPERATOR
        self.operator_key: dict[str, str] | None = None

    def _reset_auth(self, count: str) -> None:
        request = urllib.request.Request(
            f"{self.server.url}/moto-api/reset-auth",
            data=count.encode(),
            headers={"Content-Type": "text/plain"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    @contextlib.contextmanager
    def as_root(self) -> t.Iterator[t.Any]:
        """Root calls without enforcement (moto's reset-auth to infinity), then enforcement from the next call."""
        self._reset_auth("inf")
        try:
            yield self.root
        finally:
            self._reset_auth("0")

    def create_operator(self, policy: dict[str, t.Any]) -> None:
        """The operator user, its access key and `policy` (made moto-evaluable) inline: the first three calls."""
        self.root.create_user(UserName=OPERATOR)
        key = self.root.create_access_key(UserName=OPERATOR)["AccessKey"]
        self.root.put_user_policy(
            UserName=OPERATOR, PolicyName="operator-policy", PolicyDocument=json.dumps(for_moto(policy))
        )
        self.operator_key = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}

    def env(self) -> dict[str, str]:
        assert self.operator_key is not None, "create_operator() first"
        env = self.server.env()
        env.update(self.operator_key)
        env.update(
            PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_RETRY_FILES_ENABLED="false",
        )
        return env

    def playbook(self, name: str, extra_vars: dict[str, t.Any] | None = None, *, check: bool = False) -> Run:
        """Run mfa_onboarding.iam.<name> as the operator; records the API actions of this run only."""
        args = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), f"mfa_onboarding.iam.{name}"]
        if extra_vars:
            args += ["-e", json.dumps(extra_vars)]
        if check:
            args.append("--check")
        self.server.reset_recording()
        started = time.monotonic()
        done = subprocess.run(
            args,
            env=self.env(),
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
            check=False,
        )
        seconds = time.monotonic() - started
        return Run(args, done.returncode, done.stdout, self.server.actions(), seconds)


@pytest.fixture(scope="session")
def operator_policy() -> dict[str, t.Any]:
    with open(POLICY_FILE, encoding="utf-8") as handle:
        return t.cast("dict[str, t.Any]", json.load(handle))


@pytest.fixture(scope="session")
def auditor_policy() -> dict[str, t.Any]:
    with open(AUDITOR_POLICY_FILE, encoding="utf-8") as handle:
        return t.cast("dict[str, t.Any]", json.load(handle))


@pytest.fixture(scope="session", autouse=True)
def _collections_path() -> None:
    if not os.environ.get("ANSIBLE_COLLECTIONS_PATH"):
        pytest.fail(
            "ANSIBLE_COLLECTIONS_PATH must name a folder holding ansible_collections/mfa_onboarding/iam and "
            "amazon/aws (make security exports it)"
        )


@pytest.fixture
def account(tmp_path: Path) -> t.Iterator[Account]:
    """A fresh moto server that enforces IAM after the operator's three setup calls."""
    server = MotoServer(extra_env={"INITIAL_NO_AUTH_ACTION_COUNT": str(OPERATOR_SETUP_CALLS)})
    with server:
        yield Account(server, tmp_path)


# Module runs in-process, against moto in-process.


@dataclasses.dataclass
class ModuleRun:
    """One module run: its result, and the API actions it made (denied ones included), in order."""

    module: str
    args: dict[str, t.Any]
    result: dict[str, t.Any]
    actions: list[str]

    @property
    def failed(self) -> bool:
        return bool(self.result.get("failed"))

    def describe(self) -> str:
        shown = {k: v for k, v in self.args.items() if k not in ("access_key", "secret_key")}
        return f"{self.module} {json.dumps(shown)}\nactions: {self.actions}\n{json.dumps(self.result, indent=1)}"


class Enforced:
    """moto in this process with IAM enforced: root sets scenes, principals run modules."""

    def __init__(self, recorder: Recorder) -> None:
        self.root = boto3.client(
            "iam", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        self._recorder = recorder

    @contextlib.contextmanager
    def as_root(self) -> t.Iterator[t.Any]:
        """Root calls without enforcement."""
        with disable_iam_authentication():
            yield self.root

    def principal(self, name: str, policy: dict[str, t.Any]) -> dict[str, str]:
        """A user holding `policy` (made moto-evaluable) inline; its credentials as module arguments."""
        with self.as_root() as iam:
            iam.create_user(UserName=name)
            key = iam.create_access_key(UserName=name)["AccessKey"]
            iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(for_moto(policy)))
        return {"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"], "region": "us-east-1"}

    def run(
        self, credentials: dict[str, str], module: str, args: dict[str, t.Any], *, check_mode: bool = False
    ) -> ModuleRun:
        """The module run as the principal of `credentials`, with every request authenticated and authorised."""
        self._recorder.clear()
        with enable_iam_authentication():
            self._recorder.active = True
            try:
                result = run_module(module, dict(args, **credentials), check_mode=check_mode)
            finally:
                self._recorder.active = False
        return ModuleRun(module, args, result, list(self._recorder.names))


@pytest.fixture
def enforced(monkeypatch: pytest.MonkeyPatch) -> t.Iterator[Enforced]:
    """A fresh in-process moto account; no credentials or endpoint of the machine's own are used."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    recorder = Recorder(active=False).attach(monkeypatch)
    moto_patched.apply()  # service-specific credentials, which moto lacks, as AWS answers them
    with mock_aws():
        yield Enforced(recorder)
