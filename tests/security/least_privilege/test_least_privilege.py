# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Least privilege for the operator: files/operator-policy.json is all the three roles need, and no more.

Under moto's IAM enforcement (INITIAL_NO_AUTH_ACTION_COUNT, see conftest.py) an operator that holds only the
shipped policy runs the whole lifecycle through the playbooks: bootstrap (in check mode first, then for real, then
again over a tampered account), onboarding of two users with file delivery, a password reset, and promotion (one
user promoted, one refused for lack of MFA). The set of actions that lifecycle makes equals the policy's set of
actions. Then, for each action of the policy, an operator whose policy lacks only that action runs the cheapest
playbook that reaches it, and the run fails with moto's AccessDenied naming that action and no other.

What this does NOT prove: moto checks actions, not resources or conditions. It authorises IAM calls against the
resource "*", so the suite grants the policy's actions on "*" (conftest.for_moto), and the Resource scoping of
the shipped policy (policies, groups and users by ARN, "*" only where IAM takes no resource) is reviewed by hand,
not proven here. The structural checks below only pin which actions may use "*".

sts:GetCallerIdentity is called (check mode of mfa_onboarding_policy, to predict a new policy's ARN) but is not
in the policy: AWS answers it for every principal, needing no permission, and moto does the same.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
import typing as t

import botocore.exceptions
import botocore.session
import pytest

from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import register_mfa

FIRST_LOGIN = "MFARequiredOnlyForTheFirstLogin"
CURRENT_USERS = "MFARequiredForCurrentUsers"
GROUP = "NotYetLoginUsers"
ACCOUNT_ID = "123456789012"  # moto's default account

# Actions that AWS answers for every principal: called by the roles, yet never in the policy.
PERMISSION_FREE = {"sts:GetCallerIdentity"}
# IAM actions that take no resource: the only ones the policy grants on "*".
RESOURCE_STAR = {
    "iam:GetAccountPasswordPolicy",
    "iam:UpdateAccountPasswordPolicy",
    "iam:ListPolicies",
    # the status job's account-wide reads
    "iam:GetAccountAuthorizationDetails",
    "iam:ListUsers",
    "iam:GenerateCredentialReport",
    "iam:GetCredentialReport",
    "iam:ListVirtualMFADevices",
}
ARN = re.compile(r"^arn:aws:iam::\*:(policy|group|user)/[A-Za-z0-9+=,.@_*/-]+$")
DENIED = re.compile(r"is not authorized to perform: ([A-Za-z0-9]+:[A-Za-z0-9]+)")

_SESSION = botocore.session.get_session()
_OPERATIONS = {service: set(_SESSION.get_service_model(service).operation_names) for service in ("iam", "sts")}


def qualified(operation: str) -> str:
    """iam:CreateUser for CreateUser; sts:GetCallerIdentity for GetCallerIdentity."""
    services = [service for service, names in _OPERATIONS.items() if operation in names]
    assert len(services) == 1, f"{operation} is an operation of {services or 'neither IAM nor STS'}"
    return f"{services[0]}:{operation}"


def actions_of(policy: dict[str, t.Any]) -> list[str]:
    return [action for statement in policy["Statement"] for action in statement["Action"]]


def without(policy: dict[str, t.Any], action: str) -> dict[str, t.Any]:
    """The policy minus one action (a statement left empty is dropped)."""
    statements = []
    for statement in policy["Statement"]:
        kept = [a for a in statement["Action"] if a != action]
        if kept:
            statements.append(dict(statement, Action=kept))
    return dict(policy, Statement=statements)


# Scenes, set by root before the operator's run.

STALE = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}


def _arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:{kind}/{name}"


def scene_empty(iam: t.Any) -> None:
    """A fresh account."""


def tamper(iam: t.Any) -> None:
    """Someone attached another policy to the onboarding group and edited the first-login policy four times."""
    iam.create_policy(PolicyName="Extra", PolicyDocument=json.dumps(STALE))
    iam.attach_group_policy(GroupName=GROUP, PolicyArn=_arn("policy", "Extra"))
    for index in range(4):
        document = dict(STALE, Statement=[dict(STALE["Statement"][0], Sid=f"Edit{index}")])
        iam.create_policy_version(
            PolicyArn=_arn("policy", FIRST_LOGIN), PolicyDocument=json.dumps(document), SetAsDefault=True
        )


def scene_tampered(iam: t.Any) -> None:
    """Both policies exist with a foreign document, the first-login one at the limit of five versions, and the
    onboarding group holds another policy instead of the first-login one: bootstrap must repair all of it."""
    for name in (FIRST_LOGIN, CURRENT_USERS):
        iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(STALE))
    iam.create_group(GroupName=GROUP)
    tamper(iam)


def scene_regime(iam: t.Any) -> None:
    """A bootstrapped account (the documents do not matter to onboarding and promotion)."""
    for name in (FIRST_LOGIN, CURRENT_USERS):
        iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(STALE))
    iam.create_group(GroupName=GROUP)
    iam.attach_group_policy(GroupName=GROUP, PolicyArn=_arn("policy", FIRST_LOGIN))
    iam.update_account_password_policy(MinimumPasswordLength=14, AllowUsersToChangePassword=True)


def onboarding_user(iam: t.Any, name: str) -> None:
    iam.create_user(UserName=name)
    iam.add_user_to_group(UserName=name, GroupName=GROUP)
    iam.create_login_profile(UserName=name, Password="Temporary-Passw0rd!", PasswordResetRequired=True)


def enable_mfa(iam: t.Any, name: str) -> None:
    """What the user does at the first sign-in: a virtual MFA device with two consecutive codes."""
    register_mfa(iam, name)


def scene_onboarding_user(iam: t.Any) -> None:
    scene_regime(iam)
    onboarding_user(iam, "carol")


def scene_ready_user(iam: t.Any) -> None:
    scene_regime(iam)
    onboarding_user(iam, "dave")
    enable_mfa(iam, "dave")


def scene_statuses(iam: t.Any) -> None:
    """Users in every stage the status job reports: carol onboarding, dave ready, erin promoted with an access key,
    frank outside the regime with a password and an access key."""
    scene_ready_user(iam)
    onboarding_user(iam, "carol")
    iam.create_user(UserName="erin")
    iam.create_login_profile(UserName="erin", Password="Her-own-Passw0rd!", PasswordResetRequired=False)
    enable_mfa(iam, "erin")
    iam.attach_user_policy(UserName="erin", PolicyArn=_arn("policy", CURRENT_USERS))
    iam.create_access_key(UserName="erin")
    iam.create_user(UserName="frank")
    iam.create_login_profile(UserName="frank", Password="His-own-Passw0rd!", PasswordResetRequired=False)
    iam.create_access_key(UserName="frank")


STATUS_ACCOUNT = {"status_scope": "account"}
# The status job's account-wide reads (the operator reaches its per-user reads through onboarding already).
STATUS_ACCOUNT_READS = (
    "iam:GetAccountAuthorizationDetails",
    "iam:ListUsers",
    "iam:GenerateCredentialReport",
    "iam:GetCredentialReport",
    "iam:ListVirtualMFADevices",
)
STATUS_NAMED = {"status_users": ["dave", "erin", "frank", "ghost"]}


@dataclasses.dataclass(frozen=True)
class Scenario:
    """The cheapest run that reaches `reaches`: a scene set by root, then one playbook as the operator."""

    scene: t.Callable[[t.Any], None]
    playbook: str
    extra_vars: dict[str, t.Any]
    reaches: tuple[str, ...]


SCENARIOS = {
    "bootstrap-fresh": Scenario(
        scene_empty,
        "bootstrap",
        {},
        (
            "iam:ListPolicies",
            "iam:CreatePolicy",
            "iam:GetGroup",
            "iam:CreateGroup",
            "iam:ListAttachedGroupPolicies",
            "iam:AttachGroupPolicy",
            "iam:GetAccountPasswordPolicy",
            "iam:UpdateAccountPasswordPolicy",
        ),
    ),
    "bootstrap-tampered": Scenario(
        scene_tampered,
        "bootstrap",
        {},
        (
            "iam:GetPolicyVersion",
            "iam:ListPolicyVersions",
            "iam:DeletePolicyVersion",
            "iam:CreatePolicyVersion",
            "iam:DetachGroupPolicy",
        ),
    ),
    "onboard-new": Scenario(
        scene_regime,
        "onboard",
        {"onboard_users": [{"name": "erin", "tags": {"team": "blue"}}]},
        ("iam:GetPolicy", "iam:GetUser", "iam:CreateUser", "iam:AddUserToGroup", "iam:CreateLoginProfile"),
    ),
    "onboard-existing": Scenario(
        scene_onboarding_user,
        "onboard",
        {"onboard_users": [{"name": "carol", "tags": {"team": "blue"}}], "onboard_reset_password": True},
        (
            "iam:GetLoginProfile",
            "iam:ListMFADevices",
            "iam:ListGroupsForUser",
            "iam:ListAttachedUserPolicies",
            "iam:TagUser",
            "iam:UpdateLoginProfile",
        ),
    ),
    "promote": Scenario(
        scene_ready_user,
        "promote",
        {"promote_users": [{"name": "dave"}]},
        ("iam:AttachUserPolicy", "iam:RemoveUserFromGroup"),
    ),
    "status-account": Scenario(
        scene_statuses,
        "status",
        STATUS_ACCOUNT,
        STATUS_ACCOUNT_READS,
    ),
    "status-named": Scenario(
        scene_statuses,
        "status",
        STATUS_NAMED,
        ("iam:ListUserPolicies", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"),
    ),
}
ACTION_CASES = [(action, name) for name, scenario in SCENARIOS.items() for action in scenario.reaches]


# The policy file itself.


def test_the_policy_is_plain_allow_statements_of_named_iam_actions(operator_policy: dict[str, t.Any]) -> None:
    assert operator_policy["Version"] == "2012-10-17"
    sids = [statement.get("Sid") for statement in operator_policy["Statement"]]
    assert all(sids) and len(set(sids)) == len(sids), f"each statement needs its own Sid: {sids}"
    for statement in operator_policy["Statement"]:
        assert set(statement) == {"Sid", "Effect", "Action", "Resource"}, statement
        assert statement["Effect"] == "Allow", statement
        assert isinstance(statement["Action"], list) and statement["Action"], statement
    actions = actions_of(operator_policy)
    assert len(set(actions)) == len(actions), f"an action is granted twice: {sorted(actions)}"
    for action in actions:
        assert "*" not in action and "?" not in action, f"{action}: no wildcards in the operator's actions"
        assert action.startswith("iam:"), action
        assert qualified(action.split(":", 1)[1]) == action, f"{action} is not an IAM operation"


def test_resource_star_only_where_iam_takes_no_resource(operator_policy: dict[str, t.Any]) -> None:
    """A hand-reviewed property, pinned: "*" only for the account-level calls, ARNs for everything else."""
    for statement in operator_policy["Statement"]:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if "*" in resources:
            assert resources == ["*"], statement
            assert set(statement["Action"]) <= RESOURCE_STAR, f"{statement['Sid']} grants on '*' what takes an ARN"
        else:
            for resource in resources:
                assert ARN.match(resource), f"{statement['Sid']}: {resource} is not an IAM policy/group/user ARN"


def test_every_action_of_the_policy_has_a_scenario_that_reaches_it(operator_policy: dict[str, t.Any]) -> None:
    covered = [action for action, _name in ACTION_CASES]
    assert len(set(covered)) == len(covered), "an action is assigned to two scenarios"
    assert set(covered) == set(actions_of(operator_policy))


# The whole lifecycle as the operator.


def test_the_whole_lifecycle_needs_exactly_the_operator_policy(
    account: t.Any, operator_policy: dict[str, t.Any], tmp_path: t.Any
) -> None:
    account.create_operator(operator_policy)
    # From here on, every request is authenticated and authorised: root's fake key is no longer accepted.
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        account.root.get_user(UserName=account.operator_name)
    assert refused.value.response["Error"]["Code"] == "InvalidClientTokenId"

    runs = []

    def run(playbook: str, extra_vars: dict[str, t.Any] | None = None, *, check: bool = False, ok: bool = True):
        result = account.playbook(playbook, extra_vars, check=check)
        runs.append((playbook + (" --check" if check else ""), result))
        assert (result.rc == 0) is ok, result.describe()
        assert not DENIED.search(result.output), result.describe()
        return result

    handover = tmp_path / "handover"
    users = [{"name": "alice", "tags": {"team": "blue"}}, {"name": "bob"}]
    run("bootstrap", check=True)
    run("bootstrap")
    with account.as_root() as iam:
        tamper(iam)
    run("bootstrap")
    onboard = {"onboard_delivery": "file", "onboard_handover_dir": str(handover)}
    run("onboard", dict(onboard, onboard_users=users))
    users[0]["tags"]["site"] = "berlin"
    run("onboard", dict(onboard, onboard_users=users, onboard_reset_password=True))
    with account.as_root() as iam:
        enable_mfa(iam, "alice")
        iam.create_group(GroupName="Developers")
        iam.create_policy(PolicyName="DeveloperAccess", PolicyDocument=json.dumps(STALE))
    promoted = run(
        "promote",
        {
            "promote_users": [
                {"name": "alice", "groups": ["Developers"], "managed_policies": ["DeveloperAccess"]},
                {"name": "bob"},
            ]
        },
        ok=False,
    )
    assert "promotion refused for bob" in promoted.output, promoted.describe()
    # The operator also runs the status job (the auditor's policy, files/auditor-policy.json, is a subset).
    with account.as_root() as iam:
        iam.create_access_key(UserName="alice")
    run("status", STATUS_ACCOUNT)
    run("status", {"status_users": ["alice", "bob"]})

    with account.as_root() as iam:
        alice_groups = {g["GroupName"] for g in iam.list_groups_for_user(UserName="alice")["Groups"]}
        alice_policies = {
            p["PolicyName"] for p in iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"]
        }
        bob_groups = {g["GroupName"] for g in iam.list_groups_for_user(UserName="bob")["Groups"]}
        group_policies = {
            p["PolicyName"] for p in iam.list_attached_group_policies(GroupName=GROUP)["AttachedPolicies"]
        }
        versions = iam.list_policy_versions(PolicyArn=_arn("policy", FIRST_LOGIN))["Versions"]
        default = next(v["VersionId"] for v in versions if v["IsDefaultVersion"])
        document = iam.get_policy_version(PolicyArn=_arn("policy", FIRST_LOGIN), VersionId=default)["PolicyVersion"]
        tags = {tag["Key"]: tag["Value"] for tag in iam.list_user_tags(UserName="alice")["Tags"]}
    assert alice_groups == {"Developers"} and alice_policies == {CURRENT_USERS, "DeveloperAccess"}
    assert bob_groups == {GROUP}
    assert group_policies == {FIRST_LOGIN}, "bootstrap did not purge the extra policy of the onboarding group"
    assert len(versions) == 5, "bootstrap did not prune a version at the limit"
    assert "Edit3" not in json.dumps(document["Document"]), "bootstrap did not restore the first-login policy"
    assert tags == {"team": "blue", "site": "berlin"}
    for name in ("alice", "bob"):
        note = handover / f"{name}.txt"
        assert note.is_file() and stat.S_IMODE(os.stat(note).st_mode) == 0o600, note

    recorded = {qualified(action) for _label, result in runs for action in result.actions}
    granted = set(actions_of(operator_policy))
    assert recorded - PERMISSION_FREE == granted, (
        f"called but not granted: {sorted(recorded - PERMISSION_FREE - granted)}; "
        f"granted but never called: {sorted(granted - recorded)}"
    )
    assert recorded >= PERMISSION_FREE, "check mode no longer asks STS for the account: revisit PERMISSION_FREE"
    print(f"\nlifecycle as the operator: {len(granted)} actions granted, {len(recorded)} called")
    for label, result in runs:
        print(f"  {label:<18} exit {result.rc}  {result.seconds:4.1f} s  {len(result.actions):3d} calls")


# Each action of the policy: without it, the cheapest run that reaches it fails naming it.


@pytest.mark.parametrize(("action", "name"), ACTION_CASES, ids=[f"{a}@{n}" for a, n in ACTION_CASES])
def test_without_one_action_the_run_fails_naming_it(
    account: t.Any, operator_policy: dict[str, t.Any], action: str, name: str
) -> None:
    scenario = SCENARIOS[name]
    reduced = without(operator_policy, action)
    assert sorted(actions_of(reduced)) == sorted(set(actions_of(operator_policy)) - {action})
    account.create_operator(reduced)
    with account.as_root() as iam:
        scenario.scene(iam)
    result = account.playbook(scenario.playbook, scenario.extra_vars)
    assert result.rc != 0, result.describe()
    assert set(DENIED.findall(result.output)) == {action}, result.describe()


# The auditor: files/auditor-policy.json is all the status job needs, and no more; it writes nothing.

AUDITOR_SCENARIOS = {
    "status-account": Scenario(
        scene_statuses,
        "status",
        STATUS_ACCOUNT,
        (*STATUS_ACCOUNT_READS, "iam:GetLoginProfile", "iam:ListMFADevices"),
    ),
    "status-named": Scenario(
        scene_statuses,
        "status",
        STATUS_NAMED,
        (
            "iam:GetUser",
            "iam:ListGroupsForUser",
            "iam:ListAttachedUserPolicies",
            "iam:ListUserPolicies",
            "iam:ListAccessKeys",
            "iam:GetAccessKeyLastUsed",
        ),
    ),
}
AUDITOR_CASES = [(action, name) for name, scenario in AUDITOR_SCENARIOS.items() for action in scenario.reaches]
# Read-only: an auditor's policy grants no action whose name says it changes something.
WRITE_VERBS = re.compile(
    r"^iam:(Create|Delete|Update|Put|Attach|Detach|Add|Remove|Tag|Untag|Enable|Deactivate|Set|Change|Upload|Reset"
    r"|Resync)"
)


def test_the_auditor_policy_reads_only_and_is_a_subset_of_the_operators(
    auditor_policy: dict[str, t.Any], operator_policy: dict[str, t.Any]
) -> None:
    actions = actions_of(auditor_policy)
    assert len(set(actions)) == len(actions)
    for statement in auditor_policy["Statement"]:
        assert set(statement) == {"Sid", "Effect", "Action", "Resource"} and statement["Effect"] == "Allow", statement
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if "*" in resources:
            assert set(statement["Action"]) <= RESOURCE_STAR, statement
        else:
            assert all(ARN.match(r) for r in resources), statement
    for action in actions:
        assert qualified(action.split(":", 1)[1]) == action, f"{action} is not an IAM operation"
        assert not WRITE_VERBS.match(action), f"{action} changes something"
    assert set(actions) <= set(actions_of(operator_policy)), "the operator cannot run the status job"
    covered = [action for action, _name in AUDITOR_CASES]
    assert len(set(covered)) == len(covered) and set(covered) == set(actions)


def test_the_status_job_needs_exactly_the_auditor_policy(account: t.Any, auditor_policy: dict[str, t.Any]) -> None:
    account.create_operator(auditor_policy)
    with account.as_root() as iam:
        scene_statuses(iam)
    runs = []
    for extra_vars in (STATUS_ACCOUNT, STATUS_NAMED):
        result = account.playbook("status", extra_vars)
        runs.append(result)
        assert result.rc == 0 and not DENIED.search(result.output), result.describe()
    named = runs[1].output
    assert "ghost" in named and "no such user" in named, runs[1].describe()
    recorded = {qualified(action) for result in runs for action in result.actions}
    granted = set(actions_of(auditor_policy))
    assert recorded - PERMISSION_FREE == granted, (
        f"called but not granted: {sorted(recorded - PERMISSION_FREE - granted)}; "
        f"granted but never called: {sorted(granted - recorded)}"
    )
    print(f"\nstatus job as the auditor: {len(granted)} actions granted, {len(recorded)} called")
    for label, result in zip(("account", "named"), runs):
        print(f"  status {label:<8} exit {result.rc}  {result.seconds:4.1f} s  {len(result.actions):3d} calls")


@pytest.mark.parametrize(("action", "name"), AUDITOR_CASES, ids=[f"{a}@{n}" for a, n in AUDITOR_CASES])
def test_without_one_action_the_status_job_fails_naming_it(
    account: t.Any, auditor_policy: dict[str, t.Any], action: str, name: str
) -> None:
    scenario = AUDITOR_SCENARIOS[name]
    account.create_operator(without(auditor_policy, action))
    with account.as_root() as iam:
        scenario.scene(iam)
    result = account.playbook(scenario.playbook, scenario.extra_vars)
    assert result.rc != 0, result.describe()
    assert set(DENIED.findall(result.output)) == {action}, result.describe()
