# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
import json
import pathlib
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import official_document
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import render
from ansible_collections.mfa_onboarding.iam.plugins.modules import mfa_onboarding_policy

SEED_FIRST_LOGIN = json.loads(
    (pathlib.Path(__file__).parents[1] / "module_utils" / "fixtures" / "seed_first_login.json").read_text()
)
NAMES = {"first_login": "MFARequiredOnlyForTheFirstLogin", "current_users": "MFARequiredForCurrentUsers"}
ACCOUNT = "123456789012"  # moto's default account
STAGES = ["first_login", "current_users"]
_TITLE = "AWS Allows MFA-Authenticated IAM Users to Manage Their Own Credentials on the My Security Credentials Page"

Run = t.Callable[..., dict[str, t.Any]]


def arn_of(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy{path}{name}"


def with_extra_statement(sid: str) -> dict[str, t.Any]:
    """The official document plus a harmless Allow statement, to make a document that differs."""
    document = official_document()
    document["Statement"].append({"Sid": sid, "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"})
    return document


def with_deny_exemption(entry: str) -> dict[str, t.Any]:
    """The official document whose deny-unless-MFA statement also exempts entry."""
    document = official_document()
    (deny,) = [s for s in document["Statement"] if s["Effect"] == "Deny"]
    deny["NotAction"].append(entry)
    return document


def stored_document(iam: t.Any, arn: str) -> dict[str, t.Any]:
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]


def version_table(iam: t.Any, arn: str) -> dict[str, bool]:
    """{version id: is default}, ordered by version number."""
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    ordered = sorted(versions, key=lambda v: int(v["VersionId"][1:]))
    return {v["VersionId"]: v["IsDefaultVersion"] for v in ordered}


def local_policy_names(iam: t.Any) -> list[str]:
    return sorted(p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"])


# Create


@pytest.mark.parametrize("stage", STAGES)
def test_create_stores_the_rendered_official_document(
    iam: t.Any, api_calls: t.Any, run_module: Run, stage: str
) -> None:
    result = run_module(mfa_onboarding_policy, {"stage": stage})

    assert result["changed"] is True
    assert api_calls.writes == ["CreatePolicy"]
    arn = arn_of(NAMES[stage])
    assert stored_document(iam, arn) == render(official_document(), stage)
    assert version_table(iam, arn) == {"v1": True}
    policy = result["policy"]
    assert policy["arn"] == arn
    assert policy["name"] == NAMES[stage]
    assert policy["path"] == "/"
    assert policy["default_version_id"] == "v1"
    assert policy["attachment_count"] == 0
    assert policy["document"] == render(official_document(), stage)
    datetime.datetime.fromisoformat(policy["create_date"])


def test_created_first_login_policy_exempts_password_change(iam: t.Any, run_module: Run) -> None:
    run_module(mfa_onboarding_policy, {"stage": "first_login"})
    document = stored_document(iam, arn_of(NAMES["first_login"]))
    assert document == SEED_FIRST_LOGIN
    (deny,) = [s for s in document["Statement"] if s["Effect"] == "Deny"]
    assert deny["NotAction"][-2:] == ["iam:ChangePassword", "iam:GetAccountPasswordPolicy"]


def test_created_current_users_policy_is_the_official_document(iam: t.Any, run_module: Run) -> None:
    run_module(mfa_onboarding_policy, {"stage": "current_users"})
    document = stored_document(iam, arn_of(NAMES["current_users"]))
    assert document == official_document()
    (deny,) = [s for s in document["Statement"] if s["Effect"] == "Deny"]
    assert "iam:ChangePassword" not in deny["NotAction"]
    assert "iam:GetAccountPasswordPolicy" not in deny["NotAction"]


@pytest.mark.parametrize(
    ("stage", "text"),
    [
        ("first_login", "Copied and edited the official sample JSON to enable password reset"),
        ("current_users", "Copied from the official document"),
    ],
)
def test_default_description(iam: t.Any, run_module: Run, stage: str, text: str) -> None:
    before = datetime.datetime.now(datetime.timezone.utc).date()
    run_module(mfa_onboarding_policy, {"stage": stage})
    after = datetime.datetime.now(datetime.timezone.utc).date()
    description = iam.get_policy(PolicyArn=arn_of(NAMES[stage]))["Policy"]["Description"]
    assert description in {f"Created {day.isoformat()} - {text} - {_TITLE}" for day in (before, after)}


def test_create_with_name_path_and_description(iam: t.Any, api_calls: t.Any, run_module: Run) -> None:
    args = {"stage": "current_users", "name": "Team.MFA@ops", "path": "/mfa/", "description": "MFA guard"}
    result = run_module(mfa_onboarding_policy, args)

    assert result["changed"] is True
    assert api_calls.writes == ["CreatePolicy"]
    policy = iam.get_policy(PolicyArn=arn_of("Team.MFA@ops", "/mfa/"))["Policy"]
    assert policy["Path"] == "/mfa/"
    assert policy["Description"] == "MFA guard"
    assert local_policy_names(iam) == ["Team.MFA@ops"]


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(json.dumps(SEED_FIRST_LOGIN, indent=2), id="seed-json-text"),
        pytest.param(SEED_FIRST_LOGIN, id="seed-dict"),
        pytest.param(official_document(), id="official-dict"),
    ],
)
@pytest.mark.parametrize("stage", STAGES)
def test_create_from_a_given_document(iam: t.Any, run_module: Run, stage: str, document: t.Any) -> None:
    run_module(mfa_onboarding_policy, {"stage": stage, "document": document})
    assert stored_document(iam, arn_of(NAMES[stage])) == render(official_document(), stage)


def test_create_with_own_mfa_device_scope(iam: t.Any, run_module: Run) -> None:
    run_module(mfa_onboarding_policy, {"stage": "first_login", "mfa_device_scope": "own"})
    document = stored_document(iam, arn_of(NAMES["first_login"]))
    (create_mfa,) = [s for s in document["Statement"] if s.get("Sid") == "AllowManageOwnVirtualMFADevice"]
    assert create_mfa["Resource"] == "arn:aws:iam::*:mfa/${aws:username}"


# Idempotence


@pytest.mark.parametrize(
    "args",
    [
        pytest.param({}, id="defaults"),
        pytest.param({"mfa_device_scope": "own"}, id="own-scope"),
        pytest.param({"document": SEED_FIRST_LOGIN}, id="seed-document"),
        pytest.param({"document": json.dumps(official_document())}, id="official-json"),
        pytest.param({"name": "Custom", "path": "/mfa/", "description": "MFA guard"}, id="all-named"),
    ],
)
@pytest.mark.parametrize("stage", STAGES)
def test_second_run_changes_nothing_and_writes_nothing(
    iam: t.Any, api_calls: t.Any, run_module: Run, warning_messages: t.Any, stage: str, args: dict[str, t.Any]
) -> None:
    first = run_module(mfa_onboarding_policy, dict(args, stage=stage))
    assert first["changed"] is True
    api_calls.clear()

    second = run_module(mfa_onboarding_policy, dict(args, stage=stage))

    assert second["changed"] is False
    assert api_calls.writes == []
    assert warning_messages(second) == []
    assert second["policy"]["default_version_id"] == "v1"
    assert second["policy"]["document"] == first["policy"]["document"]


def test_idempotence_reads_only_what_it_needs(iam: t.Any, api_calls: t.Any, run_module: Run) -> None:
    run_module(mfa_onboarding_policy, {"stage": "first_login"})
    api_calls.clear()
    run_module(mfa_onboarding_policy, {"stage": "first_login"})
    assert api_calls.names == ["ListPolicies", "GetPolicyVersion"]


@pytest.mark.parametrize("stage", STAGES)
def test_stored_document_in_another_order_is_not_changed(
    iam: t.Any, api_calls: t.Any, run_module: Run, stage: str
) -> None:
    shuffled = render(official_document(), stage)
    shuffled["Statement"].reverse()
    for statement in shuffled["Statement"]:
        for key in ("Action", "NotAction"):
            if isinstance(statement.get(key), list):
                statement[key].reverse()
    iam.create_policy(PolicyName=NAMES[stage], PolicyDocument=json.dumps(shuffled))
    api_calls.clear()

    result = run_module(mfa_onboarding_policy, {"stage": stage})

    assert result["changed"] is False
    assert api_calls.writes == []
    assert stored_document(iam, arn_of(NAMES[stage])) == shuffled


def test_check_apply_check_apply(iam: t.Any, api_calls: t.Any, run_module: Run) -> None:
    args = {"stage": "first_login"}
    predicted = run_module(mfa_onboarding_policy, args, check_mode=True)
    assert predicted["changed"] is True
    assert api_calls.writes == []
    assert local_policy_names(iam) == []

    assert run_module(mfa_onboarding_policy, args)["changed"] is True
    assert api_calls.writes == ["CreatePolicy"]

    api_calls.clear()
    assert run_module(mfa_onboarding_policy, args, check_mode=True)["changed"] is False
    assert run_module(mfa_onboarding_policy, args)["changed"] is False
    assert api_calls.writes == []


# Updates and versions


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param({"mfa_device_scope": "own"}, render(official_document(), "first_login", "own"), id="own-scope"),
        pytest.param(
            {"document": with_extra_statement("Extra")},
            render(with_extra_statement("Extra"), "first_login"),
            id="new-document",
        ),
    ],
)
def test_changed_document_becomes_a_new_default_version(
    iam: t.Any, api_calls: t.Any, run_module: Run, change: dict[str, t.Any], expected: dict[str, t.Any]
) -> None:
    run_module(mfa_onboarding_policy, {"stage": "first_login"})
    arn = arn_of(NAMES["first_login"])
    api_calls.clear()

    result = run_module(mfa_onboarding_policy, dict(change, stage="first_login"))

    assert result["changed"] is True
    assert api_calls.writes == ["CreatePolicyVersion"]
    assert version_table(iam, arn) == {"v1": False, "v2": True}
    assert stored_document(iam, arn) == expected
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"] == render(
        official_document(), "first_login"
    )
    assert result["policy"]["default_version_id"] == "v2"
    assert result["policy"]["document"] == expected

    api_calls.clear()
    assert run_module(mfa_onboarding_policy, dict(change, stage="first_login"))["changed"] is False
    assert api_calls.writes == []


def _fill_to_five_versions(iam: t.Any, arn: str, default: str) -> None:
    for number in range(2, 6):
        document = render(with_extra_statement(f"Version{number}"), "first_login")
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=False)
    if default != "v1":
        # moto 5.2.5 quirk: setting the version that is already the default marks no version as default.
        iam.set_default_policy_version(PolicyArn=arn, VersionId=default)


@pytest.mark.parametrize(
    ("default", "pruned"),
    [
        pytest.param("v3", "v1", id="middle-default"),
        pytest.param("v5", "v1", id="newest-default"),
        pytest.param("v1", "v2", id="oldest-default"),
    ],
)
def test_pruning_at_five_versions(iam: t.Any, api_calls: t.Any, run_module: Run, default: str, pruned: str) -> None:
    run_module(mfa_onboarding_policy, {"stage": "first_login"})
    arn = arn_of(NAMES["first_login"])
    _fill_to_five_versions(iam, arn, default)
    assert version_table(iam, arn) == {v: v == default for v in ("v1", "v2", "v3", "v4", "v5")}
    default_document = stored_document(iam, arn)
    api_calls.clear()

    result = run_module(mfa_onboarding_policy, {"stage": "first_login", "document": with_extra_statement("New")})

    assert result["changed"] is True
    assert api_calls.writes == ["DeletePolicyVersion", "CreatePolicyVersion"]
    (delete_params,) = api_calls.requests("DeletePolicyVersion")
    assert delete_params["VersionId"] == pruned
    remaining = [v for v in ("v1", "v2", "v3", "v4", "v5") if v != pruned]
    assert version_table(iam, arn) == {**{v: False for v in remaining}, "v6": True}
    assert iam.get_policy_version(PolicyArn=arn, VersionId=default)["PolicyVersion"]["Document"] == default_document
    assert stored_document(iam, arn) == render(with_extra_statement("New"), "first_login")


def test_no_pruning_below_five_versions(iam: t.Any, api_calls: t.Any, run_module: Run) -> None:
    run_module(mfa_onboarding_policy, {"stage": "current_users"})
    arn = arn_of(NAMES["current_users"])
    for number in (2, 3):
        document = with_extra_statement(f"Version{number}")
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=False)
    api_calls.clear()

    run_module(mfa_onboarding_policy, {"stage": "current_users", "mfa_device_scope": "own"})

    assert api_calls.writes == ["CreatePolicyVersion"]
    assert version_table(iam, arn) == {"v1": False, "v2": False, "v3": False, "v4": True}


# Immutable description and path


def test_description_mismatch_is_a_warning_not_a_change(
    iam: t.Any, api_calls: t.Any, run_module: Run, warning_messages: t.Any
) -> None:
    run_module(mfa_onboarding_policy, {"stage": "first_login", "description": "Original description"})
    api_calls.clear()

    result = run_module(mfa_onboarding_policy, {"stage": "first_login", "description": "Another description"})

    assert result["changed"] is False
    assert api_calls.writes == []
    (warning,) = warning_messages(result)
    assert "MFARequiredOnlyForTheFirstLogin" in warning
    assert "'Original description'" in warning
    assert "immutable" in warning
    policy = iam.get_policy(PolicyArn=arn_of(NAMES["first_login"]))["Policy"]
    assert policy["Description"] == "Original description"


def test_description_mismatch_still_applies_a_document_change(
    iam: t.Any, api_calls: t.Any, run_module: Run, warning_messages: t.Any
) -> None:
    run_module(mfa_onboarding_policy, {"stage": "first_login"})
    api_calls.clear()

    args = {"stage": "first_login", "description": "Another description", "mfa_device_scope": "own"}
    result = run_module(mfa_onboarding_policy, args)

    assert result["changed"] is True
    assert api_calls.writes == ["CreatePolicyVersion"]
    assert len(warning_messages(result)) == 1
    assert "immutable" in warning_messages(result)[0]


def test_path_mismatch_is_a_warning_not_a_change(
    iam: t.Any, api_calls: t.Any, run_module: Run, warning_messages: t.Any
) -> None:
    run_module(mfa_onboarding_policy, {"stage": "current_users"})
    api_calls.clear()

    result = run_module(mfa_onboarding_policy, {"stage": "current_users", "path": "/other/"})

    assert result["changed"] is False
    assert api_calls.writes == []
    (warning,) = warning_messages(result)
    assert "MFARequiredForCurrentUsers" in warning
    assert "path /other/" in warning
    assert "cannot move" in warning
    assert iam.get_policy(PolicyArn=arn_of(NAMES["current_users"]))["Policy"]["Path"] == "/"


# Check mode and diff mode


@pytest.mark.parametrize("stage", STAGES)
def test_check_mode_create(iam: t.Any, api_calls: t.Any, run_module: Run, stage: str) -> None:
    result = run_module(mfa_onboarding_policy, {"stage": stage}, check_mode=True, diff=True)

    assert result["changed"] is True
    assert api_calls.writes == []
    assert local_policy_names(iam) == []
    assert result["policy"]["name"] == NAMES[stage]
    assert result["policy"]["arn"] == arn_of(NAMES[stage])
    assert result["policy"]["default_version_id"] == "v1"
    assert result["policy"]["document"] == render(official_document(), stage)
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["document"] == render(official_document(), stage)


def test_check_mode_update(iam: t.Any, api_calls: t.Any, run_module: Run) -> None:
    run_module(mfa_onboarding_policy, {"stage": "first_login"})
    arn = arn_of(NAMES["first_login"])
    api_calls.clear()

    args = {"stage": "first_login", "mfa_device_scope": "own"}
    result = run_module(mfa_onboarding_policy, args, check_mode=True)

    assert result["changed"] is True
    assert api_calls.writes == []
    assert version_table(iam, arn) == {"v1": True}
    assert stored_document(iam, arn) == render(official_document(), "first_login")
    assert result["policy"]["document"] == render(official_document(), "first_login", "own")


def test_check_mode_update_at_five_versions_deletes_nothing(iam: t.Any, api_calls: t.Any, run_module: Run) -> None:
    run_module(mfa_onboarding_policy, {"stage": "first_login"})
    arn = arn_of(NAMES["first_login"])
    _fill_to_five_versions(iam, arn, "v3")
    api_calls.clear()

    result = run_module(mfa_onboarding_policy, {"stage": "first_login", "mfa_device_scope": "own"}, check_mode=True)

    assert result["changed"] is True
    assert api_calls.writes == []
    assert list(version_table(iam, arn)) == ["v1", "v2", "v3", "v4", "v5"]


def test_check_mode_absent(iam: t.Any, api_calls: t.Any, run_module: Run) -> None:
    run_module(mfa_onboarding_policy, {"stage": "current_users"})
    api_calls.clear()

    result = run_module(mfa_onboarding_policy, {"stage": "current_users", "state": "absent"}, check_mode=True)

    assert result["changed"] is True
    assert api_calls.writes == []
    assert local_policy_names(iam) == [NAMES["current_users"]]


def test_diff_on_create(iam: t.Any, run_module: Run) -> None:
    result = run_module(mfa_onboarding_policy, {"stage": "first_login", "path": "/mfa/"}, diff=True)
    assert result["diff"] == {
        "before": {},
        "after": {
            "name": NAMES["first_login"],
            "path": "/mfa/",
            "document": render(official_document(), "first_login"),
        },
    }


def test_diff_on_update(iam: t.Any, run_module: Run) -> None:
    run_module(mfa_onboarding_policy, {"stage": "first_login"})
    result = run_module(mfa_onboarding_policy, {"stage": "first_login", "mfa_device_scope": "own"}, diff=True)
    assert result["diff"] == {
        "before": {"name": NAMES["first_login"], "path": "/", "document": render(official_document(), "first_login")},
        "after": {
            "name": NAMES["first_login"],
            "path": "/",
            "document": render(official_document(), "first_login", "own"),
        },
    }


def test_diff_without_change_is_equal(iam: t.Any, run_module: Run) -> None:
    run_module(mfa_onboarding_policy, {"stage": "current_users"})
    result = run_module(mfa_onboarding_policy, {"stage": "current_users"}, diff=True)
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["diff"]["before"]["document"] == official_document()


def test_diff_on_absent(iam: t.Any, run_module: Run) -> None:
    run_module(mfa_onboarding_policy, {"stage": "current_users"})
    result = run_module(mfa_onboarding_policy, {"stage": "current_users", "state": "absent"}, diff=True)
    assert result["diff"] == {
        "before": {"name": NAMES["current_users"], "path": "/", "document": official_document()},
        "after": {},
    }


def test_no_diff_key_without_diff_mode(iam: t.Any, run_module: Run) -> None:
    assert "diff" not in run_module(mfa_onboarding_policy, {"stage": "current_users"})


# state: absent


def test_absent_deletes_the_policy_and_its_versions(iam: t.Any, api_calls: t.Any, run_module: Run) -> None:
    run_module(mfa_onboarding_policy, {"stage": "first_login"})
    arn = arn_of(NAMES["first_login"])
    _fill_to_five_versions(iam, arn, "v3")
    api_calls.clear()

    result = run_module(mfa_onboarding_policy, {"stage": "first_login", "state": "absent"})

    assert result["changed"] is True
    assert result["policy"]["arn"] == arn
    assert local_policy_names(iam) == []
    deleted = [params["VersionId"] for params in api_calls.requests("DeletePolicyVersion")]
    assert sorted(deleted) == ["v1", "v2", "v4", "v5"]
    assert api_calls.writes == ["DeletePolicyVersion"] * 4 + ["DeletePolicy"]

    api_calls.clear()
    again = run_module(mfa_onboarding_policy, {"stage": "first_login", "state": "absent"})
    assert again["changed"] is False
    assert again["policy"] == {}
    assert api_calls.writes == []


def test_absent_leaves_the_other_policy_alone(iam: t.Any, run_module: Run) -> None:
    run_module(mfa_onboarding_policy, {"stage": "first_login"})
    run_module(mfa_onboarding_policy, {"stage": "current_users"})
    run_module(mfa_onboarding_policy, {"stage": "current_users", "state": "absent"})
    assert local_policy_names(iam) == [NAMES["first_login"]]


def test_absent_refuses_an_attached_policy(iam: t.Any, api_calls: t.Any, run_module: Run) -> None:
    run_module(mfa_onboarding_policy, {"stage": "first_login"})
    arn = arn_of(NAMES["first_login"])
    iam.create_group(GroupName="NotYetLoginUsers")
    iam.attach_group_policy(GroupName="NotYetLoginUsers", PolicyArn=arn)
    api_calls.clear()

    result = run_module(mfa_onboarding_policy, {"stage": "first_login", "state": "absent"})

    assert result["failed"] is True
    assert "NotYetLoginUsers" in result["msg"]
    assert "groups: NotYetLoginUsers" in result["msg"]
    assert "still attached" in result["msg"]
    assert api_calls.writes == []
    assert local_policy_names(iam) == [NAMES["first_login"]]


def test_absent_names_every_attachment(iam: t.Any, api_calls: t.Any, run_module: Run) -> None:
    run_module(mfa_onboarding_policy, {"stage": "current_users"})
    arn = arn_of(NAMES["current_users"])
    iam.create_user(UserName="alice")
    iam.attach_user_policy(UserName="alice", PolicyArn=arn)
    iam.create_group(GroupName="ops")
    iam.attach_group_policy(GroupName="ops", PolicyArn=arn)
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName="auditor", AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(RoleName="auditor", PolicyArn=arn)
    api_calls.clear()

    result = run_module(mfa_onboarding_policy, {"stage": "current_users", "state": "absent"}, check_mode=True)

    assert result["failed"] is True
    assert "groups: ops; users: alice; roles: auditor" in result["msg"]
    assert api_calls.writes == []


# self_enrollment


def guarded(stage: str, scope: str = "any") -> dict[str, t.Any]:
    return render(official_document(), stage, scope, "guarded")


def _reserved_sid_on_the_deny() -> dict[str, t.Any]:
    document = official_document()
    (deny,) = [s for s in document["Statement"] if s["Effect"] == "Deny"]
    deny["Sid"] = "DenyMFADeviceChangesWithoutMFA"
    return document


@pytest.mark.parametrize("stage", STAGES)
def test_create_guarded(iam: t.Any, api_calls: t.Any, run_module: Run, stage: str) -> None:
    result = run_module(mfa_onboarding_policy, {"stage": stage, "self_enrollment": "guarded"})

    assert result["changed"] is True
    assert api_calls.writes == ["CreatePolicy"]
    stored = stored_document(iam, arn_of(NAMES[stage]))
    assert stored == guarded(stage) == result["policy"]["document"]
    assert stored != render(official_document(), stage)


@pytest.mark.parametrize("scope", ["any", "own"])
@pytest.mark.parametrize("stage", STAGES)
def test_switching_self_enrollment_makes_a_new_version_each_way(
    iam: t.Any, api_calls: t.Any, run_module: Run, stage: str, scope: str
) -> None:
    official = {"stage": stage, "mfa_device_scope": scope}
    run_module(mfa_onboarding_policy, official)
    arn = arn_of(NAMES[stage])
    args = dict(official, self_enrollment="guarded")
    api_calls.clear()

    predicted = run_module(mfa_onboarding_policy, args, check_mode=True, diff=True)
    assert predicted["changed"] is True
    assert api_calls.writes == []
    assert version_table(iam, arn) == {"v1": True}
    assert predicted["diff"]["before"]["document"] == render(official_document(), stage, scope)
    assert predicted["diff"]["after"]["document"] == guarded(stage, scope)
    assert predicted["policy"]["document"] == guarded(stage, scope)

    result = run_module(mfa_onboarding_policy, args, diff=True)
    assert result["changed"] is True
    assert api_calls.writes == ["CreatePolicyVersion"]
    assert version_table(iam, arn) == {"v1": False, "v2": True}
    assert stored_document(iam, arn) == guarded(stage, scope)
    assert result["policy"]["default_version_id"] == "v2"
    assert result["diff"] == predicted["diff"]

    api_calls.clear()
    assert run_module(mfa_onboarding_policy, args, check_mode=True)["changed"] is False
    again = run_module(mfa_onboarding_policy, args, diff=True)
    assert again["changed"] is False
    assert again["diff"]["before"] == again["diff"]["after"]
    assert api_calls.writes == []

    # Back to official: the official text again, in a new version.
    back = run_module(mfa_onboarding_policy, dict(official, self_enrollment="official"))
    assert back["changed"] is True
    assert api_calls.writes == ["CreatePolicyVersion"]
    assert version_table(iam, arn) == {"v1": False, "v2": False, "v3": True}
    assert stored_document(iam, arn) == render(official_document(), stage, scope)
    api_calls.clear()
    assert run_module(mfa_onboarding_policy, official)["changed"] is False
    assert api_calls.writes == []


def test_switching_back_and_forth_stays_within_five_versions(iam: t.Any, run_module: Run) -> None:
    arn = arn_of(NAMES["current_users"])
    for number in range(7):
        value = "guarded" if number % 2 else "official"
        assert run_module(mfa_onboarding_policy, {"stage": "current_users", "self_enrollment": value})["changed"]
    assert len(version_table(iam, arn)) == 5
    assert list(version_table(iam, arn).values())[-1] is True
    assert stored_document(iam, arn) == official_document()


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(lambda: json.dumps(guarded("first_login")), id="guarded-json-text"),
        pytest.param(lambda: guarded("current_users"), id="other-stages-guarded-dict"),
        pytest.param(lambda: json.dumps(SEED_FIRST_LOGIN, indent=2), id="seed-json-text"),
    ],
)
def test_guarded_from_a_given_document(iam: t.Any, run_module: Run, document: t.Callable[[], t.Any]) -> None:
    """A base that already carries a guarded statement (its own or the other stage's) gives the same policy."""
    args = {"stage": "first_login", "self_enrollment": "guarded", "document": document()}
    assert run_module(mfa_onboarding_policy, args)["changed"] is True
    assert stored_document(iam, arn_of(NAMES["first_login"])) == guarded("first_login")
    assert run_module(mfa_onboarding_policy, args)["changed"] is False


def test_guarded_document_given_with_official_restores_the_official_text(iam: t.Any, run_module: Run) -> None:
    args = {"stage": "first_login", "document": json.dumps(guarded("first_login"))}
    run_module(mfa_onboarding_policy, args)
    assert stored_document(iam, arn_of(NAMES["first_login"])) == SEED_FIRST_LOGIN


# Bad inputs: refused before any client call


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            {"stage": "first_login", "document": "{not json"}, "document is not valid JSON", id="invalid-json"
        ),
        pytest.param(
            {"stage": "first_login", "document": '["not", "an", "object"]'},
            "document must be a JSON object",
            id="json-list",
        ),
        pytest.param(
            {"stage": "first_login", "document": {"Version": "2012-10-17"}},
            "document has no Statement",
            id="no-statement",
        ),
        pytest.param(
            {
                "stage": "current_users",
                "document": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}],
                },
            },
            "no deny-unless-MFA statement",
            id="no-mfa-deny",
        ),
        pytest.param(
            {"stage": "current_users", "document": with_deny_exemption("iam:Change*")},
            "NotAction entry 'iam:Change*' exempts iam:ChangePassword",
            id="wildcard-exemption",
        ),
        pytest.param({"stage": "first_login", "name": "bad name"}, "name: the policy name 'bad name'", id="name-space"),
        pytest.param({"stage": "first_login", "name": "p" * 129}, "has 129 characters", id="name-too-long"),
        pytest.param({"stage": "first_login", "name": ""}, "name: the policy name must not be empty", id="name-empty"),
        pytest.param({"stage": "first_login", "name": "ポリシー"}, "may contain only ASCII", id="name-non-ascii"),
        pytest.param({"stage": "first_login", "path": "no-slash"}, "path: 'no-slash' must begin and end", id="path"),
        pytest.param(
            {"stage": "first_login", "description": "Créée"}, "description: IAM does not accept", id="description"
        ),
        pytest.param(
            {"stage": "promoted"},
            "value of stage must be one of: first_login, current_users, got: promoted",
            id="unknown-stage",
        ),
        pytest.param({}, "missing required arguments: stage", id="no-stage"),
        pytest.param(
            {"stage": "first_login", "mfa_device_scope": "mine"},
            "value of mfa_device_scope must be one of: any, own, got: mine",
            id="unknown-scope",
        ),
        pytest.param(
            {"stage": "first_login", "state": "gone"}, "value of state must be one of: present, absent", id="state"
        ),
        pytest.param(
            {"stage": "first_login", "self_enrollment": "strict"},
            "value of self_enrollment must be one of: official, guarded, got: strict",
            id="unknown-self-enrollment",
        ),
        pytest.param(
            {"stage": "current_users", "self_enrollment": "guarded", "document": _reserved_sid_on_the_deny()},
            "is the deny-unless-MFA statement, but its Sid is reserved",
            id="reserved-sid-on-the-deny",
        ),
        pytest.param(
            {"stage": "first_login", "state": "absent", "name": "bad name"},
            "the policy name 'bad name'",
            id="absent-name",
        ),
    ],
)
def test_bad_input_fails_before_any_api_call(
    iam: t.Any, api_calls: t.Any, run_module: Run, args: dict[str, t.Any], message: str
) -> None:
    result = run_module(mfa_onboarding_policy, args)

    assert result["failed"] is True
    assert message in result["msg"]
    assert api_calls.names == []
    assert local_policy_names(iam) == []
