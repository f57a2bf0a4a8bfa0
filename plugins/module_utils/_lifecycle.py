# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The functional core of one user's MFA lifecycle: observed state in, stage and ordered steps out.

Nothing here talks to AWS. The order of the steps is the collection's security: every user with a console
password or an access key must be covered by an MFA guard between any two API calls, so

- onboarding is  CreateUser -> AddUserToGroup(onboarding group) -> CreateLoginProfile, and
- promotion is   (MFA checked) -> AttachUserPolicy(current users) -> extra permissions -> RemoveUserFromGroup.
"""

from __future__ import annotations

import typing as t

ABSENT = "absent"
UNMANAGED = "unmanaged"
ONBOARDING = "onboarding"
READY = "ready"
PROMOTED = "promoted"

# Step actions, in the vocabulary of the IAM API.
CREATE_USER = "CreateUser"
ADD_TO_GROUP = "AddUserToGroup"
CREATE_LOGIN_PROFILE = "CreateLoginProfile"
UPDATE_LOGIN_PROFILE = "UpdateLoginProfile"
ATTACH_POLICY = "AttachUserPolicy"
REMOVE_FROM_GROUP = "RemoveUserFromGroup"
TAG_USER = "TagUser"
UNTAG_USER = "UntagUser"


class Observed(t.NamedTuple):
    """What IAM says about one user. Group names, policy ARNs, MFA device serial numbers.

    group_policies holds the ARNs attached to the user's groups; it is read only where it decides the stage
    (a user outside the onboarding group without the current-users policy attached directly).
    """

    exists: bool
    groups: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    has_login_profile: bool = False
    mfa_devices: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    group_policies: tuple[str, ...] = ()


class Regime(t.NamedTuple):
    """The account's guards: the onboarding group and the current-users policy's ARN."""

    onboarding_group: str
    current_users_policy: str


class Step(t.NamedTuple):
    """One write call. target is a group name, a policy ARN, a tag dict or a list of tag keys."""

    action: str
    target: t.Any = None


class Refused(Exception):
    """The requested transition is not allowed; the message names the user and what is missing."""


def stage(observed: Observed, regime: Regime) -> str:
    """absent, unmanaged (exists outside the regime), onboarding, ready (onboarding with MFA) or promoted.

    A member of the onboarding group is onboarding or ready, even when a promotion was interrupted after the
    current-users policy was attached: it is promoted only once it has left the onboarding group.
    """
    if not observed.exists:
        return ABSENT
    if regime.onboarding_group in observed.groups:
        return READY if observed.mfa_devices else ONBOARDING
    if regime.current_users_policy in observed.policies or regime.current_users_policy in observed.group_policies:
        return PROMOTED
    return UNMANAGED


def _tag_steps(current: dict[str, str], desired: dict[str, str] | None, purge: bool) -> list[Step]:
    if desired is None:
        return []
    steps = []
    changed = {k: v for k, v in desired.items() if current.get(k) != v}
    if changed:
        steps.append(Step(TAG_USER, changed))
    if purge:
        extra = sorted(k for k in current if k not in desired)
        if extra:
            steps.append(Step(UNTAG_USER, extra))
    return steps


def plan_onboarding(
    observed: Observed,
    regime: Regime,
    tags: dict[str, str] | None = None,
    purge_tags: bool = False,
    reset_password: bool = False,
) -> tuple[list[Step], list[str]]:
    """Steps that put the user into the onboarding state, and warnings. The guard always comes first.

    reset_password issues a fresh temporary password to a user that has one but no MFA device yet (for a
    handover that failed); a user that has registered MFA has signed in already and keeps its password.
    """
    current = stage(observed, regime)
    if current == ABSENT:
        return [Step(CREATE_USER, dict(tags or {})), Step(ADD_TO_GROUP, regime.onboarding_group),
                Step(CREATE_LOGIN_PROFILE)], []  # fmt: skip
    if current == PROMOTED:
        return [], ["is already promoted; onboarding changes nothing (no demotion)"]
    warnings = []
    steps = []
    if current == UNMANAGED:
        steps.append(Step(ADD_TO_GROUP, regime.onboarding_group))
        others = [p for p in observed.policies if p != regime.current_users_policy] + list(observed.groups)
        if others:
            warnings.append(
                f"existed outside the onboarding regime and keeps {', '.join(sorted(others))}; without MFA the "
                "onboarding group's policy denies what they grant, but they were not removed"
            )
    steps.extend(_tag_steps(dict(observed.tags), tags, purge_tags))
    # Last, so that a failure of any other step never loses a temporary password that was already set.
    if not observed.has_login_profile:
        steps.append(Step(CREATE_LOGIN_PROFILE))
    elif reset_password and observed.mfa_devices:
        warnings.append("has registered an MFA device, so it has signed in already; its password was not reset")
    elif reset_password:
        steps.append(Step(UPDATE_LOGIN_PROFILE))
    return steps, warnings


def plan_promotion(
    name: str, observed: Observed, regime: Regime, groups: t.Sequence[str] = (), policies: t.Sequence[str] = ()
) -> list[Step]:
    """Steps that promote a user with MFA: guard, then permissions, then leaving the onboarding group."""
    if not observed.exists:
        raise Refused(f"user {name} does not exist; onboard it first")
    if not observed.mfa_devices:
        raise Refused(
            f"user {name} has no MFA device registered (ListMFADevices returned none); it stays in "
            f"{regime.onboarding_group} until its owner signs in and registers one"
        )
    steps = []
    for arn in [regime.current_users_policy, *policies]:
        if arn not in observed.policies and Step(ATTACH_POLICY, arn) not in steps:
            steps.append(Step(ATTACH_POLICY, arn))
    for group in groups:
        if group not in observed.groups and Step(ADD_TO_GROUP, group) not in steps:
            steps.append(Step(ADD_TO_GROUP, group))
    if regime.onboarding_group in observed.groups:
        steps.append(Step(REMOVE_FROM_GROUP, regime.onboarding_group))
    return steps


def apply_steps(observed: Observed, steps: t.Sequence[Step]) -> Observed:
    """The state the steps lead to (for check mode, diff and the result, without reading IAM again)."""
    groups = list(observed.groups)
    policies = list(observed.policies)
    tags = dict(observed.tags)
    exists, has_login_profile = observed.exists, observed.has_login_profile
    for step in steps:
        if step.action == CREATE_USER:
            exists = True
            tags.update(step.target or {})
        elif step.action == ADD_TO_GROUP and step.target not in groups:
            groups.append(step.target)
        elif step.action == REMOVE_FROM_GROUP and step.target in groups:
            groups.remove(step.target)
        elif step.action == ATTACH_POLICY and step.target not in policies:
            policies.append(step.target)
        elif step.action == CREATE_LOGIN_PROFILE:
            has_login_profile = True
        elif step.action == TAG_USER:
            tags.update(step.target)
        elif step.action == UNTAG_USER:
            for key in step.target:
                tags.pop(key, None)
    return observed._replace(
        exists=exists,
        groups=tuple(groups),
        policies=tuple(policies),
        has_login_profile=has_login_profile,
        tags=tuple(sorted(tags.items())),
    )


def guarded(observed: Observed, regime: Regime, group_policies: dict[str, t.Sequence[str]] | None = None) -> bool:
    """Invariant 1 for one user: covered by an MFA guard (onboarding group, or current-users policy attached to
    the user or, when group_policies maps group names to attached ARNs, to one of its groups)."""
    if regime.onboarding_group in observed.groups or regime.current_users_policy in observed.policies:
        return True
    if regime.current_users_policy in observed.group_policies:
        return True
    return any(regime.current_users_policy in (group_policies or {}).get(g, ()) for g in observed.groups)


_SIGNIN_DOMAINS = {
    "aws": "signin.aws.amazon.com",
    "aws-cn": "signin.amazonaws.cn",
    "aws-us-gov": "signin.amazonaws-us-gov.com",
}


def account_of(arn: str) -> tuple[str, str]:
    """(partition, account id) from any IAM ARN of the account."""
    parts = arn.split(":")
    return parts[1], parts[4]


def console_url(partition: str, account_id: str) -> str:
    return f"https://{account_id}.{_SIGNIN_DOMAINS.get(partition, _SIGNIN_DOMAINS['aws'])}/console"


def policy_arn_candidates(reference: str, partition: str, account_id: str) -> list[str]:
    """ARNs a policy reference may mean, most specific first: an ARN as given; a name (optionally with a path,
    e.g. job-function/ViewOnlyAccess) as a customer-managed policy of the account, then as an AWS-managed one.
    This avoids paging through every AWS-managed policy to resolve a name."""
    if reference.startswith("arn:"):
        return [reference]
    reference = reference.strip("/")
    return [f"arn:{partition}:iam::{account_id}:policy/{reference}", f"arn:{partition}:iam::aws:policy/{reference}"]


def user_arn(partition: str, account_id: str, path: str, name: str) -> str:
    return f"arn:{partition}:iam::{account_id}:user{path}{name}"
