# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one read/write classification of API actions, and the recorder of botocore calls."""

from __future__ import annotations

import typing as t

import boto3
import pytest

from ansible_collections.mfa_onboarding.iam.tests.support.recorder import Recorder
from ansible_collections.mfa_onboarding.iam.tests.support.recorder import is_write
from ansible_collections.mfa_onboarding.iam.tests.support.recorder import writes


@pytest.mark.parametrize(
    ("action", "write"),
    [
        ("GetUser", False),
        ("GetAccountPasswordPolicy", False),
        ("ListMFADevices", False),
        ("ListAttachedGroupPolicies", False),
        ("DescribeAccount", False),
        ("CreateUser", True),
        ("AddUserToGroup", True),
        ("CreateLoginProfile", True),
        ("UpdateLoginProfile", True),
        ("TagUser", True),
        ("AttachUserPolicy", True),
        ("EnableMFADevice", True),
        ("DeleteUser", True),
        # IAM's access level for it is Read: it builds the report GetCredentialReport returns.
        ("GenerateCredentialReport", False),
        # Only the three prefixes (and that one) read: an action that merely starts with the same letters is a write.
        ("GenerateServiceLastAccessedDetails", True),
        ("Listen", False),
        ("getUser", True),
    ],
)
def test_classification(action: str, write: bool) -> None:
    assert is_write(action) is write


def test_writes_keeps_the_order_and_the_repeats() -> None:
    actions = ["GetUser", "CreateUser", "ListGroups", "AddUserToGroup", "CreateUser"]
    assert writes(actions) == ["CreateUser", "AddUserToGroup", "CreateUser"]
    assert writes(iter(actions)) == ["CreateUser", "AddUserToGroup", "CreateUser"]


def test_the_recorder_sees_every_client_through_botocore(iam: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Recorder().attach(monkeypatch)
    other = boto3.client("iam", region_name="us-east-1")

    iam.create_user(UserName="alice", Tags=[{"Key": "team", "Value": "data"}])
    other.get_user(UserName="alice")
    other.create_login_profile(UserName="alice", Password="Not-a-real-Passw0rd!", PasswordResetRequired=True)

    assert calls.names == ["CreateUser", "GetUser", "CreateLoginProfile"]
    assert calls.writes == ["CreateUser", "CreateLoginProfile"]
    assert calls.requests("CreateLoginProfile") == [
        {"UserName": "alice", "Password": "Not-a-real-Passw0rd!", "PasswordResetRequired": True}
    ]
    assert calls.requests("CreateUser") == [{"UserName": "alice", "Tags": [{"Key": "team", "Value": "data"}]}]
    calls.clear()
    assert calls.names == []
    iam.list_users()
    assert calls.names == ["ListUsers"]


def test_an_inactive_recorder_records_nothing_until_switched_on(iam: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Recorder(active=False).attach(monkeypatch)

    iam.create_user(UserName="alice")
    assert calls.calls == []
    calls.active = True
    iam.get_user(UserName="alice")
    calls.active = False
    iam.delete_user(UserName="alice")

    assert calls.names == ["GetUser"]
    assert calls.writes == []
