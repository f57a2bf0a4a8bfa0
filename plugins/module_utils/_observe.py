# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading IAM into plain values: one user (UserRecord), and the account-level facts a run of iam_onboard_user
needs (Account). The reads go through the boto3 layer (_iam.py); nothing here decides: the core (_lifecycle.py)
says what a state means and what else must be read.
"""

from __future__ import annotations

import datetime
import json
import threading
import typing as t
import urllib.parse

from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _iam
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _leaving
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import from_api


class MfaDevice(t.NamedTuple):
    serial_number: str
    enable_date: datetime.datetime | None = None


class AccessKey(t.NamedTuple):
    access_key_id: str
    status: str
    create_date: datetime.datetime | None = None
    last_used: datetime.datetime | None = None


class UserRecord(t.NamedTuple):
    """What IAM holds for one user, as plain values. A field that was not read is None."""

    name: str
    exists: bool
    arn: str | None = None
    user_id: str | None = None
    path: str | None = None
    create_date: datetime.datetime | None = None
    tags: tuple[tuple[str, str], ...] = ()
    groups: tuple[str, ...] | None = None
    managed_policies: tuple[str, ...] | None = None
    inline_policies: tuple[str, ...] | None = None
    console_password: bool | None = None
    password_created: datetime.datetime | None = None
    password_reset_required: bool | None = None
    password_last_used: datetime.datetime | None = None
    mfa_devices: tuple[MfaDevice, ...] | None = None
    access_keys: tuple[AccessKey, ...] | None = None
    # (id, status) pairs; read for the end of the lifecycle only.
    certificates: tuple[tuple[str, str], ...] | None = None
    ssh_keys: tuple[tuple[str, str], ...] | None = None
    service_credentials: tuple[tuple[str, str], ...] | None = None
    unassigned_virtual_mfa: tuple[str, ...] | None = None


def tag_pairs(tags: list[dict[str, str]] | None) -> tuple[tuple[str, str], ...]:
    """IAM's tag list as sorted (key, value) pairs."""
    return tuple(sorted(boto3_tag_list_to_ansible_dict(tags or []).items()))


def user_fields(user: dict[str, t.Any]) -> dict[str, t.Any]:
    """The UserRecord fields of a GetUser, ListUsers or GetAccountAuthorizationDetails user item."""
    return {
        "name": user["UserName"],
        "exists": True,
        "arn": user.get("Arn"),
        "user_id": user.get("UserId"),
        "path": user.get("Path"),
        "create_date": user.get("CreateDate"),
        "tags": tag_pairs(user.get("Tags")),
        "password_last_used": user.get("PasswordLastUsed"),
    }


def login_profile_fields(profile: dict[str, t.Any] | None) -> dict[str, t.Any]:
    """The UserRecord fields of a GetLoginProfile result (None: the user has no console password)."""
    if profile is None:
        return {"console_password": False, "password_created": None, "password_reset_required": None}
    return {
        "console_password": True,
        "password_created": profile.get("CreateDate"),
        "password_reset_required": bool(profile.get("PasswordResetRequired")),
    }


def read_mfa_devices(client: t.Any, name: str) -> tuple[MfaDevice, ...]:
    """Every MFA device of the user, of any kind (virtual, FIDO, hardware)."""
    return tuple(MfaDevice(d["SerialNumber"], d.get("EnableDate")) for d in _iam.list_mfa_devices(client, name))


def read_access_keys(client: t.Any, name: str, last_used: bool = False) -> tuple[AccessKey, ...]:
    """The user's access keys; with last_used, when each was last used (one more call per key)."""
    keys = []
    for key in _iam.list_access_keys(client, name):
        used = _iam.get_access_key_last_used(client, key["AccessKeyId"]) if last_used else None
        keys.append(AccessKey(key["AccessKeyId"], key["Status"], key.get("CreateDate"), used))
    return tuple(keys)


def read_user(client: t.Any, name: str, *, inline: bool = False, access_keys: bool = False) -> UserRecord:
    """One user, read live: GetUser, GetLoginProfile, ListMFADevices, ListGroupsForUser,
    ListAttachedUserPolicies (in that order), and, when asked, its inline policies and access keys."""
    user = _iam.get_user(client, name)
    if user is None:
        return UserRecord(name, exists=False)
    fields = user_fields(user)
    fields.update(login_profile_fields(_iam.get_login_profile(client, name)))
    fields["mfa_devices"] = read_mfa_devices(client, name)
    fields["groups"] = tuple(_iam.list_groups_for_user(client, name))
    fields["managed_policies"] = tuple(_iam.list_attached_user_policies(client, name))
    if inline:
        fields["inline_policies"] = tuple(_iam.list_user_policies(client, name))
    if access_keys:
        fields["access_keys"] = read_access_keys(client, name, last_used=True)
    return UserRecord(**fields)


def observed(record: UserRecord, group_policies: t.Iterable[str] = ()) -> lc.Observed:
    """The core's view of a user record."""
    if not record.exists:
        return lc.Observed(exists=False)
    return lc.Observed(
        exists=True,
        groups=record.groups or (),
        policies=record.managed_policies or (),
        has_login_profile=bool(record.console_password),
        mfa_devices=tuple(d.serial_number for d in record.mfa_devices or ()),
        tags=record.tags,
        group_policies=tuple(sorted(set(group_policies))),
        signed_in=record.password_last_used is not None,
        inline_policies=record.inline_policies or (),
        active_keys=tuple(k.access_key_id for k in record.access_keys or () if k.status == "Active"),
        inactive_keys=tuple(k.access_key_id for k in record.access_keys or () if k.status != "Active"),
        certificates=record.certificates or (),
        ssh_keys=record.ssh_keys or (),
        service_credentials=record.service_credentials or (),
        unassigned_virtual_mfa=record.unassigned_virtual_mfa or (),
    )


class AccountError(Exception):
    """The account cannot be worked on (a guard does not exist or does not guard): nothing was changed for
    anyone. A group or policy that a user names and that does not exist fails that user only."""


class Account:
    """The account-level facts of one run of iam_onboard_user, read once: the guards (the onboarding group and the
    current-users policy), the password policy (for a state that sets passwords), and the policies attached to
    groups (read on demand, shared between the run's threads)."""

    def __init__(self, client: t.Any, onboarding_group: str, current_users_policy: str, state: str) -> None:
        group = _iam.get_group(client, onboarding_group)
        if group is None:
            raise AccountError(
                f"onboarding_group: the group {onboarding_group} does not exist; run the "
                "mfa_onboarding.iam.bootstrap role first"
            )
        self.partition, self.account_id = lc.account_of(group["Arn"])
        self.console_url = lc.console_url(self.partition, self.account_id)
        current = lc.policy_arn_candidates(current_users_policy, self.partition, self.account_id)[0]
        # Needed in both states: without it a promoted user would look like one outside the regime.
        policy = _iam.get_policy(client, current)
        if policy is None:
            raise AccountError(
                f"current_users_policy: {current} does not exist; run the mfa_onboarding.iam.bootstrap role first, "
                "or give the policy's ARN if it has a path"
            )
        # The group's name as IAM holds it: IAM names are case-insensitive, so GetGroup(notyetloginusers) returns
        # NotYetLoginUsers, the name that ListGroupsForUser shows and that the stage is decided by.
        self.regime = lc.Regime(group["GroupName"], current)
        self._group_policies: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()
        # Warnings about the run as a whole (not about one of its users).
        self.warnings: list[str] = []
        # Returns the ARN of the run's own identity (asked at most once, only when needed); None: not known.
        self.caller: t.Callable[[], str] | None = None
        self._caller_arn: str | None = None
        self._unassigned: tuple[str, ...] | None = None
        # The documents of the onboarding group's policies, as _verify_guards read them: what a user without MFA may
        # do for itself (lc.enrollment_problem decides from them whether a user can register MFA).
        self.guard_documents: tuple[t.Any, ...] = ()
        self._verify_guards(client, group["GroupName"], policy)
        self.password_settings = None
        if lc.PASSWORD_POLICY in lc.account_reads(state):
            self.password_settings = from_api(_iam.get_account_password_policy(client))

    def user_arn(self, path: str, name: str) -> str:
        """The ARN IAM gives a new user of this account."""
        return lc.user_arn(self.partition, self.account_id, path, name)

    def enrollment_problem(self, arn: str, name: str) -> str | None:
        """Why the user could not replace its temporary password and register MFA under the onboarding group's
        policies (lc.enrollment_problem), or None."""
        return lc.enrollment_problem(self.guard_documents, arn, name)

    def _verify_guards(self, client: t.Any, group: str, policy: dict[str, t.Any]) -> None:
        """Invariant 7, before any write: the guards are read, not trusted by name (a few reads per run)."""
        attached = tuple(_iam.list_attached_group_policies(client, group))
        self._group_policies[self.regime.onboarding_group] = attached
        documents: dict[str, t.Any] = {}
        for arn in attached:
            found = policy if arn == policy["Arn"] else _iam.get_policy(client, arn)
            documents[arn] = None if found is None else _policy_document(client, found)
        for name in _iam.list_group_policies(client, group):
            documents[f"inline policy {name}"] = _as_document(_iam.get_group_policy(client, group, name))
        self.guard_documents = tuple(d for d in documents.values() if isinstance(d, dict))
        problems = lc.guard_problems(group, documents, policy["Arn"], _policy_document(client, policy))
        if problems:
            raise AccountError("; ".join(problems) + "; nothing was changed")

    def read_grants(self, client: t.Any, groups: t.Iterable[str], references: t.Iterable[str]) -> lc.GrantReads:
        """What IAM holds for the groups and policy references a run's users name, read once per run (not once
        per user) and before the first write; nothing is refused here (lc.resolve_grants decides, per user).

        One GetGroup per distinct group name, and one GetPolicy per candidate of each distinct reference: one for
        an ARN, two for a name (customer-managed and AWS-managed, so that a name that exists as both is seen to
        be ambiguous)."""
        found_groups = {}
        for name in dict.fromkeys(groups):
            group = _iam.get_group(client, name)
            found_groups[name] = None if group is None else group["GroupName"]
        policies: dict[str, str | None] = {}
        candidates = {}
        for reference in dict.fromkeys(references):
            arns = lc.policy_arn_candidates(reference, self.partition, self.account_id)
            for arn in arns:
                if arn not in policies:
                    policy = _iam.get_policy(client, arn)
                    policies[arn] = None if policy is None else policy["Arn"]
            candidates[reference] = tuple((arn, policies[arn]) for arn in arns)
        return lc.GrantReads(found_groups, candidates)

    def unassigned_virtual_mfa(self, client: t.Any, name: str) -> tuple[str, ...]:
        """The account's unassigned virtual MFA devices named after the user (listed once per run): one left by an
        interrupted offboarding, or by a registration given up halfway, blocks the name."""
        with self._lock:
            if self._unassigned is None:
                self._unassigned = tuple(d["SerialNumber"] for d in _iam.list_virtual_mfa_devices(client, "Unassigned"))
        return tuple(s for s in self._unassigned if _leaving.device_owner(s) == name.lower())

    def is_caller(self, arn: str | None) -> bool:
        """Whether a user's ARN is the run's own identity (ARNs compared as IAM compares names: ignoring case)."""
        if arn is None or self.caller is None:
            return False
        with self._lock:
            if self._caller_arn is None:
                self._caller_arn = self.caller()
        return self._caller_arn.lower() == arn.lower()

    def group_policies(self, client: t.Any, group: str) -> tuple[str, ...]:
        """ARNs attached to a group, read once per run (threads share the cache)."""
        with self._lock:
            if group in self._group_policies:
                return self._group_policies[group]
        arns = tuple(_iam.list_attached_group_policies(client, group))
        with self._lock:
            self._group_policies[group] = arns
        return arns


def pending_users(client: t.Any, regime: lc.Regime) -> list[str]:
    """The names of the account's users that wait for a handover (one GetAccountAuthorizationDetails listing of
    the users, with their groups and tags: about one call per 1,000 users)."""
    details = _iam.get_account_authorization_details(client, ["User"])
    return [
        user["UserName"]
        for user in details.get("UserDetailList") or []
        if lc.pending_handover(
            user.get("GroupList") or (), boto3_tag_list_to_ansible_dict(user.get("Tags") or []), regime
        )
    ]


def ready_candidates(client: t.Any, regime: lc.Regime) -> list[str]:
    """The names of the account's users that are ready if they have an MFA device: in the onboarding group, and not
    disabled (the lifecycle's stage, from one GetAccountAuthorizationDetails listing of the users with their
    groups, policies and tags: about one call per 1,000 users). Sorted as IAM compares names."""
    details = _iam.get_account_authorization_details(client, ["User"])
    names = []
    for user in details.get("UserDetailList") or []:
        view = lc.Observed(
            exists=True,
            groups=tuple(user.get("GroupList") or ()),
            policies=tuple(p["PolicyArn"] for p in user.get("AttachedManagedPolicies") or ()),
            tags=tag_pairs(user.get("Tags")),
            mfa_devices=("an MFA device",),
        )
        if lc.stage(view, regime) == lc.READY:
            names.append(user["UserName"])
    return sorted(names, key=lambda n: (n.lower(), n))


def _as_document(value: t.Any) -> t.Any:
    """A policy document as IAM returned it: a dict (boto3 decoded it) or URL-encoded JSON; None when unreadable."""
    if isinstance(value, str):
        try:
            return json.loads(urllib.parse.unquote(value))
        except ValueError:
            return None
    return value


def _policy_document(client: t.Any, policy: dict[str, t.Any]) -> t.Any:
    """A managed policy's default version's document (GetPolicyVersion)."""
    return _as_document(_iam.get_policy_document(client, policy["Arn"], policy["DefaultVersionId"]))


def observe_user(
    client: t.Any, name: str, account: Account, state: str = lc.PROMOTED, unassigned_mfa: bool = False
) -> tuple[UserRecord, lc.Observed]:
    """One user for iam_onboard_user: its record, and the core's view of it, with the policies of its groups
    when the core says they decide its stage, and, for an onboarding run, its inline policies and access keys
    when the core says they decide the plan (an existing user without MFA: two more reads). The leaving states
    read every credential, and, for offboarding (or expiry with unassigned_mfa), the unassigned virtual MFA
    devices named after the user."""
    devices = state == lc.ABSENT or (state == lc.EXPIRED and unassigned_mfa)
    record = read_user(client, name)
    view = observed(record)
    via_groups: list[str] = []
    if lc.needs_group_policies(view, account.regime):
        via_groups = [arn for group in view.groups for arn in account.group_policies(client, group)]
        view = observed(record, via_groups)
    if state in lc.LEAVING_STATES and record.exists:
        record = record._replace(
            inline_policies=tuple(_iam.list_user_policies(client, name)),
            access_keys=read_access_keys(client, name),
            certificates=tuple((c["CertificateId"], c["Status"]) for c in _iam.list_signing_certificates(client, name)),
            ssh_keys=tuple((k["SSHPublicKeyId"], k["Status"]) for k in _iam.list_ssh_public_keys(client, name)),
            service_credentials=tuple(
                (c["ServiceSpecificCredentialId"], c["Status"])
                for c in _iam.list_service_specific_credentials(client, name)
            ),
            unassigned_virtual_mfa=account.unassigned_virtual_mfa(client, name) if devices else (),
        )
        return record, observed(record, via_groups)
    if state == lc.ONBOARDING and lc.needs_credential_reads(view, account.regime):
        record = record._replace(
            inline_policies=tuple(_iam.list_user_policies(client, name)), access_keys=read_access_keys(client, name)
        )
        view = observed(record, via_groups)
    return record, view


def inline_documents(client: t.Any, name: str, policy_names: t.Iterable[str]) -> dict[str, t.Any]:
    """The documents of the user's inline policies that a run is about to delete, for its result: an inline
    policy has no copy elsewhere, so the operator can restore it from there."""
    return {policy: _as_document(_iam.get_user_policy(client, name, policy)) for policy in policy_names}
