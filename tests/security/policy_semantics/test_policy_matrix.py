# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the two rendered policies let a user do, decided by the evaluator of tests/support/policy_eval.py (moto cannot).

The documents are the product's own: ``render(official_document(), stage, mfa_device_scope)``. Request contexts:

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

POLICIES: dict[str, list[dict[str, t.Any]]] = {
    "first_login": [render(official_document(), "first_login")],
    "first_login/own": [render(official_document(), "first_login", "own")],
    "current_users": [render(official_document(), "current_users")],
    "current_users/own": [render(official_document(), "current_users", "own")],
    # During a promotion the user briefly holds both (attach current_users, then leave NotYetLoginUsers).
    "both": [render(official_document(), "first_login"), render(official_document(), "current_users")],
    # A promoted user with a broad grant: the guard must still hold it back without MFA.
    "current_users+admin": [render(official_document(), "current_users"), ADMIN],
}


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


def test_matrix_size(capsys: pytest.CaptureFixture[str], record_property: t.Callable[[str, object], None]) -> None:
    ids = [param.id for param in MATRIX]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    assert len(MATRIX) >= 30
    decisions = {param.values[-1] for param in MATRIX}
    assert decisions == set(Decision), "the matrix must exercise every decision"
    # Under pytest-xdist a worker's output never reaches the terminal: the report property does (for a hook).
    record_property("policy_matrix_cases", len(MATRIX))
    with capsys.disabled():
        print(f"\npolicy matrix: {len(MATRIX)} cases")


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
        render(official_document(), stage, scope)
        for stage in ("first_login", "current_users")
        for scope in ("any", "own")
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
