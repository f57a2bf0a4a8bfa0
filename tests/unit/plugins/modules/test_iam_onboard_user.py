# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""iam_onboard_user against an in-process moto IAM: every transition, the exact order of the write calls as
sent to botocore, refusals and errors that write nothing, check and diff mode, secrets, and bulk runs."""

from __future__ import annotations

import json
import string
import threading
import time
import typing as t

import boto3
import botocore.client
import pytest
from botocore.exceptions import ClientError

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.modules import iam_onboard_user
from ansible_collections.mfa_onboarding.iam.tests.support.aws_names import CaseInsensitiveNames
from ansible_collections.mfa_onboarding.iam.tests.support.faults import FaultPoint
from ansible_collections.mfa_onboarding.iam.tests.support.guards import guarded as is_guarded
from ansible_collections.mfa_onboarding.iam.tests.support.recorder import READ_PREFIXES as READS
from ansible_collections.mfa_onboarding.iam.tests.support.recorder import Recorder
from ansible_collections.mfa_onboarding.iam.tests.support.recorder import is_write

Run = t.Callable[..., dict[str, t.Any]]

ACCOUNT = "123456789012"  # moto's default account
GROUP = "NotYetLoginUsers"
FIRST_LOGIN = f"arn:aws:iam::{ACCOUNT}:policy/MFARequiredOnlyForTheFirstLogin"
CURRENT = f"arn:aws:iam::{ACCOUNT}:policy/MFARequiredForCurrentUsers"
APP = f"arn:aws:iam::{ACCOUNT}:policy/AppReadOnly"
CONSOLE_URL = f"https://{ACCOUNT}.signin.aws.amazon.com/console"
PROMOTE = {"state": "promoted", "groups": ["Developers"], "managed_policies": ["AppReadOnly"]}
IAM_SYMBOLS = "!@#$%^&*()_+-=[]{}|'"
# Ansible's no_log masking: a module that leaks a no_log value into its output shows one of these instead.
MASKS = ("********", "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER")
STRICT_POLICY = {
    "MinimumPasswordLength": 32,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": True,
}
# The calls of one unchanged user: the account reads, then the user's.
# Invariant 7, once per run: the onboarding group's policies (the first-login policy, then its default version; no
# inline policy), then the current-users policy's default version.
GUARD_READS = ["ListAttachedGroupPolicies", "GetPolicy", "GetPolicyVersion", "ListGroupPolicies", "GetPolicyVersion"]
ONBOARDING_ACCOUNT_READS = ["GetGroup", "GetPolicy", *GUARD_READS, "GetAccountPasswordPolicy"]
USER_READS = ["GetUser", "GetLoginProfile", "ListMFADevices", "ListGroupsForUser", "ListAttachedUserPolicies"]
# An onboarding run reads what else an existing user without MFA holds (invariant 2: nothing beyond the guard).
CREDENTIAL_READS = ["ListUserPolicies", "ListAccessKeys"]
# + Developers, AppReadOnly (a name: as the account's policy and as an AWS-managed one, to see whether it is ambiguous)
PROMOTION_ACCOUNT_READS = ["GetGroup", "GetPolicy", *GUARD_READS, "GetGroup", "GetPolicy", "GetPolicy"]

# Botocore's own call, captured before any fixture patches it: the tests' inspections go through it unrecorded.
_UNRECORDED_CALL = botocore.client.BaseClient._make_api_call


# Helpers


def snapshot(iam: t.Any, name: str) -> dict[str, t.Any] | None:
    """What IAM holds for a user (None when absent), read without being recorded."""

    def call(operation: str, **params: t.Any) -> dict[str, t.Any]:
        return _UNRECORDED_CALL(iam, operation, params)

    try:
        user = call("GetUser", UserName=name)["User"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "NoSuchEntity":
            return None
        raise
    try:
        profile = call("GetLoginProfile", UserName=name)["LoginProfile"]
    except ClientError as e:
        if e.response["Error"]["Code"] != "NoSuchEntity":
            raise
        profile = None
    groups = sorted(g["GroupName"] for g in call("ListGroupsForUser", UserName=name)["Groups"])
    return {
        "path": user["Path"],
        "tags": {tag["Key"]: tag["Value"] for tag in user.get("Tags", [])},
        "groups": groups,
        "policies": sorted(p["PolicyArn"] for p in call("ListAttachedUserPolicies", UserName=name)["AttachedPolicies"]),
        "group_policies": sorted(
            p["PolicyArn"] for g in groups for p in call("ListAttachedGroupPolicies", GroupName=g)["AttachedPolicies"]
        ),
        "login_profile": None if profile is None else str(profile["CreateDate"]),
        "mfa_devices": sorted(d["SerialNumber"] for d in call("ListMFADevices", UserName=name)["MFADevices"]),
    }


def writes_with_params(api_calls: t.Any) -> list[tuple[str, dict[str, t.Any]]]:
    return [(name, params) for name, params in api_calls.calls if is_write(name)]


def without_invocation(result: dict[str, t.Any]) -> str:
    """The result as JSON, without the echo of the module arguments (where Ansible shows no_log values masked)."""
    return json.dumps({k: v for k, v in result.items() if k != "invocation"}, default=str)


def assert_not_echoed(result: dict[str, t.Any], password: str) -> None:
    """Neither the password nor Ansible's mask of it anywhere in the result but the echo of the arguments."""
    text = without_invocation(result)
    assert password not in text
    for mask in MASKS:  # a leak that Ansible masked is still a leak
        assert mask not in text


def make_user(iam: t.Any, name: str, kind: str, enable_mfa: t.Callable[..., str]) -> None:
    """Bring a user into a starting state with the tests' own client, as the operator or the user would."""
    if kind == "absent":
        return
    iam.create_user(UserName=name)
    if kind == "unmanaged":
        return
    iam.create_login_profile(UserName=name, Password="Existing-Passw0rd!x", PasswordResetRequired=False)
    if kind == "unmanaged_password":
        return
    iam.add_user_to_group(UserName=name, GroupName=GROUP)
    if kind == "onboarding":
        return
    enable_mfa(name)
    if kind == "ready":
        return
    iam.attach_user_policy(UserName=name, PolicyArn=CURRENT)
    iam.add_user_to_group(UserName=name, GroupName="Developers")
    iam.remove_user_from_group(UserName=name, GroupName=GROUP)
    assert kind == "promoted"


def assert_satisfies_strict_policy(password: str) -> None:
    assert len(password) >= 32
    assert any(c in string.ascii_uppercase for c in password)
    assert any(c in string.ascii_lowercase for c in password)
    assert any(c in string.digits for c in password)
    assert any(c in IAM_SYMBOLS for c in password)
    assert set(password) <= set(string.ascii_letters + string.digits + IAM_SYMBOLS)


@pytest.fixture
def strict_password_policy(iam: t.Any) -> None:
    iam.update_account_password_policy(**STRICT_POLICY)


@pytest.fixture
def guard_monitor(monkeypatch: pytest.MonkeyPatch, iam: t.Any) -> list[tuple[str, str, dict[str, t.Any] | None]]:
    """After every write call a module makes, the state IAM holds for the user it named: (operation, user, state).

    Request it after `api_calls` so that the recorder still sees every call.
    """
    log: list[tuple[str, str, dict[str, t.Any] | None]] = []
    inner = botocore.client.BaseClient._make_api_call

    def monitored(self: t.Any, operation: str, params: dict[str, t.Any]) -> t.Any:
        result = inner(self, operation, params)
        if self is not iam and is_write(operation) and "UserName" in params:
            log.append((operation, params["UserName"], snapshot(iam, params["UserName"])))
        return result

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", monitored)
    return log


@pytest.fixture
def fault_point(monkeypatch: pytest.MonkeyPatch, iam: t.Any) -> FaultPoint:
    """The fault point in front of the module's botocore calls (the tests' own client `iam` is exempt).

    `fault_point.crash_after(k, code="AccessDenied")` is a run killed after its k-th write: that write's successor
    fails with AccessDenied (never retried), and so does every later call.
    """
    return FaultPoint().attach_botocore(monkeypatch, exempt=[iam])


@pytest.fixture
def aws_managed_policies(monkeypatch: pytest.MonkeyPatch, aws_env: None) -> None:
    """moto loads the AWS-managed policies; request it before `iam` / `bootstrapped`."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")


# absent -> onboarding


def test_onboarding_a_new_user_creates_guards_then_password(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any
) -> None:
    api_calls.clear()
    result = run_module(iam_onboard_user, {"name": "alice", "tags": {"team": "data"}})

    assert result["changed"] is True
    assert api_calls.writes == ["CreateUser", "AddUserToGroup", "CreateLoginProfile"]
    password = result["temporary_password"]
    assert writes_with_params(api_calls) == [
        ("CreateUser", {"UserName": "alice", "Path": "/", "Tags": [{"Key": "team", "Value": "data"}]}),
        ("AddUserToGroup", {"UserName": "alice", "GroupName": GROUP}),
        ("CreateLoginProfile", {"UserName": "alice", "Password": password, "PasswordResetRequired": True}),
    ]
    assert api_calls.names == [
        *ONBOARDING_ACCOUNT_READS,
        "GetUser",
        "CreateUser",
        "AddUserToGroup",
        "CreateLoginProfile",
    ]
    assert result["stage"] == "onboarding"
    assert result["actions"] == ["CreateUser team", f"AddUserToGroup {GROUP}", "CreateLoginProfile"]
    assert result["console_url"] == CONSOLE_URL
    assert result["mfa_devices"] == []
    assert result["login_profile"]["exists"] is True
    assert result["login_profile"]["password_reset_required"] is True
    assert result["login_profile"]["create_date"]
    user = result["user"]
    assert user["name"] == "alice"
    assert user["arn"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert user["path"] == "/"
    assert user["tags"] == {"team": "data"}
    assert user["user_id"] == iam.get_user(UserName="alice")["User"]["UserId"]
    state = snapshot(iam, "alice")
    assert state is not None
    assert (state["groups"], state["policies"], state["tags"]) == ([GROUP], [], {"team": "data"})
    assert state["group_policies"] == [FIRST_LOGIN]
    assert state["login_profile"] is not None


def test_onboarding_with_a_path(
    bootstrapped_at_any_path: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, warning_messages: t.Any
) -> None:
    api_calls.clear()
    result = run_module(iam_onboard_user, {"name": "carol", "path": "/contractors/"})

    # The policies' self-service statements name user/*/${aws:username} too: carol can enrol at her path.
    assert not result.get("failed"), result
    assert [w for w in warning_messages(result) if "path" in w] == []

    assert api_calls.calls[api_calls.names.index("CreateUser")][1] == {
        "UserName": "carol",
        "Path": "/contractors/",
        "Tags": [],
    }
    assert result["user"]["path"] == "/contractors/"
    assert result["user"]["arn"] == f"arn:aws:iam::{ACCOUNT}:user/contractors/carol"
    assert iam.get_user(UserName="carol")["User"]["Path"] == "/contractors/"


def test_onboarding_at_the_root_path_gives_no_path_warning(
    bootstrapped: t.Any, run_module: Run, warning_messages: t.Any
) -> None:
    result = run_module(iam_onboard_user, {"name": "carol"})
    assert [w for w in warning_messages(result) if "path" in w] == []


def test_password_reset_required_false_is_sent_as_false(bootstrapped: t.Any, api_calls: t.Any, run_module: Run) -> None:
    api_calls.clear()
    result = run_module(iam_onboard_user, {"name": "alice", "password_reset_required": False})

    (request,) = api_calls.requests("CreateLoginProfile")
    assert request["PasswordResetRequired"] is False
    assert result["login_profile"]["password_reset_required"] is False


def test_temporary_password_satisfies_the_account_password_policy(
    bootstrapped: t.Any, strict_password_policy: None, api_calls: t.Any, run_module: Run
) -> None:
    api_calls.clear()
    result = run_module(iam_onboard_user, {"name": "alice"})

    assert_satisfies_strict_policy(result["temporary_password"])
    (request,) = api_calls.requests("CreateLoginProfile")
    assert request["Password"] == result["temporary_password"]


def test_temporary_passwords_differ_between_users(bootstrapped: t.Any, run_module: Run) -> None:
    first = run_module(iam_onboard_user, {"name": "alice"})["temporary_password"]
    second = run_module(iam_onboard_user, {"name": "bob"})["temporary_password"]
    assert first != second
    assert len(first) >= 20


def test_temporary_password_appears_nowhere_else_in_the_result(bootstrapped: t.Any, run_module: Run) -> None:
    result = run_module(iam_onboard_user, {"name": "alice", "tags": {"team": "data"}}, diff=True)

    password = result.pop("temporary_password")
    assert password not in json.dumps(result, default=str)
    assert result["diff"]["after"]["console_password"] is True


# onboarding -> onboarding, ready


def test_onboarding_rerun_is_a_no_op_without_writes(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any
) -> None:
    run_module(iam_onboard_user, {"name": "alice", "tags": {"team": "data"}})
    before = snapshot(iam, "alice")
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "alice", "tags": {"team": "data"}})

    assert result["changed"] is False
    assert api_calls.writes == []
    assert api_calls.names == [*ONBOARDING_ACCOUNT_READS, *USER_READS, *CREDENTIAL_READS]
    assert "temporary_password" not in result
    assert result["stage"] == "onboarding"
    assert result["actions"] == []
    assert result["login_profile"]["exists"] is True
    assert snapshot(iam, "alice") == before


def test_onboarding_reports_ready_once_mfa_is_registered(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, enable_mfa: t.Callable[..., str]
) -> None:
    run_module(iam_onboard_user, {"name": "alice"})
    serial = enable_mfa("alice")
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "alice"})

    assert api_calls.writes == []
    assert result["changed"] is False
    assert result["stage"] == "ready"
    assert [d["serial_number"] for d in result["mfa_devices"]] == [serial]
    assert serial == f"arn:aws:iam::{ACCOUNT}:mfa/alice"
    assert result["mfa_devices"][0]["enable_date"]


def test_onboarding_updates_tags_without_purging_unless_asked(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any
) -> None:
    run_module(iam_onboard_user, {"name": "alice", "tags": {"team": "data", "site": "x"}})
    api_calls.clear()
    result = run_module(iam_onboard_user, {"name": "alice", "tags": {"team": "ops"}})
    assert api_calls.writes == ["TagUser"]
    assert result["user"]["tags"] == {"team": "ops", "site": "x"}
    api_calls.clear()
    result = run_module(iam_onboard_user, {"name": "alice", "tags": {"team": "ops"}, "purge_tags": True})
    assert writes_with_params(api_calls) == [("UntagUser", {"UserName": "alice", "TagKeys": ["site"]})]
    assert snapshot(iam, "alice")["tags"] == {"team": "ops"}  # type: ignore[index]


@pytest.mark.parametrize("bulk", [False, True])
def test_tags_that_are_not_text_are_set_once(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, bulk: bool
) -> None:
    """IAM keeps tag values as text: a number or a boolean from YAML is sent as text and matches it on the rerun."""
    args = {"tags": {"cost": 1234, "billable": True, "team": "data"}}
    args.update({"users": [{"name": "alice"}]} if bulk else {"name": "alice"})
    run_module(iam_onboard_user, args)
    sent = {tag["Key"]: tag["Value"] for tag in api_calls.requests("CreateUser")[0]["Tags"]}
    assert sent == {"cost": "1234", "billable": "True", "team": "data"}
    api_calls.clear()

    result = run_module(iam_onboard_user, args)

    assert result["changed"] is False
    assert api_calls.writes == []
    user = result["users"][0]["user"] if bulk else result["user"]
    assert user["tags"] == {"cost": "1234", "billable": "True", "team": "data"}


# ready -> promoted -> promoted


def test_promotion_guards_grants_then_leaves_the_onboarding_group(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    make_user(iam, "alice", "ready", enable_mfa)
    api_calls.clear()

    result = run_module(iam_onboard_user, dict(PROMOTE, name="alice"))

    assert result["changed"] is True
    assert writes_with_params(api_calls) == [
        ("AttachUserPolicy", {"UserName": "alice", "PolicyArn": CURRENT}),
        ("AttachUserPolicy", {"UserName": "alice", "PolicyArn": APP}),
        ("AddUserToGroup", {"UserName": "alice", "GroupName": "Developers"}),
        ("RemoveUserFromGroup", {"UserName": "alice", "GroupName": GROUP}),
    ]
    assert api_calls.names == [
        *PROMOTION_ACCOUNT_READS,
        *USER_READS,
        "AttachUserPolicy",
        "AttachUserPolicy",
        "AddUserToGroup",
        "RemoveUserFromGroup",
    ]
    assert "ListPolicies" not in api_calls.names  # names resolve without paging through AWS-managed policies
    assert result["stage"] == "promoted"
    assert result["actions"] == [
        f"AttachUserPolicy {CURRENT}",
        f"AttachUserPolicy {APP}",
        "AddUserToGroup Developers",
        f"RemoveUserFromGroup {GROUP}",
    ]
    assert "temporary_password" not in result
    state = snapshot(iam, "alice")
    assert state is not None
    assert (state["groups"], state["policies"]) == (["Developers"], sorted([APP, CURRENT]))


def test_promotion_rerun_is_a_no_op_without_writes(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    make_user(iam, "alice", "ready", enable_mfa)
    run_module(iam_onboard_user, dict(PROMOTE, name="alice"))
    before = snapshot(iam, "alice")
    api_calls.clear()

    result = run_module(iam_onboard_user, dict(PROMOTE, name="alice"))

    assert result["changed"] is False
    assert api_calls.writes == []
    assert api_calls.names == [*PROMOTION_ACCOUNT_READS, *USER_READS]
    assert result["stage"] == "promoted"
    assert result["actions"] == []
    assert snapshot(iam, "alice") == before


def test_promotion_of_a_promoted_user_only_adds_what_is_new(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    make_user(iam, "alice", "promoted", enable_mfa)
    iam.create_group(GroupName="Ops")
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "alice", "state": "promoted", "groups": ["Developers", "Ops"]})

    assert writes_with_params(api_calls) == [("AddUserToGroup", {"UserName": "alice", "GroupName": "Ops"})]
    assert result["stage"] == "promoted"


def test_onboarding_never_demotes_a_promoted_user(
    bootstrapped: t.Any,
    api_calls: t.Any,
    run_module: Run,
    iam: t.Any,
    enable_mfa: t.Callable[..., str],
    warning_messages: t.Callable[..., list[str]],
) -> None:
    make_user(iam, "alice", "promoted", enable_mfa)
    before = snapshot(iam, "alice")
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "alice", "state": "onboarding"})

    assert result["changed"] is False
    assert api_calls.writes == []
    assert api_calls.names == [*ONBOARDING_ACCOUNT_READS, *USER_READS]
    assert result["stage"] == "promoted"
    assert "temporary_password" not in result
    (warning,) = warning_messages(result)
    assert "alice" in warning
    assert "promoted" in warning
    assert snapshot(iam, "alice") == before


def test_an_interrupted_promotion_resumes_without_repeating_done_steps(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    make_user(iam, "alice", "ready", enable_mfa)
    iam.attach_user_policy(UserName="alice", PolicyArn=CURRENT)  # killed after the first call
    api_calls.clear()

    result = run_module(iam_onboard_user, dict(PROMOTE, name="alice"))

    assert writes_with_params(api_calls) == [
        ("AttachUserPolicy", {"UserName": "alice", "PolicyArn": APP}),
        ("AddUserToGroup", {"UserName": "alice", "GroupName": "Developers"}),
        ("RemoveUserFromGroup", {"UserName": "alice", "GroupName": GROUP}),
    ]
    assert result["stage"] == "promoted"


# Refusals and errors that write nothing


def test_promotion_without_mfa_is_refused_and_writes_nothing(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    make_user(iam, "alice", "onboarding", enable_mfa)
    before = snapshot(iam, "alice")
    api_calls.clear()

    result = run_module(iam_onboard_user, dict(PROMOTE, name="alice"))

    assert result["failed"] is True
    assert api_calls.writes == []
    assert "ListMFADevices" in api_calls.names
    assert "alice" in result["msg"]
    assert "MFA" in result["msg"]
    assert result["changed"] is False
    assert result["stage"] == "onboarding"
    assert result["actions"] == []
    assert result["refused"] is True
    assert snapshot(iam, "alice") == before


def test_promotion_of_an_absent_user_is_refused(bootstrapped: t.Any, api_calls: t.Any, run_module: Run) -> None:
    api_calls.clear()
    result = run_module(iam_onboard_user, dict(PROMOTE, name="ghost"))

    assert result["failed"] is True
    assert api_calls.writes == []
    assert "ghost" in result["msg"]
    assert "does not exist" in result["msg"]
    assert result["stage"] == "absent"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"groups": ["Developers", "Devlopers"]}, "Devlopers"),
        ({"managed_policies": ["AppReadOnly", "AppReadOnyl"]}, "AppReadOnyl"),
        ({"managed_policies": [f"arn:aws:iam::{ACCOUNT}:policy/Missing"]}, f"arn:aws:iam::{ACCOUNT}:policy/Missing"),
    ],
)
def test_promotion_with_an_unknown_group_or_policy_writes_nothing(
    bootstrapped: t.Any,
    api_calls: t.Any,
    run_module: Run,
    iam: t.Any,
    enable_mfa: t.Callable[..., str],
    args: dict[str, list[str]],
    named: str,
) -> None:
    make_user(iam, "alice", "ready", enable_mfa)
    before = snapshot(iam, "alice")
    api_calls.clear()

    result = run_module(iam_onboard_user, dict(args, name="alice", state="promoted"))

    assert result["failed"] is True
    assert named in result["msg"]
    assert "not found" in result["msg"]
    assert api_calls.writes == []
    assert snapshot(iam, "alice") == before


def user_writes(api_calls: t.Any) -> dict[str, list[str]]:
    """The write calls per user name (UserName), in order."""
    made: dict[str, list[str]] = {}
    for name, params in writes_with_params(api_calls):
        made.setdefault(params.get("UserName", ""), []).append(name)
    return made


def grant_reads(api_calls: t.Any) -> list[tuple[str, str]]:
    """The GetGroup and GetPolicy calls after the guards' (the grants' reads), as (operation, name or ARN)."""
    calls = [
        (n, p.get("GroupName") or p.get("PolicyArn")) for n, p in api_calls.calls if n in ("GetGroup", "GetPolicy")
    ]
    return [c for c in calls if c[1] not in (GROUP, CURRENT, FIRST_LOGIN)]


def test_bulk_promotion_fails_only_the_users_whose_grants_do_not_exist(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    """p1 (valid group), p2 (unknown group), p3 (unknown policy), p4 (valid policy): check mode predicts it, the run
    promotes p1 and p4 and refuses p2 and p3 by name with no write for them; the rerun with the typos fixed
    promotes them and changes nobody else."""
    for name in ("p1", "p2", "p3", "p4"):
        make_user(iam, name, "ready", enable_mfa)
    users = [
        {"name": "p1", "groups": ["Developers"]},
        {"name": "p2", "groups": ["Devlopers"]},
        {"name": "p3", "managed_policies": ["AppReadOnyl"]},
        {"name": "p4", "managed_policies": ["AppReadOnly"]},
    ]
    args = {"state": "promoted", "users": users}
    outcomes = []
    for check_mode in (True, False):
        api_calls.clear()
        result = run_module(iam_onboard_user, args, check_mode=check_mode)
        outcomes.append(result)
        assert result["failed"] is True
        assert result["msg"].startswith("2 of 4 users failed: ")
        assert "user p2: groups not found: Devlopers; nothing was changed for this user" in result["msg"]
        assert "user p3: managed policies not found: AppReadOnyl" in result["msg"]
        assert "p1" not in result["msg"] and "p4" not in result["msg"]
        by_name = {r["name"]: r for r in result["users"]}
        assert [r["name"] for r in result["users"]] == ["p1", "p2", "p3", "p4"]  # input order
        for name in ("p1", "p4"):
            assert (by_name[name]["failed"], by_name[name]["changed"], by_name[name]["stage"]) == (
                False,
                True,
                "promoted",
            )
        for name in ("p2", "p3"):
            failed = by_name[name]
            assert (failed["failed"], failed["refused"], failed["changed"]) == (True, True, False), failed
            assert (failed["actions"], failed["stage"]) == ([], "ready"), failed
        assert "refused: user p2: groups not found: Devlopers" in by_name["p2"]["summary"]
        # Every grant read once, before the first write (not once per user).
        assert grant_reads(api_calls) == [
            ("GetGroup", "Developers"),
            ("GetGroup", "Devlopers"),
            ("GetPolicy", f"arn:aws:iam::{ACCOUNT}:policy/AppReadOnyl"),
            ("GetPolicy", "arn:aws:iam::aws:policy/AppReadOnyl"),
            ("GetPolicy", APP),
            ("GetPolicy", "arn:aws:iam::aws:policy/AppReadOnly"),
        ]
        if check_mode:
            assert api_calls.writes == []
            assert by_name["p1"]["actions"] == [
                f"AttachUserPolicy {CURRENT}",
                "AddUserToGroup Developers",
                f"RemoveUserFromGroup {GROUP}",
            ]
            continue
        first_write = next(i for i, name in enumerate(api_calls.names) if is_write(name))
        last_read = max(i for i, (name, _p) in enumerate(api_calls.calls) if name in ("GetGroup", "GetPolicy"))
        assert last_read < first_write
        made = user_writes(api_calls)
        assert sorted(made) == ["p1", "p4"]  # no write at all for p2 and p3
        assert made["p1"] == ["AttachUserPolicy", "AddUserToGroup", "RemoveUserFromGroup"]
        assert made["p4"] == ["AttachUserPolicy", "AttachUserPolicy", "RemoveUserFromGroup"]
    assert [r["summary"] for r in outcomes[0]["users"]][1:3] == [r["summary"] for r in outcomes[1]["users"]][1:3]
    assert snapshot(iam, "p2")["groups"] == [GROUP]  # type: ignore[index]
    assert snapshot(iam, "p3")["policies"] == []  # type: ignore[index]
    assert snapshot(iam, "p4")["policies"] == sorted([APP, CURRENT])  # type: ignore[index]

    # The typos fixed: p2 and p3 are promoted, p1 and p4 are left as they are.
    users[1]["groups"] = ["Developers"]
    users[2]["managed_policies"] = ["AppReadOnly"]
    api_calls.clear()
    result = run_module(iam_onboard_user, args)
    assert not result.get("failed"), result
    assert [(r["name"], r["changed"], r["stage"]) for r in result["users"]] == [
        ("p1", False, "promoted"),
        ("p2", True, "promoted"),
        ("p3", True, "promoted"),
        ("p4", False, "promoted"),
    ]
    assert sorted(user_writes(api_calls)) == ["p2", "p3"]


def test_the_same_missing_group_named_by_two_users_is_read_once_and_fails_both(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    for name in ("alice", "bob", "carol"):
        make_user(iam, name, "ready", enable_mfa)
    api_calls.clear()

    users = [
        {"name": "alice", "groups": ["Ops"]},
        {"name": "bob", "groups": ["Developers"]},
        {"name": "carol", "groups": ["Developers", "Ops"], "managed_policies": ["Nope", "AppReadOnly"]},
    ]
    result = run_module(iam_onboard_user, {"state": "promoted", "users": users})

    assert result["failed"] is True
    assert "2 of 3 users failed" in result["msg"]
    assert "user alice: groups not found: Ops" in result["msg"]
    assert "user carol: groups not found: Ops; managed policies not found: Nope" in result["msg"]
    assert [r["failed"] for r in result["users"]] == [True, False, True]
    assert sorted(user_writes(api_calls)) == ["bob"]
    assert [p["GroupName"] for p in api_calls.requests("GetGroup")].count("Ops") == 1


def test_promotion_names_every_unknown_group_and_policy_at_once(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    make_user(iam, "alice", "ready", enable_mfa)
    api_calls.clear()

    args = {"name": "alice", "state": "promoted", "groups": ["Devs", "Ops"], "managed_policies": ["AppReadOnyl"]}
    result = run_module(iam_onboard_user, args)

    assert result["failed"] is True
    assert "groups not found: Devs, Ops" in result["msg"]
    assert "managed policies not found: AppReadOnyl" in result["msg"]
    assert api_calls.writes == []


def test_user_promoted_through_a_group_is_not_demoted(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    # The current-users policy reaches the user through a group, not attached to the user itself.
    iam.create_group(GroupName="Staff")
    iam.attach_group_policy(GroupName="Staff", PolicyArn=bootstrapped.current_users_arn)
    iam.create_user(UserName="alice")
    iam.add_user_to_group(GroupName="Staff", UserName="alice")
    enable_mfa("alice")
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "alice"})

    assert result["changed"] is False
    assert result["stage"] == "promoted"
    assert api_calls.writes == []
    assert "ListAttachedGroupPolicies" in api_calls.names
    assert GROUP not in [g["GroupName"] for g in iam.list_groups_for_user(UserName="alice")["Groups"]]


@pytest.mark.parametrize("state", ["onboarding", "promoted"])
def test_missing_current_users_policy_writes_nothing(
    bootstrapped: t.Any,
    api_calls: t.Any,
    run_module: Run,
    iam: t.Any,
    enable_mfa: t.Callable[..., str],
    state: str,
) -> None:
    make_user(iam, "alice", "ready", enable_mfa)
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "alice", "state": state, "current_users_policy": "Nope"})

    assert result["failed"] is True
    assert f"arn:aws:iam::{ACCOUNT}:policy/Nope" in result["msg"]
    assert "bootstrap" in result["msg"]
    assert api_calls.writes == []


@pytest.mark.parametrize("state", ["onboarding", "promoted"])
def test_missing_onboarding_group_tells_to_bootstrap_and_writes_nothing(
    iam: t.Any, api_calls: t.Any, run_module: Run, state: str
) -> None:
    result = run_module(iam_onboard_user, {"name": "alice", "state": state})

    assert result["failed"] is True
    assert GROUP in result["msg"]
    assert "bootstrap" in result["msg"]
    assert api_calls.writes == []
    assert api_calls.names == ["GetGroup"]


@pytest.mark.parametrize(
    "password",
    [
        "Short1!a",  # too short for 32
        "all-lowercase-and-long-enough-but-no-digit-or-upper",
        "NoSymbolsAtAll0123456789abcdefghijKLMN",
    ],
)
def test_explicit_password_violating_the_policy_fails_before_create_user(
    bootstrapped: t.Any, strict_password_policy: None, api_calls: t.Any, run_module: Run, iam: t.Any, password: str
) -> None:
    api_calls.clear()
    result = run_module(iam_onboard_user, {"name": "alice", "password": password})

    assert result["failed"] is True
    assert "CreateUser" not in api_calls.names
    assert api_calls.writes == []
    assert "alice" in result["msg"]
    assert "password policy" in result["msg"]
    assert snapshot(iam, "alice") is None
    assert_not_echoed(result, password)


def test_explicit_password_error_names_the_requirement(
    bootstrapped: t.Any, strict_password_policy: None, run_module: Run
) -> None:
    result = run_module(iam_onboard_user, {"name": "alice", "password": "Short1!a"})
    assert "at least 32" in result["msg"]


def test_explicit_valid_password_is_sent_and_never_echoed_as_something_else(
    bootstrapped: t.Any, strict_password_policy: None, api_calls: t.Any, run_module: Run
) -> None:
    password = "Explicit-Passw0rd-That-Is-Long-Enough!"
    api_calls.clear()
    result = run_module(iam_onboard_user, {"name": "alice", "password": password})

    assert api_calls.writes == ["CreateUser", "AddUserToGroup", "CreateLoginProfile"]
    (request,) = api_calls.requests("CreateLoginProfile")
    assert request["Password"] == password
    # The operator chose this password and knows it; Ansible would mask an echo of a no_log value anyway, which
    # would hand over a placeholder that no one can sign in with. So it is not returned.
    assert "temporary_password" not in result
    assert result["login_profile"]["exists"] is True


@pytest.mark.parametrize(
    "name",
    ["", "a" * 65, "alice smith", "team/alice", "al\u00efce", "\u0430lice", "alice\n"],
    ids=["empty", "65-chars", "space", "slash", "diaeresis", "cyrillic-a", "newline"],
)
def test_invalid_name_fails_before_any_api_call(iam: t.Any, api_calls: t.Any, run_module: Run, name: str) -> None:
    result = run_module(iam_onboard_user, {"name": name})

    assert result["failed"] is True
    assert result["msg"].startswith("name: the user name")
    assert api_calls.names == []


def test_invalid_name_in_bulk_fails_before_any_api_call(iam: t.Any, api_calls: t.Any, run_module: Run) -> None:
    result = run_module(iam_onboard_user, {"users": [{"name": "alice"}, {"name": "a" * 65}]})

    assert result["failed"] is True
    assert result["msg"].startswith("users[1].name:")
    assert "65 characters" in result["msg"]
    assert api_calls.names == []


def test_64_character_name_is_accepted(bootstrapped: t.Any, run_module: Run, iam: t.Any) -> None:
    result = run_module(iam_onboard_user, {"name": "a" * 64})
    assert result["changed"] is True
    assert snapshot(iam, "a" * 64) is not None


@pytest.mark.parametrize(
    ("users", "message"),
    [
        ([{"name": "alice"}, {"name": "bob"}, {"name": "alice"}], "users[2].name: user alice is listed more than once"),
        ([], "users: the list is empty"),
    ],
)
def test_duplicate_or_empty_users_fail_before_any_api_call(
    iam: t.Any, api_calls: t.Any, run_module: Run, users: list[dict[str, str]], message: str
) -> None:
    result = run_module(iam_onboard_user, {"users": users})

    assert result["failed"] is True
    assert result["msg"].startswith(message)
    assert api_calls.names == []


def test_onboarding_group_among_promotion_groups_fails_before_any_api_call(
    iam: t.Any, api_calls: t.Any, run_module: Run
) -> None:
    result = run_module(iam_onboard_user, {"name": "alice", "state": "promoted", "groups": [GROUP]})

    assert result["failed"] is True
    assert GROUP in result["msg"]
    assert api_calls.names == []


# Adoption of existing users


def test_adoption_without_password_guards_first_then_creates_one(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any
) -> None:
    iam.create_user(UserName="dave", Tags=[{"Key": "owner", "Value": "it"}])
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "dave"})

    assert writes_with_params(api_calls) == [
        ("AddUserToGroup", {"UserName": "dave", "GroupName": GROUP}),
        (
            "CreateLoginProfile",
            {"UserName": "dave", "Password": result["temporary_password"], "PasswordResetRequired": True},
        ),
    ]
    assert result["stage"] == "onboarding"
    assert result["user"]["tags"] == {"owner": "it"}
    assert snapshot(iam, "dave")["groups"] == [GROUP]  # type: ignore[index]


def test_adoption_with_password_keeps_it_and_warns_about_an_explicit_one(
    bootstrapped: t.Any,
    api_calls: t.Any,
    run_module: Run,
    iam: t.Any,
    warning_messages: t.Callable[..., list[str]],
) -> None:
    iam.create_user(UserName="erin")
    iam.create_login_profile(UserName="erin", Password="Existing-Passw0rd!x", PasswordResetRequired=False)
    profile_date = snapshot(iam, "erin")["login_profile"]  # type: ignore[index]
    password = "Would-Be-New-Passw0rd!"
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "erin", "password": password})

    assert api_calls.writes == ["AddUserToGroup"]
    assert "CreateLoginProfile" not in api_calls.names
    assert "UpdateLoginProfile" not in api_calls.names
    assert "temporary_password" not in result
    assert result["stage"] == "onboarding"
    assert result["login_profile"]["exists"] is True
    assert result["console_password"] == "kept"
    assert result["detached"] is None
    kept, explicit = warning_messages(result)
    assert "erin" in explicit
    assert "already has a console password" in explicit
    assert "erin keeps its existing console password; it was not reset" in kept
    assert_not_echoed(result, password)
    state = snapshot(iam, "erin")
    assert state["groups"] == [GROUP]  # type: ignore[index]
    assert state["login_profile"] == profile_date  # type: ignore[index]


def test_adoption_of_a_user_with_permissions_removes_them_after_the_guard(
    bootstrapped: t.Any,
    api_calls: t.Any,
    run_module: Run,
    iam: t.Any,
    warning_messages: t.Callable[..., list[str]],
) -> None:
    iam.create_user(UserName="frank")
    iam.create_login_profile(UserName="frank", Password="Existing-Passw0rd!x")
    iam.add_user_to_group(UserName="frank", GroupName="Developers")
    iam.attach_user_policy(UserName="frank", PolicyArn=APP)
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "frank"})

    # The guard first, then the grants (invariant 1 between every two calls, invariant 2 at the end).
    assert api_calls.writes == ["AddUserToGroup", "DetachUserPolicy", "RemoveUserFromGroup"]
    assert result["detached"] == {"access_keys": [], "policies": [APP], "inline_policies": {}, "groups": ["Developers"]}
    removed, kept = warning_messages(result)
    assert "frank existed outside the onboarding regime without an MFA device" in removed
    assert "Developers" in removed
    assert APP in removed
    assert "keeps its existing console password" in kept
    state = snapshot(iam, "frank")
    assert (state["groups"], state["policies"]) == ([GROUP], [])  # type: ignore[index]


def test_interrupted_onboarding_resumes_with_the_guard_first(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any
) -> None:
    iam.create_user(UserName="gina", Tags=[{"Key": "team", "Value": "data"}])  # killed after CreateUser
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "gina", "tags": {"team": "data"}})

    assert api_calls.writes == ["AddUserToGroup", "CreateLoginProfile"]
    assert "temporary_password" in result


# Invariant 1 observed in IAM after every single write call


def test_no_credential_is_ever_unguarded_through_the_whole_lifecycle(
    bootstrapped: t.Any,
    api_calls: t.Any,
    guard_monitor: list[tuple[str, str, dict[str, t.Any] | None]],
    run_module: Run,
    enable_mfa: t.Callable[..., str],
) -> None:
    run_module(iam_onboard_user, {"name": "alice", "tags": {"team": "data"}})
    enable_mfa("alice")
    run_module(iam_onboard_user, dict(PROMOTE, name="alice"))

    assert [operation for operation, _user, _state in guard_monitor] == [
        "CreateUser",
        "AddUserToGroup",
        "CreateLoginProfile",
        "AttachUserPolicy",
        "AttachUserPolicy",
        "AddUserToGroup",
        "RemoveUserFromGroup",
    ]
    for operation, user, state in guard_monitor:
        assert user == "alice"
        assert state is not None
        if state["login_profile"] is not None:
            assert is_guarded(state), (operation, state)
        # Invariant 2: no permission beyond the guards before MFA.
        if not state["mfa_devices"]:
            assert set(state["groups"]) <= {GROUP}
            assert state["policies"] == []
    assert guard_monitor[-1][2]["groups"] == ["Developers"]  # type: ignore[index]


def test_monitor_detects_an_unguarded_credential(
    bootstrapped: t.Any, iam: t.Any, guard_monitor: list[tuple[str, str, dict[str, t.Any] | None]]
) -> None:
    # The check above can fail: the same reading of IAM after a password set before the guard.
    iam.create_user(UserName="mallory")
    iam.create_login_profile(UserName="mallory", Password="Existing-Passw0rd!x")
    state = snapshot(iam, "mallory")
    assert state is not None
    assert is_guarded(state) is False
    iam.add_user_to_group(UserName="mallory", GroupName=GROUP)
    assert is_guarded(snapshot(iam, "mallory")) is True  # type: ignore[arg-type]
    assert guard_monitor == []  # the tests' own calls are not monitored


def test_monitor_catches_a_module_that_sets_the_password_before_the_guard(
    bootstrapped: t.Any,
    monkeypatch: pytest.MonkeyPatch,
    guard_monitor: list[tuple[str, str, dict[str, t.Any] | None]],
    run_module: Run,
) -> None:
    """The monitor on a module run: with the console password planned before the group, it sees the unguarded
    credential that the real plan never leaves."""
    real_plan = lc.plan_onboarding

    def password_first(*args: t.Any, **kwargs: t.Any) -> t.Any:
        steps, notes, refusal = real_plan(*args, **kwargs)
        profile = [step for step in steps if step.action == "CreateLoginProfile"]
        others = [step for step in steps if step.action != "CreateLoginProfile"]
        return lc.Plan(others[:1] + profile + others[1:], notes, refusal)

    monkeypatch.setattr(lc, "plan_onboarding", password_first)

    run_module(iam_onboard_user, {"name": "mallory"})

    assert [operation for operation, _user, _state in guard_monitor] == [
        "CreateUser",
        "CreateLoginProfile",
        "AddUserToGroup",
    ]
    unguarded = [
        operation
        for operation, _user, state in guard_monitor
        if state is not None and state["login_profile"] is not None and not is_guarded(state)
    ]
    assert unguarded == ["CreateLoginProfile"]


ONBOARDING_END = {"groups": [GROUP], "policies": [], "tags": {"team": "data"}}
PROMOTION_END = {"groups": ["Developers"], "policies": sorted([APP, CURRENT]), "tags": {}}


@pytest.mark.parametrize("kill_at", [1, 2, 3])
def test_onboarding_killed_at_any_write_is_safe_and_converges(
    bootstrapped: t.Any,
    api_calls: t.Any,
    fault_point: FaultPoint,
    run_module: Run,
    iam: t.Any,
    kill_at: int,
) -> None:
    planned = ["CreateUser team", f"AddUserToGroup {GROUP}", "CreateLoginProfile"]
    fault_point.crash_after(kill_at - 1, code="AccessDenied")
    killed = run_module(iam_onboard_user, {"name": "alice", "tags": {"team": "data"}})

    assert killed["failed"] is True
    assert "AccessDenied" in killed["msg"]
    assert killed["actions"] == planned[: kill_at - 1]
    assert "temporary_password" not in killed
    state = snapshot(iam, "alice")
    # What the killed run left: nothing, a user without credentials, or a guarded user without credentials.
    expected = {1: None, 2: ([], [], False), 3: ([GROUP], [], False)}[kill_at]
    left = None if state is None else (state["groups"], state["policies"], state["login_profile"] is not None)
    assert left == expected

    fault_point.off()
    resumed = run_module(iam_onboard_user, {"name": "alice", "tags": {"team": "data"}})

    assert resumed["changed"] is True
    assert resumed["actions"] == planned[kill_at - 1 :]
    assert "temporary_password" in resumed
    end = snapshot(iam, "alice")
    assert end is not None
    assert {k: end[k] for k in ONBOARDING_END} == ONBOARDING_END
    assert end["login_profile"] is not None


@pytest.mark.parametrize("kill_at", [1, 2, 3, 4])
def test_promotion_killed_at_any_write_is_safe_and_converges(
    bootstrapped: t.Any,
    api_calls: t.Any,
    fault_point: FaultPoint,
    run_module: Run,
    iam: t.Any,
    enable_mfa: t.Callable[..., str],
    kill_at: int,
) -> None:
    planned = [f"AttachUserPolicy {CURRENT}", f"AttachUserPolicy {APP}", "AddUserToGroup Developers"]
    planned.append(f"RemoveUserFromGroup {GROUP}")
    make_user(iam, "alice", "ready", enable_mfa)
    fault_point.crash_after(kill_at - 1, code="AccessDenied")
    killed = run_module(iam_onboard_user, dict(PROMOTE, name="alice"))

    assert killed["failed"] is True
    assert killed["actions"] == planned[: kill_at - 1]
    assert killed["changed"] is (kill_at > 1)
    state = snapshot(iam, "alice")
    assert state is not None
    assert is_guarded(state)
    assert (state["groups"], state["policies"]) == {
        1: ([GROUP], []),
        2: ([GROUP], [CURRENT]),
        3: ([GROUP], sorted([APP, CURRENT])),
        4: (["Developers", GROUP], sorted([APP, CURRENT])),
    }[kill_at]

    fault_point.off()
    resumed = run_module(iam_onboard_user, dict(PROMOTE, name="alice"))

    assert resumed["actions"] == planned[kill_at - 1 :]
    assert resumed["stage"] == "promoted"
    end = snapshot(iam, "alice")
    assert end is not None
    assert {k: end[k] for k in PROMOTION_END} == PROMOTION_END


def test_a_note_a_killed_run_left_staged_is_put_in_place_as_a_change(
    bootstrapped: t.Any, run_module: Run, tmp_path: t.Any, warning_messages: t.Callable[..., list[str]]
) -> None:
    """A run killed after alice's mark said delivered, before her note was renamed into place, leaves it staged
    (.alice.txt.new). The next run puts it in place: that is a change (a play recap of changed=0 would hide that the
    handover was only now finished), and check mode predicts it without moving the note."""
    directory = tmp_path / "notes"
    args = {"name": "alice", "handover": "file", "handover_dir": str(directory)}
    first = run_module(iam_onboard_user, args)
    assert first["handover"] == "delivered"
    note = (directory / "alice.txt").read_text(encoding="utf-8")
    (directory / "alice.txt").rename(directory / ".alice.txt.new")

    predicted = run_module(iam_onboard_user, args, check_mode=True)
    assert predicted["changed"] is True
    assert predicted["actions"] == []
    assert any("would be put in place" in w for w in warning_messages(predicted)), predicted
    assert sorted(p.name for p in directory.iterdir()) == [".alice.txt.new"]

    recovered = run_module(iam_onboard_user, args)
    assert recovered["changed"] is True
    assert recovered["actions"] == []
    assert recovered["password_issued"] is False
    assert any("is now in place" in w for w in warning_messages(recovered)), recovered
    assert sorted(p.name for p in directory.iterdir()) == ["alice.txt"]
    assert (directory / "alice.txt").read_text(encoding="utf-8") == note

    assert run_module(iam_onboard_user, args)["changed"] is False


# Check mode and diff mode


PROMOTION_ACTIONS = [
    f"AttachUserPolicy {CURRENT}",
    f"AttachUserPolicy {APP}",
    "AddUserToGroup Developers",
    f"RemoveUserFromGroup {GROUP}",
]
CHECK_CASES = [
    ("absent", {}, ["CreateUser", f"AddUserToGroup {GROUP}", "CreateLoginProfile"], "onboarding"),
    ("unmanaged", {}, [f"AddUserToGroup {GROUP}", "CreateLoginProfile"], "onboarding"),
    ("unmanaged_password", {}, [f"AddUserToGroup {GROUP}"], "onboarding"),
    ("onboarding", {}, [], "onboarding"),
    ("ready", {}, [], "ready"),
    (
        "ready",
        PROMOTE,
        PROMOTION_ACTIONS,
        "promoted",
    ),
    ("promoted", {"state": "promoted", "groups": ["Developers"]}, [], "promoted"),
    ("promoted", {"state": "onboarding"}, [], "promoted"),
]


@pytest.mark.parametrize(
    ("kind", "args", "actions", "stage"),
    CHECK_CASES,
    ids=[
        "absent-onboarding",
        "adopt-no-password",
        "adopt-password",
        "onboarding-no-op",
        "ready-no-op",
        "ready-promoted",
        "promoted-no-op",
        "promoted-no-demotion",
    ],
)
def test_check_mode_predicts_without_writing(
    bootstrapped: t.Any,
    api_calls: t.Any,
    run_module: Run,
    iam: t.Any,
    enable_mfa: t.Callable[..., str],
    kind: str,
    args: dict[str, t.Any],
    actions: list[str],
    stage: str,
) -> None:
    make_user(iam, "alice", kind, enable_mfa)
    before = snapshot(iam, "alice")
    api_calls.clear()

    predicted = run_module(iam_onboard_user, dict(args, name="alice"), check_mode=True, diff=True)

    assert api_calls.writes == []
    assert snapshot(iam, "alice") == before
    assert predicted["changed"] is bool(actions)
    assert predicted["actions"] == actions
    assert predicted["stage"] == stage
    assert "temporary_password" not in predicted
    assert predicted["console_url"] == CONSOLE_URL

    # The prediction is what a real run then does.
    real = run_module(iam_onboard_user, dict(args, name="alice"), diff=True)
    assert (real["changed"], real["actions"], real["stage"]) == (predicted["changed"], actions, stage)
    assert real["diff"]["after"] == predicted["diff"]["after"]


def test_check_mode_of_a_refused_promotion_writes_nothing(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    make_user(iam, "alice", "onboarding", enable_mfa)
    api_calls.clear()
    result = run_module(iam_onboard_user, dict(PROMOTE, name="alice"), check_mode=True)
    assert result["failed"] is True
    assert "MFA" in result["msg"]
    assert api_calls.writes == []


def test_check_mode_for_a_new_user_reports_the_user_to_be(
    bootstrapped_at_any_path: t.Any, api_calls: t.Any, run_module: Run
) -> None:
    api_calls.clear()
    result = run_module(iam_onboard_user, {"name": "alice", "path": "/team/", "tags": {"a": "b"}}, check_mode=True)

    assert api_calls.names == [*ONBOARDING_ACCOUNT_READS, "GetUser"]
    assert result["user"] == {
        "name": "alice",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/team/alice",
        "user_id": None,
        "path": "/team/",
        "create_date": None,
        "tags": {"a": "b"},
    }
    assert result["login_profile"]["exists"] is True
    assert result["login_profile"]["create_date"] is None


def test_diff_of_onboarding(bootstrapped: t.Any, run_module: Run) -> None:
    result = run_module(iam_onboard_user, {"name": "alice"}, diff=True)

    assert result["diff"]["before"] == {}
    after = result["diff"]["after"]
    assert (after["stage"], after["groups"], after["policies"]) == ("onboarding", [GROUP], [])
    assert result["temporary_password"] not in json.dumps(result["diff"])


def test_diff_of_promotion(bootstrapped: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]) -> None:
    make_user(iam, "alice", "ready", enable_mfa)

    result = run_module(iam_onboard_user, dict(PROMOTE, name="alice"), diff=True)

    before, after = result["diff"]["before"], result["diff"]["after"]
    assert (before["stage"], before["groups"], before["policies"]) == ("ready", [GROUP], [])
    assert (after["stage"], after["groups"], after["policies"]) == ("promoted", ["Developers"], sorted([APP, CURRENT]))
    assert "Existing-Passw0rd!x" not in json.dumps(result["diff"])


def test_diff_in_check_mode_never_shows_an_explicit_password(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run
) -> None:
    password = "Explicit-Passw0rd-Long!"
    api_calls.clear()
    result = run_module(iam_onboard_user, {"name": "alice", "password": password}, check_mode=True, diff=True)

    assert api_calls.writes == []
    assert_not_echoed(result, password)
    assert result["diff"]["after"]["console_password"] is True


# Managed policies by name


def test_policy_by_name_resolves_to_the_customer_managed_arn_and_by_arn_as_given(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    extra = iam.create_policy(
        PolicyName="Billing",
        Path="/finance/",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "aws-portal:View*", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    make_user(iam, "alice", "ready", enable_mfa)
    api_calls.clear()

    run_module(
        iam_onboard_user,
        {"name": "alice", "state": "promoted", "managed_policies": ["AppReadOnly", "finance/Billing", extra]},
    )

    attached = [params["PolicyArn"] for params in api_calls.requests("AttachUserPolicy")]
    assert attached == [CURRENT, APP, extra]
    assert extra == f"arn:aws:iam::{ACCOUNT}:policy/finance/Billing"
    assert "ListPolicies" not in api_calls.names


def test_aws_managed_policies_by_name(
    aws_managed_policies: None,
    bootstrapped: t.Any,
    api_calls: t.Any,
    run_module: Run,
    iam: t.Any,
    enable_mfa: t.Callable[..., str],
) -> None:
    assert iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")["Policy"]["PolicyName"]
    make_user(iam, "alice", "ready", enable_mfa)
    api_calls.clear()

    result = run_module(
        iam_onboard_user,
        {"name": "alice", "state": "promoted", "managed_policies": ["ReadOnlyAccess", "job-function/ViewOnlyAccess"]},
    )

    assert result["stage"] == "promoted"
    attached = [params["PolicyArn"] for params in api_calls.requests("AttachUserPolicy")]
    assert attached == [
        CURRENT,
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
    ]
    # Customer-managed first, then AWS-managed; no paging through the AWS-managed list.
    assert [params["PolicyArn"] for params in api_calls.requests("GetPolicy")] == [
        CURRENT,
        f"arn:aws:iam::{ACCOUNT}:policy/MFARequiredOnlyForTheFirstLogin",  # the onboarding group's guard (invariant 7)
        f"arn:aws:iam::{ACCOUNT}:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        f"arn:aws:iam::{ACCOUNT}:policy/job-function/ViewOnlyAccess",
        "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
    ]
    assert "ListPolicies" not in api_calls.names


def test_a_name_both_customer_and_aws_managed_is_ambiguous_for_the_users_naming_it(
    aws_managed_policies: None,
    bootstrapped: t.Any,
    api_calls: t.Any,
    run_module: Run,
    iam: t.Any,
    enable_mfa: t.Callable[..., str],
) -> None:
    """A customer-managed ReadOnlyAccess that allows everything does not shadow AWS's silently: the users that name
    it (or job-function/ViewOnlyAccess, also shadowed) are refused, with both ARNs; the ARN and a name that is
    AWS-managed only resolve; check mode predicts the same. One GetPolicy more per shadowed name, none for the
    others."""
    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    own = iam.create_policy(PolicyName="ReadOnlyAccess", PolicyDocument=json.dumps(allow_all))["Policy"]["Arn"]
    own_view = iam.create_policy(
        PolicyName="ViewOnlyAccess", Path="/job-function/", PolicyDocument=json.dumps(allow_all)
    )["Policy"]["Arn"]
    aws_read_only = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    for name in ("p1", "p2", "p3", "p4"):
        make_user(iam, name, "ready", enable_mfa)
    users = [
        {"name": "p1", "managed_policies": ["ReadOnlyAccess"]},
        {"name": "p2", "managed_policies": [aws_read_only]},
        {"name": "p3", "managed_policies": ["job-function/ViewOnlyAccess"]},
        {"name": "p4", "managed_policies": ["SecurityAudit"]},
    ]
    for check_mode in (True, False):
        api_calls.clear()
        result = run_module(iam_onboard_user, {"state": "promoted", "users": users}, check_mode=check_mode)

        assert result["failed"] is True
        assert result["msg"].startswith("2 of 4 users failed: ")
        assert (
            f"user p1: managed policy ReadOnlyAccess is ambiguous: both the account's customer-managed {own} and the "
            f"AWS-managed {aws_read_only} exist; give the ARN of the one to attach"
        ) in result["msg"]
        assert "user p3: managed policy job-function/ViewOnlyAccess is ambiguous: both the account's " in result["msg"]
        assert own_view in result["msg"] and "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess" in result["msg"]
        assert [(r["name"], r["failed"], r["stage"]) for r in result["users"]] == [
            ("p1", True, "ready"),
            ("p2", False, "promoted"),
            ("p3", True, "ready"),
            ("p4", False, "promoted"),
        ]
        # Two GetPolicy per distinct name; the ARN shares ReadOnlyAccess's AWS-managed candidate.
        assert len(grant_reads(api_calls)) == 6
        if check_mode:
            assert api_calls.writes == []
    attached = {
        p["UserName"]: p["PolicyArn"] for p in api_calls.requests("AttachUserPolicy") if p["PolicyArn"] != CURRENT
    }
    assert attached == {"p2": aws_read_only, "p4": "arn:aws:iam::aws:policy/SecurityAudit"}
    assert sorted(user_writes(api_calls)) == ["p2", "p4"]
    assert own not in json.dumps(snapshot(iam, "p1"))


def test_a_policy_at_a_path_named_without_it_is_not_found_with_a_hint(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    iam.create_policy(
        PolicyName="Billing",
        Path="/finance/",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "aws-portal:View*", "Resource": "*"}]}
        ),
    )
    make_user(iam, "alice", "ready", enable_mfa)
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "alice", "state": "promoted", "managed_policies": ["Billing"]})

    assert result["failed"] is True
    assert "user alice: managed policies not found: Billing (a name is looked up" in result["msg"]
    assert "a policy at a path is named path/name, or by its ARN" in result["msg"]
    assert api_calls.writes == []


def test_a_group_named_in_another_case_is_granted_under_iams_name(
    bootstrapped: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """IAM names are case-insensitive: AWS's GetGroup finds Developers for `developers` (moto's does not, so the
    test supplies AWS's answer). The user is added under the name IAM holds, so the rerun changes nothing."""
    make_user(iam, "alice", "ready", enable_mfa)
    inner = botocore.client.BaseClient._make_api_call

    def case_insensitive(client: t.Any, operation: str, params: dict[str, t.Any]) -> t.Any:
        if operation in ("GetGroup", "AddUserToGroup") and "GroupName" in params:
            held = [g["GroupName"] for g in _UNRECORDED_CALL(client, "ListGroups", {})["Groups"]]
            match = [g for g in held if g.lower() == params["GroupName"].lower()]
            params = dict(params, GroupName=match[0]) if match else params
        return inner(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", case_insensitive)
    calls = Recorder().attach(monkeypatch)
    args = {"name": "alice", "state": "promoted", "groups": ["developers"]}

    result = run_module(iam_onboard_user, args)

    assert result["stage"] == "promoted", result
    assert calls.requests("AddUserToGroup") == [{"UserName": "alice", "GroupName": "Developers"}]
    calls.clear()
    result = run_module(iam_onboard_user, args)
    assert (result["changed"], calls.writes) == (False, [])


def test_a_group_named_in_another_case_is_not_found_where_iam_says_so(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    """moto's GetGroup is case-sensitive: where IAM answers NoSuchEntity, the user is refused by the name it gave."""
    make_user(iam, "alice", "ready", enable_mfa)
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "alice", "state": "promoted", "groups": ["DEVELOPERS"]})

    assert result["failed"] is True
    assert "user alice: groups not found: DEVELOPERS" in result["msg"]
    assert api_calls.writes == []


# Bulk


def test_bulk_onboarding_in_input_order_with_one_failure(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any
) -> None:
    names = ["zoe", "yann", "xavier", "walt", "vera", "uma"]
    users = [{"name": name} for name in names]
    users[2]["password"] = "short"  # xavier fails the default policy
    api_calls.clear()

    result = run_module(iam_onboard_user, {"users": users})

    assert result["failed"] is True
    assert result["changed"] is True
    assert [r["name"] for r in result["users"]] == names
    assert [r["failed"] for r in result["users"]] == [False, False, True, False, False, False]
    assert result["msg"].startswith("1 of 6 users failed: user xavier:")
    assert_not_echoed(result, "short")
    for name in names:
        assert (snapshot(iam, name) is None) is (name == "xavier")
    # Account-level reads once per run; 1 read and 3 writes per new user.
    assert api_calls.names.count("GetGroup") == 1
    assert api_calls.names.count("GetPolicy") == 2  # the current-users policy, and the group's guard
    assert api_calls.names.count("GetAccountPasswordPolicy") == 1
    assert api_calls.writes.count("CreateUser") == 5
    assert len(api_calls.names) == len(ONBOARDING_ACCOUNT_READS) + 6 + 5 * 3
    for r in result["users"]:
        if not r["failed"]:
            assert r["stage"] == "onboarding"
            assert_satisfies_default_password(r["temporary_password"])


def assert_satisfies_default_password(password: str) -> None:
    assert len(password) >= 20
    assert set(password) <= set(string.ascii_letters + string.digits + IAM_SYMBOLS)


def test_bulk_per_user_options_override_module_level(
    bootstrapped_at_any_path: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any
) -> None:
    api_calls.clear()
    result = run_module(
        iam_onboard_user,
        {
            "path": "/staff/",
            "tags": {"team": "data"},
            "password_reset_required": True,
            "users": [{"name": "alice"}, {"name": "bob", "path": "/ext/", "password_reset_required": False}],
        },
    )

    assert result["changed"] is True
    assert [r["user"]["path"] for r in result["users"]] == ["/staff/", "/ext/"]
    requests = {params["UserName"]: params for params in api_calls.requests("CreateLoginProfile")}
    assert requests["alice"]["PasswordResetRequired"] is True
    assert requests["bob"]["PasswordResetRequired"] is False
    assert snapshot(iam, "bob")["tags"] == {"team": "data"}  # type: ignore[index]


def test_bulk_promotion_promotes_the_ready_and_names_the_refused(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    make_user(iam, "alice", "ready", enable_mfa)
    make_user(iam, "bob", "onboarding", enable_mfa)
    make_user(iam, "carol", "ready", enable_mfa)
    api_calls.clear()

    result = run_module(
        iam_onboard_user,
        {
            "state": "promoted",
            "groups": ["Developers"],
            "users": [{"name": "alice"}, {"name": "bob"}, {"name": "carol"}],
        },
    )

    assert result["failed"] is True
    assert [(r["name"], r["failed"]) for r in result["users"]] == [("alice", False), ("bob", True), ("carol", False)]
    assert result["msg"].startswith("1 of 3 users failed: user bob has no MFA device")
    assert "alice" not in result["msg"]
    assert [r.get("stage") for r in result["users"]] == ["promoted", "onboarding", "promoted"]
    assert snapshot(iam, "alice")["groups"] == ["Developers"]  # type: ignore[index]
    assert snapshot(iam, "bob")["groups"] == [GROUP]  # type: ignore[index]
    assert not [
        params
        for name, params in api_calls.calls
        if params.get("UserName") == "bob" and name in {"AttachUserPolicy", "AddUserToGroup", "RemoveUserFromGroup"}
    ]


def test_bulk_reruns_unchanged(bootstrapped: t.Any, api_calls: t.Any, run_module: Run) -> None:
    users = [{"name": "alice"}, {"name": "bob"}, {"name": "carol"}]
    run_module(iam_onboard_user, {"users": users})
    api_calls.clear()

    result = run_module(iam_onboard_user, {"users": users})

    assert result["changed"] is False
    assert "failed" not in result or result["failed"] is False
    assert api_calls.writes == []
    assert len(api_calls.names) == len(ONBOARDING_ACCOUNT_READS) + 3 * len(USER_READS + CREDENTIAL_READS)
    assert all("temporary_password" not in r for r in result["users"])


@pytest.mark.parametrize(("concurrency", "count"), [(1, 4), (2, 6), (4, 8), (10, 12)])
def test_bulk_runs_at_most_concurrency_users_at_once(
    bootstrapped: t.Any, monkeypatch: pytest.MonkeyPatch, run_module: Run, concurrency: int, count: int
) -> None:
    """The pool is exactly concurrency wide: each user's calls are slowed down, so that all threads overlap."""
    in_flight: set[str] = set()
    peak = []
    lock = threading.Lock()
    original = botocore.client.BaseClient._make_api_call

    def slow(self: t.Any, operation: str, params: dict[str, t.Any]) -> t.Any:
        user = params.get("UserName")
        if user is None:  # an account-level read, made before the pool starts
            return original(self, operation, params)
        with lock:
            in_flight.add(user)
            peak.append(len(in_flight))
        time.sleep(0.02)
        try:
            return original(self, operation, params)
        finally:
            with lock:
                in_flight.discard(user)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", slow)
    names = [f"user{i}" for i in range(count)]

    result = run_module(iam_onboard_user, {"users": [{"name": n} for n in names], "concurrency": concurrency})

    assert [r["stage"] for r in result["users"]] == ["onboarding"] * count
    assert [r["name"] for r in result["users"]] == names
    assert max(peak) == concurrency


@pytest.mark.parametrize("concurrency", [0, 11, -1])
def test_concurrency_out_of_range_fails_before_any_api_call(
    iam: t.Any, api_calls: t.Any, run_module: Run, concurrency: int
) -> None:
    result = run_module(iam_onboard_user, {"users": [{"name": "alice"}], "concurrency": concurrency})

    assert result["failed"] is True
    assert result["msg"] == f"concurrency: must be from 1 to 10, got {concurrency}"
    assert api_calls.calls == []


# The API-call budget: a new user costs at most 3 writes and 3 reads, the account-level reads happen once per run,
# and an unchanged rerun writes nothing.

ONBOARDING_WRITES = ["CreateUser", "AddUserToGroup", "CreateLoginProfile"]


@pytest.mark.parametrize("count", [1, 10, 25])
def test_call_budget_of_new_and_unchanged_users(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, count: int
) -> None:
    users = [{"name": f"user{i:02d}"} for i in range(count)]
    api_calls.clear()

    run_module(iam_onboard_user, {"users": users})

    reads = [name for name in api_calls.names if name.startswith(READS)]
    for account_read in ONBOARDING_ACCOUNT_READS:
        assert reads.count(account_read) == ONBOARDING_ACCOUNT_READS.count(account_read), account_read
    per_user_reads = len(reads) - len(ONBOARDING_ACCOUNT_READS)
    assert per_user_reads <= 3 * count
    assert sorted(api_calls.writes) == sorted(ONBOARDING_WRITES * count)
    for user in users:
        sent = [name for name, params in api_calls.calls if params.get("UserName") == user["name"]]
        assert [name for name in sent if not name.startswith(READS)] == ONBOARDING_WRITES
        assert len([name for name in sent if name.startswith(READS)]) <= 3

    api_calls.clear()
    rerun = run_module(iam_onboard_user, {"users": users})

    assert rerun["changed"] is False
    assert api_calls.writes == []
    assert [name for name in api_calls.names if name in ONBOARDING_ACCOUNT_READS] == ONBOARDING_ACCOUNT_READS


# The figures for the closing note


def test_api_call_counts_per_user(
    bootstrapped: t.Any,
    api_calls: t.Any,
    run_module: Run,
    enable_mfa: t.Callable[..., str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    figures = {}
    api_calls.clear()
    run_module(iam_onboard_user, {"name": "alice"})
    figures["onboard new user"] = (len(api_calls.names), len(api_calls.writes))
    api_calls.clear()
    run_module(iam_onboard_user, {"name": "alice"})
    figures["onboard unchanged rerun"] = (len(api_calls.names), len(api_calls.writes))
    enable_mfa("alice")
    api_calls.clear()
    run_module(iam_onboard_user, dict(PROMOTE, name="alice"))
    figures["promote (1 group, 1 policy)"] = (len(api_calls.names), len(api_calls.writes))
    api_calls.clear()
    run_module(iam_onboard_user, dict(PROMOTE, name="alice"))
    figures["promote unchanged rerun"] = (len(api_calls.names), len(api_calls.writes))

    with capsys.disabled():
        print("\nAPI calls (total, writes):", figures)
    # Each run reads the guards once (invariant 7: five reads, GUARD_READS).
    assert figures == {
        "onboard new user": (12, 3),
        "onboard unchanged rerun": (15, 0),
        "promote (1 group, 1 policy)": (19, 4),
        "promote unchanged rerun": (15, 0),
    }


# reset_password: a fresh temporary password for a user that has not registered MFA yet

SIGNED_IN = "has registered an MFA device, so it has signed in already; its password was not reset"


def stored_password(name: str) -> str:
    """The console password moto holds for a user (AWS never shows it; moto's backend does)."""
    from moto.iam.models import iam_backends

    return iam_backends[ACCOUNT]["global"].get_user(name).password


def test_reset_password_gives_an_onboarding_user_a_new_temporary_password(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any
) -> None:
    first = run_module(iam_onboard_user, {"name": "alice"})["temporary_password"]
    assert stored_password("alice") == first
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "alice", "reset_password": True})

    assert result["changed"] is True
    assert api_calls.writes == ["UpdateLoginProfile"]
    new = result["temporary_password"]
    assert new != first
    assert_satisfies_default_password(new)
    assert writes_with_params(api_calls) == [
        ("UpdateLoginProfile", {"UserName": "alice", "Password": new, "PasswordResetRequired": True}),
    ]
    assert api_calls.names == [*ONBOARDING_ACCOUNT_READS, *USER_READS, *CREDENTIAL_READS, "UpdateLoginProfile"]
    assert stored_password("alice") == new
    assert result["stage"] == "onboarding"
    assert result["actions"] == ["UpdateLoginProfile"]
    assert result["login_profile"]["exists"] is True
    assert snapshot(iam, "alice")["groups"] == [GROUP]  # type: ignore[index]
    # The new password appears only where it is handed over.
    rest = dict(result)
    rest.pop("temporary_password")
    assert new not in json.dumps(rest, default=str)
    assert first not in json.dumps(result, default=str)


def test_reset_password_reports_the_reset_flag_it_set(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    # The existing password did not require a reset; the reset run sets PasswordResetRequired=True and must say so.
    make_user(iam, "alice", "onboarding", enable_mfa)
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "alice", "reset_password": True})

    (request,) = api_calls.requests("UpdateLoginProfile")
    assert request["PasswordResetRequired"] is True
    assert result["login_profile"]["password_reset_required"] is True


def test_reset_password_with_password_reset_required_false_is_sent_as_false(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run
) -> None:
    run_module(iam_onboard_user, {"name": "alice"})
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "alice", "reset_password": True, "password_reset_required": False})

    (request,) = api_calls.requests("UpdateLoginProfile")
    assert request["PasswordResetRequired"] is False
    assert request["Password"] == result["temporary_password"]


def test_reset_password_twice_gives_two_different_passwords(bootstrapped: t.Any, run_module: Run) -> None:
    run_module(iam_onboard_user, {"name": "alice"})
    second = run_module(iam_onboard_user, {"name": "alice", "reset_password": True})
    third = run_module(iam_onboard_user, {"name": "alice", "reset_password": True})
    assert (second["changed"], third["changed"]) == (True, True)  # not idempotent by design
    assert second["temporary_password"] != third["temporary_password"]
    assert stored_password("alice") == third["temporary_password"]


def test_reset_password_of_a_ready_user_writes_nothing_and_warns(
    bootstrapped: t.Any,
    api_calls: t.Any,
    run_module: Run,
    iam: t.Any,
    enable_mfa: t.Callable[..., str],
    warning_messages: t.Callable[..., list[str]],
) -> None:
    first = run_module(iam_onboard_user, {"name": "alice"})["temporary_password"]
    enable_mfa("alice")
    before = snapshot(iam, "alice")
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "alice", "reset_password": True})

    assert api_calls.writes == []
    assert api_calls.names == [*ONBOARDING_ACCOUNT_READS, *USER_READS]
    assert result["changed"] is False
    assert result["stage"] == "ready"
    assert result["actions"] == []
    assert "temporary_password" not in result
    (warning,) = warning_messages(result)
    assert warning == f"user alice {SIGNED_IN}"
    assert "signed in already" in warning
    assert stored_password("alice") == first
    assert snapshot(iam, "alice") == before


def test_reset_password_of_a_promoted_user_writes_nothing(
    bootstrapped: t.Any,
    api_calls: t.Any,
    run_module: Run,
    iam: t.Any,
    enable_mfa: t.Callable[..., str],
    warning_messages: t.Callable[..., list[str]],
) -> None:
    make_user(iam, "alice", "promoted", enable_mfa)
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "alice", "reset_password": True})

    assert api_calls.writes == []
    assert result["changed"] is False
    assert result["stage"] == "promoted"
    assert "temporary_password" not in result
    (warning,) = warning_messages(result)
    assert "promoted" in warning
    assert stored_password("alice") == "Existing-Passw0rd!x"


def test_reset_password_of_an_absent_user_is_the_usual_onboarding(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run
) -> None:
    api_calls.clear()
    result = run_module(iam_onboard_user, {"name": "alice", "reset_password": True})

    assert api_calls.writes == ["CreateUser", "AddUserToGroup", "CreateLoginProfile"]
    assert result["actions"] == ["CreateUser", f"AddUserToGroup {GROUP}", "CreateLoginProfile"]
    assert stored_password("alice") == result["temporary_password"]


def test_reset_password_in_check_mode_writes_nothing(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any
) -> None:
    first = run_module(iam_onboard_user, {"name": "alice"})["temporary_password"]
    before = snapshot(iam, "alice")
    api_calls.clear()

    predicted = run_module(iam_onboard_user, {"name": "alice", "reset_password": True}, check_mode=True, diff=True)

    assert api_calls.writes == []
    assert api_calls.names == [*ONBOARDING_ACCOUNT_READS, *USER_READS, *CREDENTIAL_READS]
    assert predicted["changed"] is True
    assert predicted["actions"] == ["UpdateLoginProfile"]
    assert predicted["stage"] == "onboarding"
    assert "temporary_password" not in predicted
    assert stored_password("alice") == first
    assert snapshot(iam, "alice") == before

    # The prediction is what a real run then does.
    real = run_module(iam_onboard_user, {"name": "alice", "reset_password": True}, diff=True)
    assert (real["changed"], real["actions"], real["stage"]) == (True, ["UpdateLoginProfile"], "onboarding")
    assert real["diff"]["after"] == predicted["diff"]["after"]


def test_reset_password_with_an_explicit_password_sends_it_and_does_not_echo_it(
    bootstrapped: t.Any, strict_password_policy: None, api_calls: t.Any, run_module: Run, iam: t.Any
) -> None:
    run_module(iam_onboard_user, {"name": "alice"})
    password = "Explicit-Passw0rd-That-Is-Long-Enough!"
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "alice", "reset_password": True, "password": password})

    assert result["changed"] is True
    assert writes_with_params(api_calls) == [
        ("UpdateLoginProfile", {"UserName": "alice", "Password": password, "PasswordResetRequired": True}),
    ]
    assert "GetAccountPasswordPolicy" in api_calls.names
    assert stored_password("alice") == password
    assert "temporary_password" not in result
    assert result["actions"] == ["UpdateLoginProfile"]
    assert_not_echoed(result, password)


@pytest.mark.parametrize(
    "password",
    [
        "Short1!a",  # too short for 32
        "all-lowercase-and-long-enough-but-no-digit-or-upper",
        "NoSymbolsAtAll0123456789abcdefghijKLMN",
    ],
)
def test_reset_password_with_an_explicit_password_violating_the_policy_writes_nothing(
    bootstrapped: t.Any, strict_password_policy: None, api_calls: t.Any, run_module: Run, iam: t.Any, password: str
) -> None:
    first = run_module(iam_onboard_user, {"name": "alice"})["temporary_password"]
    before = snapshot(iam, "alice")
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "alice", "reset_password": True, "password": password})

    assert result["failed"] is True
    assert result["changed"] is False
    assert api_calls.writes == []
    assert "alice" in result["msg"]
    assert "password policy" in result["msg"]
    assert stored_password("alice") == first
    assert snapshot(iam, "alice") == before
    assert_not_echoed(result, password)


def test_reset_password_of_an_unmanaged_user_guards_before_the_reset(
    bootstrapped: t.Any,
    api_calls: t.Any,
    guard_monitor: list[tuple[str, str, dict[str, t.Any] | None]],
    run_module: Run,
    iam: t.Any,
    enable_mfa: t.Callable[..., str],
) -> None:
    make_user(iam, "erin", "unmanaged_password", enable_mfa)
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "erin", "reset_password": True})

    new = result["temporary_password"]
    assert writes_with_params(api_calls) == [
        ("AddUserToGroup", {"UserName": "erin", "GroupName": GROUP}),
        ("UpdateLoginProfile", {"UserName": "erin", "Password": new, "PasswordResetRequired": True}),
    ]
    assert [operation for operation, _user, _state in guard_monitor] == ["AddUserToGroup", "UpdateLoginProfile"]
    for operation, user, state in guard_monitor:
        assert user == "erin"
        assert state is not None
        assert is_guarded(state), (operation, state)
    assert result["stage"] == "onboarding"
    assert stored_password("erin") == new


@pytest.mark.parametrize(
    ("module_level", "users"),
    [
        (None, [{"name": "alice", "reset_password": True}, {"name": "bob"}]),
        (True, [{"name": "alice"}, {"name": "bob", "reset_password": False}]),
    ],
    ids=["per-user-true", "module-level-true-per-user-false"],
)
def test_bulk_reset_password_per_user(
    bootstrapped: t.Any,
    api_calls: t.Any,
    run_module: Run,
    module_level: bool | None,
    users: list[dict[str, t.Any]],
) -> None:
    first = run_module(iam_onboard_user, {"users": [{"name": "alice"}, {"name": "bob"}]})
    old = {r["name"]: r["temporary_password"] for r in first["users"]}
    api_calls.clear()

    args: dict[str, t.Any] = {"users": users}
    if module_level is not None:
        args["reset_password"] = module_level
    result = run_module(iam_onboard_user, args)

    assert result["changed"] is True
    assert "failed" not in result or result["failed"] is False
    alice, bob = result["users"]
    new = alice["temporary_password"]
    assert new != old["alice"]
    assert writes_with_params(api_calls) == [
        ("UpdateLoginProfile", {"UserName": "alice", "Password": new, "PasswordResetRequired": True}),
    ]
    assert (alice["name"], alice["changed"], alice["actions"], alice["stage"]) == (
        "alice",
        True,
        ["UpdateLoginProfile"],
        "onboarding",
    )
    assert (bob["name"], bob["changed"], bob["actions"], bob["stage"]) == ("bob", False, [], "onboarding")
    assert "temporary_password" not in bob
    assert stored_password("alice") == new
    assert stored_password("bob") == old["bob"]


# Inputs IAM would reject (issue 13): refused before the first write, where moto would take them


@pytest.fixture
def aws_names(monkeypatch: pytest.MonkeyPatch, iam: t.Any) -> CaseInsensitiveNames:
    """AWS's case-insensitive user and group names in front of the module's calls (moto keeps Alice and alice as
    two users). Request it before `api_calls`, which then records the calls as the module made them."""
    return CaseInsensitiveNames().attach(monkeypatch, exempt=[iam])


def test_names_that_differ_only_in_case_are_refused_before_any_api_call(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run
) -> None:
    api_calls.clear()
    users = [{"name": "Alice"}, {"name": "bob"}, {"name": "carol"}, {"name": "alice"}]
    result = run_module(iam_onboard_user, {"users": users})

    assert result["failed"] is True
    assert result["msg"] == (
        "users[3].name: user alice is user Alice of users[0].name: IAM user names are case-insensitive, so the two "
        "spellings name one user; list it once"
    )
    assert api_calls.names == []


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        pytest.param({f"k{i}": "v" for i in range(51)}, "51 tags; IAM allows at most 50 per user", id="51-tags"),
        pytest.param({"aws:owner": "me"}, "key 'aws:owner' starts with aws:, a prefix that AWS reserves", id="aws"),
        pytest.param({"k" * 129: "v"}, "has 129 characters; IAM allows keys of 1 to 128", id="key-129"),
        pytest.param({"team": "v" * 257}, "has 257 characters; IAM allows values of 0 to 256", id="value-257"),
        pytest.param({"team#1": "x"}, "key 'team#1' holds '#'; IAM allows in tag keys only letters", id="key-#"),
    ],
)
def test_tags_iam_would_reject_are_refused_before_any_api_call(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, tags: dict[str, str], message: str
) -> None:
    """moto takes every one of them; AWS refuses bob's CreateUser after alice was written."""
    api_calls.clear()
    result = run_module(iam_onboard_user, {"users": [{"name": "alice"}, {"name": "bob", "tags": tags}]})

    assert result["failed"] is True
    assert result["msg"].startswith("tags of user bob: ") and message in result["msg"], result["msg"]
    assert api_calls.names == []


@pytest.mark.parametrize(("held", "refused"), [(44, False), (45, True)])
def test_tags_over_the_limit_with_those_the_user_holds_are_refused_before_its_first_write(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, held: int, refused: bool
) -> None:
    """IAM counts a user's existing tags and the new keys: decided at the user's plan time (its tags are read then),
    so before that user's first write; the other users of the run go on."""
    iam.create_user(UserName="alice", Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(held)])
    iam.add_user_to_group(UserName="alice", GroupName=GROUP)
    api_calls.clear()
    new = {f"n{i}": "v" for i in range(6)}
    result = run_module(iam_onboard_user, {"users": [{"name": "alice", "tags": new}, {"name": "bob"}]})

    alice, bob = result["users"]
    writes = [(name, params["UserName"]) for name, params in writes_with_params(api_calls)]
    bobs = [("CreateUser", "bob"), ("AddUserToGroup", "bob"), ("CreateLoginProfile", "bob")]
    assert not bob["failed"]
    if refused:
        assert (alice["failed"], alice["refused"]) == (True, True)
        assert alice["msg"] == (
            "tags of user alice: user alice holds 45 tags and TagUser would add 6 new keys: 51 in all, and IAM allows "
            "at most 50 per user; nothing was changed"
        )
        assert [w for w in writes if w[1] == "alice"] == []
        assert [w for w in writes if w[1] == "bob"] == bobs
        assert len(iam.list_user_tags(UserName="alice")["Tags"]) == 45
    else:
        assert not alice["failed"]
        # The two users run side by side: each one's writes in order, the two interleaved.
        assert [w for w in writes if w[1] == "alice"] == [("TagUser", "alice"), ("CreateLoginProfile", "alice")]
        assert [w for w in writes if w[1] == "bob"] == bobs


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_path_the_policies_do_not_cover_is_refused_before_any_write(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, check_mode: bool
) -> None:
    """The official policies' self-service statements name user/${aws:username}, which matches only path /: carol
    could never change her temporary password nor register MFA, so she gets neither a user nor a password, and
    neither does alice (the paths are checked before the run's first write)."""
    api_calls.clear()
    users = [{"name": "alice"}, {"name": "carol", "path": "/contractors/"}]
    result = run_module(iam_onboard_user, {"users": users}, check_mode=check_mode)

    assert result["failed"] is True
    message = result["msg"]
    assert message.startswith(
        "path of user carol: user carol is at path /contractors/, where it could never change its temporary password "
        "or register an MFA device: in the onboarding group's policies iam:ChangePassword is allowed only on "
        "arn:aws:iam::*:user/${aws:username} (statement AllowManageOwnPasswords)"
    )
    assert f"does not match its ARN arn:aws:iam::{ACCOUNT}:user/contractors/carol" in message
    assert message.endswith("also name arn:aws:iam::*:user/*/${aws:username}; nothing was changed")
    # Decided from the guard's documents, which every run reads anyway: no user was even read.
    assert api_calls.names == ONBOARDING_ACCOUNT_READS


def test_a_path_in_a_later_batch_refuses_the_first_batch(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run
) -> None:
    api_calls.clear()
    whole = [{"name": "alice"}, {"name": "carol", "path": "/contractors/"}]
    result = run_module(iam_onboard_user, {"users": whole[:1], "batch_of": whole})

    assert result["failed"] is True
    assert result["msg"].startswith("path of user carol: user carol is at path /contractors/")
    assert api_calls.writes == []


def test_an_existing_user_at_a_path_without_mfa_is_refused_and_keeps_what_it_has(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    """A user that an earlier run left at a path (guarded, no password yet) gets no password it could never
    replace; one that has MFA already (an operator enrolled it) is left to its promotion."""
    for name in ("bob", "dora"):
        iam.create_user(UserName=name, Path="/contractors/")
        iam.add_user_to_group(UserName=name, GroupName=GROUP)
    iam.create_login_profile(UserName="dora", Password="Dora-Passw0rd!-long", PasswordResetRequired=False)
    enable_mfa("dora")
    api_calls.clear()
    result = run_module(iam_onboard_user, {"users": [{"name": "bob"}, {"name": "dora"}]})

    bob, dora = result["users"]
    assert (bob["failed"], bob["refused"], bob["stage"]) == (True, True, "onboarding")
    assert bob["msg"].startswith("user bob is at path /contractors/, where it could never change its temporary")
    assert (dora["failed"], dora["stage"]) == (False, "ready")
    assert api_calls.writes == []


def test_the_stub_answers_as_aws_does(aws_names: CaseInsensitiveNames, iam: t.Any) -> None:
    """The stub of AWS's behaviour that the next tests rely on: moto alone creates a second user alice."""
    iam.create_user(UserName="Alice")
    client = boto3.client("iam", region_name="us-east-1")
    with pytest.raises(ClientError) as error:
        client.create_user(UserName="alice")
    assert error.value.response["Error"]["Code"] == "EntityAlreadyExists"
    assert client.get_user(UserName="alice")["User"]["UserName"] == "Alice"
    iam.create_user(UserName="alice")  # the exempt client is moto as it is
    assert sorted(u["UserName"] for u in iam.list_users()["Users"]) == ["Alice", "alice"]


@pytest.mark.parametrize("kind", ["unmanaged_password", "onboarding"])
def test_a_user_iam_holds_under_another_case_is_refused_before_any_write(
    bootstrapped: t.Any,
    aws_names: CaseInsensitiveNames,
    api_calls: t.Any,
    run_module: Run,
    iam: t.Any,
    enable_mfa: t.Callable[..., str],
    kind: str,
) -> None:
    """On AWS, GetUser(alice) returns Alice: the run would adopt (or hand a password over for) Alice under a name
    that is not hers. It refuses, naming the spelling IAM holds; bob is onboarded."""
    make_user(iam, "Alice", kind, enable_mfa)
    before = snapshot(iam, "Alice")
    api_calls.clear()
    result = run_module(iam_onboard_user, {"users": [{"name": "alice"}, {"name": "bob"}], "handover": "none"})

    alice, bob = result["users"]
    assert (alice["failed"], alice["refused"]) == (True, True)
    assert alice["msg"] == lc.spelling_refusal("alice", "Alice")
    assert alice["stage"] == ("unmanaged" if kind == "unmanaged_password" else "onboarding")
    assert not bob["failed"]
    assert [(name, params["UserName"]) for name, params in writes_with_params(api_calls)] == [
        ("CreateUser", "bob"),
        ("AddUserToGroup", "bob"),
        ("CreateLoginProfile", "bob"),
    ]
    assert ("GetUser", "UserName", "alice", "Alice") in aws_names.rewritten
    assert snapshot(iam, "Alice") == before


def test_an_onboarding_group_named_in_another_case_is_the_group_iam_holds(
    bootstrapped: t.Any,
    aws_names: CaseInsensitiveNames,
    api_calls: t.Any,
    run_module: Run,
    iam: t.Any,
    enable_mfa: t.Callable[..., str],
) -> None:
    """On AWS, GetGroup(notyetloginusers) is NotYetLoginUsers, the name ListGroupsForUser shows: a promotion must
    take the user out of it (compared under the operator's spelling, the user would look outside the regime and
    stay in the onboarding group)."""
    make_user(iam, "rita", "ready", enable_mfa)
    api_calls.clear()
    args = {"name": "rita", "state": "promoted", "onboarding_group": "notyetloginusers", "groups": ["Developers"]}
    result = run_module(iam_onboard_user, args)

    assert not result.get("failed"), result
    assert result["stage"] == "promoted"
    assert ("RemoveUserFromGroup", {"UserName": "rita", "GroupName": GROUP}) in writes_with_params(api_calls)
    assert snapshot(iam, "rita")["groups"] == ["Developers"]  # type: ignore[index]
