# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared fixtures: an in-process moto IAM, a recorder of every AWS API call, and a module runner."""

from __future__ import annotations

import json
import typing as t

import boto3
import pytest
from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args
from moto import mock_aws

from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support import moto_patched
from ansible_collections.mfa_onboarding.iam.tests.support.recorder import Recorder
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import register_mfa


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")


@pytest.fixture
def iam(aws_env: None) -> t.Iterator[t.Any]:
    """A boto3 IAM client on a fresh in-process moto backend (the tests' own view of IAM), with what moto does
    not implement answered as AWS would (tests/support/moto_patched.py)."""
    moto_patched.apply()
    with mock_aws():
        yield boto3.client("iam", region_name="us-east-1")


@pytest.fixture
def api_calls(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Records every botocore API call (the module's and the test's) from the moment it is requested."""
    return Recorder().attach(monkeypatch)


@pytest.fixture
def run_module(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> t.Callable[..., dict[str, t.Any]]:
    """run_module(module, args, check_mode=False, diff=False) -> the module's JSON result.

    Warnings come back as ansible-core 2.19 WarningSummary objects; the `warning_messages` fixture gives their texts.
    """

    def run(module: t.Any, args: dict[str, t.Any], check_mode: bool = False, diff: bool = False) -> dict[str, t.Any]:
        capsys.readouterr()
        # A real module run is a fresh process; in-process runs share ansible's module-level warning stores.
        ansible_warnings._global_warnings.clear()
        ansible_warnings._global_deprecations.clear()
        # ...and a module process never has the controller loaded: once a test imports controller code (a filter
        # plugin's AnsibleFilterError), warn() would go to the controller's display instead of the module result.
        monkeypatch.setattr(module_utils_internal, "is_controller", False)
        full_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        with patch_module_args(full_args), pytest.raises(SystemExit) as exit_info:
            module.main()
        result = json.loads(capsys.readouterr().out)
        assert bool(result.get("failed")) == bool(exit_info.value.code), result
        return result

    return run


def _warning_messages(result: dict[str, t.Any]) -> list[str]:
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]


@pytest.fixture
def warning_messages() -> t.Callable[[dict[str, t.Any]], list[str]]:
    """warning_messages(result) -> the texts of a module result's warnings (strings or WarningSummary objects)."""
    return _warning_messages


# The MFA lifecycle: a bootstrapped account and MFA registration (iam_onboard_user tests).


class Bootstrapped(t.NamedTuple):
    """What the `bootstrapped` fixture created: names and ARNs."""

    first_login_arn: str
    current_users_arn: str
    onboarding_group: str
    extra_group: str
    extra_policy_name: str
    extra_policy_arn: str


@pytest.fixture
def bootstrapped(iam: t.Any) -> Bootstrapped:
    """An account as the bootstrap role leaves it, plus a group and a customer-managed policy to grant.

    MFARequiredOnlyForTheFirstLogin and MFARequiredForCurrentUsers (rendered from the bundled official document),
    group NotYetLoginUsers with the first attached; group Developers and policy AppReadOnly for promotions.
    Request `api_calls` after this fixture (or clear it) to leave these calls out of the record.
    """
    iam_state.bootstrap_guards(iam)
    iam_state.create_extras(iam)
    return Bootstrapped(
        iam_state.FIRST_LOGIN_ARN,
        iam_state.CURRENT_USERS_ARN,
        iam_state.ONBOARDING_GROUP,
        iam_state.EXTRA_GROUP,
        iam_state.EXTRA_POLICY,
        iam_state.EXTRA_POLICY_ARN,
    )


@pytest.fixture
def bootstrapped_at_any_path(iam: t.Any) -> Bootstrapped:
    """As `bootstrapped`, but the policies rendered from a base document whose self-service statements also name
    user/*/${aws:username} (iam_state.at_any_path), so that users at a path can replace their password and register
    MFA, and iam_onboard_user onboards them."""
    iam_state.bootstrap_guards(iam, any_path=True)
    iam_state.create_extras(iam)
    return Bootstrapped(
        iam_state.FIRST_LOGIN_ARN,
        iam_state.CURRENT_USERS_ARN,
        iam_state.ONBOARDING_GROUP,
        iam_state.EXTRA_GROUP,
        iam_state.EXTRA_POLICY,
        iam_state.EXTRA_POLICY_ARN,
    )


@pytest.fixture
def enable_mfa(iam: t.Any) -> t.Callable[..., str]:
    """enable_mfa(user, device=None) -> serial number: register and enable a virtual MFA device for user."""

    def enable(user: str, device: str | None = None) -> str:
        return register_mfa(iam, user, device)

    return enable
