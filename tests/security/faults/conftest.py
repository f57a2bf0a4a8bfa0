# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures of the fault suites: the fault point (tests/support/faults.py) served on loopback in front of moto in
this process, fake credentials, a module runner (in-process, as ansible would run the module: arguments in, one
JSON document on stdout) and a clock that counts the client's retries instead of sleeping through their backoff."""

from __future__ import annotations

import json
import os
import time
import typing as t

import botocore.endpoint
import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils import cloud

from ansible_collections.mfa_onboarding.iam.tests.support import moto_patched
from ansible_collections.mfa_onboarding.iam.tests.support.faults import FaultPoint
from ansible_collections.mfa_onboarding.iam.tests.support.iam_state import client


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: t.Any) -> None:
    """Fake credentials and no configuration of the machine's own (profiles, endpoints, retry settings)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def fault_point(aws_env: None) -> t.Iterator[FaultPoint]:
    """moto on loopback behind the fault point, in this process (with what moto does not implement answered as AWS
    would: tests/support/moto_patched.py); its state is emptied per test."""
    moto_patched.apply()
    with FaultPoint() as point:
        point.reset_backend()
        yield point
        point.reset_backend()


@pytest.fixture
def iam(fault_point: FaultPoint) -> t.Any:
    """The tests' own IAM client (on the fault point; use it while the fault point is off)."""
    return client(fault_point.url)


class RetryClock:
    """Stands in for the `time` module of botocore's endpoint (botocore's retry handler) and of amazon.aws's
    cloud module (AWSRetry): records each backoff sleep instead of sleeping, and delegates everything else."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def __getattr__(self, name: str) -> t.Any:
        return getattr(time, name)


class Retries(t.NamedTuple):
    botocore: RetryClock
    awsretry: RetryClock

    @property
    def total(self) -> int:
        return len(self.botocore.sleeps) + len(self.awsretry.sleeps)

    def clear(self) -> None:
        self.botocore.sleeps.clear()
        self.awsretry.sleeps.clear()


@pytest.fixture
def retries(monkeypatch: pytest.MonkeyPatch) -> Retries:
    """Counts the retries of both layers, botocore's own handler and amazon.aws's AWSRetry, without their sleeps."""
    counted = Retries(RetryClock(), RetryClock())
    monkeypatch.setattr(botocore.endpoint, "time", counted.botocore)
    monkeypatch.setattr(cloud, "time", counted.awsretry)
    return counted


Run = t.Callable[..., t.Dict[str, t.Any]]


@pytest.fixture
def run_module(capsys: pytest.CaptureFixture[str], fault_point: FaultPoint) -> Run:
    """run_module(module, args) -> the module's JSON result; the endpoint is the fault point."""

    def run(module: t.Any, args: dict[str, t.Any]) -> dict[str, t.Any]:
        capsys.readouterr()
        # A real module run is a fresh process; in-process runs share ansible's module-level warning stores.
        ansible_warnings._global_warnings.clear()
        ansible_warnings._global_deprecations.clear()
        full_args = dict(args, endpoint_url=fault_point.url, _ansible_check_mode=False, _ansible_diff=False)
        with patch_module_args(full_args), pytest.raises(SystemExit) as exit_info:
            module.main()
        result = t.cast("dict[str, t.Any]", json.loads(capsys.readouterr().out))
        assert bool(result.get("failed")) == bool(exit_info.value.code), result
        return result

    return run
