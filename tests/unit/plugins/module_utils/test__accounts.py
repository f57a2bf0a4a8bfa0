# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which accounts become hosts, their variables and groups (plugins/module_utils/_accounts.py), without AWS."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _accounts
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import ValidationError

MANAGEMENT = "111111111111"
WEB = "222222222222"
API = "333333333333"
LAB = "444444444444"
OLD = "555555555555"


def account(account_id: str, name: str, state: str | None = "ACTIVE", status: str | None = None) -> dict[str, t.Any]:
    record: dict[str, t.Any] = {
        "Id": account_id,
        "Name": name,
        "Arn": f"arn:aws:organizations::{MANAGEMENT}:account/o-x/{account_id}",
    }
    if state is not None:
        record["State"] = state
    if status is not None:
        record["Status"] = status
    return record


ACCOUNTS = [
    account(MANAGEMENT, "management"),
    account(WEB, "web"),
    account(API, "api"),
    account(LAB, "lab"),
    account(OLD, "old", state="SUSPENDED"),
]


def organization(**extra: t.Any) -> dict[str, t.Any]:
    return {"management_account_id": MANAGEMENT, "accounts": ACCOUNTS, "units": [], "parent_of": {}, **extra}


@pytest.mark.parametrize(
    ("record", "active"),
    [
        ({"State": "ACTIVE"}, True),
        ({"Status": "ACTIVE"}, True),
        ({"State": "ACTIVE", "Status": "ACTIVE"}, True),
        ({"State": "SUSPENDED", "Status": "SUSPENDED"}, False),
        ({"State": "PENDING_CLOSURE", "Status": "PENDING_CLOSURE"}, False),
        # State is the newer field: an account being activated still says ACTIVE in the deprecated Status.
        ({"State": "PENDING_ACTIVATION", "Status": "ACTIVE"}, False),
        ({"State": "CLOSED", "Status": "SUSPENDED"}, False),
        ({}, False),
    ],
)
def test_only_an_active_account_is_active(record: dict[str, str], active: bool) -> None:
    assert _accounts.is_active(record) is active


def test_the_hosts_are_the_active_member_accounts_by_id() -> None:
    built = _accounts.build_inventory(organization(), role="OrganizationAccountAccessRole")

    assert built["hosts"] == {
        account_id: {
            "aws_account_id": account_id,
            "aws_account_name": name,
            "mfa_onboarding_role_arn": f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        }
        for account_id, name in ((WEB, "web"), (API, "api"), (LAB, "lab"))
    }
    assert built["groups"] == {"aws_accounts": {"hosts": [WEB, API, LAB], "children": [], "vars": {}}}
    assert built["warnings"] == []


def test_the_management_account_is_a_host_only_when_asked() -> None:
    built = _accounts.build_inventory(organization(), role="R", include_management_account=True)

    assert sorted(built["hosts"]) == [MANAGEMENT, WEB, API, LAB]


@pytest.mark.parametrize(
    ("include", "exclude", "hosts", "warnings"),
    [
        ([], [API], [WEB, LAB], []),
        ([WEB, API], [], [WEB, API], []),
        ([WEB, API], [API], [WEB], [f"include_accounts: {API} is also in exclude_accounts, which wins"]),
        ([WEB, OLD], [], [WEB], [f"include_accounts: {OLD} is SUSPENDED, not ACTIVE"]),
        ([MANAGEMENT], [], [], [f"include_accounts: {MANAGEMENT} is the management account"]),
        (["999999999999"], [], [], ["include_accounts: 999999999999 is not among the accounts listed"]),
    ],
)
def test_include_and_exclude(include: list[str], exclude: list[str], hosts: list[str], warnings: list[str]) -> None:
    built = _accounts.build_inventory(organization(), role="R", include_accounts=include, exclude_accounts=exclude)

    assert sorted(built["hosts"]) == sorted(hosts)
    assert len(built["warnings"]) == len(warnings)
    for got, expected in zip(built["warnings"], warnings):
        assert got.startswith(expected)


def test_groups_follow_the_units_and_nested_units_are_child_groups() -> None:
    units = [
        {"id": "r-ab12", "name": "Root", "parent_id": None, "root": True},
        {"id": "ou-ab12-11111111", "name": "Workloads", "parent_id": "r-ab12", "root": False},
        {"id": "ou-ab12-22222222", "name": "Prod (EU)", "parent_id": "ou-ab12-11111111", "root": False},
        {"id": "ou-ab12-33333333", "name": "Empty", "parent_id": "r-ab12", "root": False},
    ]
    parent_of = {MANAGEMENT: "r-ab12", WEB: "ou-ab12-11111111", API: "ou-ab12-22222222", LAB: "r-ab12"}

    groups = _accounts.build_inventory(organization(units=units, parent_of=parent_of), role="R")["groups"]

    assert groups == {
        "aws_accounts": {"hosts": [WEB, API, LAB], "children": [], "vars": {}},
        "org_root": {"hosts": [LAB], "children": [], "vars": {"aws_organization_root_id": "r-ab12"}},
        "ou_workloads": {
            "hosts": [WEB],
            "children": ["ou_prod_eu"],
            "vars": {"aws_organizational_unit_id": "ou-ab12-11111111", "aws_organizational_unit_name": "Workloads"},
        },
        "ou_prod_eu": {
            "hosts": [API],
            "children": [],
            "vars": {"aws_organizational_unit_id": "ou-ab12-22222222", "aws_organizational_unit_name": "Prod (EU)"},
        },
        "ou_empty": {
            "hosts": [],
            "children": [],
            "vars": {"aws_organizational_unit_id": "ou-ab12-33333333", "aws_organizational_unit_name": "Empty"},
        },
    }


def test_two_units_with_one_group_name_are_refused_naming_both_and_id_naming_separates_them() -> None:
    units = [
        {"id": "ou-ab12-11111111", "name": "Prod", "parent_id": None, "root": False},
        {"id": "ou-ab12-22222222", "name": "prod", "parent_id": None, "root": False},
    ]

    with pytest.raises(ValidationError, match="ou-ab12-11111111 and ou-ab12-22222222 would both be the group ou_prod"):
        _accounts.build_inventory(organization(units=units), role="R")
    groups = _accounts.build_inventory(organization(units=units), role="R", group_naming="id")["groups"]
    assert sorted(groups) == ["aws_accounts", "ou_ab12_11111111", "ou_ab12_22222222"]


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("Workloads", "ou_workloads"),
        ("Prod Workloads", "ou_prod_workloads"),
        ("--a..B--", "ou_a_b"),
        ("***", "ou_ab12_cdef3456"),
    ],
)
def test_a_units_group_name(name: str, group: str) -> None:
    assert _accounts.unit_group_name({"id": "ou-ab12-cdef3456", "name": name}, "name") == group


@pytest.mark.parametrize(
    ("arn", "partition"),
    [
        ("arn:aws:organizations::111111111111:account/o-x/222222222222", "aws"),
        ("arn:aws-us-gov:organizations::111111111111:account/o-x/222222222222", "aws-us-gov"),
        ("arn:aws-cn:organizations::111111111111:account/o-x/222222222222", "aws-cn"),
        (None, "aws"),
    ],
)
def test_the_role_arn_is_in_the_accounts_partition(arn: str | None, partition: str) -> None:
    record = {"Id": WEB, "Name": "web", "State": "ACTIVE", "Arn": arn}
    built = _accounts.build_inventory({"accounts": [record]}, role="ops/Onboarding")

    assert built["hosts"][WEB]["mfa_onboarding_role_arn"] == f"arn:{partition}:iam::{WEB}:role/ops/Onboarding"


@pytest.mark.parametrize(
    ("role_name", "resource"),
    [
        ("OrganizationAccountAccessRole", "OrganizationAccountAccessRole"),
        ("ops/MfaOnboarding", "ops/MfaOnboarding"),
        ("/ops/team/MfaOnboarding", "ops/team/MfaOnboarding"),
        ("a+=,.@_-b", "a+=,.@_-b"),
        ("R" * 64, "R" * 64),
    ],
)
def test_a_role_name_and_path(role_name: str, resource: str) -> None:
    assert _accounts.validate_role_name(role_name) == resource


@pytest.mark.parametrize(
    ("role_name", "message"),
    [
        ("", "role_name: must be an IAM role name"),
        (None, "role_name: must be an IAM role name"),
        ("R" * 65, "has 65 characters; IAM allows 1 to 64"),
        ("bad name", "may contain only ASCII letters"),
        ("ops/", "the role name must not be empty"),
        ("arn:aws:iam::222222222222:role/Admin", "is an ARN; give the role's name"),
        ("p\u00e4th/Role", "must begin and end with '/' and contain only printable ASCII"),
    ],
)
def test_a_bad_role_name_is_refused(role_name: t.Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")) as error:
        _accounts.validate_role_name(role_name)
    assert str(error.value).startswith("role_name: ")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (222222222222, "is a number; write the account id as a quoted string"),
        ("22222222222", "is not an AWS account id"),
        ("2222222222222", "is not an AWS account id"),
        ("22222222222a", "is not an AWS account id"),
        (True, "is not an AWS account id"),
        (None, "is not an AWS account id"),
    ],
)
def test_a_bad_account_id_is_refused(value: t.Any, message: str) -> None:
    with pytest.raises(ValidationError, match=f"exclude_accounts: {value!r} {message}"):
        _accounts.validate_account_ids([WEB, value], "exclude_accounts")


@pytest.mark.parametrize("value", ["ou-ab12", "ou-AB12-cdef3456", "ab12-cdef3456", "r-ab", "", None, "ou-ab12-cdef345"])
def test_a_bad_unit_id_is_refused(value: t.Any) -> None:
    with pytest.raises(ValidationError, match=f"organizational_units: {value!r} is not an organizational unit id"):
        _accounts.validate_parent_ids(["ou-ab12-cdef3456", value])


def test_unit_and_root_ids_are_accepted_once_each() -> None:
    ids = ["ou-ab12-cdef3456", "r-ab12", "ou-ab12-cdef3456"]

    assert _accounts.validate_parent_ids(ids) == ["ou-ab12-cdef3456", "r-ab12"]
