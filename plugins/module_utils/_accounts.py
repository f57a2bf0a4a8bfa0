# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which accounts of an organization become inventory hosts, with which variables and in which groups (pure).

The aws_accounts inventory plugin validates its options here before any call, reads the organization with
`_organizations.read_organization` and hands what it read to `build_inventory`, which returns plain values:

    {"hosts": {account id: {variable: value}},
     "groups": {group name: {"hosts": [...], "children": [...], "vars": {...}}},
     "warnings": [...]}

The rules, in the order they apply:
1. only ACTIVE accounts (`State`, or the older `Status` where `State` is absent): a suspended, closed or
   pending account is never a host;
2. the management account only with `include_management_account` (see the plugin's notes for why not by default);
3. `exclude_accounts` always wins; a non-empty `include_accounts` keeps only the ids it names.
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import ValidationError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_name
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_path

DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
# The group of every host, and the group of the accounts directly under the organization's root.
ALL_ACCOUNTS_GROUP = "aws_accounts"
ROOT_GROUP = "org_root"
UNIT_GROUP_PREFIX = "ou_"

_ACCOUNT_ID = re.compile(r"\d{12}", re.ASCII)
# Organizations' own patterns for a root id and an organizational unit id.
_ROOT_ID = re.compile(r"r-[0-9a-z]{4,32}", re.ASCII)
_UNIT_ID = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}", re.ASCII)
_PARTITION = re.compile(r"arn:(aws[a-z-]*):", re.ASCII)
_NOT_IN_GROUP_NAME = re.compile(r"[^a-z0-9]+", re.ASCII)


# Validation (before any call)


def validate_account_ids(ids: t.Iterable[t.Any] | None, option: str) -> list[str]:
    """Twelve-digit account ids, as strings (YAML may hand an unquoted id over as an integer, which loses
    leading zeros: refused, with the hint to quote it)."""
    result = []
    for value in ids or []:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValidationError(f"{option}: {value!r} is not an AWS account id (12 digits)")
        if isinstance(value, int):
            raise ValidationError(
                f"{option}: {value!r} is a number; write the account id as a quoted string of 12 digits "
                "(YAML drops leading zeros)"
            )
        if not _ACCOUNT_ID.fullmatch(value):
            raise ValidationError(f"{option}: {value!r} is not an AWS account id (12 digits)")
        result.append(value)
    return result


def validate_parent_ids(ids: t.Iterable[t.Any] | None, option: str = "organizational_units") -> list[str]:
    """Organizational unit ids (ou-xxxx-xxxxxxxx), or the root's id (r-xxxx)."""
    result = []
    for value in ids or []:
        if not isinstance(value, str) or not (_UNIT_ID.fullmatch(value) or _ROOT_ID.fullmatch(value)):
            raise ValidationError(
                f"{option}: {value!r} is not an organizational unit id (ou-<root>-<unit>, for example "
                "ou-ab12-cdef3456) nor a root id (r-ab12)"
            )
        if value not in result:
            result.append(value)
    return result


def validate_role_name(role_name: t.Any, option: str = "role_name") -> str:
    """An IAM role name, optionally after its path (`path/to/Name`); returns the ARN's resource part after
    `role/` (`path/to/Name`). An ARN is refused: the plugin builds one per account."""
    if not isinstance(role_name, str) or not role_name:
        raise ValidationError(f"{option}: must be an IAM role name, for example {DEFAULT_ROLE_NAME}")
    if role_name.startswith("arn:"):
        raise ValidationError(
            f"{option}: {role_name!r} is an ARN; give the role's name (and path, if any), which the plugin turns into "
            "one ARN per account"
        )
    *path, name = role_name.lstrip("/").split("/")
    validate_name("role", name, option)
    if path:
        validate_path("/" + "/".join(path) + "/", option)
    return "/".join([*path, name])


# Values


def partition_of(arn: str | None) -> str:
    """The partition (aws, aws-cn, aws-us-gov) of an Organizations ARN; `aws` when there is none."""
    match = _PARTITION.match(arn or "")
    return match.group(1) if match else "aws"


def role_arn(partition: str, account_id: str, role: str) -> str:
    return f"arn:{partition}:iam::{account_id}:role/{role}"


def is_active(account: t.Mapping[str, t.Any]) -> bool:
    """Organizations replaces `Status` (ACTIVE, SUSPENDED, PENDING_CLOSURE) with `State` (adding
    PENDING_ACTIVATION and CLOSED); `State` is read when it is there."""
    return (account.get("State") or account.get("Status")) == "ACTIVE"


def safe_group_name(text: str) -> str:
    """Lower-case letters, digits and single underscores: a valid Ansible group name (after a prefix)."""
    return _NOT_IN_GROUP_NAME.sub("_", text.lower()).strip("_")


def unit_group_name(unit: t.Mapping[str, t.Any], naming: str) -> str:
    if unit.get("root"):
        return ROOT_GROUP
    name = safe_group_name(unit["name"] or "") if naming == "name" else ""
    return UNIT_GROUP_PREFIX + (name or safe_group_name(unit["id"][len("ou-") :]))


# Selection


def select_accounts(
    accounts: list[dict[str, t.Any]],
    management_account_id: str | None,
    include_management_account: bool,
    include_accounts: list[str],
    exclude_accounts: list[str],
) -> tuple[list[dict[str, t.Any]], list[str]]:
    """The accounts that become hosts (sorted by id), and warnings for what the configuration named in vain."""
    warnings = []
    by_id = {a["Id"]: a for a in accounts}
    chosen = []
    for account_id in sorted(by_id):
        account = by_id[account_id]
        if not is_active(account):
            continue
        if account_id == management_account_id and not include_management_account:
            continue
        if account_id in exclude_accounts:
            continue
        if include_accounts and account_id not in include_accounts:
            continue
        chosen.append(account)
    for account_id in include_accounts:
        if account_id in exclude_accounts:
            warnings.append(f"include_accounts: {account_id} is also in exclude_accounts, which wins; no host for it")
        elif account_id == management_account_id and not include_management_account:
            warnings.append(
                f"include_accounts: {account_id} is the management account, left out while "
                "include_management_account is false"
            )
        elif account_id not in by_id:
            warnings.append(f"include_accounts: {account_id} is not among the accounts listed; no host for it")
        elif not is_active(by_id[account_id]):
            state = by_id[account_id].get("State") or by_id[account_id].get("Status")
            warnings.append(f"include_accounts: {account_id} is {state}, not ACTIVE; no host for it")
    return chosen, warnings


def build_inventory(
    organization: t.Mapping[str, t.Any],
    *,
    role: str,
    include_management_account: bool = False,
    include_accounts: list[str] | None = None,
    exclude_accounts: list[str] | None = None,
    group_naming: str = "name",
) -> dict[str, t.Any]:
    """Hosts, groups and warnings from what `read_organization` returned (see the module docstring).

    Hosts are named by account id: unique, stable (an account's name can change and need not be unique) and a
    valid inventory hostname. Every host is in `aws_accounts`. With units read, each root or organizational unit
    visited is a group (empty ones too), holding the accounts directly under it; a unit's group is a child of its
    parent unit's group (not of the root's), so `ou_workloads` also reaches the accounts of `ou_prod` below it.
    Raises ValidationError when two units would get one group name.
    """
    chosen, warnings = select_accounts(
        list(organization["accounts"]),
        organization.get("management_account_id"),
        include_management_account,
        include_accounts or [],
        exclude_accounts or [],
    )
    hosts = {
        a["Id"]: {
            "aws_account_id": a["Id"],
            "aws_account_name": a.get("Name", ""),
            "mfa_onboarding_role_arn": role_arn(partition_of(a.get("Arn")), a["Id"], role),
        }
        for a in chosen
    }
    groups: dict[str, dict[str, t.Any]] = {ALL_ACCOUNTS_GROUP: {"hosts": sorted(hosts), "children": [], "vars": {}}}
    names: dict[str, str] = {}
    owner: dict[str, str] = {}
    for unit in organization.get("units", []):
        name = unit_group_name(unit, group_naming)
        if name in owner and owner[name] != unit["id"]:
            raise ValidationError(
                f"organizational units {owner[name]} and {unit['id']} would both be the group {name}; set "
                "organizational_unit_group_name to id"
            )
        owner[name] = unit["id"]
        names[unit["id"]] = name
        if unit.get("root"):
            group_vars = {"aws_organization_root_id": unit["id"]}
        else:
            group_vars = {"aws_organizational_unit_id": unit["id"], "aws_organizational_unit_name": unit["name"]}
        groups[name] = {"hosts": [], "children": [], "vars": group_vars}
    for unit in organization.get("units", []):
        parent = unit.get("parent_id")
        if parent in names and not unit.get("root") and not _is_root(organization, parent):
            groups[names[parent]]["children"].append(names[unit["id"]])
    parent_of = organization.get("parent_of", {})
    for account_id in sorted(hosts):
        parent = parent_of.get(account_id)
        if parent in names:
            groups[names[parent]]["hosts"].append(account_id)
    for group in groups.values():
        group["children"].sort()
    return {"hosts": hosts, "groups": groups, "warnings": warnings}


def _is_root(organization: t.Mapping[str, t.Any], unit_id: str) -> bool:
    return any(u["id"] == unit_id and u.get("root") for u in organization.get("units", []))
