# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The functional core of one user's MFA lifecycle: observed state in, stage and ordered steps out.

Nothing here talks to AWS. The order of the steps is the collection's security: every user with a console
password or an access key must be covered by an MFA guard between any two API calls, so

- onboarding is  CreateUser -> AddUserToGroup(onboarding group) -> CreateLoginProfile, and
- promotion is   (MFA checked) -> AttachUserPolicy(current users) -> extra permissions -> RemoveUserFromGroup.
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import carries_mfa_deny
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import grants_beyond_the_guard
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import ADD_TO_GROUP
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import ATTACH_POLICY
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import CREATE_LOGIN_PROFILE
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import CREATE_USER
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import DEACTIVATE_ACCESS_KEY
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import DELETE_INLINE_POLICY
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import DETACH_POLICY
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import HANDOVER
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import REMOVE_FROM_GROUP
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import TAG_USER
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import UNTAG_USER
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import UPDATE_LOGIN_PROFILE
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import Step
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import MAX_TAGS

# The stages of a user (DESIGN section 1).
ABSENT = "absent"
UNMANAGED = "unmanaged"
ONBOARDING = "onboarding"
READY = "ready"
PROMOTED = "promoted"
EXPIRED = "expired"
DISABLED = "disabled"
# In the order of the lifecycle, for reports.
STAGES = (ONBOARDING, READY, PROMOTED, EXPIRED, DISABLED, UNMANAGED, ABSENT)

# The collection's marks on a user, as IAM tags.
TAG_PREFIX = "mfa-onboarding:"
HANDOVER_TAG = TAG_PREFIX + "handover"  # pending | delivered (invariant 6)
PENDING = "pending"  # set before a temporary password exists
DELIVERED = "delivered"  # set only once the handover succeeded
PROFILE_TAG = TAG_PREFIX + "profile"  # the promotion profile's name
EXPIRED_TAG = TAG_PREFIX + "expired"  # when its unused temporary password was deleted
DISABLED_TAG = TAG_PREFIX + "disabled"  # when its credentials were removed or deactivated

# Account-level facts that a run must read before its users, by the state it asks for.
PASSWORD_POLICY = "password_policy"  # to generate or check a temporary password
GRANTS = "grants"  # the groups and managed policies to grant, resolved before the first write


class Observed(t.NamedTuple):
    """What IAM says about one user. Group names, policy ARNs, MFA device serial numbers, tags as sorted pairs.

    group_policies holds the ARNs attached to the user's groups; it is read only where it decides the stage
    (see needs_group_policies); inline_policies (names) and active_keys (access key ids whose status is Active)
    only where they decide an onboarding plan (see needs_credential_reads). signed_in: IAM has recorded a use of
    the console password (PasswordLastUsed).
    """

    exists: bool
    groups: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    has_login_profile: bool = False
    mfa_devices: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    group_policies: tuple[str, ...] = ()
    signed_in: bool = False
    inline_policies: tuple[str, ...] = ()
    active_keys: tuple[str, ...] = ()
    # The end of the lifecycle (_leaving.py) also needs what the other stages never read: the inactive access keys,
    # the other credentials as (id, status) pairs, and the unassigned virtual MFA devices named after the user (a
    # device an interrupted offboarding deactivated, or a registration given up halfway).
    inactive_keys: tuple[str, ...] = ()
    certificates: tuple[tuple[str, str], ...] = ()
    ssh_keys: tuple[tuple[str, str], ...] = ()
    service_credentials: tuple[tuple[str, str], ...] = ()
    unassigned_virtual_mfa: tuple[str, ...] = ()


class Regime(t.NamedTuple):
    """The account's guards: the onboarding group and the current-users policy's ARN."""

    onboarding_group: str
    current_users_policy: str


class Plan(t.NamedTuple):
    """What a planner decided for one user: the ordered write steps, notes for the operator (each completes a
    sentence that starts with the user's name), and, when the transition is not allowed, why (naming the user);
    a refused plan has no steps."""

    steps: list[Step]
    notes: list[str]
    refusal: str | None = None


def refused(reason: str) -> Plan:
    return Plan([], [], reason)


def stage(observed: Observed, regime: Regime) -> str:
    """absent, unmanaged (exists outside the regime), onboarding, ready (onboarding with MFA), expired (onboarding,
    its unused temporary password deleted), promoted, or disabled.

    A member of the onboarding group is onboarding or ready, even when a promotion was interrupted after the
    current-users policy was attached: it is promoted only once it has left the onboarding group.
    """
    if not observed.exists:
        return ABSENT
    tags = dict(observed.tags)
    if DISABLED_TAG in tags:
        return DISABLED
    if regime.onboarding_group in observed.groups:
        if observed.mfa_devices:
            return READY
        return EXPIRED if EXPIRED_TAG in tags and not observed.has_login_profile else ONBOARDING
    if regime.current_users_policy in observed.policies or regime.current_users_policy in observed.group_policies:
        return PROMOTED
    return UNMANAGED


def needs_group_policies(observed: Observed, regime: Regime) -> bool:
    """Whether the policies attached to the user's groups decide its stage: the current-users policy may reach a
    user outside the onboarding group through another group, which makes it promoted, not outside the regime."""
    return stage(observed, regime) == UNMANAGED and bool(observed.groups)


def needs_credential_reads(observed: Observed, regime: Regime) -> bool:
    """Whether an onboarding run must read the user's inline policies and access keys: an existing user without an
    MFA device is brought to hold nothing beyond the guard (invariant 2), and so is a disabled user onboarded again,
    with or without MFA; the plan needs all it holds."""
    return observed.exists and (not observed.mfa_devices or stage(observed, regime) == DISABLED)


def held_beyond_guard(observed: Observed, regime: Regime) -> tuple[list[str], list[str], list[str]]:
    """What a user holds besides the onboarding group: (other groups, attached policy ARNs, inline policy names).
    The current-users policy is among them: before MFA it grants nothing, and under self_enrollment guarded it
    would forbid the user to register its first device."""
    guard = regime.onboarding_group.lower()
    return (
        sorted(g for g in observed.groups if g.lower() != guard),
        sorted(observed.policies),
        sorted(observed.inline_policies),
    )


def _nothing_beyond_guard_steps(observed: Observed, regime: Regime) -> list[Step]:
    """Invariant 2 for a user without MFA, in the order invariant 1 needs: the guard first, then its active access
    keys deactivated (under the official policy a key could otherwise register a device without MFA and mint an
    MFA session), then its policies detached (attached, then inline) and its other groups left."""
    groups, policies, inline = held_beyond_guard(observed, regime)
    steps = []
    if regime.onboarding_group.lower() not in {g.lower() for g in observed.groups}:
        steps.append(Step(ADD_TO_GROUP, regime.onboarding_group))
    steps += [Step(DEACTIVATE_ACCESS_KEY, key) for key in sorted(observed.active_keys)]
    steps += [Step(DETACH_POLICY, arn) for arn in policies]
    steps += [Step(DELETE_INLINE_POLICY, policy) for policy in inline]
    steps += [Step(REMOVE_FROM_GROUP, group) for group in groups]
    return steps


def takes_away(steps: t.Sequence[Step], regime: Regime) -> bool:
    """Whether the steps deactivate a credential or remove a grant (adoption, re-enrolment); a promotion's leaving
    the onboarding group is not one."""
    guard = regime.onboarding_group.lower()
    return any(
        s.action in (DEACTIVATE_ACCESS_KEY, DETACH_POLICY, DELETE_INLINE_POLICY)
        or (s.action == REMOVE_FROM_GROUP and str(s.target).lower() != guard)
        for s in steps
    )


def held_description(observed: Observed, regime: Regime) -> str:
    """`groups Admins; policies arn:...; inline policies legacy; 2 active access keys`, or empty."""
    groups, policies, inline = held_beyond_guard(observed, regime)
    parts = [
        f"{label} {', '.join(items)}"
        for label, items in (("groups", groups), ("policies", policies), ("inline policies", inline))
        if items
    ]
    keys = len(observed.active_keys)
    if keys:
        parts.append(f"{keys} active access key{'s' if keys > 1 else ''} ({', '.join(sorted(observed.active_keys))})")
    return "; ".join(parts)


# The states at the end of the lifecycle (_leaving.py): they need every credential of a user, and no grant.
LEAVING_STATES = (EXPIRED, DISABLED, ABSENT)


def account_reads(state: str) -> frozenset[str]:
    """The account-level facts a run for the requested state must read, besides the guards."""
    if state == ONBOARDING:
        return frozenset({PASSWORD_POLICY})
    return frozenset() if state in LEAVING_STATES else frozenset({GRANTS})


def sets_password(steps: t.Sequence[Step]) -> bool:
    """Whether the steps give the user a console password (a new one, or a reset)."""
    return any(step.action in (CREATE_LOGIN_PROFILE, UPDATE_LOGIN_PROFILE) for step in steps)


def path_note(path: str) -> str | None:
    """Why a user at this path cannot register an MFA device under the official policies, or None."""
    if path == "/":
        return None
    return (
        f"is at path {path}: the official MFA policies grant their self-service actions on user/${{aws:username}}, "
        "which matches only users at path /, so this user cannot register an MFA device unless the policies' "
        "base document also names user/*/${aws:username}"
    )


# Whether a user can replace its temporary password and register MFA: the onboarding group's policy documents
# against the user's ARN, as IAM matches actions and resources (conditions aside).

CHANGE_PASSWORD = "iam:ChangePassword"
ENABLE_MFA = "iam:EnableMFADevice"
# What a user without MFA must be allowed on itself: replace the temporary password, then register a device.
SELF_SERVICE_ACTIONS = (CHANGE_PASSWORD, ENABLE_MFA)
# What the policies' base document may name to cover users at any path (user/${aws:username} covers path / only).
ANY_PATH_RESOURCE = "arn:aws:iam::*:user/*/${aws:username}"


def _as_list(value: t.Any) -> list[t.Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, text: str) -> bool:
    """IAM's action matching: case-insensitive, * any characters, ? one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE) is not None


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
# IAM's escapes for the characters that are otherwise wildcards or variables: ${*}, ${?} and ${$}.
_ESCAPES = ("*", "?", "$")


def _arn_wildcards(text: str, ends_pattern: bool) -> str:
    """A regular expression for a piece of an ARN pattern. Wildcards stay within an ARN segment (between colons),
    except a * that ends a segment, which may expand beyond it (as IAM's documentation of Resource says)."""
    parts = []
    for index, char in enumerate(text):
        if char == "*":
            last = text[index + 1 : index + 2] == ":" or (ends_pattern and index == len(text) - 1)
            parts.append(".*" if last else "[^:]*")
        elif char == "?":
            parts.append("[^:]")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


def resource_matches(pattern: str, arn: str, user_name: str) -> bool:
    """Whether an IAM Resource pattern matches an ARN (case-sensitive), with ${aws:username} as user_name. A policy
    variable that a user's name does not tell matches nothing."""
    parts = []
    position = 0
    for variable in _VARIABLE.finditer(pattern):
        parts.append(_arn_wildcards(pattern[position : variable.start()], ends_pattern=False))
        name = variable.group(1)
        if name.lower() == "aws:username":
            parts.append(re.escape(user_name))
        elif name in _ESCAPES:
            parts.append(re.escape(name))
        else:
            return False
        position = variable.end()
    parts.append(_arn_wildcards(pattern[position:], ends_pattern=True))
    return re.fullmatch("".join(parts), arn) is not None


def _covers_action(statement: dict[str, t.Any], action: str) -> bool:
    if "Action" in statement:
        return any(isinstance(p, str) and _glob(p, action) for p in _as_list(statement["Action"]))
    return not any(isinstance(p, str) and _glob(p, action) for p in _as_list(statement.get("NotAction")))


def _covers_resource(statement: dict[str, t.Any], arn: str, user_name: str) -> bool:
    if "Resource" in statement:
        return any(isinstance(p, str) and resource_matches(p, arn, user_name) for p in _as_list(statement["Resource"]))
    return not any(
        isinstance(p, str) and resource_matches(p, arn, user_name) for p in _as_list(statement.get("NotResource"))
    )


def _statements(documents: t.Iterable[t.Any]) -> t.Iterator[tuple[str, dict[str, t.Any]]]:
    """(label, statement) for every statement of the documents that is an object."""
    for document in documents:
        if not isinstance(document, dict):
            continue
        for index, statement in enumerate(_as_list(document.get("Statement"))):
            if isinstance(statement, dict):
                yield f"statement {statement.get('Sid') or index}", statement


def allows_on_self(documents: t.Iterable[t.Any], action: str, arn: str, user_name: str) -> bool:
    """Whether the documents allow the action on the user's own ARN, and no Deny without a condition takes it away.
    A condition may narrow an Allow (for example to console sessions) but does not take the user's way away, so
    conditions are not evaluated."""
    allowed = denied = False
    for _label, statement in _statements(documents):
        if not (_covers_action(statement, action) and _covers_resource(statement, arn, user_name)):
            continue
        if statement.get("Effect") == "Allow":
            allowed = True
        elif statement.get("Effect") == "Deny" and not statement.get("Condition"):
            denied = True
    return allowed and not denied


def _why_not(documents: t.Sequence[t.Any], action: str, arn: str, user_name: str) -> str:
    """What the documents say about the action, for a user that allows_on_self refuses."""
    denies = [
        label
        for label, statement in _statements(documents)
        if statement.get("Effect") == "Deny"
        and not statement.get("Condition")
        and _covers_action(statement, action)
        and _covers_resource(statement, arn, user_name)
    ]
    if denies:
        return f"{', '.join(denies)} {'denies' if len(denies) == 1 else 'deny'} {action} without a condition"
    named: dict[str, list[str]] = {}
    for label, statement in _statements(documents):
        if statement.get("Effect") == "Allow" and "Action" in statement and _covers_action(statement, action):
            for resource in _as_list(statement.get("Resource")):
                named.setdefault(str(resource), []).append(label)
    if not named:
        return f"no statement allows {action}"
    shown = "; ".join(f"{resource} ({', '.join(labels)})" for resource, labels in sorted(named.items()))
    return f"{action} is allowed only on {shown}"


def enrollment_problem(documents: t.Sequence[t.Any], arn: str, user_name: str) -> str | None:
    """Why a user (its ARN, as IAM holds it or would create it) could not replace its temporary password and register
    an MFA device under the onboarding group's policy documents, or None. The reason completes a sentence that
    starts with the user's name: the user's path, what the statements name, and why that does not match."""
    missing = [a for a in SELF_SERVICE_ACTIONS if not allows_on_self(documents, a, arn, user_name)]
    if not missing:
        return None
    resource = arn.split(":", 5)[-1]
    path = resource[len("user") : len(resource) - len(user_name)] if resource.startswith("user/") else "/"
    reasons = "; ".join(_why_not(documents, action, arn, user_name) for action in missing)
    own = (
        " (user/${aws:username} matches only users at path /)"
        if path != "/" and "user/${aws:username}" in reasons
        else ""
    )
    return (
        f"is at path {path}, where it could never change its temporary password or register an MFA device: in the "
        f"onboarding group's policies {reasons}, which with ${{aws:username}} = {user_name} does not match its ARN "
        f"{arn}{own}; leave the path out, or give the policies a base document whose self-service statements also "
        f"name {ANY_PATH_RESOURCE}"
    )


def tag_limit_problem(tags: t.Iterable[tuple[str, str]], steps: t.Sequence[Step], limit: int = MAX_TAGS) -> str | None:
    """Why the steps would make IAM refuse a tag call (the user's existing tags plus the new keys, in the order of
    the steps, over IAM's limit per user; keys are case-insensitive), or None. The reason completes a sentence
    that starts with the user's name."""
    keys = {key.lower() for key, _value in tags}
    existing = len(keys)
    for step in steps:
        if step.action in (CREATE_USER, TAG_USER):
            new = {key.lower() for key in step.target or {}} - (set() if step.action == CREATE_USER else keys)
            keys = new if step.action == CREATE_USER else keys | new
            if len(keys) > limit:
                held = f"holds {existing} tags and {step.action} would add {len(new)} new keys"
                return f"{held}: {len(keys)} in all, and IAM allows at most {limit} per user"
        elif step.action == UNTAG_USER:
            keys -= {key.lower() for key in step.target or ()}
    return None


def spelling_refusal(requested: str, stored: str) -> str:
    """Why a request for `requested` is refused when IAM holds that user as `stored` (IAM user names are
    case-insensitive, so both name one user): the run would act on a user, write its note and report its result under
    a name that is not the user's, and ${aws:username} in its policies is the stored one."""
    return (
        f"user {requested}: IAM holds this user as {stored} (IAM user names are case-insensitive, so {requested} and "
        f"{stored} are one user); list it as {stored}; nothing was changed"
    )


def promotion_target_problem(group: str, regime_group: str) -> str | None:
    """Why a group may not be granted at promotion, or None. IAM group names are case-insensitive, so
    notyetloginusers is the onboarding group NotYetLoginUsers."""
    if group.lower() == regime_group.lower():
        same = "" if group == regime_group else f" ({regime_group}: IAM group names are case-insensitive)"
        return f"{group} is the onboarding group{same}; promotion removes the user from it"
    return None


def _tag_steps(current: dict[str, str], desired: dict[str, str] | None, purge: bool) -> list[Step]:
    """TagUser for what differs, UntagUser (with purge) for what desired does not name; the collection's own marks
    (mfa-onboarding:*) are never purged."""
    if desired is None:
        return []
    steps = []
    changed = {k: v for k, v in desired.items() if current.get(k) != v}
    if changed:
        steps.append(Step(TAG_USER, changed))
    if purge:
        extra = sorted(k for k in current if k not in desired and not k.startswith(TAG_PREFIX))
        if extra:
            steps.append(Step(UNTAG_USER, extra))
    return steps


def handover_mark(observed: Observed) -> str | None:
    """The user's handover mark (pending, delivered), or None."""
    return dict(observed.tags).get(HANDOVER_TAG)


def pending_handover(groups: t.Sequence[str], tags: dict[str, str], regime: Regime) -> bool:
    """Whether a user (its groups and tags, as an account-wide read returns them) waits for a handover: marked
    pending and still in the onboarding group. Whether it gets a fresh password is plan_onboarding's decision."""
    return tags.get(HANDOVER_TAG) == PENDING and regime.onboarding_group.lower() in {g.lower() for g in groups}


def handover_steps(password_step: str, handover: str | None) -> list[Step]:
    """The password step, then, with a channel (handover names its target), the handover and the cleared mark."""
    if handover is None:
        return [Step(password_step)]
    return [Step(password_step), Step(HANDOVER, handover), Step(TAG_USER, {HANDOVER_TAG: DELIVERED})]


def plan_onboarding(
    observed: Observed,
    regime: Regime,
    tags: dict[str, str] | None = None,
    purge_tags: bool = False,
    reset_password: bool = False,
    *,
    name: str | None = None,
    handover: str | None = None,
    detach: bool = True,
    adopt_only: bool = False,
    profile: str | None = None,
) -> Plan:
    """Steps that put the user into the onboarding state. The guard always comes first.

    profile: the promotion profile to record (tag PROFILE_TAG, in CreateUser's tags for a new user, before any
    password step for an existing one); None leaves a recorded profile as it is. A user promoted already keeps its
    grants and its tags: a profile decides only a promotion still to come.

    An existing user without an MFA device (outside the regime, onboarding, or promoted with its last device gone)
    is brought to hold nothing beyond the guard: guard, access keys deactivated, its grants removed (invariant 2);
    with detach off, such a user that holds anything is refused instead. A user outside the regime with an MFA
    device is adopted as promoted. adopt_only: a user that does not exist is refused, and no console password is
    created or reset (adoption keeps what a user has).

    handover describes the channel a new temporary password goes through (for example `by file to /notes/a.txt`);
    None when the module returns it to its caller. With a channel, the user is marked pending before its password
    exists (in CreateUser's tags for a new user), the password is handed over, and only then is the mark set to
    delivered (invariant 6). A user still marked pending, without MFA and never signed in, gets a fresh password:
    its earlier one was never handed over.

    reset_password issues a fresh temporary password to a user that has one but no MFA device yet (for a
    handover that failed); a user that has registered MFA has signed in already and keeps its password.
    """
    current = stage(observed, regime)
    who = f"user {name}" if name else "the user"
    unrecorded = None
    if profile is not None and dict(observed.tags).get(PROFILE_TAG) != profile:
        unrecorded = f"is promoted already; its profile {profile} was not recorded (a profile decides a promotion)"
    if profile is not None:
        # The profile is one of the collection's marks: never purged, so purge_tags applies only to given tags.
        purge_tags = purge_tags and tags is not None
        tags = dict(tags or {}, **{PROFILE_TAG: profile})
    if current == ABSENT and adopt_only:
        return refused(f"{who} does not exist; adoption takes existing users only (onboard it to create it)")
    if current == ABSENT:
        created = dict(tags or {})
        if handover is not None:
            created[HANDOVER_TAG] = PENDING
        return Plan([Step(CREATE_USER, created), Step(ADD_TO_GROUP, regime.onboarding_group),
                     *handover_steps(CREATE_LOGIN_PROFILE, handover)], [])  # fmt: skip
    if current == DISABLED and adopt_only:
        return refused_as_disabled(observed, "adopted", name, "onboard it to bring it back")
    if current == DISABLED:
        return _plan_return(observed, regime, tags, purge_tags, name=name, handover=handover, detach=detach)
    if current == PROMOTED and observed.mfa_devices:
        return Plan([], ["is already promoted; onboarding changes nothing (no demotion)", *filter(None, [unrecorded])])
    notes = []
    steps = []
    if current == UNMANAGED and observed.mfa_devices:
        # Adoption of a user with MFA: promoted in place, nothing else touched.
        steps.append(Step(ATTACH_POLICY, regime.current_users_policy))
        notes.append(
            f"existed outside the onboarding regime with an MFA device: adopted as promoted "
            f"({regime.current_users_policy} attached); what it held, its password and its tags were kept"
        )
        return Plan(steps, notes + list(filter(None, [unrecorded])))
    if not observed.mfa_devices:
        held = held_description(observed, regime)
        if held and not detach:
            return refused(
                f"{who} has no MFA device and holds {held}; with adopt_detach off it was left untouched (a user "
                "without MFA may hold nothing beyond the guard)"
            )
        steps = _nothing_beyond_guard_steps(observed, regime)
        if held:
            origin = {
                UNMANAGED: "existed outside the onboarding regime",
                PROMOTED: "was promoted but has no MFA device left (re-enrolment)",
            }.get(current, "is onboarding")
            notes.append(
                f"{origin} without an MFA device: it was put behind the guard {regime.onboarding_group} first, then "
                f"what it held was deactivated or removed: {held} (until it registers MFA and is promoted)"
            )
        if current in (UNMANAGED, PROMOTED) and observed.has_login_profile and not reset_password:
            notes.append("keeps its existing console password; it was not reset (reset_password issues a new one)")
    if current == PROMOTED:
        notes.append(
            "can now sign in with its console password and register a new MFA device; promote it again afterwards"
        )
    if adopt_only:
        if not observed.has_login_profile:
            notes.append("has no console password; onboard it to issue a temporary password")
        steps.extend(_tag_steps(dict(observed.tags), None if tags is None else dict(tags), purge_tags))
        return Plan(steps, notes)
    pending = handover_mark(observed) == PENDING
    password_step = None
    if not observed.has_login_profile:
        password_step = CREATE_LOGIN_PROFILE
    elif (reset_password or pending) and observed.mfa_devices:
        notes.append("has registered an MFA device, so it has signed in already; its password was not reset")
    elif pending and not reset_password and observed.signed_in:
        notes.append(
            f"is marked {HANDOVER_TAG}={PENDING} but has signed in already; its password was not reset (use "
            "reset_password to issue a fresh one)"
        )
    elif pending and handover is None and not reset_password:
        notes.append(
            f"is marked {HANDOVER_TAG}={PENDING}: its temporary password was never handed over; a run with a "
            "handover channel (file or mail) issues a fresh one"
        )
    elif reset_password or pending:
        password_step = UPDATE_LOGIN_PROFILE
    if current == EXPIRED:
        notes.append("had expired: it gets a fresh temporary password, and the expired mark is removed")
    steps.extend(_password_steps(observed, tags, purge_tags, password_step, handover, pending))
    return Plan(steps, notes)


def _password_steps(
    observed: Observed,
    tags: dict[str, str] | None,
    purge_tags: bool,
    password_step: str | None,
    handover: str | None,
    pending: bool,
) -> list[Step]:
    """The tag steps (the expired and disabled marks removed when a password is issued), then the password and its
    handover: last, so that a failure of any other step never loses a temporary password that was already set."""
    desired = None if tags is None else dict(tags)
    if password_step and handover is not None and not pending:
        desired = dict(desired or {}, **{HANDOVER_TAG: PENDING})
    steps = []
    marks = [tag for tag in (DISABLED_TAG, EXPIRED_TAG) if tag in dict(observed.tags)]
    if password_step and marks:
        steps.append(Step(UNTAG_USER, marks))
    steps.extend(_tag_steps(dict(observed.tags), desired, purge_tags))
    if password_step:
        steps.extend(handover_steps(password_step, handover))
    return steps


def _plan_return(
    observed: Observed,
    regime: Regime,
    tags: dict[str, str] | None,
    purge_tags: bool,
    *,
    name: str | None,
    handover: str | None,
    detach: bool,
) -> Plan:
    """Onboarding again a user that was disabled: the guard first, then everything it kept for audit beyond the guard
    removed (its groups and policies, whether or not it has MFA: onboarding again means holding nothing else until
    promoted), then the disabled mark, then a fresh temporary password and its handover. Its inactive credentials
    stay inactive and its MFA devices stay registered. The disabled mark goes only once nothing else is left, so
    that a run killed before it leaves a disabled user for the rerun to finish."""
    who = f"user {name}" if name else "the user"
    held = held_description(observed, regime)
    if held and not detach:
        return refused(
            f"{who} was disabled and holds {held}; with adopt_detach off it was left untouched (onboarding it again "
            "takes away everything beyond the guard)"
        )
    steps = _nothing_beyond_guard_steps(observed, regime)
    since = dict(observed.tags).get(DISABLED_TAG) or "an earlier run"
    notes = [f"was disabled ({DISABLED_TAG}: {since}): it is onboarding again behind {regime.onboarding_group}"]
    if held:
        notes.append(f"what it had kept was removed: {held}")
    if observed.mfa_devices:
        notes.append("keeps its registered MFA device; promote it again once its owner has signed in")
    password_step = UPDATE_LOGIN_PROFILE if observed.has_login_profile else CREATE_LOGIN_PROFILE
    steps.extend(
        _password_steps(observed, tags, purge_tags, password_step, handover, handover_mark(observed) == PENDING)
    )
    return Plan(steps, notes)


def plan_promotion(
    name: str,
    observed: Observed,
    regime: Regime,
    groups: t.Sequence[str] = (),
    policies: t.Sequence[str] = (),
    *,
    unresolved: t.Sequence[str] = (),
    profile_refusal: str | None = None,
) -> Plan:
    """Steps that promote a user with MFA: guard, then permissions, then leaving the onboarding group.

    unresolved lists why some of the user's requested grants do not resolve (resolve_grants): such a user is
    refused, naming them all, and gets no step at all; the other users of the run are not concerned. So is a user
    whose recorded profile selects none of the operator's (profile_refusal, from _profiles.choose: invariant 8)."""
    if not observed.exists:
        return refused(f"user {name} does not exist; onboard it first")
    if stage(observed, regime) == DISABLED:
        return refused_as_disabled(observed, "promoted", name)
    if unresolved:
        return refused(f"user {name}: {'; '.join(unresolved)}; nothing was changed for this user")
    if profile_refusal:
        return refused(f"user {name} {profile_refusal}; nothing was granted or changed for this user")
    if not observed.mfa_devices:
        return refused(
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
    return Plan(steps, [])


def refused_as_disabled(
    observed: Observed, verb: str, name: str | None = None, hint: str = "onboard it again first"
) -> Plan:
    since = dict(observed.tags).get(DISABLED_TAG) or "an earlier run"
    who = f"user {name}" if name else "the user"
    return refused(f"{who} was disabled ({DISABLED_TAG}: {since}); a disabled user is not {verb} ({hint})")


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
    parsed = parse_aws_arn(arn) or {}
    return str(parsed.get("partition")), str(parsed.get("account_id"))


def console_url(partition: str, account_id: str) -> str:
    return f"https://{account_id}.{_SIGNIN_DOMAINS.get(partition, _SIGNIN_DOMAINS['aws'])}/console"


def policy_arn_candidates(reference: str, partition: str, account_id: str) -> list[str]:
    """ARNs a policy reference may mean, most specific first: an ARN as given; a name (optionally with a path,
    e.g. job-function/ViewOnlyAccess) as a customer-managed policy of the account, then as an AWS-managed one.
    Each is looked up (GetPolicy), which avoids paging through every AWS-managed policy to resolve a name; a name
    that exists as both is ambiguous (resolve_policy)."""
    if reference.startswith("arn:"):
        return [reference]
    reference = reference.strip("/")
    return [f"arn:{partition}:iam::{account_id}:policy/{reference}", f"arn:{partition}:iam::aws:policy/{reference}"]


class GrantReads(t.NamedTuple):
    """What a run read about the groups and managed policies its users name, once per run and before its first
    write (plain values; see resolve_grants).

    groups maps each requested group name to the name IAM holds the group under (IAM names are case-insensitive),
    or None when there is no such group. policies maps each requested policy reference to its candidates
    (policy_arn_candidates), in order, each with the ARN IAM returned for it, or None when there is no such policy.
    """

    groups: t.Mapping[str, str | None] = {}
    policies: t.Mapping[str, t.Sequence[tuple[str, str | None]]] = {}


class Grants(t.NamedTuple):
    """One user's requested grants, resolved: group names and policy ARNs as IAM holds them, in request order,
    and why some of them do not resolve ([] when all do)."""

    groups: list[str]
    policies: list[str]
    problems: list[str]


def resolve_policy(reference: str, candidates: t.Sequence[tuple[str, str | None]]) -> tuple[str | None, str | None]:
    """(ARN, None) for the one policy a reference means, or (None, why not): no candidate exists, or a bare name
    (path/name) exists both as the account's customer-managed policy and as an AWS-managed policy. Taking either
    silently would let a customer-managed `ReadOnlyAccess` that allows everything shadow AWS's; an ARN names one
    policy and is never ambiguous."""
    found = [arn for _candidate, arn in candidates if arn is not None]
    if not found:
        return None, None
    if len(found) > 1:
        return None, (
            f"managed policy {reference} is ambiguous: both the account's customer-managed {found[0]} and the "
            f"AWS-managed {found[1]} exist; give the ARN of the one to attach"
        )
    return found[0], None


def resolve_grants(groups: t.Sequence[str], references: t.Sequence[str], reads: GrantReads) -> Grants:
    """One user's groups and policy references against what the run read (reads): what to grant, and every
    reference that does not resolve, named (a group or policy that does not exist, an ambiguous name)."""
    names: list[str] = []
    arns: list[str] = []
    missing_groups = []
    for group in groups:
        held = reads.groups.get(group)
        if held is None:
            missing_groups.append(group)
        elif held not in names:
            names.append(held)
    missing_policies = []
    ambiguous = []
    for reference in references:
        arn, problem = resolve_policy(reference, reads.policies.get(reference, ()))
        if problem:
            ambiguous.append(problem)
        elif arn is None:
            missing_policies.append(reference)
        elif arn not in arns:
            arns.append(arn)
    problems = []
    if missing_groups:
        problems.append(f"groups not found: {', '.join(missing_groups)}")
    if missing_policies:
        text = f"managed policies not found: {', '.join(missing_policies)}"
        if any(not reference.startswith("arn:") for reference in missing_policies):
            text += (
                " (a name is looked up as the account's customer-managed policy and as the AWS-managed one; a policy "
                "at a path is named path/name, or by its ARN)"
            )
        problems.append(text)
    return Grants(names, arns, problems + ambiguous)


def user_arn(partition: str, account_id: str, path: str, name: str) -> str:
    return f"arn:{partition}:iam::{account_id}:user{path}{name}"


def guard_problems(
    group: str, group_documents: t.Mapping[str, t.Any], policy: str, policy_document: t.Any
) -> list[str]:
    """Invariant 7: why the guards a run was given do not guard, or [] when they do. group_documents maps each
    policy of the onboarding group (an ARN, or `inline policy NAME`) to its default version's document (None when
    it could not be read); policy_document is the current-users policy's default version."""
    problems = []
    beyond = [label for label, document in group_documents.items() if not carries_mfa_deny(document)]
    more = {
        label: grants_beyond_the_guard(document)
        for label, document in group_documents.items()
        if carries_mfa_deny(document) and grants_beyond_the_guard(document)
    }
    for label, grants in sorted(more.items()):
        problems.append(
            f"onboarding_group: the group {group} holds {label}, which has the MFA deny statement but also grants "
            f"more than a user may do for itself before MFA: {'; '.join(grants[:3])}"
            + (f" (and {len(grants) - 3} more)" if len(grants) > 3 else "")
        )
    if len(beyond) == len(group_documents) and not more:
        problems.append(
            f"onboarding_group: the group {group} holds no policy with the MFA deny statement (Deny, NotAction, "
            "BoolIfExists aws:MultiFactorAuthPresent false), so it guards nobody; run the "
            "mfa_onboarding.iam.bootstrap role, or name the group it created"
        )
    elif beyond:
        problems.append(
            f"onboarding_group: the group {group} also holds {', '.join(sorted(beyond))}, without the MFA deny "
            "statement: a user in it would hold more than the guard before MFA"
        )
    if not carries_mfa_deny(policy_document):
        problems.append(
            f"current_users_policy: {policy} does not carry the MFA deny statement in its default version, so it "
            "requires no MFA; name the policy the mfa_onboarding.iam.bootstrap role created"
        )
    return problems
