# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._managed_policy import DEFAULT_NAMES
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._managed_policy import attachment_summary
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._managed_policy import default_description
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._managed_policy import policy_result
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._managed_policy import version_to_prune
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_description

_TITLE = "AWS Allows MFA-Authenticated IAM Users to Manage Their Own Credentials on the My Security Credentials Page"
_T0 = datetime.datetime(2026, 11, 28, 8, 0, 0, tzinfo=datetime.timezone.utc)


def test_default_names_are_the_seeds() -> None:
    assert DEFAULT_NAMES == {
        "first_login": "MFARequiredOnlyForTheFirstLogin",
        "current_users": "MFARequiredForCurrentUsers",
    }


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        (
            "first_login",
            f"Created 2026-11-28 - Copied and edited the official sample JSON to enable password reset - {_TITLE}",
        ),
        ("current_users", f"Created 2026-11-28 - Copied from the official document - {_TITLE}"),
    ],
)
def test_default_description_is_the_seeds(stage: str, expected: str) -> None:
    description = default_description(stage, datetime.date(2026, 11, 28))
    assert description == expected
    validate_description(description)  # IAM must accept it


def test_default_description_carries_the_given_date() -> None:
    assert default_description("current_users", datetime.date(2031, 2, 3)).startswith("Created 2031-02-03 - ")


def _versions(default: str, ids: t.Sequence[str], same_time: bool = False) -> list[dict[str, t.Any]]:
    """ListPolicyVersions items, in the given order, each id one minute newer than the one before."""
    return [
        {
            "VersionId": version_id,
            "IsDefaultVersion": version_id == default,
            "CreateDate": _T0 if same_time else _T0 + datetime.timedelta(minutes=int(version_id[1:])),
        }
        for version_id in ids
    ]


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        pytest.param([], None, id="none"),
        pytest.param(_versions("v1", ["v1"]), None, id="one"),
        pytest.param(_versions("v4", ["v1", "v2", "v3", "v4"]), None, id="four"),
        pytest.param(_versions("v5", ["v1", "v2", "v3", "v4", "v5"]), "v1", id="five-newest-default"),
        pytest.param(_versions("v3", ["v1", "v2", "v3", "v4", "v5"]), "v1", id="five-middle-default"),
        pytest.param(_versions("v1", ["v1", "v2", "v3", "v4", "v5"]), "v2", id="five-oldest-default"),
        pytest.param(_versions("v3", ["v5", "v4", "v3", "v2", "v1"]), "v1", id="listed-newest-first"),
        pytest.param(_versions("v7", ["v3", "v4", "v7", "v8", "v9"]), "v3", id="ids-with-gaps"),
        pytest.param(_versions("v8", ["v8", "v9", "v10", "v11", "v12"]), "v9", id="numeric-not-text-order"),
        pytest.param(
            _versions("v8", ["v12", "v11", "v10", "v9", "v8"], same_time=True), "v9", id="same-second-by-number"
        ),
    ],
)
def test_version_to_prune(versions: list[dict[str, t.Any]], expected: str | None) -> None:
    assert version_to_prune(versions) == expected


def test_version_to_prune_prefers_the_oldest_date_over_the_lowest_number() -> None:
    versions = _versions("v5", ["v1", "v2", "v3", "v4", "v5"])
    versions[1]["CreateDate"] = _T0 - datetime.timedelta(days=1)  # v2 is older than v1
    assert version_to_prune(versions) == "v2"


@pytest.mark.parametrize(
    ("entities", "expected"),
    [
        ({}, ""),
        ({"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}, ""),
        ({"PolicyGroups": [{"GroupName": "NotYetLoginUsers", "GroupId": "AGPA1"}]}, "groups: NotYetLoginUsers"),
        (
            {
                "PolicyGroups": [{"GroupName": "ops"}, {"GroupName": "NotYetLoginUsers"}],
                "PolicyUsers": [{"UserName": "carol"}, {"UserName": "alice"}],
                "PolicyRoles": [{"RoleName": "auditor"}],
            },
            "groups: NotYetLoginUsers, ops; users: alice, carol; roles: auditor",
        ),
        ({"PolicyUsers": [{"UserName": "alice"}], "PolicyRoles": [{"RoleName": "r"}]}, "users: alice; roles: r"),
        ({"PolicyGroups": None, "PolicyRoles": [{"RoleName": "r"}]}, "roles: r"),
    ],
)
def test_attachment_summary(entities: dict[str, t.Any], expected: str) -> None:
    assert attachment_summary(entities) == expected


def test_policy_result_is_snake_case_with_iso_dates() -> None:
    document = {"Version": "2012-10-17", "Statement": []}
    policy = {
        "PolicyName": "MFARequiredForCurrentUsers",
        "PolicyId": "ANPA123",
        "Arn": "arn:aws:iam::123456789012:policy/MFARequiredForCurrentUsers",
        "Path": "/",
        "DefaultVersionId": "v2",
        "AttachmentCount": 3,
        "IsAttachable": True,
        "Description": "d",
        "CreateDate": _T0,
        "UpdateDate": _T0 + datetime.timedelta(hours=1),
    }
    assert policy_result(policy, document) == {
        "arn": "arn:aws:iam::123456789012:policy/MFARequiredForCurrentUsers",
        "name": "MFARequiredForCurrentUsers",
        "policy_id": "ANPA123",
        "path": "/",
        "description": "d",
        "default_version_id": "v2",
        "attachment_count": 3,
        "create_date": "2026-11-28T08:00:00+00:00",
        "update_date": "2026-11-28T09:00:00+00:00",
        "document": document,
    }


def test_policy_result_of_a_predicted_policy_and_of_none() -> None:
    predicted = policy_result({"PolicyName": "p", "Path": "/", "Description": "d", "AttachmentCount": 0}, None)
    assert predicted["arn"] is None
    assert predicted["create_date"] is None
    assert predicted["name"] == "p"
    assert policy_result(None, {"Statement": []}) == {}
