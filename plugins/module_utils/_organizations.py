# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every AWS Organizations call the collection makes (the aws_accounts inventory plugin's): one small function
each, retried, paginated, with typed errors; and the one reader that walks an organization into plain values.

Errors surface as AnsibleOrganizationsError (message plus the botocore exception). A parent (root or
organizational unit) that does not exist is not an error here: the calls that name one return None, and the
caller says which id it was. Nothing here decides which accounts become hosts: that is `_accounts.py`.
"""

from __future__ import annotations

import typing as t

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# What Organizations answers for a parent or unit id that names nothing in the organization.
MISSING_CODES = ["ParentNotFoundException", "ChildNotFoundException", "OrganizationalUnitNotFoundException"]
# Throttling (TooManyRequestsException) is among AWSRetry's defaults; ServiceException is Organizations' own
# transient failure ("try again later"). ConcurrentModificationException only concerns writes.
retry = AWSRetry.jittered_backoff(catch_extra_error_codes=["ServiceException"])

# The fields of an account that the inventory uses; the rest (e-mail, join date) never leaves this module.
ACCOUNT_FIELDS = ("Id", "Name", "Arn", "Status", "State")


class AnsibleOrganizationsError(AnsibleAWSError):
    pass


class OrganizationsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleOrganizationsError

    @classmethod
    def _is_missing(cls) -> t.Any:
        return is_boto3_error_code(MISSING_CODES)


class MissingParent(LookupError):
    """A root or organizational unit named in the configuration does not exist in the organization."""

    def __init__(self, parent_id: str) -> None:
        super().__init__(parent_id)
        self.parent_id = parent_id


def _all(client: t.Any, operation: str, key: str, **params: t.Any) -> list[t.Any]:
    """Every item of a paginated list call; the retried callers below retry the whole listing."""
    return client.get_paginator(operation).paginate(**params).build_full_result()[key]


def _account(account: dict[str, t.Any]) -> dict[str, t.Any]:
    return {key: account[key] for key in ACCOUNT_FIELDS if key in account}


@OrganizationsErrorHandler.common_error_handler("describe the organization")
@retry
def describe_organization(client: t.Any) -> dict[str, t.Any]:
    return client.describe_organization()["Organization"]


@OrganizationsErrorHandler.common_error_handler("list the roots of the organization")
@retry
def list_roots(client: t.Any) -> list[dict[str, t.Any]]:
    return _all(client, "list_roots", "Roots")


@OrganizationsErrorHandler.list_error_handler("describe organizational unit")
@retry
def describe_organizational_unit(client: t.Any, unit_id: str) -> dict[str, t.Any] | None:
    return client.describe_organizational_unit(OrganizationalUnitId=unit_id)["OrganizationalUnit"]


@OrganizationsErrorHandler.common_error_handler("list the accounts of the organization")
@retry
def list_accounts(client: t.Any) -> list[dict[str, t.Any]]:
    return [_account(a) for a in _all(client, "list_accounts", "Accounts")]


@OrganizationsErrorHandler.list_error_handler("list the accounts of a parent")
@retry
def list_accounts_for_parent(client: t.Any, parent_id: str) -> list[dict[str, t.Any]] | None:
    return [_account(a) for a in _all(client, "list_accounts_for_parent", "Accounts", ParentId=parent_id)]


@OrganizationsErrorHandler.list_error_handler("list the organizational units of a parent")
@retry
def list_organizational_units_for_parent(client: t.Any, parent_id: str) -> list[dict[str, t.Any]] | None:
    return _all(client, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent_id)


# Reading


def _accounts_of(client: t.Any, parent_id: str) -> list[dict[str, t.Any]]:
    accounts = list_accounts_for_parent(client, parent_id)
    if accounts is None:
        raise MissingParent(parent_id)
    return accounts


def _units_under(client: t.Any, parent_id: str) -> list[dict[str, t.Any]]:
    units = list_organizational_units_for_parent(client, parent_id)
    if units is None:
        raise MissingParent(parent_id)
    return units


def read_organization(client: t.Any, parents: list[str], include_children: bool, with_units: bool) -> dict[str, t.Any]:
    """What the inventory needs of the organization, as plain values (and so as the cache holds it):

    - `management_account_id`: from DescribeOrganization;
    - `accounts`: every account listed (any status), once each, in the order listed: ListAccounts when
      `parents` is empty, else ListAccountsForParent for each parent (and, with `include_children`, for each
      unit below it, found with ListOrganizationalUnitsForParent);
    - `units`: with `with_units`, every root and organizational unit visited, `{id, name, parent_id, root}`
      (`parent_id` None where it was not read: a root, or a unit named in `parents`);
    - `parent_of`: with `with_units`, account id -> the id of the root or unit directly above it.

    Raises MissingParent (naming the id) when a parent or unit does not exist, before anything is returned.
    """
    organization = describe_organization(client)
    accounts: dict[str, dict[str, t.Any]] = {}
    units: dict[str, dict[str, t.Any]] = {}
    parent_of: dict[str, str] = {}
    # (parent id, with its children): a unit named twice, or named and also below another named one, is read once.
    visited: set[tuple[str, bool]] = set()

    def visit(parent_id: str, recurse: bool) -> None:
        if (parent_id, recurse) in visited or (parent_id, True) in visited:
            return
        visited.add((parent_id, recurse))
        for account in _accounts_of(client, parent_id):
            accounts.setdefault(account["Id"], account)
            parent_of[account["Id"]] = parent_id
        if not recurse:
            return
        for unit in _units_under(client, parent_id):
            units[unit["Id"]] = {"id": unit["Id"], "name": unit["Name"], "parent_id": parent_id, "root": False}
            visit(unit["Id"], recurse)

    if not parents:
        for account in list_accounts(client):
            accounts.setdefault(account["Id"], account)
        if with_units:
            for root in list_roots(client):
                units[root["Id"]] = {"id": root["Id"], "name": root.get("Name"), "parent_id": None, "root": True}
                for unit in _units_under(client, root["Id"]):
                    units[unit["Id"]] = {"id": unit["Id"], "name": unit["Name"], "parent_id": root["Id"], "root": False}
                    visit(unit["Id"], True)
                # Every account that no unit holds sits directly under the root (an organization has one root).
                for account_id in accounts:
                    parent_of.setdefault(account_id, root["Id"])
    else:
        for parent_id in parents:
            is_root = parent_id.startswith("r-")
            if with_units and parent_id not in units:
                name = None
                if not is_root:
                    unit = describe_organizational_unit(client, parent_id)
                    if unit is None:
                        raise MissingParent(parent_id)
                    name = unit["Name"]
                units[parent_id] = {"id": parent_id, "name": name, "parent_id": None, "root": is_root}
            visit(parent_id, include_children)
    return {
        "management_account_id": organization.get("MasterAccountId"),
        "accounts": list(accounts.values()),
        "units": list(units.values()) if with_units else [],
        "parent_of": parent_of if with_units else {},
    }
