# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the two rendered policies let a user do, decided by the evaluator of tests/support/policy_eval.py (moto cannot).

The documents are the product's own: ``render(official_document(), stage, mfa_device_scope, self_enrollment)``.
MATRIX holds the rows for ``self_enrollment: official`` and, with the few overrides of GUARDED_OVERRIDES, for
``guarded`` too; SELF_ENROLLMENT_MATRIX holds the rows about device enrolment under each value. Request contexts:

- a console session without MFA sends ``aws:MultiFactorAuthPresent = "false"``;
- a session authenticated with MFA sends ``"true"``;
- a long-term access key sends no ``aws:MultiFactorAuthPresent`` at all (the case ``BoolIfExists`` exists for).

Also: every action the documents name is a real IAM or STS operation (botocore's service models, offline).
"""

from __future__ import annotations

import typing as t

import botocore.session
import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import official_document
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import render
from ansible_collections.mfa_onboarding.iam.tests.support.policy_eval import Decision
from ansible_collections.mfa_onboarding.iam.tests.support.policy_eval import Request
from ansible_collections.mfa_onboarding.iam.tests.support.policy_eval import action_matches
from ansible_collections.mfa_onboarding.iam.tests.support.policy_eval import evaluate

ALLOW = Decision.ALLOW
EXPLICIT = Decision.EXPLICIT_DENY
IMPLICIT = Decision.IMPLICIT_DENY

ACCOUNT = "123456789012"
ME = "alice"
OTHER = "bob"

CONTEXTS: dict[str, dict[str, str]] = {
    "console-no-mfa": {"aws:MultiFactorAuthPresent": "false"},
    "mfa": {"aws:MultiFactorAuthPresent": "true"},
    "long-term-key": {},  # aws:MultiFactorAuthPresent absent
}

# A grant a promoted user may get besides the guard (AdministratorAccess has this statement).
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

SELF_ENROLLMENT = ("official", "guarded")


def policies(self_enrollment: str) -> dict[str, list[dict[str, t.Any]]]:
    def doc(stage: str, scope: str = "any") -> dict[str, t.Any]:
        return render(official_document(), stage, scope, self_enrollment)

    return {
        "first_login": [doc("first_login")],
        "first_login/own": [doc("first_login", "own")],
        "current_users": [doc("current_users")],
        "current_users/own": [doc("current_users", "own")],
        # During a promotion the user briefly holds both (attach current_users, then leave NotYetLoginUsers).
        "both": [doc("first_login"), doc("current_users")],
        # A promoted user with a broad grant: the guard must still hold it back without MFA.
        "current_users+admin": [doc("current_users"), ADMIN],
    }


POLICIES_BY = {value: policies(value) for value in SELF_ENROLLMENT}
POLICIES = POLICIES_BY["official"]


def user(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:user{path}{name}"


def mfa(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:mfa/{name}"


OWN = user(ME)
OTHERS = user(OTHER)
ONBOARDING_GROUP = f"arn:aws:iam::{ACCOUNT}:group/NotYetLoginUsers"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def case(
    name: str, policy: str, context: str, action: str, resource: str, expected: Decision, principal: str = ME
) -> t.Any:
    return pytest.param(policy, context, principal, action, resource, expected, id=name)


MATRIX = [
    # --- first login, console session without MFA: the onboarding steps and nothing else ------------------------
    case("first-login/no-mfa/change-own-password", "first_login", "console-no-mfa", "iam:ChangePassword", OWN, ALLOW),
    case(
        "first-login/no-mfa/read-password-policy",
        "first_login",
        "console-no-mfa",
        "iam:GetAccountPasswordPolicy",
        "*",
        ALLOW,
    ),
    case(
        "first-login/no-mfa/create-virtual-mfa-own-name",
        "first_login",
        "console-no-mfa",
        "iam:CreateVirtualMFADevice",
        mfa(ME),
        ALLOW,
    ),
    case(
        "first-login/no-mfa/create-virtual-mfa-any-name",
        "first_login",
        "console-no-mfa",
        "iam:CreateVirtualMFADevice",
        mfa("alice-phone"),
        ALLOW,
    ),
    case("first-login/no-mfa/enable-own-mfa", "first_login", "console-no-mfa", "iam:EnableMFADevice", OWN, ALLOW),
    case("first-login/no-mfa/list-own-mfa", "first_login", "console-no-mfa", "iam:ListMFADevices", OWN, ALLOW),
    case("first-login/no-mfa/get-own-user", "first_login", "console-no-mfa", "iam:GetUser", OWN, ALLOW),
    case(
        "first-login/no-mfa/action-names-case-insensitive",
        "first_login",
        "console-no-mfa",
        "IAM:changepassword",
        OWN,
        ALLOW,
    ),
    case(
        "first-login/no-mfa/enable-others-mfa", "first_login", "console-no-mfa", "iam:EnableMFADevice", OTHERS, IMPLICIT
    ),
    case(
        "first-login/no-mfa/change-others-password",
        "first_login",
        "console-no-mfa",
        "iam:ChangePassword",
        OTHERS,
        IMPLICIT,
    ),
    case("first-login/no-mfa/list-others-mfa", "first_login", "console-no-mfa", "iam:ListMFADevices", OTHERS, IMPLICIT),
    case("first-login/no-mfa/s3-list-buckets", "first_login", "console-no-mfa", "s3:ListAllMyBuckets", "*", EXPLICIT),
    case(
        "first-login/no-mfa/create-own-access-key",
        "first_login",
        "console-no-mfa",
        "iam:CreateAccessKey",
        OWN,
        EXPLICIT,
    ),
    case("first-login/no-mfa/list-users", "first_login", "console-no-mfa", "iam:ListUsers", "*", EXPLICIT),
    case("first-login/no-mfa/ec2-describe", "first_login", "console-no-mfa", "ec2:DescribeInstances", "*", EXPLICIT),
    case(
        "first-login/no-mfa/deactivate-own-mfa",
        "first_login",
        "console-no-mfa",
        "iam:DeactivateMFADevice",
        OWN,
        EXPLICIT,
    ),
    case(
        "first-login/no-mfa/attach-policy-to-self",
        "first_login",
        "console-no-mfa",
        "iam:AttachUserPolicy",
        OWN,
        EXPLICIT,
    ),
    case(
        "first-login/no-mfa/leave-onboarding-group",
        "first_login",
        "console-no-mfa",
        "iam:RemoveUserFromGroup",
        ONBOARDING_GROUP,
        EXPLICIT,
    ),
    case(
        "first-login/no-mfa/update-own-login-profile",
        "first_login",
        "console-no-mfa",
        "iam:UpdateLoginProfile",
        OWN,
        EXPLICIT,
    ),
    case("first-login/no-mfa/assume-role", "first_login", "console-no-mfa", "sts:AssumeRole", "*", EXPLICIT),
    # GetSessionToken needs no permission in AWS; what matters is that the guard does not deny it.
    case(
        "first-login/long-term-key/get-session-token-not-denied",
        "first_login",
        "long-term-key",
        "sts:GetSessionToken",
        "*",
        IMPLICIT,
    ),
    # The official policy names users as user/${aws:username}: a user created with a path never matches it.
    case(
        "first-login/no-mfa/user-with-path-cannot-enable-own-mfa",
        "first_login",
        "console-no-mfa",
        "iam:EnableMFADevice",
        user("carol", "/team/"),
        IMPLICIT,
        principal="carol",
    ),
    # --- mfa_device_scope own: only a device named after the user ---------------------------------------------
    case(
        "first-login-own/no-mfa/create-virtual-mfa-own-name",
        "first_login/own",
        "console-no-mfa",
        "iam:CreateVirtualMFADevice",
        mfa(ME),
        ALLOW,
    ),
    case(
        "first-login-own/no-mfa/create-virtual-mfa-other-users-name",
        "first_login/own",
        "console-no-mfa",
        "iam:CreateVirtualMFADevice",
        mfa(OTHER),
        IMPLICIT,
    ),
    case(
        "first-login-own/no-mfa/create-virtual-mfa-other-name",
        "first_login/own",
        "console-no-mfa",
        "iam:CreateVirtualMFADevice",
        mfa("alice-phone"),
        IMPLICIT,
    ),
    case(
        "current-users-own/mfa/create-virtual-mfa-other-users-name",
        "current_users/own",
        "mfa",
        "iam:CreateVirtualMFADevice",
        mfa(OTHER),
        IMPLICIT,
    ),
    # --- first login with MFA (registered, not yet promoted): the official self-service, no more ------------------
    case("first-login/mfa/create-own-access-key", "first_login", "mfa", "iam:CreateAccessKey", OWN, ALLOW),
    case("first-login/mfa/create-others-access-key", "first_login", "mfa", "iam:CreateAccessKey", OTHERS, IMPLICIT),
    case("first-login/mfa/s3-list-buckets", "first_login", "mfa", "s3:ListAllMyBuckets", "*", IMPLICIT),
    # --- current users, console session without MFA: even the password change needs MFA -----------------------
    case(
        "current-users/no-mfa/change-own-password",
        "current_users",
        "console-no-mfa",
        "iam:ChangePassword",
        OWN,
        EXPLICIT,
    ),
    case(
        "current-users/no-mfa/read-password-policy",
        "current_users",
        "console-no-mfa",
        "iam:GetAccountPasswordPolicy",
        "*",
        EXPLICIT,
    ),
    case(
        "current-users/no-mfa/create-own-access-key",
        "current_users",
        "console-no-mfa",
        "iam:CreateAccessKey",
        OWN,
        EXPLICIT,
    ),
    case(
        "current-users/no-mfa/create-virtual-mfa",
        "current_users",
        "console-no-mfa",
        "iam:CreateVirtualMFADevice",
        mfa(ME),
        ALLOW,
    ),
    case("current-users/no-mfa/enable-own-mfa", "current_users", "console-no-mfa", "iam:EnableMFADevice", OWN, ALLOW),
    # --- current users with MFA: own credentials yes, another user's no, nothing beyond -----------------------
    case("current-users/mfa/create-own-access-key", "current_users", "mfa", "iam:CreateAccessKey", OWN, ALLOW),
    case("current-users/mfa/change-own-password", "current_users", "mfa", "iam:ChangePassword", OWN, ALLOW),
    case("current-users/mfa/deactivate-own-mfa", "current_users", "mfa", "iam:DeactivateMFADevice", OWN, ALLOW),
    case("current-users/mfa/upload-own-ssh-key", "current_users", "mfa", "iam:UploadSSHPublicKey", OWN, ALLOW),
    case("current-users/mfa/create-others-access-key", "current_users", "mfa", "iam:CreateAccessKey", OTHERS, IMPLICIT),
    case("current-users/mfa/change-others-password", "current_users", "mfa", "iam:ChangePassword", OTHERS, IMPLICIT),
    case(
        "current-users/mfa/deactivate-others-mfa", "current_users", "mfa", "iam:DeactivateMFADevice", OTHERS, IMPLICIT
    ),
    case(
        "current-users/mfa/delete-own-virtual-mfa",
        "current_users",
        "mfa",
        "iam:DeleteVirtualMFADevice",
        mfa(ME),
        IMPLICIT,
    ),
    case("current-users/mfa/attach-policy-to-self", "current_users", "mfa", "iam:AttachUserPolicy", OWN, IMPLICIT),
    case("current-users/mfa/list-users", "current_users", "mfa", "iam:ListUsers", "*", IMPLICIT),
    case("current-users/mfa/s3-list-buckets", "current_users", "mfa", "s3:ListAllMyBuckets", "*", IMPLICIT),
    case(
        "current-users/mfa/s3-get-object",
        "current_users",
        "mfa",
        "s3:GetObject",
        "arn:aws:s3:::some-bucket/key",
        IMPLICIT,
    ),
    # --- long-term access key without MFA (key absent): BoolIfExists is true, so the guard denies ---------------
    case(
        "current-users/long-term-key/create-own-access-key",
        "current_users",
        "long-term-key",
        "iam:CreateAccessKey",
        OWN,
        EXPLICIT,
    ),
    case(
        "current-users/long-term-key/change-own-password",
        "current_users",
        "long-term-key",
        "iam:ChangePassword",
        OWN,
        EXPLICIT,
    ),
    case(
        "current-users/long-term-key/s3-list-buckets",
        "current_users",
        "long-term-key",
        "s3:ListAllMyBuckets",
        "*",
        EXPLICIT,
    ),
    case(
        "current-users/long-term-key/list-own-mfa", "current_users", "long-term-key", "iam:ListMFADevices", OWN, ALLOW
    ),
    case("current-users/long-term-key/get-own-user", "current_users", "long-term-key", "iam:GetUser", OWN, ALLOW),
    case(
        "first-login/long-term-key/create-own-access-key",
        "first_login",
        "long-term-key",
        "iam:CreateAccessKey",
        OWN,
        EXPLICIT,
    ),
    # --- both policies at once (mid-promotion): the current-users deny wins over the first-login exemption -------
    case("both/no-mfa/change-own-password", "both", "console-no-mfa", "iam:ChangePassword", OWN, EXPLICIT),
    case("both/no-mfa/enable-own-mfa", "both", "console-no-mfa", "iam:EnableMFADevice", OWN, ALLOW),
    case("both/mfa/change-own-password", "both", "mfa", "iam:ChangePassword", OWN, ALLOW),
    # --- a broad grant beside the guard: usable with MFA only ---------------------------------------------------
    case(
        "current-users+admin/no-mfa/s3-list-buckets",
        "current_users+admin",
        "console-no-mfa",
        "s3:ListAllMyBuckets",
        "*",
        EXPLICIT,
    ),
    case(
        "current-users+admin/long-term-key/s3-list-buckets",
        "current_users+admin",
        "long-term-key",
        "s3:ListAllMyBuckets",
        "*",
        EXPLICIT,
    ),
    case(
        "current-users+admin/long-term-key/attach-admin-to-self",
        "current_users+admin",
        "long-term-key",
        "iam:AttachUserPolicy",
        ADMIN_POLICY,
        EXPLICIT,
    ),
    case("current-users+admin/mfa/s3-list-buckets", "current_users+admin", "mfa", "s3:ListAllMyBuckets", "*", ALLOW),
    case(
        "current-users+admin/no-mfa/enable-own-mfa",
        "current_users+admin",
        "console-no-mfa",
        "iam:EnableMFADevice",
        OWN,
        ALLOW,
    ),
]


@pytest.mark.parametrize(("policy", "context", "principal", "action", "resource", "expected"), MATRIX)
def test_policy_matrix(
    policy: str, context: str, principal: str, action: str, resource: str, expected: Decision
) -> None:
    result = evaluate(POLICIES[policy], Request(principal, action, resource, CONTEXTS[context]))
    assert result.decision is expected, (
        f"{principal} {action} on {resource} ({context}) under {policy}: {result.decision}, expected {expected}; "
        f"allowed by {result.allowed_by}, denied by {result.denied_by}"
    )


# --- self_enrollment ---------------------------------------------------------------------------------------------
#
# Under guarded, every MATRIX row holds as it is, except these: a promoted user without MFA can no longer add a
# device from the console (an operator re-enrols it by onboarding it again).
FIRST_LOGIN_GUARD = "DenyMFADeviceChangesWithLongTermKey"
CURRENT_USERS_GUARD = "DenyMFADeviceChangesWithoutMFA"
GUARDED_OVERRIDES: dict[str, tuple[Decision, str]] = {
    "current-users/no-mfa/create-virtual-mfa": (EXPLICIT, CURRENT_USERS_GUARD),
    "current-users/no-mfa/enable-own-mfa": (EXPLICIT, CURRENT_USERS_GUARD),
    "both/no-mfa/enable-own-mfa": (EXPLICIT, CURRENT_USERS_GUARD),
    "current-users+admin/no-mfa/enable-own-mfa": (EXPLICIT, CURRENT_USERS_GUARD),
}

KEY_HOLDERS_DEVICE = mfa("key-holders-device")


def se_case(
    name: str,
    self_enrollment: str,
    policy: str,
    context: str,
    action: str,
    resource: str,
    expected: Decision,
    by: str | None = None,
    principal: str = ME,
) -> t.Any:
    """A row under one self_enrollment value; by: a Sid that must be among the statements that decided."""
    return pytest.param(
        self_enrollment, policy, context, principal, action, resource, expected, by, id=f"{self_enrollment}/{name}"
    )


def _bypass_rows() -> list[t.Any]:
    """The long-term-key bypass: create a device, enable it on the key's user, resync it. Allowed by the official
    text (this documents the weakness), explicitly denied under guarded, for every policy a user may hold."""
    steps = [
        ("create-virtual-mfa", "iam:CreateVirtualMFADevice", KEY_HOLDERS_DEVICE),
        ("enable-own-mfa", "iam:EnableMFADevice", OWN),
        ("resync-own-mfa", "iam:ResyncMFADevice", OWN),
    ]
    official = {"first_login": None, "current_users": None, "current_users+admin": None, "both": None}
    guarded = {
        "first_login": FIRST_LOGIN_GUARD,
        "first_login/own": FIRST_LOGIN_GUARD,
        "current_users": CURRENT_USERS_GUARD,
        "current_users/own": CURRENT_USERS_GUARD,
        "both": FIRST_LOGIN_GUARD,
        "current_users+admin": CURRENT_USERS_GUARD,
    }
    rows = []
    for value, table, expected in (("official", official, ALLOW), ("guarded", guarded, EXPLICIT)):
        for policy, by in table.items():
            for step, action, resource in steps:
                if policy.endswith("/own") and action == "iam:CreateVirtualMFADevice":
                    resource = mfa(ME)  # the only name the own scope allows
                label = policy.replace("_", "-").replace("/", "-")
                rows.append(
                    se_case(
                        f"{label}/long-term-key/{step}", value, policy, "long-term-key", action, resource, expected, by
                    )
                )
    return rows


SELF_ENROLLMENT_MATRIX = [
    *_bypass_rows(),
    # An adopted admin's key under the official text: a device for another user, too (the guard exempts the action).
    se_case(
        "current-users+admin/long-term-key/enable-others-mfa",
        "official",
        "current_users+admin",
        "long-term-key",
        "iam:EnableMFADevice",
        OTHERS,
        ALLOW,
    ),
    se_case(
        "current-users+admin/long-term-key/enable-others-mfa",
        "guarded",
        "current_users+admin",
        "long-term-key",
        "iam:EnableMFADevice",
        OTHERS,
        EXPLICIT,
        CURRENT_USERS_GUARD,
    ),
    se_case(
        "first-login/long-term-key/enable-others-mfa",
        "official",
        "first_login",
        "long-term-key",
        "iam:EnableMFADevice",
        OTHERS,
        IMPLICIT,
    ),
    se_case(
        "first-login/long-term-key/enable-others-mfa",
        "guarded",
        "first_login",
        "long-term-key",
        "iam:EnableMFADevice",
        OTHERS,
        EXPLICIT,
        FIRST_LOGIN_GUARD,
    ),
    se_case(
        "first-login/long-term-key/deactivate-own-mfa",
        "guarded",
        "first_login",
        "long-term-key",
        "iam:DeactivateMFADevice",
        OWN,
        EXPLICIT,
        FIRST_LOGIN_GUARD,
    ),
    se_case(
        "first-login/long-term-key/delete-virtual-mfa",
        "guarded",
        "first_login",
        "long-term-key",
        "iam:DeleteVirtualMFADevice",
        mfa(ME),
        EXPLICIT,
        FIRST_LOGIN_GUARD,
    ),
    # The minting step itself is no permission: not denied under either value (what is closed is the device).
    se_case(
        "first-login/long-term-key/get-session-token",
        "guarded",
        "first_login",
        "long-term-key",
        "sts:GetSessionToken",
        "*",
        IMPLICIT,
    ),
    # Reading one's own devices with a key stays as the official text has it.
    se_case(
        "first-login/long-term-key/list-own-mfa",
        "guarded",
        "first_login",
        "long-term-key",
        "iam:ListMFADevices",
        OWN,
        ALLOW,
    ),
    # --- guarded, console without MFA: the first device is still enrolled, the password still changed -----------
    se_case(
        "first-login/no-mfa/resync-own-mfa",
        "guarded",
        "first_login",
        "console-no-mfa",
        "iam:ResyncMFADevice",
        OWN,
        ALLOW,
    ),
    se_case(
        "first-login-own/no-mfa/enable-own-mfa",
        "guarded",
        "first_login/own",
        "console-no-mfa",
        "iam:EnableMFADevice",
        OWN,
        ALLOW,
    ),
    # An MFA session in the onboarding group (registered, not yet promoted) is not a long-term key.
    se_case(
        "first-login/mfa/create-virtual-mfa",
        "guarded",
        "first_login",
        "mfa",
        "iam:CreateVirtualMFADevice",
        mfa("alice-second"),
        ALLOW,
    ),
    # --- guarded, promoted with MFA: a second device ---------------------------------------------------------------
    se_case(
        "current-users/mfa/create-second-virtual-mfa",
        "guarded",
        "current_users",
        "mfa",
        "iam:CreateVirtualMFADevice",
        mfa("alice-second"),
        ALLOW,
    ),
    se_case("current-users/mfa/enable-own-mfa", "guarded", "current_users", "mfa", "iam:EnableMFADevice", OWN, ALLOW),
    se_case("current-users/mfa/resync-own-mfa", "guarded", "current_users", "mfa", "iam:ResyncMFADevice", OWN, ALLOW),
    se_case(
        "current-users-own/mfa/create-virtual-mfa-own-name",
        "guarded",
        "current_users/own",
        "mfa",
        "iam:CreateVirtualMFADevice",
        mfa(ME),
        ALLOW,
    ),
    se_case(
        "current-users+admin/mfa/enable-own-mfa",
        "guarded",
        "current_users+admin",
        "mfa",
        "iam:EnableMFADevice",
        OWN,
        ALLOW,
    ),
    se_case(
        "current-users/mfa/enable-others-mfa",
        "guarded",
        "current_users",
        "mfa",
        "iam:EnableMFADevice",
        OTHERS,
        IMPLICIT,
    ),
    # --- guarded, promoted without MFA on the console: no device (that is what re-enrolment is for) ---------------
    se_case(
        "current-users/no-mfa/resync-own-mfa",
        "guarded",
        "current_users",
        "console-no-mfa",
        "iam:ResyncMFADevice",
        OWN,
        EXPLICIT,
        CURRENT_USERS_GUARD,
    ),
    se_case(
        "current-users-own/no-mfa/create-virtual-mfa-own-name",
        "guarded",
        "current_users/own",
        "console-no-mfa",
        "iam:CreateVirtualMFADevice",
        mfa(ME),
        EXPLICIT,
        CURRENT_USERS_GUARD,
    ),
    # Re-enrolment: onboarding a promoted user again puts it in the onboarding group, but while it still holds the
    # current-users policy ("both") that policy's guard refuses the console enrolment. The re-enrolment path must
    # therefore take the current-users policy off first (invariant 2 wants its other grants off anyway).
    se_case(
        "both/no-mfa/create-virtual-mfa",
        "guarded",
        "both",
        "console-no-mfa",
        "iam:CreateVirtualMFADevice",
        mfa(ME),
        EXPLICIT,
        CURRENT_USERS_GUARD,
    ),
    se_case("both/mfa/enable-own-mfa", "guarded", "both", "mfa", "iam:EnableMFADevice", OWN, ALLOW),
    # The official text for comparison: a promoted user without MFA may enrol from the console.
    se_case(
        "current-users/no-mfa/resync-own-mfa",
        "official",
        "current_users",
        "console-no-mfa",
        "iam:ResyncMFADevice",
        OWN,
        ALLOW,
    ),
]


def _guarded_rows() -> list[t.Any]:
    """MATRIX under guarded: every row as it is, but for GUARDED_OVERRIDES."""
    rows = []
    for param in MATRIX:
        policy, context, principal, action, resource, expected = param.values
        expected, by = GUARDED_OVERRIDES.get(str(param.id), (expected, None))
        rows.append(se_case(str(param.id), "guarded", policy, context, action, resource, expected, by, principal))
    return rows


GUARDED_MATRIX = _guarded_rows()


@pytest.mark.parametrize(
    ("self_enrollment", "policy", "context", "principal", "action", "resource", "expected", "by"),
    GUARDED_MATRIX + SELF_ENROLLMENT_MATRIX,
)
def test_self_enrollment_matrix(
    self_enrollment: str,
    policy: str,
    context: str,
    principal: str,
    action: str,
    resource: str,
    expected: Decision,
    by: str | None,
) -> None:
    result = evaluate(POLICIES_BY[self_enrollment][policy], Request(principal, action, resource, CONTEXTS[context]))
    decided_by = result.denied_by if result.decision is EXPLICIT else result.allowed_by
    assert result.decision is expected and (by is None or by in decided_by), (
        f"{principal} {action} on {resource} ({context}) under {policy}, {self_enrollment}: {result.decision}, "
        f"expected {expected}{f' by {by}' if by else ''}; allowed by {result.allowed_by}, denied by {result.denied_by}"
    )


def test_guarded_overrides_name_existing_rows_and_change_them() -> None:
    """An override of a row that no longer exists, or that says what the row already says, is a stale table."""
    official = {str(param.id): param.values[-1] for param in MATRIX}
    assert set(GUARDED_OVERRIDES) <= set(official), sorted(set(GUARDED_OVERRIDES) - set(official))
    assert [i for i, override in GUARDED_OVERRIDES.items() if official[i] is override[0]] == []


def matrix_counts() -> dict[str, dict[str, int]]:
    """Cases per self_enrollment value and per context, over MATRIX, GUARDED_MATRIX and SELF_ENROLLMENT_MATRIX."""
    rows = [("official", p.values[1]) for p in MATRIX]
    rows += [(p.values[0], p.values[2]) for p in GUARDED_MATRIX + SELF_ENROLLMENT_MATRIX]
    counts: dict[str, dict[str, int]] = {value: dict.fromkeys(CONTEXTS, 0) for value in SELF_ENROLLMENT}
    for value, context in rows:
        counts[value][context] += 1
    return counts


def test_matrix_size(capsys: pytest.CaptureFixture[str], record_property: t.Callable[[str, object], None]) -> None:
    ids = [param.id for param in MATRIX + GUARDED_MATRIX + SELF_ENROLLMENT_MATRIX]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    assert len(MATRIX) >= 30
    decisions = {param.values[-1] for param in MATRIX}
    assert decisions == set(Decision), "the matrix must exercise every decision"
    counts = matrix_counts()
    for value in SELF_ENROLLMENT:
        assert all(counts[value][context] >= 10 for context in CONTEXTS), counts
    total = sum(sum(per_context.values()) for per_context in counts.values())
    # Under pytest-xdist a worker's output never reaches the terminal: the report property does (for a hook).
    record_property("policy_matrix_cases", total)
    record_property("policy_matrix_counts", counts)
    with capsys.disabled():
        print(f"\npolicy matrix: {total} cases")
        for value, per_context in counts.items():
            listed = ", ".join(f"{context} {n}" for context, n in per_context.items())
            print(f"  self_enrollment {value}: {sum(per_context.values())} ({listed})")


# --- exhaustive sweeps over the whole IAM and STS catalogue ----------------------------------------------------


def _catalogue() -> dict[str, frozenset[str]]:
    session = botocore.session.get_session()
    return {service: frozenset(session.get_service_model(service).operation_names) for service in ("iam", "sts")}


CATALOGUE = _catalogue()
_OTHER_SERVICES = ("s3:ListAllMyBuckets", "s3:GetObject", "ec2:DescribeInstances", "organizations:LeaveOrganization")
SWEEP_ACTIONS = [*sorted(f"{service}:{op}" for service, ops in CATALOGUE.items() for op in ops), *_OTHER_SERVICES]
SWEEP_RESOURCES = {
    "*": "*",
    "own-user": OWN,
    "other-user": OTHERS,
    "own-mfa": mfa(ME),
    "other-users-mfa": mfa(OTHER),
    "named-mfa": mfa("alice-phone"),
    "group": ONBOARDING_GROUP,
    "policy": ADMIN_POLICY,
}

# Actions without resource-level permissions: the policy grants them on "*", so on whatever the sweep asks.
_ACCOUNT_READS = ("iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices")
_ANY_RESOURCE = {(action, label) for action in _ACCOUNT_READS for label in SWEEP_RESOURCES}
_DEVICE_NAMES = {"any": ("own-mfa", "other-users-mfa", "named-mfa"), "own": ("own-mfa",)}
# The official self-service on the user's own ARN, written out here as an oracle independent of the product.
_OWN_USER_ACTIONS = (
    "iam:ChangePassword",
    "iam:GetUser",
    "iam:CreateAccessKey",
    "iam:DeleteAccessKey",
    "iam:ListAccessKeys",
    "iam:UpdateAccessKey",
    "iam:GetAccessKeyLastUsed",
    "iam:DeleteSigningCertificate",
    "iam:ListSigningCertificates",
    "iam:UpdateSigningCertificate",
    "iam:UploadSigningCertificate",
    "iam:DeleteSSHPublicKey",
    "iam:GetSSHPublicKey",
    "iam:ListSSHPublicKeys",
    "iam:UpdateSSHPublicKey",
    "iam:UploadSSHPublicKey",
    "iam:CreateServiceSpecificCredential",
    "iam:DeleteServiceSpecificCredential",
    "iam:ListServiceSpecificCredentials",
    "iam:ResetServiceSpecificCredential",
    "iam:UpdateServiceSpecificCredential",
    "iam:DeactivateMFADevice",
    "iam:EnableMFADevice",
    "iam:ListMFADevices",
    "iam:ResyncMFADevice",
)
_MFA_SETUP_ON_OWN_USER = ("iam:GetUser", "iam:EnableMFADevice", "iam:ListMFADevices", "iam:ResyncMFADevice")


def _self_service(scope: str) -> set[tuple[str, str]]:
    """With MFA: the official self-service, own user only."""
    return (
        {(action, "own-user") for action in _OWN_USER_ACTIONS}
        | _ANY_RESOURCE
        | {("iam:CreateVirtualMFADevice", label) for label in _DEVICE_NAMES[scope]}
    )


def _mfa_setup(scope: str, password: bool) -> set[tuple[str, str]]:
    """Without MFA: setting up MFA (and, on first login, replacing the password), own user only."""
    steps = {(action, "own-user") for action in _MFA_SETUP_ON_OWN_USER}
    steps |= {("iam:ListVirtualMFADevices", label) for label in SWEEP_RESOURCES}
    steps |= {("iam:CreateVirtualMFADevice", label) for label in _DEVICE_NAMES[scope]}
    if password:
        steps |= {("iam:ChangePassword", "own-user")}
        steps |= {("iam:GetAccountPasswordPolicy", label) for label in SWEEP_RESOURCES}
    return steps


def _without_device_changes(steps: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Under guarded: the same, minus every MFA device change (reading devices stays)."""
    changes = {"iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:ResyncMFADevice"}
    return {(action, label) for action, label in steps if action not in changes}


def allowed(documents: list[dict[str, t.Any]], context: dict[str, str]) -> set[tuple[str, str]]:
    """Every (action, resource label) of the sweep that the documents allow to alice."""
    return {
        (action, label)
        for action in SWEEP_ACTIONS
        for label, resource in SWEEP_RESOURCES.items()
        if evaluate(documents, Request(ME, action, resource, context)).decision is ALLOW
    }


@pytest.mark.parametrize(
    ("policy", "context", "expected"),
    [
        pytest.param("first_login", "console-no-mfa", _mfa_setup("any", True), id="first-login/no-mfa"),
        pytest.param("first_login", "long-term-key", _mfa_setup("any", True), id="first-login/long-term-key"),
        pytest.param("first_login/own", "console-no-mfa", _mfa_setup("own", True), id="first-login-own/no-mfa"),
        pytest.param("current_users", "console-no-mfa", _mfa_setup("any", False), id="current-users/no-mfa"),
        pytest.param("current_users", "long-term-key", _mfa_setup("any", False), id="current-users/long-term-key"),
        pytest.param("current_users/own", "console-no-mfa", _mfa_setup("own", False), id="current-users-own/no-mfa"),
        pytest.param("first_login", "mfa", _self_service("any"), id="first-login/mfa"),
        pytest.param("first_login/own", "mfa", _self_service("own"), id="first-login-own/mfa"),
        pytest.param("current_users", "mfa", _self_service("any"), id="current-users/mfa"),
        pytest.param("current_users/own", "mfa", _self_service("own"), id="current-users-own/mfa"),
    ],
)
def test_sweep_allows_exactly_the_expected_set(policy: str, context: str, expected: set[tuple[str, str]]) -> None:
    """Every IAM and STS operation (and a few others) against every kind of resource: nothing more is allowed."""
    got = allowed(POLICIES[policy], CONTEXTS[context])
    assert got == expected, (
        f"allowed beyond the expected set: {sorted(got - expected)}; missing: {sorted(expected - got)}"
    )


@pytest.mark.parametrize(
    ("policy", "context", "expected"),
    [
        # The first device from the console, as under official; with a key, no device change at all.
        pytest.param("first_login", "console-no-mfa", _mfa_setup("any", True), id="first-login/no-mfa"),
        pytest.param("first_login/own", "console-no-mfa", _mfa_setup("own", True), id="first-login-own/no-mfa"),
        pytest.param(
            "first_login",
            "long-term-key",
            _without_device_changes(_mfa_setup("any", True)),
            id="first-login/long-term-key",
        ),
        pytest.param(
            "first_login/own",
            "long-term-key",
            _without_device_changes(_mfa_setup("own", True)),
            id="first-login-own/long-term-key",
        ),
        # Promoted without MFA, console or key: reading one's devices only.
        pytest.param(
            "current_users",
            "console-no-mfa",
            _without_device_changes(_mfa_setup("any", False)),
            id="current-users/no-mfa",
        ),
        pytest.param(
            "current_users",
            "long-term-key",
            _without_device_changes(_mfa_setup("any", False)),
            id="current-users/long-term-key",
        ),
        pytest.param(
            "current_users/own",
            "console-no-mfa",
            _without_device_changes(_mfa_setup("own", False)),
            id="current-users-own/no-mfa",
        ),
        # With MFA: the official self-service, unchanged.
        pytest.param("first_login", "mfa", _self_service("any"), id="first-login/mfa"),
        pytest.param("first_login/own", "mfa", _self_service("own"), id="first-login-own/mfa"),
        pytest.param("current_users", "mfa", _self_service("any"), id="current-users/mfa"),
        pytest.param("current_users/own", "mfa", _self_service("own"), id="current-users-own/mfa"),
    ],
)
def test_sweep_guarded_allows_exactly_the_expected_set(
    policy: str, context: str, expected: set[tuple[str, str]]
) -> None:
    got = allowed(POLICIES_BY["guarded"][policy], CONTEXTS[context])
    assert got == expected, (
        f"allowed beyond the expected set: {sorted(got - expected)}; missing: {sorted(expected - got)}"
    )


# --- every named action exists --------------------------------------------------------------------------------


def unknown_actions(documents: t.Iterable[dict[str, t.Any]], catalogue: t.Mapping[str, frozenset[str]]) -> list[str]:
    """Action/NotAction entries that name no real operation (exact, case-sensitive; a wildcard must match one)."""
    problems = []
    for document in documents:
        for statement in document["Statement"]:
            for element in ("Action", "NotAction"):
                entries = statement.get(element, [])
                for entry in entries if isinstance(entries, list) else [entries]:
                    service, sep, name = entry.partition(":")
                    operations = catalogue.get(service)
                    if not sep or operations is None:
                        problems.append(f"{entry} ({element}): no catalogue for service {service!r}")
                    elif "*" in name or "?" in name:
                        if not any(action_matches(name, op) for op in operations):
                            problems.append(f"{entry} ({element}): matches no {service} operation")
                    elif name not in operations:
                        problems.append(f"{entry} ({element}): not a {service} operation")
    return problems


def _named_actions(documents: t.Iterable[dict[str, t.Any]]) -> set[str]:
    names = set()
    for document in documents:
        for statement in document["Statement"]:
            for element in ("Action", "NotAction"):
                entries = statement.get(element, [])
                names.update(entries if isinstance(entries, list) else [entries])
    return names


def test_every_action_in_the_rendered_documents_exists() -> None:
    documents = [
        render(official_document(), stage, scope, self_enrollment)
        for stage in ("first_login", "current_users")
        for scope in ("any", "own")
        for self_enrollment in SELF_ENROLLMENT
    ]
    named = _named_actions(documents)
    assert len(named) >= 30 and {name.split(":")[0] for name in named} == {"iam", "sts"}, sorted(named)
    assert unknown_actions(documents, CATALOGUE) == []


def test_the_existence_check_reports_a_typo() -> None:
    document = render(official_document(), "first_login")
    document["Statement"][0]["Action"].append("iam:GetAccountPasswordPolicyy")
    document["Statement"][-1]["NotAction"] += ["iam:changepassword", "sts:GetSesionToken", "iam:Frobnicate*"]
    document["Statement"].append({"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"})
    assert unknown_actions([document], CATALOGUE) == [
        "iam:GetAccountPasswordPolicyy (Action): not a iam operation",
        "iam:changepassword (NotAction): not a iam operation",
        "sts:GetSesionToken (NotAction): not a sts operation",
        "iam:Frobnicate* (NotAction): matches no iam operation",
        "s3:ListAllMyBuckets (Action): no catalogue for service 's3'",
    ]
