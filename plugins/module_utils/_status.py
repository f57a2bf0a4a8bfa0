# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where every user stands (iam_onboard_user_info): stage, findings and summary from an account's records.

Pure: plain values in, plain values out; nothing here talks to AWS. The stage is the core's one rule
(_lifecycle.stage); the findings are what an auditor checks (DESIGN section 2).
"""

from __future__ import annotations

import datetime
import typing as t

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import UserRecord
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import observed
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe_account import AUTHORIZATION_DETAILS
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe_account import CREDENTIAL_REPORT
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe_account import LIVE_READS
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe_account import USERS
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe_account import VIRTUAL_MFA_DEVICES
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe_account import AccountRecord
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import carries_mfa_deny
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import grants_beyond_the_guard
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import ValidationError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_name
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_policy_reference

# The findings, in one place (a role validates status_fail_on against FINDINGS).
UNGUARDED_CONSOLE_PASSWORD = "unguarded_console_password"  # CIS AWS Foundations 1.10
ACCESS_KEY_BEFORE_MFA = "access_key_before_mfa"  # CIS 1.11
STALE_ONBOARDING = "stale_onboarding"  # CIS 1.12
READY_NOT_PROMOTED = "ready_not_promoted"
GRANTS_BEFORE_MFA = "grants_before_mfa"  # invariant 2
PENDING_HANDOVER = "pending_handover"  # invariant 6
CANNOT_ENROLL = "cannot_enroll"
FINDINGS = (
    UNGUARDED_CONSOLE_PASSWORD,
    ACCESS_KEY_BEFORE_MFA,
    STALE_ONBOARDING,
    READY_NOT_PROMOTED,
    GRANTS_BEFORE_MFA,
    PENDING_HANDOVER,
    CANNOT_ENROLL,
)
# The two findings that CIS checks on every IAM user: the only ones a user outside the regime gets.
CIS_FINDINGS = (UNGUARDED_CONSOLE_PASSWORD, ACCESS_KEY_BEFORE_MFA)

# The users reported: the regime's, or every user of the account.
REGIME = "regime"
ACCOUNT = "account"
SCOPES = (REGIME, ACCOUNT)

# Kinds of MFA device, by serial number.
VIRTUAL = "virtual"
FIDO = "fido"
HARDWARE = "hardware"
MFA_KINDS = (VIRTUAL, FIDO, HARDWARE)

# The handover of a temporary password, as the tag mfa-onboarding:handover records it.
HANDOVER_PENDING = "pending"
HANDOVER_DELIVERED = "delivered"
HANDOVER_NONE = "none"

# Stages that count days in onboarding.
_ONBOARDING_STAGES = (lc.ONBOARDING, lc.READY, lc.EXPIRED)

REPORT_NOTE = (
    "IAM regenerates its credential report at most every four hours, so it can be up to four hours old: "
    "console passwords and active access keys of users outside the onboarding group, and whether their MFA is "
    "active, are as of its generated_time. Members of the onboarding group and users the report does not list were "
    "read live, as were the MFA devices of users whose report says MFA is active but who hold no virtual device; "
    "group memberships, policies, tags and virtual MFA devices are as of their read_at."
)
LIVE_NOTE = "Every user reported was read live; IAM's credential report was not used."


def validate_params(params: dict[str, t.Any]) -> None:
    """iam_onboard_user_info's options, before any client is built; raises ValidationError naming the option."""
    names = params.get("names")
    if names is not None:
        if not names:
            raise ValidationError("names: the list is empty; leave names out to report every user of the regime")
        seen: set[str] = set()
        for index, name in enumerate(names):
            validate_name("user", name, f"names[{index}]")
            if name.lower() in seen:
                raise ValidationError(
                    f"names[{index}]: user {name} is listed more than once (IAM user names are case-insensitive)"
                )
            seen.add(name.lower())
    days = params.get("stale_after_days")
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ValidationError(f"stale_after_days: must be a whole number of days, 0 or more, got {days!r}")
    if params.get("scope", REGIME) not in SCOPES:
        raise ValidationError(f"scope: must be one of {', '.join(SCOPES)}, got {params.get('scope')!r}")
    validate_name("group", params.get("onboarding_group"), "onboarding_group")
    validate_policy_reference(params.get("current_users_policy"), "current_users_policy")


def mfa_kind(serial_number: str) -> str:
    """virtual (arn:...:mfa/...), fido (arn:...:u2f/...) or hardware (a plain serial such as GAHT12345678, or any
    other kind of device)."""
    parsed = parse_aws_arn(serial_number) if serial_number.startswith("arn:") else None
    resource_type = (parsed or {}).get("resource_type")
    if resource_type == "mfa":
        return VIRTUAL
    if resource_type == "u2f":
        return FIDO
    return HARDWARE


def _utc(value: datetime.datetime) -> datetime.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc)


def iso(value: datetime.datetime | None) -> str | None:
    """ISO 8601 in UTC."""
    return None if value is None else _utc(value).isoformat()


def enrollment_documents(account: AccountRecord) -> tuple[t.Any, ...] | None:
    """The documents of the onboarding group's policies that IAM returned (its customer-managed attached policies and
    its inline ones); None when there are none to decide from."""
    group = account.groups.get(account.regime.onboarding_group)
    if group is None:
        return None
    documents = [account.policies[arn].document for arn in group.managed_policies if arn in account.policies]
    documents.extend(group.inline_policies.values())
    found = tuple(d for d in documents if isinstance(d, dict))
    return found or None


class GuardCheck(t.NamedTuple):
    """Whether the regime's guards are what their names promise (invariant 7), from the documents the account
    read returned: the onboarding group holds a policy with the deny-unless-MFA statement, the current-users policy
    carries that statement. `beyond` names the group's policies that do not, or that grant more than the official
    policy lets a user do for itself (_policy_document.grants_beyond_the_guard)."""

    onboarding_group: bool
    beyond: tuple[str, ...]
    current_users_policy: bool


def check_guards(account: AccountRecord) -> GuardCheck:
    group = account.groups.get(account.regime.onboarding_group)
    guarding, beyond = False, []
    for arn in group.managed_policies if group else ():
        policy = account.policies.get(arn)
        if policy is not None and carries_mfa_deny(policy.document):
            guarding = True
        if policy is None or not carries_mfa_deny(policy.document) or grants_beyond_the_guard(policy.document):
            beyond.append(arn)
    for name, document in (group.inline_policies if group else {}).items():
        if carries_mfa_deny(document):
            guarding = True
        if not carries_mfa_deny(document) or grants_beyond_the_guard(document):
            beyond.append(f"inline policy {name}")
    current = account.policies.get(account.regime.current_users_policy or "")
    return GuardCheck(guarding, tuple(beyond), current is not None and carries_mfa_deny(current.document))


def trusted_regime(regime: lc.Regime, guards: GuardCheck) -> lc.Regime:
    """The regime with only the guards that really guard: a group or policy that does not carry the MFA deny
    covers nobody, whatever its name."""
    return lc.Regime(
        regime.onboarding_group if guards.onboarding_group else "",
        regime.current_users_policy if guards.current_users_policy else "",
    )


# One user


class Context(t.NamedTuple):
    """What classifying a user needs to know about the account and the run."""

    regime: lc.Regime
    guarding: lc.Regime  # the regime's guards that carry the MFA deny (trusted_regime)
    group_policies: dict[str, tuple[str, ...]]  # group name -> attached policy ARNs
    enrollment: tuple[t.Any, ...] | None  # the onboarding group's documents, None: decide from the path
    now: datetime.datetime
    stale_after: datetime.timedelta


def _since(record: UserRecord) -> datetime.datetime | None:
    """When onboarding began: the temporary password's creation, or the user's when it has none."""
    if record.console_password and record.password_created is not None:
        return record.password_created
    return record.create_date


def days_in_onboarding(record: UserRecord, stage: str, now: datetime.datetime) -> int | None:
    """Whole days since onboarding began, for onboarding, ready and expired users; None for the others."""
    since = _since(record)
    if stage not in _ONBOARDING_STAGES or since is None:
        return None
    return max(0, (_utc(now) - _utc(since)) // datetime.timedelta(days=1))


def _holds_more_than_the_guards(record: UserRecord, regime: lc.Regime) -> bool:
    return (
        any(g != regime.onboarding_group for g in record.groups or ())
        or any(p != regime.current_users_policy for p in record.managed_policies or ())
        or bool(record.inline_policies)
    )


def _enrollable(record: UserRecord, context: Context) -> bool:
    """The rule iam_onboard_user refuses onboardings by (lc.enrollment_problem); from the path alone when the
    onboarding group's documents are not known."""
    path = record.path or "/"
    if context.enrollment is None or not record.arn:
        return lc.path_note(path) is None
    return lc.enrollment_problem(context.enrollment, record.arn, record.name) is None


def findings(
    record: UserRecord, view: lc.Observed, stage: str, active_access_keys: int | None, context: Context
) -> list[str]:
    """The user's findings, sorted. A user outside the regime gets only the two CIS ones."""
    has_mfa = bool(view.mfa_devices)
    found = []
    if record.console_password and not has_mfa and not lc.guarded(view, context.guarding):
        found.append(UNGUARDED_CONSOLE_PASSWORD)
    if active_access_keys and not has_mfa:
        found.append(ACCESS_KEY_BEFORE_MFA)
    if stage not in (lc.UNMANAGED, lc.ABSENT):
        since = _since(record)
        if (
            stage == lc.ONBOARDING
            and record.password_last_used is None
            and since is not None
            and _utc(context.now) - _utc(since) > context.stale_after
        ):
            found.append(STALE_ONBOARDING)
        if stage == lc.READY:
            found.append(READY_NOT_PROMOTED)
        if not has_mfa and _holds_more_than_the_guards(record, context.regime):
            found.append(GRANTS_BEFORE_MFA)
        if dict(record.tags).get(lc.HANDOVER_TAG) == HANDOVER_PENDING:
            found.append(PENDING_HANDOVER)
        # A disabled user is not expected to sign in again.
        if not has_mfa and stage != lc.DISABLED and not _enrollable(record, context):
            found.append(CANNOT_ENROLL)
    return sorted(found)


def handover(tags: dict[str, str]) -> str:
    value = tags.get(lc.HANDOVER_TAG)
    return value if value in (HANDOVER_PENDING, HANDOVER_DELIVERED) else HANDOVER_NONE


def absent_status(name: str, access_keys: bool) -> dict[str, t.Any]:
    """A named user that does not exist: stage absent, everything else null or empty."""
    status: dict[str, t.Any] = {
        "name": name,
        "arn": None,
        "path": None,
        "stage": lc.ABSENT,
        "created": None,
        "console_password": None,
        "password_created": None,
        "password_last_used": None,
        "days_in_onboarding": None,
        "mfa_devices": [],
        "active_access_keys": None,
        "groups": [],
        "managed_policies": [],
        "inline_policies": [],
        "tags": {},
        "profile": None,
        "handover": None,
        "findings": [],
        "read_live": True,
    }
    if access_keys:
        status["access_keys"] = []
    return status


def user_status(
    record: UserRecord, read_live: bool, active_access_keys: int | None, context: Context, access_keys: bool = False
) -> dict[str, t.Any]:
    """One user's entry of RV(users); with access_keys, each key too (the user must have been read with them)."""
    if not record.exists:
        return absent_status(record.name, access_keys)
    via_groups = [arn for group in record.groups or () for arn in context.group_policies.get(group, ())]
    view = observed(record, via_groups)
    stage = lc.stage(view, context.regime)
    tags = dict(record.tags)
    status: dict[str, t.Any] = {
        "name": record.name,
        "arn": record.arn,
        "path": record.path,
        "stage": stage,
        "created": iso(record.create_date),
        "console_password": record.console_password,
        "password_created": iso(record.password_created) if record.console_password else None,
        "password_last_used": iso(record.password_last_used),
        "days_in_onboarding": days_in_onboarding(record, stage, context.now),
        "mfa_devices": [
            {"serial_number": d.serial_number, "kind": mfa_kind(d.serial_number), "enable_date": iso(d.enable_date)}
            for d in record.mfa_devices or ()
        ],
        "active_access_keys": active_access_keys,
        "groups": sorted(record.groups or ()),
        "managed_policies": sorted(record.managed_policies or ()),
        "inline_policies": sorted(record.inline_policies or ()),
        "tags": tags,
        "profile": tags.get(lc.PROFILE_TAG),
        "handover": handover(tags),
        "findings": findings(record, view, stage, active_access_keys, context),
        "read_live": read_live,
    }
    if access_keys:
        status["access_keys"] = [
            {
                "id": k.access_key_id,
                "status": k.status,
                "create_date": iso(k.create_date),
                "last_used": iso(k.last_used),
            }
            for k in record.access_keys or ()
        ]
    return status


# The whole report


def summary(users: t.Sequence[dict[str, t.Any]]) -> dict[str, t.Any]:
    """Users per stage and findings per kind (users with that finding), every key present."""
    stages = dict.fromkeys(lc.STAGES, 0)
    found = dict.fromkeys(FINDINGS, 0)
    for user in users:
        stages[user["stage"]] += 1
        for finding in user["findings"]:
            found[finding] += 1
    return {"users": len(users), "stages": stages, "findings": found}


def _sources(account: AccountRecord, now: datetime.datetime) -> dict[str, t.Any]:
    def read_at(name: str) -> dict[str, t.Any] | None:
        source = account.sources.get(name)
        return None if source is None else {"read_at": iso(source.read_at)}

    report = account.sources.get(CREDENTIAL_REPORT)
    credential_report = None
    if report is not None:
        generated = report.generated
        credential_report = {
            "read_at": iso(report.read_at),
            "generated_time": iso(generated),
            "age_seconds": None if generated is None else int((_utc(now) - _utc(generated)).total_seconds()),
        }
    live = read_at(LIVE_READS)
    if live is not None:
        live["users"] = len(account.live)
    times = [s.read_at for s in account.sources.values()]
    return {
        "read_at": iso(max(times, key=_utc)) if times else None,
        "account_authorization_details": read_at(AUTHORIZATION_DETAILS),
        "users": read_at(USERS),
        "credential_report": credential_report,
        "virtual_mfa_devices": read_at(VIRTUAL_MFA_DEVICES),
        "live_reads": live,
        "note": REPORT_NOTE if report is not None else LIVE_NOTE,
    }


def regime_warnings(account: AccountRecord, given_group: str, given_policy: str) -> list[str]:
    """What an operator should know about the regime: a guard that does not exist is reported, not a failure."""
    regime = account.regime
    found = []
    if not regime.onboarding_group_exists:
        found.append(
            f"onboarding_group: the group {given_group} does not exist in this account, so no user is onboarding, "
            "ready or expired; run the mfa_onboarding.iam.bootstrap role first (scope=account lists every user)"
        )
    if not regime.current_users_policy_exists:
        found.append(
            f"current_users_policy: {regime.current_users_policy or given_policy} does not exist in this account, so "
            "no user is promoted; run the mfa_onboarding.iam.bootstrap role first, or give the policy's ARN if it "
            "has a path (scope=account lists every user)"
        )
    guards = check_guards(account)
    if regime.onboarding_group_exists and not guards.onboarding_group:
        found.append(
            f"onboarding_group: the group {regime.onboarding_group} holds no policy with the deny-unless-MFA "
            "statement, so it guards nobody: its members' console passwords count as unguarded"
        )
    if regime.onboarding_group_exists and guards.beyond:
        found.append(
            f"onboarding_group: the group {regime.onboarding_group} also holds {', '.join(guards.beyond)}, which "
            "grant more than the guard to every member before MFA"
        )
    if regime.current_users_policy_exists and not guards.current_users_policy:
        found.append(
            f"current_users_policy: {regime.current_users_policy} does not carry the deny-unless-MFA statement (or is "
            "not a customer-managed policy of this account), so it guards nobody"
        )
    return found


def report(
    account: AccountRecord,
    now: datetime.datetime,
    scope: str = REGIME,
    names: t.Sequence[str] | None = None,
    stale_after_days: int = 7,
) -> dict[str, t.Any]:
    """iam_onboard_user_info's result (without changed and warnings): users, summary, unassigned virtual MFA
    devices, the regime and the sources.

    users: with names, exactly those in their order (the account record was read for them); otherwise the regime's
    users, or with scope=account every user, sorted by name."""
    regime = lc.Regime(account.regime.onboarding_group, account.regime.current_users_policy or "")
    guards = check_guards(account)
    context = Context(
        regime=regime,
        guarding=trusted_regime(regime, guards),
        group_policies={name: group.managed_policies for name, group in account.groups.items()},
        enrollment=enrollment_documents(account),
        now=now,
        stale_after=datetime.timedelta(days=stale_after_days),
    )
    users = []
    for record in account.users:
        status = user_status(
            record,
            record.name in account.live,
            account.active_access_keys.get(record.name),
            context,
            access_keys=names is not None,
        )
        if names is None and scope == REGIME and status["stage"] == lc.UNMANAGED:
            continue
        users.append(status)
    return {
        "users": users,
        "summary": summary(users),
        "unassigned_virtual_mfa_devices": sorted(
            d.serial_number for d in account.virtual_mfa_devices if d.user is None
        ),
        "regime": {
            "onboarding_group": {
                "name": account.regime.onboarding_group,
                "arn": account.regime.onboarding_group_arn,
                "exists": account.regime.onboarding_group_exists,
                "guards": guards.onboarding_group,
                "grants_beyond_the_guard": list(guards.beyond),
            },
            "current_users_policy": {
                "arn": account.regime.current_users_policy,
                "exists": account.regime.current_users_policy_exists,
                "guards": guards.current_users_policy,
            },
        },
        "sources": _sources(account, now),
    }
