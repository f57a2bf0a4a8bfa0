# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading a whole account's IAM state into plain values, in a number of calls that grows with the pages of the
account rather than with its users: the one reader of the account for iam_onboard_user_info, and for test code
that wants a snapshot of every user (live=LIVE_ALL).

By default (live=LIVE_ONBOARDING) the account comes from four account-wide sources, each paginated:
GetAccountAuthorizationDetails (users with their groups, policies and tags; groups with theirs; the customer
managed policies with their documents), ListUsers (when each password was last used), IAM's credential report
(console passwords, MFA, active access keys: up to four hours old) and ListVirtualMFADevices. Where the age of the
credential report matters, users are read live, a few at a time: the members of the onboarding group (their
console password and MFA devices), users whose report says MFA is active but who hold no virtual device (to learn
the serials of their FIDO or hardware devices), and users the report does not know yet.

With names, or live=LIVE_ALL, users are read live one by one (_observe.read_user, with inline policies and access
keys) and the credential report is not read at all.

Nothing here decides what a state means: _status.py does.
"""

from __future__ import annotations

import csv
import datetime
import io
import time
import typing as t

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _iam
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import AccessKey
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import MfaDevice
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import UserRecord
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import login_profile_fields
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import read_access_keys
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import read_mfa_devices
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import read_user
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import user_fields
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._run import in_pool

# What is read live: the users for whom the account-wide sources may be too old (the default), or every user.
LIVE_ONBOARDING = "onboarding"
LIVE_ALL = "all"
# Live reads run a few at a time: IAM limits the request rate of the whole account.
CONCURRENCY = 4

# The names of the sources, as AccountRecord.sources keys them.
AUTHORIZATION_DETAILS = "account_authorization_details"
USERS = "users"
CREDENTIAL_REPORT = "credential_report"
VIRTUAL_MFA_DEVICES = "virtual_mfa_devices"
LIVE_READS = "live_reads"

# Waiting for a credential report that IAM is generating: the first pause, the longest, and the whole wait.
REPORT_FIRST_DELAY = 0.2
REPORT_MAX_DELAY = 5.0
REPORT_TIMEOUT = 60.0

_FILTERS_WITH_USERS = ("User", "Group", "LocalManagedPolicy")
_FILTERS_WITHOUT_USERS = ("Group", "LocalManagedPolicy")


class ReadError(Exception):
    """The account could not be read completely (other than through an API error); the message says why."""


class GroupRecord(t.NamedTuple):
    name: str
    arn: str
    path: str
    managed_policies: tuple[str, ...]
    inline_policies: dict[str, t.Any]  # name -> document


class PolicyRecord(t.NamedTuple):
    """A customer-managed policy, with its default version's document (None when IAM did not return it)."""

    arn: str
    name: str
    path: str
    default_version_id: str | None
    attachment_count: int | None
    document: dict[str, t.Any] | None


class VirtualMfaDevice(t.NamedTuple):
    serial_number: str
    user: str | None  # the name of the user it is assigned to; None: unassigned
    enable_date: datetime.datetime | None = None


class ReportRow(t.NamedTuple):
    """One user's line of IAM's credential report."""

    user: str
    arn: str
    password_enabled: bool
    password_last_changed: datetime.datetime | None
    password_last_used: datetime.datetime | None
    mfa_active: bool
    active_access_keys: int


class CredentialReport(t.NamedTuple):
    generated: datetime.datetime | None
    rows: dict[str, ReportRow]  # by user name


class Source(t.NamedTuple):
    """When a source was read (its last call returned) and, for the credential report, when IAM generated it."""

    read_at: datetime.datetime
    generated: datetime.datetime | None = None


class RegimeRecord(t.NamedTuple):
    """The guards as the account holds them. Names and ARNs as IAM spells them where they exist; the policy's ARN is
    None only when a name was given and the account holds nothing that says its id."""

    onboarding_group: str
    onboarding_group_arn: str | None
    onboarding_group_exists: bool
    current_users_policy: str | None
    current_users_policy_exists: bool


class AccountRecord(t.NamedTuple):
    """What IAM holds for an account, as plain values.

    users: sorted by name, or, with names, in their order (a user that does not exist has exists=False).
    live: the users whose console password and MFA devices were read live (the others' come from the credential
    report and the virtual MFA devices). active_access_keys: per existing user, from the live read or the report.
    policies: the customer-managed policies, by ARN.
    """

    partition: str | None
    account_id: str | None
    regime: RegimeRecord
    users: tuple[UserRecord, ...]
    live: frozenset[str]
    active_access_keys: dict[str, int | None]
    groups: dict[str, GroupRecord]
    policies: dict[str, PolicyRecord]
    virtual_mfa_devices: tuple[VirtualMfaDevice, ...]
    credential_report: CredentialReport | None
    sources: dict[str, Source]


def _by_name(name: str) -> tuple[str, str]:
    """Users sorted by name as IAM compares them (case-insensitively), ties in a fixed order."""
    return name.lower(), name


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


# The credential report


def _report_time(value: str) -> datetime.datetime | None:
    """A credential report date, or None for N/A, not_supported, no_information and the like."""
    if not value or not value[0].isdigit():
        return None
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        return None


def parse_credential_report(content: bytes | str) -> dict[str, ReportRow]:
    """The users' lines of a credential report (IAM's CSV), by user name; the root account's line is left out."""
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    rows = {}
    for line in csv.DictReader(io.StringIO(text)):
        name = line.get("user") or ""
        if not name or name == "<root_account>":
            continue
        rows[name] = ReportRow(
            user=name,
            arn=line.get("arn") or "",
            password_enabled=line.get("password_enabled") == "true",
            password_last_changed=_report_time(line.get("password_last_changed") or ""),
            password_last_used=_report_time(line.get("password_last_used") or ""),
            mfa_active=line.get("mfa_active") == "true",
            active_access_keys=sum(line.get(f"access_key_{n}_active") == "true" for n in (1, 2)),
        )
    return rows


def read_credential_report(
    client: t.Any,
    timeout: float = REPORT_TIMEOUT,
    sleep: t.Callable[[float], t.Any] = time.sleep,
    monotonic: t.Callable[[], float] = time.monotonic,
) -> CredentialReport:
    """GenerateCredentialReport until IAM says COMPLETE (pausing 0.2 s, then twice as long each time up to 5 s, for
    at most `timeout` seconds), then GetCredentialReport. Raises ReadError when the report is not ready in time."""
    deadline = monotonic() + timeout
    delay = REPORT_FIRST_DELAY
    state = _iam.generate_credential_report(client)
    while state != "COMPLETE":
        if monotonic() + delay > deadline:
            raise ReadError(
                f"IAM's credential report was not ready after {timeout:g} seconds (state {state}); try again later"
            )
        sleep(delay)
        delay = min(delay * 2, REPORT_MAX_DELAY)
        state = _iam.generate_credential_report(client)
    report = _iam.get_credential_report(client)
    return CredentialReport(report.get("GeneratedTime"), parse_credential_report(report["Content"]))


# GetAccountAuthorizationDetails


def _groups(details: list[dict[str, t.Any]]) -> dict[str, GroupRecord]:
    return {
        g["GroupName"]: GroupRecord(
            name=g["GroupName"],
            arn=g.get("Arn", ""),
            path=g.get("Path", "/"),
            managed_policies=tuple(p["PolicyArn"] for p in g.get("AttachedManagedPolicies") or []),
            inline_policies={p["PolicyName"]: p.get("PolicyDocument") for p in g.get("GroupPolicyList") or []},
        )
        for g in details
    }


def _policies(details: list[dict[str, t.Any]]) -> dict[str, PolicyRecord]:
    policies = {}
    for p in details:
        default = p.get("DefaultVersionId")
        documents = [v.get("Document") for v in p.get("PolicyVersionList") or [] if v.get("IsDefaultVersion")]
        policies[p["Arn"]] = PolicyRecord(
            arn=p["Arn"],
            name=p.get("PolicyName") or p["Arn"].rsplit("/", 1)[-1],
            path=p.get("Path", "/"),
            default_version_id=default,
            attachment_count=p.get("AttachmentCount"),
            document=documents[0] if documents and isinstance(documents[0], dict) else None,
        )
    return policies


def _detail_fields(user: dict[str, t.Any]) -> dict[str, t.Any]:
    """The UserRecord fields of a GetAccountAuthorizationDetails user item."""
    fields = user_fields(user)
    fields["groups"] = tuple(user.get("GroupList") or ())
    fields["managed_policies"] = tuple(p["PolicyArn"] for p in user.get("AttachedManagedPolicies") or [])
    fields["inline_policies"] = tuple(p["PolicyName"] for p in user.get("UserPolicyList") or [])
    return fields


def _virtual_devices(devices: list[dict[str, t.Any]]) -> tuple[VirtualMfaDevice, ...]:
    # Only the serial, the user and the date: IAM's list never holds a seed, but moto's does.
    return tuple(
        VirtualMfaDevice(d["SerialNumber"], (d.get("User") or {}).get("UserName"), d.get("EnableDate")) for d in devices
    )


def _find_group(groups: dict[str, GroupRecord], name: str) -> GroupRecord | None:
    """IAM names are case-insensitive: a group given in another case is found (and named as IAM spells it)."""
    return next((g for g in groups.values() if g.name.lower() == name.lower()), None)


def _regime(
    client: t.Any,
    onboarding_group: str,
    group: GroupRecord | None,
    current_users_policy: str,
    policies: dict[str, PolicyRecord],
    partition: str | None,
    account_id: str | None,
) -> RegimeRecord:
    """The guards, named as IAM spells them (IAM names are case-insensitive). A policy outside the account's
    customer-managed ones (an AWS-managed policy's ARN) costs one GetPolicy."""
    arn: str | None = None
    if current_users_policy.startswith("arn:") or account_id is not None:
        arn = lc.policy_arn_candidates(current_users_policy, partition or "aws", account_id or "")[0]
    exists = False
    if arn is not None:
        local = next((p.arn for p in policies.values() if p.arn.lower() == arn.lower()), None)
        if local is not None:
            arn, exists = local, True
        elif lc.account_of(arn)[1] != account_id:
            found = _iam.get_policy(client, arn)
            if found is not None:
                arn, exists = found["Arn"], True
    return RegimeRecord(
        onboarding_group=group.name if group else onboarding_group,
        onboarding_group_arn=group.arn if group else None,
        onboarding_group_exists=group is not None,
        current_users_policy=arn,
        current_users_policy_exists=exists,
    )


def _account_of(arns: t.Iterable[str | None]) -> tuple[str | None, str | None]:
    for arn in arns:
        if arn:
            partition, account_id = lc.account_of(arn)
            if account_id.isdigit():
                return partition, account_id
    return None, None


# Reading


def read_account(
    client: t.Any,
    onboarding_group: str,
    current_users_policy: str,
    *,
    names: t.Sequence[str] | None = None,
    live: str = LIVE_ONBOARDING,
    concurrency: int = CONCURRENCY,
    clock: t.Callable[[], datetime.datetime] = _utcnow,
    report_timeout: float = REPORT_TIMEOUT,
    sleep: t.Callable[[float], t.Any] = time.sleep,
) -> AccountRecord:
    """The account as IAM holds it (see the module's docstring for what is read how).

    names: only these users, each read live, in this order. live: LIVE_ONBOARDING (the default) or LIVE_ALL
    (every user read live, as test code snapshots an account). API errors raise amazon.aws's AnsibleIAMError; a
    credential report that IAM does not finish in time raises ReadError."""
    if live not in (LIVE_ONBOARDING, LIVE_ALL):
        raise ValueError(f"live must be {LIVE_ONBOARDING!r} or {LIVE_ALL!r}, not {live!r}")
    sources: dict[str, Source] = {}
    one_by_one = names is not None or live == LIVE_ALL
    details = _iam.get_account_authorization_details(
        client, _FILTERS_WITHOUT_USERS if one_by_one else _FILTERS_WITH_USERS
    )
    sources[AUTHORIZATION_DETAILS] = Source(clock())
    groups = _groups(details["GroupDetailList"])
    policies = _policies(details["Policies"])
    group = _find_group(groups, onboarding_group)
    group_name = group.name if group else onboarding_group

    report = None
    if one_by_one:
        if names is None:
            wanted = sorted((u["UserName"] for u in _iam.list_users(client)), key=_by_name)
            sources[USERS] = Source(clock())
        else:
            wanted = list(names)
        records = in_pool(wanted, lambda n: read_user(client, n, inline=True, access_keys=True), concurrency)
        if names is None:  # a user deleted since ListUsers was not asked for
            records = [r for r in records if r.exists]
        live_names = frozenset(r.name for r in records)
        keys = {r.name: sum(k.status == "Active" for k in r.access_keys or ()) for r in records if r.exists}
        sources[LIVE_READS] = Source(clock())
        devices = _virtual_devices(_iam.list_virtual_mfa_devices(client))
        sources[VIRTUAL_MFA_DEVICES] = Source(clock())
    else:
        last_used = {u["UserName"]: u.get("PasswordLastUsed") for u in _iam.list_users(client)}
        sources[USERS] = Source(clock())
        report = read_credential_report(client, report_timeout, sleep)
        sources[CREDENTIAL_REPORT] = Source(clock(), report.generated)
        devices = _virtual_devices(_iam.list_virtual_mfa_devices(client))
        sources[VIRTUAL_MFA_DEVICES] = Source(clock())
        records, live_names, keys = _from_sources(
            client, details["UserDetailList"], last_used, report, devices, group_name, concurrency
        )
        sources[LIVE_READS] = Source(clock())
        records = sorted(records, key=lambda r: _by_name(r.name))

    partition, account_id = _account_of(
        [p.arn for p in policies.values()]
        + [g.arn for g in groups.values()]
        + [r.arn for r in records]
        + [d.serial_number for d in devices]
    )
    regime = _regime(client, onboarding_group, group, current_users_policy, policies, partition, account_id)
    return AccountRecord(
        partition=partition,
        account_id=account_id,
        regime=regime,
        users=tuple(records),
        live=live_names,
        active_access_keys=keys,
        groups=groups,
        policies=policies,
        virtual_mfa_devices=devices,
        credential_report=report,
        sources=sources,
    )


def _from_sources(
    client: t.Any,
    details: list[dict[str, t.Any]],
    last_used: dict[str, t.Any],
    report: CredentialReport,
    devices: tuple[VirtualMfaDevice, ...],
    onboarding_group: str,
    concurrency: int,
) -> tuple[list[UserRecord], frozenset[str], dict[str, int | None]]:
    """The users from the account-wide sources, then the live reads where those may be too old or too coarse."""
    virtual: dict[str, list[MfaDevice]] = {}
    for device in devices:
        if device.user is not None:
            virtual.setdefault(device.user, []).append(MfaDevice(device.serial_number, device.enable_date))
    fields_of: dict[str, dict[str, t.Any]] = {}
    keys: dict[str, int | None] = {}
    # (name, what to read): everything the report would say, or only the MFA devices.
    work: list[tuple[str, bool]] = []
    for user in details:
        fields = _detail_fields(user)
        name = fields["name"]
        fields["password_last_used"] = last_used.get(name)
        fields["mfa_devices"] = tuple(virtual.get(name, ()))
        row = report.rows.get(name)
        if row is not None:
            fields.update(console_password=row.password_enabled, password_created=row.password_last_changed)
            keys[name] = row.active_access_keys
        fields_of[name] = fields
        if onboarding_group in fields["groups"] or row is None:
            work.append((name, True))
        elif row.mfa_active and not fields["mfa_devices"]:
            work.append((name, False))

    def read_live(item: tuple[str, bool]) -> tuple[str, dict[str, t.Any], tuple[AccessKey, ...] | None]:
        name, everything = item
        found: dict[str, t.Any] = {}
        if everything:
            found.update(login_profile_fields(_iam.get_login_profile(client, name)))
        found["mfa_devices"] = read_mfa_devices(client, name)
        # A user the report does not know yet: its access keys too.
        access_keys = read_access_keys(client, name) if name not in report.rows else None
        return name, found, access_keys

    live = set()
    for name, found, access_keys in in_pool(work, read_live, concurrency):
        fields_of[name].update(found)
        if "console_password" in found:
            live.add(name)
        if access_keys is not None:
            keys[name] = sum(k.status == "Active" for k in access_keys)
    return [UserRecord(**fields) for fields in fields_of.values()], frozenset(live), keys
