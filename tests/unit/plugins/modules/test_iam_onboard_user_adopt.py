# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""iam_onboard_user on users outside the regime (adoption) and on a promoted user that lost its last MFA device
(re-enrolment), in-process against moto (DESIGN section 1, Adopt; invariants 1, 2 and 4)."""

from __future__ import annotations

import json
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import dump
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import official_document
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import render
from ansible_collections.mfa_onboarding.iam.plugins.modules import iam_onboard_user
from ansible_collections.mfa_onboarding.iam.plugins.modules import iam_onboard_user_info
from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support.policy_eval import Decision
from ansible_collections.mfa_onboarding.iam.tests.support.policy_eval import Request
from ansible_collections.mfa_onboarding.iam.tests.support.policy_eval import evaluate

Run = t.Callable[..., dict[str, t.Any]]

ACCOUNT = iam_state.ACCOUNT
GROUP = iam_state.ONBOARDING_GROUP
CURRENT = iam_state.CURRENT_USERS_ARN
APP = iam_state.EXTRA_POLICY_ARN
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
ADOPT = {"state": "onboarding", "adopt_only": True, "handover": "none"}


def legacy_admin(iam: t.Any, name: str = "legacy") -> list[str]:
    """A console password, AppReadOnly attached, an inline allow-everything policy, group Developers, two active
    access keys, no MFA; returns the key ids."""
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password="His-own-Passw0rd!x", PasswordResetRequired=False)
    iam.add_user_to_group(UserName=name, GroupName=iam_state.EXTRA_GROUP)
    iam.attach_user_policy(UserName=name, PolicyArn=APP)
    iam.put_user_policy(UserName=name, PolicyName="legacy-inline", PolicyDocument=json.dumps(EVERYTHING))
    return [iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"] for _key in range(2)]


def holdings(iam: t.Any, name: str) -> dict[str, t.Any]:
    return {
        "groups": sorted(g["GroupName"] for g in iam.list_groups_for_user(UserName=name)["Groups"]),
        "policies": sorted(p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]),
        "inline": iam.list_user_policies(UserName=name)["PolicyNames"],
        "keys": sorted(k["Status"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]),
    }


def test_adoption_guards_first_then_deactivates_keys_then_detaches_and_reports_it(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any
) -> None:
    keys = legacy_admin(iam)
    api_calls.clear()

    result = run_module(iam_onboard_user, dict(ADOPT, name="legacy"))

    assert api_calls.writes == [
        "AddUserToGroup",
        "UpdateAccessKey",
        "UpdateAccessKey",
        "DetachUserPolicy",
        "DeleteUserPolicy",
        "RemoveUserFromGroup",
    ]
    assert result["changed"] is True
    assert result["stage"] == "onboarding"
    assert result["console_password"] == "kept"
    assert result["detached"] == {
        "access_keys": sorted(keys),
        "policies": [APP],
        "inline_policies": {"legacy-inline": EVERYTHING},
        "groups": [iam_state.EXTRA_GROUP],
    }
    assert "temporary_password" not in result
    assert holdings(iam, "legacy") == {"groups": [GROUP], "policies": [], "inline": [], "keys": ["Inactive"] * 2}
    # The rerun: nothing left to do, two more reads than a user that is new.
    api_calls.clear()
    again = run_module(iam_onboard_user, dict(ADOPT, name="legacy"))
    assert (again["changed"], api_calls.writes, again["detached"]) == (False, [], None)


def test_adoption_in_check_mode_predicts_every_step_and_writes_nothing(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any
) -> None:
    legacy_admin(iam)
    before = holdings(iam, "legacy")
    api_calls.clear()

    predicted = run_module(iam_onboard_user, dict(ADOPT, name="legacy"), check_mode=True, diff=True)

    assert api_calls.writes == []
    assert holdings(iam, "legacy") == before
    assert [a.split()[0] for a in predicted["actions"]] == [
        "AddUserToGroup",
        "UpdateAccessKey",
        "UpdateAccessKey",
        "DetachUserPolicy",
        "DeleteUserPolicy",
        "RemoveUserFromGroup",
    ]
    assert predicted["detached"]["inline_policies"] == {"legacy-inline": EVERYTHING}
    diff = predicted["diff"]
    assert diff["before"]["inline_policies"] == ["legacy-inline"] and diff["after"]["inline_policies"] == []
    assert len(diff["before"]["active_access_keys"]) == 2 and diff["after"]["active_access_keys"] == []
    assert diff["after"]["groups"] == [GROUP]


def test_adopt_detach_off_refuses_by_name_and_touches_nothing(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any
) -> None:
    legacy_admin(iam)
    iam.create_user(UserName="erin")
    iam.create_login_profile(UserName="erin", Password="Her-own-Passw0rd!x", PasswordResetRequired=False)
    before = holdings(iam, "legacy")
    api_calls.clear()

    result = run_module(iam_onboard_user, dict(ADOPT, users=[{"name": "legacy"}, {"name": "erin"}], adopt_detach=False))

    legacy, erin = result["users"]
    assert legacy["refused"] is True
    assert "user legacy has no MFA device and holds groups Developers; policies " + APP in legacy["msg"]
    assert "inline policies legacy-inline; 2 active access keys" in legacy["msg"]
    assert holdings(iam, "legacy") == before
    # erin holds nothing beyond the guard: adopted even with adopt_detach off.
    assert erin["stage"] == "onboarding" and not erin["failed"]
    assert api_calls.writes == ["AddUserToGroup"]
    assert "1 of 2 users failed" in result["msg"]


def test_adopt_only_refuses_an_absent_user_and_leaves_a_service_user_without_password(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, warning_messages: t.Callable[..., list[str]]
) -> None:
    iam.create_user(UserName="svc")
    key = iam.create_access_key(UserName="svc")["AccessKey"]["AccessKeyId"]
    api_calls.clear()

    result = run_module(iam_onboard_user, dict(ADOPT, users=[{"name": "ghost"}, {"name": "svc"}]))

    ghost, svc = result["users"]
    assert ghost["refused"] and "user ghost does not exist; adoption takes existing users only" in ghost["msg"]
    assert svc["console_password"] == "none" and svc["detached"]["access_keys"] == [key]
    assert "CreateUser" not in api_calls.writes and "CreateLoginProfile" not in api_calls.writes
    assert api_calls.writes == ["AddUserToGroup", "UpdateAccessKey"]
    assert any("svc has no console password; onboard it" in w for w in warning_messages(result))


def test_a_user_with_mfa_is_adopted_as_promoted_and_keeps_everything(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    legacy_admin(iam, "mia")
    enable_mfa("mia")
    before = holdings(iam, "mia")
    api_calls.clear()

    result = run_module(iam_onboard_user, dict(ADOPT, name="mia", tags={"team": "x"}))

    assert api_calls.writes == ["AttachUserPolicy"]
    assert result["stage"] == "promoted"
    assert result["detached"] is None
    after = holdings(iam, "mia")
    assert after == dict(before, policies=sorted([*before["policies"], CURRENT]))


@pytest.mark.parametrize("self_enrollment", ["official", "guarded"])
def test_re_enrolment_of_a_promoted_user_that_lost_its_last_device(
    self_enrollment: str,
    bootstrapped: t.Any,
    api_calls: t.Any,
    run_module: Run,
    iam: t.Any,
    enable_mfa: t.Callable[..., str],
) -> None:
    """An operator re-enrols a promoted user whose only device was deactivated: until the owner registers a new
    device the user holds nothing but the guard (invariant 2), and under both self_enrollment values it can
    register that device from a console session; then it is promoted again."""
    for name, kind in ((iam_state.FIRST_LOGIN_ARN, "first_login"), (CURRENT, "current_users")):
        document = dump(render(official_document(), kind, "any", self_enrollment))
        iam.create_policy_version(PolicyArn=name, PolicyDocument=document, SetAsDefault=True)
    promote = {"state": "promoted", "groups": [iam_state.EXTRA_GROUP], "managed_policies": [iam_state.EXTRA_POLICY]}
    run_module(iam_onboard_user, {"name": "alice", "handover": "none"})
    serial = enable_mfa("alice")
    run_module(iam_onboard_user, dict(promote, name="alice"))
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)
    # The status module reports the hole: a promoted user with grants and no MFA.
    (status,) = run_module(iam_onboard_user_info, {"names": ["alice"]})["users"]
    assert status["stage"] == "promoted" and "grants_before_mfa" in status["findings"]
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "alice", "handover": "none"})

    assert api_calls.writes == ["AddUserToGroup", "DetachUserPolicy", "DetachUserPolicy", "RemoveUserFromGroup"]
    assert result["stage"] == "onboarding"
    assert result["console_password"] == "kept" and "temporary_password" not in result
    assert holdings(iam, "alice") == {"groups": [GROUP], "policies": [], "inline": [], "keys": []}
    (status,) = run_module(iam_onboard_user_info, {"names": ["alice"]})["users"]
    assert status["stage"] == "onboarding" and "grants_before_mfa" not in status["findings"]
    # The owner can register a new device from a console session without MFA, under either policy text.
    documents = iam_state.identity_documents(iam, "alice")
    console = {"aws:MultiFactorAuthPresent": "false"}
    for action, resource in (
        ("iam:CreateVirtualMFADevice", f"arn:aws:iam::{ACCOUNT}:mfa/alice-2"),
        ("iam:EnableMFADevice", f"arn:aws:iam::{ACCOUNT}:user/alice"),
    ):
        assert evaluate(documents, Request("alice", action, resource, console)).decision is Decision.ALLOW, action
    enable_mfa("alice", "alice-2")
    promoted = run_module(iam_onboard_user, dict(promote, name="alice"))
    assert promoted["stage"] == "promoted"
    assert holdings(iam, "alice")["policies"] == sorted([CURRENT, APP])


def test_a_run_never_adopts_its_own_identity(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A careless adopt_all run by an IAM user without MFA would deactivate its own key halfway: refused by name."""
    legacy_admin(iam, "ops")
    keys = iam.list_access_keys(UserName="ops")["AccessKeyMetadata"]
    iam.delete_access_key(UserName="ops", AccessKeyId=keys[1]["AccessKeyId"])
    created = iam.create_access_key(UserName="ops")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", created["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", created["SecretAccessKey"])
    before = holdings(iam, "ops")
    iam.create_user(UserName="erin")
    iam.create_login_profile(UserName="erin", Password="Her-own-Passw0rd!x", PasswordResetRequired=False)
    api_calls.clear()

    result = run_module(iam_onboard_user, dict(ADOPT, users=[{"name": "ops"}, {"name": "erin"}]))

    ops, erin = result["users"]
    assert ops["refused"] and "user ops is the identity this run uses" in ops["msg"]
    assert holdings(iam, "ops") == before
    assert erin["stage"] == "onboarding" and api_calls.writes == ["AddUserToGroup"]
    # Asked once, and only because a plan would take something away.
    assert api_calls.names.count("GetCallerIdentity") == 1
