# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Least privilege for the operator: files/operator-policy.json is all the four roles need, and no more; the same
for the auditor's files/auditor-policy.json and the status job.

Two halves, under moto's IAM enforcement (conftest.py):

1. Sufficient, and nothing granted in vain, through the playbooks: an operator that holds only the shipped policy
   runs the whole lifecycle as an operator runs it: bootstrap (for real, then again over a tampered account),
   onboarding of three users (one with a promotion profile) with file delivery into an onboarding group that also
   holds an inline guard, a password reset, promotion (one user promoted, one refused for lack of MFA), the
   scheduled promotion of every ready user by its recorded profile (promote_ready), the status job, adoption, the
   expiry of the refused user's unused temporary password, and the offboarding of the promoted user (given a
   signing certificate, an SSH key and a CodeCommit service-specific credential too): disabled first, then
   deleted with the expired one. The set of actions those runs make equals the policy's set of actions.
2. Each action needed: for each action of the policy, a principal whose policy lacks only that action runs the
   smallest scenario that reaches it, and the run fails with moto's AccessDenied naming that action and no other.
   A scenario is one scene set by root and one run of a module that a role's task runs, with arguments that task
   passes (checked against the roles' task files): the roles add nothing between their modules and IAM, so the
   module in-process stands for the role, at a fraction of a second per run instead of a playbook (ansible-playbook
   and a moto server each). With the whole policy each scenario succeeds and makes the calls it claims to reach.

What this does NOT prove: moto checks actions, not resources or conditions. It authorises IAM calls against the
resource "*", so the suite grants the policy's actions on "*" (conftest.for_moto), and the Resource scoping of
the shipped policy (policies, groups and users by ARN, "*" only where IAM takes no resource) is reviewed by hand,
not proven here. The structural checks below only pin which actions may use "*". Nor does moto ask for iam:TagUser
when CreateUser carries tags (the pending handover mark), as AWS does: the policy grants TagUser anyway, which
the delivered mark needs.

sts:GetCallerIdentity is called (check mode of mfa_onboarding_policy, to predict a new policy's ARN) but is not
in the policy: AWS answers it for every principal, needing no permission, and moto does the same.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import re
import stat
import typing as t

import boto3
import botocore.exceptions
import botocore.session
import pytest
import yaml
from moto.core.authorization import enable_iam_authentication

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _profiles
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import dump
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import official_document
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import render
from ansible_collections.mfa_onboarding.iam.tests.support import full_user as fu
from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support import moto_patched
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import register_mfa

FIRST_LOGIN = iam_state.FIRST_LOGIN
CURRENT_USERS = iam_state.CURRENT_USERS
GROUP = iam_state.ONBOARDING_GROUP
ACCOUNT_ID = iam_state.ACCOUNT
HANDOVER_TAG = "mfa-onboarding:handover"
ROLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "roles")

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
ARN = re.compile(r"^arn:aws:iam::\*:(policy|group|user|mfa)/[A-Za-z0-9+=,.@_*/-]+$")
# The only actions granted on virtual MFA devices (mfa/*): every other one is on a policy, group or user.
ON_MFA_DEVICES = {"iam:DeleteVirtualMFADevice"}
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


# Scenes, set by root before the principal's run.

STALE = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
# An inline policy of the onboarding group that guards as the first-login policy does (the modules accept it).
INLINE_GUARD = "InlineFirstLoginGuard"


def _arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:{kind}/{name}"


def scene_empty(iam: t.Any) -> None:
    """A fresh account."""


def tamper_first_login_policy(iam: t.Any) -> None:
    """Someone edited the first-login policy four times: a foreign default, at the limit of five versions."""
    for index in range(4):
        document = dict(STALE, Statement=[dict(STALE["Statement"][0], Sid=f"Edit{index}")])
        iam.create_policy_version(
            PolicyArn=_arn("policy", FIRST_LOGIN), PolicyDocument=json.dumps(document), SetAsDefault=True
        )


def attach_extra_policy(iam: t.Any) -> None:
    """Someone attached another policy to the onboarding group."""
    iam.create_policy(PolicyName="Extra", PolicyDocument=json.dumps(STALE))
    iam.attach_group_policy(GroupName=GROUP, PolicyArn=_arn("policy", "Extra"))


def tamper(iam: t.Any) -> None:
    """Both tamperings at once (the lifecycle's bootstrap must repair them)."""
    attach_extra_policy(iam)
    tamper_first_login_policy(iam)


def scene_policy_tampered(iam: t.Any) -> None:
    """The first-login policy exists with a foreign document, at the limit of five versions."""
    iam.create_policy(PolicyName=FIRST_LOGIN, PolicyDocument=json.dumps(STALE))
    tamper_first_login_policy(iam)


def _both_policies(iam: t.Any) -> None:
    iam.create_policy(PolicyName=FIRST_LOGIN, PolicyDocument=dump(render(official_document(), "first_login")))
    iam.create_policy(PolicyName=CURRENT_USERS, PolicyDocument=dump(render(official_document(), "current_users")))


def scene_policies(iam: t.Any) -> None:
    """The two MFA policies, as bootstrap's first tasks leave them; no group yet."""
    _both_policies(iam)


def scene_group_tampered(iam: t.Any) -> None:
    """The two policies, and an onboarding group that holds another policy instead of the first-login one."""
    _both_policies(iam)
    iam.create_group(GroupName=GROUP)
    attach_extra_policy(iam)


def scene_regime(iam: t.Any) -> None:
    """A bootstrapped account: the guards as the bootstrap role leaves them, and a password policy."""
    iam_state.bootstrap_guards(iam)
    iam.update_account_password_policy(MinimumPasswordLength=14, AllowUsersToChangePassword=True)


def put_inline_guard(iam: t.Any) -> None:
    iam.put_group_policy(
        GroupName=GROUP, PolicyName=INLINE_GUARD, PolicyDocument=dump(render(official_document(), "first_login"))
    )


def scene_regime_inline_guard(iam: t.Any) -> None:
    """A bootstrapped account whose onboarding group also holds an inline guard (read before any write)."""
    scene_regime(iam)
    put_inline_guard(iam)


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


def legacy_admin(iam: t.Any, name: str = "legacy") -> None:
    """A user from before the regime: a console password, an allow-everything policy, an inline policy, a group, an
    active access key, no MFA. The policy is customer-managed: moto knows AWS's managed policies only with
    MOTO_IAM_LOAD_MANAGED_POLICIES, which these accounts do not load."""
    iam.create_policy(PolicyName="LegacyAdmin", PolicyDocument=json.dumps(EVERYTHING))
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password="His-own-Passw0rd!", PasswordResetRequired=False)
    iam.create_group(GroupName="Admins")
    iam.add_user_to_group(UserName=name, GroupName="Admins")
    iam.attach_user_policy(UserName=name, PolicyArn=f"arn:aws:iam::{iam_state.ACCOUNT}:policy/LegacyAdmin")
    iam.put_user_policy(UserName=name, PolicyName="legacy-inline", PolicyDocument=json.dumps(STALE))
    iam.create_access_key(UserName=name)


def scene_legacy_admin(iam: t.Any) -> None:
    scene_regime(iam)
    legacy_admin(iam)


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


def scene_expirable(iam: t.Any) -> None:
    """A bootstrapped account with una onboarding for 8 days, her temporary password never used."""
    scene_regime(iam)
    onboarding_user(iam, "una")
    moto_patched.age_user("una", 8)


def scene_expired(iam: t.Any) -> None:
    """A bootstrapped account with una expired: in the onboarding group, tagged expired, no password."""
    scene_regime(iam)
    iam.create_user(UserName="una", Tags=[{"Key": "mfa-onboarding:expired", "Value": "2026-11-30"}])
    iam.add_user_to_group(UserName="una", GroupName=GROUP)


def scene_leaver(iam: t.Any) -> None:
    """A bootstrapped account with fay, the issue's full user (tests/support/full_user.py), promoted."""
    scene_regime(iam)
    fu.full_user(iam, "fay")
    iam.attach_user_policy(UserName="fay", PolicyArn=_arn("policy", CURRENT_USERS))


STATUS_ACCOUNT = {"status_scope": "account"}
STATUS_NAMED = {"status_users": ["dave", "erin", "frank", "ghost"]}


# Scenarios: one scene, one module run as a role's task makes it.

MFA_POLICY = "mfa_onboarding.iam.mfa_onboarding_policy"
GROUP_MODULE = "amazon.aws.iam_group"
PASSWORD_POLICY = "mfa_onboarding.iam.account_password_policy"
ONBOARD = "mfa_onboarding.iam.iam_onboard_user"
INFO = "mfa_onboarding.iam.iam_onboard_user_info"
HANDOVER_DIR = "{handover_dir}"  # replaced by a fresh directory of the test's own


@dataclasses.dataclass(frozen=True)
class Scenario:
    """The smallest run that reaches `reaches`: a scene set by root, then one module run as the principal."""

    scene: t.Callable[[t.Any], None]
    module: str
    args: dict[str, t.Any]
    reaches: tuple[str, ...]

    def arguments(self, handover_dir: str) -> dict[str, t.Any]:
        return {k: handover_dir if v == HANDOVER_DIR else v for k, v in self.args.items()}


# The bootstrap role's tasks, with its defaults.
FIRST_LOGIN_ARGS = {"stage": "first_login", "name": FIRST_LOGIN, "mfa_device_scope": "any"}
GROUP_ARGS = {
    "name": GROUP,
    "managed_policies": [_arn("policy", FIRST_LOGIN)],
    "purge_policies": True,
    "state": "present",
}
PASSWORD_POLICY_ARGS = {"allow_users_to_change_password": True}
# The onboard and promote roles' tasks, with their defaults.
ONBOARD_ARGS = {
    "state": "onboarding",
    "onboarding_group": GROUP,
    "current_users_policy": CURRENT_USERS,
    "reset_password": False,
    "concurrency": 4,
    "handover": "file",
    "handover_dir": HANDOVER_DIR,
    # The role's first (here: only) batch also looks for users an earlier run left pending.
    "all_pending": True,
}


def onboard_args(users: list[dict[str, t.Any]], **extra: t.Any) -> dict[str, t.Any]:
    """The onboard role's task for one batch that is the whole list."""
    return dict(ONBOARD_ARGS, users=users, batch_of=users, **extra)


# The adopt role's task, with its defaults.
ADOPT_ARGS = {
    "state": "onboarding",
    "adopt_only": True,
    "adopt_detach": True,
    "handover": "none",
    "onboarding_group": GROUP,
    "current_users_policy": CURRENT_USERS,
    "concurrency": 4,
}
PROMOTE_ARGS = {"state": "promoted", "onboarding_group": GROUP, "current_users_policy": CURRENT_USERS, "concurrency": 4}
# The expire and offboard roles' tasks, with their defaults.
EXPIRE_ARGS = {
    "state": "expired",
    "expire_after_days": 7,
    "expire_unassigned_mfa": True,
    "onboarding_group": GROUP,
    "current_users_policy": CURRENT_USERS,
    "concurrency": 4,
}
OFFBOARD_ARGS = {"onboarding_group": GROUP, "current_users_policy": CURRENT_USERS, "concurrency": 4}
# The status role's task, with its defaults.
STATUS_ARGS = {"stale_after_days": 7, "onboarding_group": GROUP, "current_users_policy": CURRENT_USERS}
INFO_ACCOUNT = dict(STATUS_ARGS, scope="account")
INFO_NAMED = dict(STATUS_ARGS, scope="regime", names=STATUS_NAMED["status_users"])

SCENARIOS = {
    "policy-new": Scenario(scene_empty, MFA_POLICY, FIRST_LOGIN_ARGS, ("iam:ListPolicies", "iam:CreatePolicy")),
    "policy-tampered": Scenario(
        scene_policy_tampered,
        MFA_POLICY,
        FIRST_LOGIN_ARGS,
        ("iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:DeletePolicyVersion", "iam:CreatePolicyVersion"),
    ),
    "group-new": Scenario(
        scene_policies,
        GROUP_MODULE,
        GROUP_ARGS,
        ("iam:GetGroup", "iam:CreateGroup", "iam:ListAttachedGroupPolicies", "iam:AttachGroupPolicy"),
    ),
    "group-tampered": Scenario(scene_group_tampered, GROUP_MODULE, GROUP_ARGS, ("iam:DetachGroupPolicy",)),
    "password-policy": Scenario(
        scene_empty,
        PASSWORD_POLICY,
        PASSWORD_POLICY_ARGS,
        ("iam:GetAccountPasswordPolicy", "iam:UpdateAccountPasswordPolicy"),
    ),
    "onboard-new": Scenario(
        scene_regime_inline_guard,
        ONBOARD,
        onboard_args([{"name": "erin", "tags": {"team": "blue"}}]),
        (
            "iam:GetPolicy",
            "iam:ListGroupPolicies",
            "iam:GetGroupPolicy",
            "iam:GetUser",
            "iam:CreateUser",
            "iam:AddUserToGroup",
            "iam:CreateLoginProfile",
            "iam:TagUser",
        ),
    ),
    "onboard-existing": Scenario(
        scene_onboarding_user,
        ONBOARD,
        onboard_args([{"name": "carol", "tags": {"team": "blue"}}], reset_password=True),
        (
            "iam:GetLoginProfile",
            "iam:ListMFADevices",
            "iam:ListGroupsForUser",
            "iam:ListAttachedUserPolicies",
            "iam:UpdateLoginProfile",
        ),
    ),
    "promote": Scenario(
        scene_ready_user,
        ONBOARD,
        dict(PROMOTE_ARGS, users=[{"name": "dave"}]),
        ("iam:AttachUserPolicy", "iam:RemoveUserFromGroup"),
    ),
    "adopt": Scenario(
        scene_legacy_admin,
        ONBOARD,
        dict(ADOPT_ARGS, users=[{"name": "legacy"}]),
        ("iam:UpdateAccessKey", "iam:DetachUserPolicy", "iam:GetUserPolicy", "iam:DeleteUserPolicy"),
    ),
    "status-account": Scenario(
        scene_statuses,
        INFO,
        INFO_ACCOUNT,
        (
            "iam:GetAccountAuthorizationDetails",
            "iam:ListUsers",
            "iam:GenerateCredentialReport",
            "iam:GetCredentialReport",
            "iam:ListVirtualMFADevices",
        ),
    ),
    "status-named": Scenario(
        scene_statuses,
        INFO,
        INFO_NAMED,
        ("iam:ListUserPolicies", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"),
    ),
    "expire": Scenario(
        scene_expirable,
        ONBOARD,
        dict(EXPIRE_ARGS, users=[{"name": "una"}]),
        (
            "iam:ListSigningCertificates",
            "iam:ListSSHPublicKeys",
            "iam:ListServiceSpecificCredentials",
            "iam:DeleteLoginProfile",
        ),
    ),
    "onboard-again": Scenario(scene_expired, ONBOARD, onboard_args([{"name": "una"}]), ("iam:UntagUser",)),
    "offboard-disable": Scenario(
        scene_leaver,
        ONBOARD,
        dict(OFFBOARD_ARGS, state="disabled", users=[{"name": "fay"}]),
        ("iam:UpdateSigningCertificate", "iam:UpdateSSHPublicKey", "iam:UpdateServiceSpecificCredential"),
    ),
    "offboard-delete": Scenario(
        scene_leaver,
        ONBOARD,
        dict(OFFBOARD_ARGS, state="absent", users=[{"name": "fay"}]),
        (
            "iam:DeleteAccessKey",
            "iam:DeleteSigningCertificate",
            "iam:DeleteSSHPublicKey",
            "iam:DeleteServiceSpecificCredential",
            "iam:DeactivateMFADevice",
            "iam:DeleteVirtualMFADevice",
            "iam:DeleteUser",
        ),
    ),
}
ACTION_CASES = [(action, name) for name, scenario in SCENARIOS.items() for action in scenario.reaches]

# The auditor: the status job's runs.
AUDITOR_SCENARIOS = {
    "status-account": Scenario(
        scene_statuses,
        INFO,
        INFO_ACCOUNT,
        (*SCENARIOS["status-account"].reaches, "iam:GetLoginProfile", "iam:ListMFADevices"),
    ),
    "status-named": Scenario(
        scene_statuses,
        INFO,
        INFO_NAMED,
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
PRINCIPALS = {"operator": SCENARIOS, "auditor": AUDITOR_SCENARIOS}


def role_tasks() -> dict[str, set[str]]:
    """{module: the arguments some role's task passes it} over every task file of every role."""
    found: dict[str, set[str]] = {}
    for path in sorted(glob.glob(os.path.join(ROLES, "*", "tasks", "*.yml"))):
        with open(path, encoding="utf-8") as handle:
            tasks = yaml.safe_load(handle) or []
        for task in tasks:
            for key, value in task.items():
                if "." in key and isinstance(value, dict):
                    found.setdefault(key, set()).update(value)
    return found


def run_scenario(enforced: t.Any, tmp_path: t.Any, principal: dict[str, str], scenario: Scenario) -> t.Any:
    with enforced.as_root() as iam:
        scenario.scene(iam)
    return enforced.run(principal, scenario.module, scenario.arguments(str(tmp_path / "handover")))


# The policy files themselves.


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
                assert ARN.match(resource), f"{statement['Sid']}: {resource} is not an IAM policy/group/user/mfa ARN"
                on_devices = resource.startswith("arn:aws:iam::*:mfa/")
                assert on_devices is (set(statement["Action"]) <= ON_MFA_DEVICES), (
                    f"{statement['Sid']}: only {sorted(ON_MFA_DEVICES)} take a virtual MFA device's ARN, all of them"
                )


def test_every_action_of_the_policy_has_a_scenario_that_reaches_it(operator_policy: dict[str, t.Any]) -> None:
    covered = [action for action, _name in ACTION_CASES]
    assert len(set(covered)) == len(covered), "an action is assigned to two scenarios"
    granted = set(actions_of(operator_policy))
    assert set(covered) == granted, (
        f"without a scenario: {sorted(granted - set(covered))}; not granted: {sorted(set(covered) - granted)}"
    )


def test_each_scenario_runs_a_module_of_a_role_as_its_task_does() -> None:
    """The module runs stand for the roles: each is a module some role's task runs, given only arguments that
    task passes (the credentials aside, which come from the environment in a playbook run)."""
    tasks = role_tasks()
    for principal, scenarios in PRINCIPALS.items():
        for name, scenario in scenarios.items():
            assert scenario.module in tasks, f"{principal} {name}: no role runs {scenario.module}"
            extra = set(scenario.args) - tasks[scenario.module]
            assert not extra, f"{principal} {name}: no role's task passes {sorted(extra)} to {scenario.module}"


# The whole lifecycle as the operator, through the playbooks.


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
    # dora's promotion profile is recorded at onboarding (tag mfa-onboarding:profile); promote_ready applies it.
    users = [{"name": "alice", "tags": {"team": "blue"}}, {"name": "bob"}, {"name": "dora", "profile": "developer"}]
    run("bootstrap", check=True)
    run("bootstrap")
    with account.as_root() as iam:
        tamper(iam)
    run("bootstrap")
    with account.as_root() as iam:
        put_inline_guard(iam)
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
    # The scheduled promote: every ready user by its recorded profile (dora; bob has no MFA, alice is promoted).
    with account.as_root() as iam:
        enable_mfa(iam, "dora")
    developer = {"groups": ["Developers"], "managed_policies": ["DeveloperAccess"]}
    ready = run("promote", {"promote_ready": True, "promote_profiles": {"developer": developer}})
    assert "dora" in ready.output and "bob" not in ready.output, ready.describe()
    # The operator also runs the status job (the auditor's policy, files/auditor-policy.json, is a subset).
    with account.as_root() as iam:
        iam.create_access_key(UserName="alice")
    run("status", STATUS_ACCOUNT)
    run("status", {"status_users": ["alice", "bob"]})
    with account.as_root() as iam:
        legacy_admin(iam)
    run("adopt", {"adopt_all": True}, check=True)
    run("adopt", {"adopt_all": True})

    with account.as_root() as iam:
        alice_groups = {g["GroupName"] for g in iam.list_groups_for_user(UserName="alice")["Groups"]}
        alice_policies = {
            p["PolicyName"] for p in iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"]
        }
        bob_groups = {g["GroupName"] for g in iam.list_groups_for_user(UserName="bob")["Groups"]}
        dora = (
            {g["GroupName"] for g in iam.list_groups_for_user(UserName="dora")["Groups"]},
            {p["PolicyName"] for p in iam.list_attached_user_policies(UserName="dora")["AttachedPolicies"]},
        )
        group_policies = {
            p["PolicyName"] for p in iam.list_attached_group_policies(GroupName=GROUP)["AttachedPolicies"]
        }
        versions = iam.list_policy_versions(PolicyArn=_arn("policy", FIRST_LOGIN))["Versions"]
        default = next(v["VersionId"] for v in versions if v["IsDefaultVersion"])
        document = iam.get_policy_version(PolicyArn=_arn("policy", FIRST_LOGIN), VersionId=default)["PolicyVersion"]
        tags = {tag["Key"]: tag["Value"] for tag in iam.list_user_tags(UserName="alice")["Tags"]}
        legacy = (
            {g["GroupName"] for g in iam.list_groups_for_user(UserName="legacy")["Groups"]},
            {p["PolicyName"] for p in iam.list_attached_user_policies(UserName="legacy")["AttachedPolicies"]},
            iam.list_user_policies(UserName="legacy")["PolicyNames"],
            [k["Status"] for k in iam.list_access_keys(UserName="legacy")["AccessKeyMetadata"]],
        )
    assert alice_groups == {"Developers"} and alice_policies == {CURRENT_USERS, "DeveloperAccess"}
    assert bob_groups == {GROUP}
    assert dora == ({"Developers"}, {CURRENT_USERS, "DeveloperAccess"}), "promote_ready did not apply dora's profile"
    assert legacy == ({GROUP}, set(), [], ["Inactive"]), "adoption left the legacy admin more than the guard"
    assert group_policies == {FIRST_LOGIN}, "bootstrap did not purge the extra policy of the onboarding group"
    assert len(versions) == 5, "bootstrap did not prune a version at the limit"
    assert "Edit3" not in json.dumps(document["Document"]), "bootstrap did not restore the first-login policy"
    assert tags == {"team": "blue", "site": "berlin", HANDOVER_TAG: "delivered"}
    for name in ("alice", "bob"):
        note = handover / f"{name}.txt"
        assert note.is_file() and stat.S_IMODE(os.stat(note).st_mode) == 0o600, note

    # The end of the lifecycle: bob's temporary password, never used, expires 8 days on, and he is onboarded again;
    # alice, given one of each credential the leaving states handle, is disabled, then deleted with bob.
    moto_patched.age_user_at(account.server.url, "bob", 8)
    run("expire")
    with account.as_root() as iam:
        bob_expired = (fu.leftovers(iam, "bob").get("login_profile"), iam.list_user_tags(UserName="bob")["Tags"])
        for add in (fu.add_signing_certificate, fu.add_ssh_public_key, fu.add_service_specific_credential):
            add(iam, "alice")
    assert bob_expired[0] is None and any(tag["Key"] == "mfa-onboarding:expired" for tag in bob_expired[1])
    # Onboarded again, bob gets a fresh temporary password and loses the expired mark.
    run("onboard", dict(onboard, onboard_users=[{"name": "bob"}]))
    with account.as_root() as iam:
        assert "mfa-onboarding:expired" not in {tag["Key"] for tag in iam.list_user_tags(UserName="bob")["Tags"]}
    run("offboard", {"offboard_users": [{"name": "alice"}], "offboard_mode": "disable"})
    run("offboard", {"offboard_users": [{"name": "alice"}, {"name": "bob"}], "offboard_mode": "delete"})
    with account.as_root() as iam:
        assert (fu.leftovers(iam, "alice"), fu.leftovers(iam, "bob")) == ({}, {}), "offboarding left something"

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


# Each scenario with the whole policy: it succeeds, denied nothing, and reaches what it claims.


@pytest.mark.parametrize(
    ("principal", "name"),
    [(principal, name) for principal, scenarios in PRINCIPALS.items() for name in scenarios],
    ids=[f"{principal}@{name}" for principal, scenarios in PRINCIPALS.items() for name in scenarios],
)
def test_with_the_whole_policy_the_scenario_succeeds_and_reaches_its_actions(
    enforced: t.Any,
    operator_policy: dict[str, t.Any],
    auditor_policy: dict[str, t.Any],
    tmp_path: t.Any,
    principal: str,
    name: str,
) -> None:
    policy = {"operator": operator_policy, "auditor": auditor_policy}[principal]
    scenario = PRINCIPALS[principal][name]
    result = run_scenario(enforced, tmp_path, enforced.principal(principal, policy), scenario)
    assert not result.failed and not DENIED.search(json.dumps(result.result)), result.describe()
    reached = {qualified(action) for action in result.actions}
    assert set(scenario.reaches) <= reached, f"not reached: {sorted(set(scenario.reaches) - reached)}"


# Each action of a policy: without it, the smallest scenario that reaches it fails naming it.


def assert_fails_naming(result: t.Any, action: str) -> None:
    assert result.failed, result.describe()
    assert set(DENIED.findall(json.dumps(result.result))) == {action}, result.describe()


@pytest.mark.parametrize(("action", "name"), ACTION_CASES, ids=[f"{a}@{n}" for a, n in ACTION_CASES])
def test_without_one_action_the_run_fails_naming_it(
    enforced: t.Any, operator_policy: dict[str, t.Any], tmp_path: t.Any, action: str, name: str
) -> None:
    reduced = without(operator_policy, action)
    assert sorted(actions_of(reduced)) == sorted(set(actions_of(operator_policy)) - {action})
    result = run_scenario(enforced, tmp_path, enforced.principal("operator", reduced), SCENARIOS[name])
    assert_fails_naming(result, action)


# The auditor: files/auditor-policy.json is all the status job needs, and no more; it writes nothing.

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
    enforced: t.Any, auditor_policy: dict[str, t.Any], tmp_path: t.Any, action: str, name: str
) -> None:
    result = run_scenario(
        enforced, tmp_path, enforced.principal("auditor", without(auditor_policy, action)), AUDITOR_SCENARIOS[name]
    )
    assert_fails_naming(result, action)


# Hands-off promotion (issue 15): what promote_ready needs under enforcement, and why a principal that may only tag
# users cannot grant through the profile tag (invariant 8).

PROFILE_TAG = "mfa-onboarding:profile"
ADMINISTRATOR = "arn:aws:iam::aws:policy/AdministratorAccess"
DEVELOPER = {"groups": ["Developers"], "managed_policies": ["DeveloperAccess"]}
# The promote role's task with promote_ready and one profile (promote_users empty, no default profile).
PROMOTE_READY_ARGS = dict(PROMOTE_ARGS, users=[], all_ready=True, profiles={"developer": DEVELOPER})
# A principal that may tag users and do nothing else (on user/*, as a help desk's tagging policy would say).
TAGGER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "TagUsers", "Effect": "Allow", "Action": ["iam:TagUser"], "Resource": "arn:aws:iam::*:user/*"}
    ],
}


def ready_by_profile(iam: t.Any, name: str, profile: str = "developer") -> None:
    """A user onboarded with a profile recorded (as CreateUser's tags carry it) who then registered MFA."""
    iam.create_user(UserName=name, Tags=[{"Key": PROFILE_TAG, "Value": profile}])
    iam.add_user_to_group(UserName=name, GroupName=GROUP)
    iam.create_login_profile(UserName=name, Password="Temporary-Passw0rd!", PasswordResetRequired=True)
    enable_mfa(iam, name)


def scene_ready_by_profile(iam: t.Any) -> None:
    """A bootstrapped account, the developer profile's group and policy, and dave ready with profile developer."""
    scene_regime(iam)
    iam.create_group(GroupName="Developers")
    iam.create_policy(PolicyName="DeveloperAccess", PolicyDocument=json.dumps(STALE))
    ready_by_profile(iam, "dave")


def scene_ready_and_tampered(iam: t.Any) -> None:
    """scene_ready_by_profile, an Admins group that allows everything, and mal and ian ready with profile
    developer (their tags are rewritten by the tagger in the test)."""
    scene_ready_by_profile(iam)
    iam.create_policy(PolicyName="Everything", PolicyDocument=json.dumps(EVERYTHING))
    iam.create_group(GroupName="Admins")
    iam.attach_group_policy(GroupName="Admins", PolicyArn=_arn("policy", "Everything"))
    for name in ("mal", "ian"):
        ready_by_profile(iam, name)


def held(iam: t.Any, name: str) -> tuple[set[str], set[str], list[str]]:
    """(groups, attached policy names, inline policy names) of one user."""
    return (
        {g["GroupName"] for g in iam.list_groups_for_user(UserName=name)["Groups"]},
        {p["PolicyName"] for p in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]},
        iam.list_user_policies(UserName=name)["PolicyNames"],
    )


def test_promote_ready_runs_on_the_operator_policy_alone(
    enforced: t.Any, operator_policy: dict[str, t.Any], tmp_path: t.Any
) -> None:
    """A promote_ready run (discovery by GetAccountAuthorizationDetails and ListMFADevices, then the promotion by
    profile) calls only actions of the operator's policy, and succeeds under enforcement."""
    scenario = Scenario(scene_ready_by_profile, ONBOARD, PROMOTE_READY_ARGS, ())
    extra = set(scenario.args) - role_tasks()[ONBOARD]
    assert not extra, f"no role's task passes {sorted(extra)}"
    result = run_scenario(enforced, tmp_path, enforced.principal("operator", operator_policy), scenario)
    assert not result.failed and not DENIED.search(json.dumps(result.result)), result.describe()
    reached = {qualified(action) for action in result.actions}
    discovery = {"iam:GetAccountAuthorizationDetails", "iam:ListMFADevices"}
    promotion = {"iam:AttachUserPolicy", "iam:AddUserToGroup", "iam:RemoveUserFromGroup"}
    assert discovery | promotion <= reached, result.describe()
    assert reached - PERMISSION_FREE <= set(actions_of(operator_policy)), sorted(reached)
    users = {user["name"]: user for user in result.result["users"]}
    assert (users["dave"]["stage"], users["dave"]["profile"], users["dave"]["found_ready"]) == (
        "promoted",
        "developer",
        True,
    )
    with enforced.as_root() as iam:
        assert held(iam, "dave") == ({"Developers"}, {CURRENT_USERS, "DeveloperAccess"}, [])


@pytest.mark.parametrize("action", ["iam:GetAccountAuthorizationDetails", "iam:ListMFADevices"])
def test_without_a_discovery_action_promote_ready_fails_naming_it(
    enforced: t.Any, operator_policy: dict[str, t.Any], tmp_path: t.Any, action: str
) -> None:
    scenario = Scenario(scene_ready_by_profile, ONBOARD, PROMOTE_READY_ARGS, ())
    result = run_scenario(
        enforced, tmp_path, enforced.principal("operator", without(operator_policy, action)), scenario
    )
    assert_fails_naming(result, action)
    with enforced.as_root() as iam:
        assert held(iam, "dave") == ({GROUP}, set(), []), "a failed discovery granted something"


def tampering_problems(enforced: t.Any, operator_policy: dict[str, t.Any]) -> list[str]:
    """The issue's third tampered user, under enforcement: a principal holding only iam:TagUser rewrites mal's
    profile tag to the ARN of AdministratorAccess and ian's to Admins (a group of the account, no profile); it
    cannot grant itself (AccessDenied). Then the operator's promote_ready run must refuse both by name, grant them
    nothing, and promote dave by his profile. Every way this does not hold, one message each."""
    with enforced.as_root() as iam:
        scene_ready_and_tampered(iam)
    tagger = enforced.principal("tagger", TAGGER_POLICY)
    as_tagger = boto3.client(
        "iam",
        region_name="us-east-1",
        aws_access_key_id=tagger["access_key"],
        aws_secret_access_key=tagger["secret_key"],
    )
    problems = []
    with enable_iam_authentication():
        as_tagger.tag_user(UserName="mal", Tags=[{"Key": PROFILE_TAG, "Value": ADMINISTRATOR}])
        as_tagger.tag_user(UserName="ian", Tags=[{"Key": PROFILE_TAG, "Value": "Admins"}])
        for call, params in (
            (as_tagger.attach_user_policy, {"UserName": "mal", "PolicyArn": _arn("policy", "Everything")}),
            (as_tagger.add_user_to_group, {"UserName": "ian", "GroupName": "Admins"}),
        ):
            with pytest.raises(botocore.exceptions.ClientError) as denied:
                call(**params)
            assert denied.value.response["Error"]["Code"] == "AccessDenied", denied.value.response
    with enforced.as_root() as iam:
        tags = {name: iam.list_user_tags(UserName=name)["Tags"] for name in ("mal", "ian")}
    assert tags == {
        "mal": [{"Key": PROFILE_TAG, "Value": ADMINISTRATOR}],
        "ian": [{"Key": PROFILE_TAG, "Value": "Admins"}],
    }, "the tagger's rewrites did not take effect"

    result = enforced.run(enforced.principal("operator", operator_policy), ONBOARD, PROMOTE_READY_ARGS)
    if DENIED.search(json.dumps(result.result)):
        problems.append(f"the operator was denied something: {result.describe()}")
    users = {user["name"]: user for user in result.result.get("users") or []}
    for name, why in (("mal", "holds the ARN"), ("ian", "names the profile 'Admins', which is not defined")):
        user = users.get(name) or {}
        if not (user.get("refused") and name in (user.get("msg") or "") and why in (user.get("msg") or "")):
            problems.append(f"{name} was not refused by name ({why}): {user}")
        if name not in (result.result.get("msg") or ""):
            problems.append(f"the run's message does not name {name}: {result.result.get('msg')}")
    dave = users.get("dave") or {}
    if (dave.get("failed"), dave.get("stage"), dave.get("profile")) != (False, "promoted", "developer"):
        problems.append(f"dave was not promoted by his profile: {dave}")
    with enforced.as_root() as iam:
        for name in ("mal", "ian"):
            if held(iam, name) != ({GROUP}, set(), []):
                problems.append(f"{name} holds {held(iam, name)}, not the onboarding group alone")
        if held(iam, "dave") != ({"Developers"}, {CURRENT_USERS, "DeveloperAccess"}, []):
            problems.append(f"dave holds {held(iam, 'dave')}")
    return problems


def test_a_principal_that_may_only_tag_users_cannot_grant_through_the_profile_tag(
    enforced: t.Any, operator_policy: dict[str, t.Any]
) -> None:
    assert tampering_problems(enforced, operator_policy) == []


def test_the_tampering_test_fails_when_the_tag_is_trusted(
    enforced: t.Any, operator_policy: dict[str, t.Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check removed (a recorded value is taken as a profile's name whatever it holds): the users the tagger
    retagged are promoted, and the test above says so."""
    monkeypatch.setattr(_profiles, "recorded_problem", lambda value, profiles: None)
    problems = tampering_problems(enforced, operator_policy)
    assert any(p.startswith("mal was not refused") for p in problems), problems
    assert any(p.startswith("ian holds") for p in problems), problems
