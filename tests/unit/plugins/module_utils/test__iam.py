# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The boto3 layer: retries on throttling, on entities being modified, and on NoSuchEntity right after a create;
typed errors otherwise. Faults are injected in front of moto, per operation."""

from __future__ import annotations

import typing as t

import pytest
from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _iam
from ansible_collections.mfa_onboarding.iam.tests.support.faults import FaultPoint


@pytest.fixture
def faults(iam: t.Any, monkeypatch: pytest.MonkeyPatch) -> FaultPoint:
    """The fault point on botocore, scripted per test: `faults.fail_next(operation, code, count)`."""
    return FaultPoint().attach_botocore(monkeypatch)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The back-off sleeps, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(cloud.time, "sleep", slept.append)
    return slept


@pytest.fixture
def group(iam: t.Any) -> str:
    iam.create_group(GroupName="NotYetLoginUsers")
    return "NotYetLoginUsers"


@pytest.mark.parametrize("code", ["Throttling", "EntityTemporarilyUnmodifiable"])
def test_writes_are_retried_on_transient_errors(
    iam: t.Any, faults: FaultPoint, sleeps: list[float], group: str, code: str
) -> None:
    iam.create_user(UserName="alice")
    faults.fail_next("AddUserToGroup", code, count=2)

    _iam.add_user_to_group(iam, "alice", group)

    assert faults.raised == [("AddUserToGroup", code)] * 2
    assert len(sleeps) == 2
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="alice")["Groups"]] == [group]


def test_reads_are_retried_on_throttling(iam: t.Any, faults: FaultPoint, sleeps: list[float], group: str) -> None:
    faults.fail_next("GetGroup", "Throttling", count=3)

    found = _iam.get_group(iam, group)

    assert found is not None and found["GroupName"] == group
    assert len(sleeps) == 3


@pytest.mark.parametrize(
    ("call", "operation"),
    [
        (lambda c: _iam.add_user_to_group(c, "alice", "NotYetLoginUsers"), "AddUserToGroup"),
        (lambda c: _iam.create_login_profile(c, "alice", "Temp-Passw0rd-Long-Enough!", True), "CreateLoginProfile"),
    ],
    ids=["AddUserToGroup", "CreateLoginProfile"],
)
def test_no_such_entity_right_after_create_is_retried(
    iam: t.Any, faults: FaultPoint, sleeps: list[float], group: str, call: t.Callable[[t.Any], t.Any], operation: str
) -> None:
    # IAM is eventually consistent: the user just created may not be visible to the next call for a moment.
    _iam.create_user(iam, "alice", "/", [])
    faults.fail_next(operation, "NoSuchEntity")

    call(iam)

    assert faults.raised == [(operation, "NoSuchEntity")]
    assert len(sleeps) == 1


def test_no_such_entity_is_not_retried_for_an_ordinary_write(
    iam: t.Any, faults: FaultPoint, sleeps: list[float], group: str
) -> None:
    iam.create_user(UserName="alice")
    iam.add_user_to_group(UserName="alice", GroupName=group)
    faults.fail_next("RemoveUserFromGroup", "NoSuchEntity")

    with pytest.raises(AnsibleIAMError) as error:
        _iam.remove_user_from_group(iam, "alice", group)

    assert error.value.message == "Failed to remove user from group"
    assert sleeps == []


def test_other_errors_are_typed_and_not_retried(iam: t.Any, faults: FaultPoint, sleeps: list[float]) -> None:
    faults.fail_next("CreateUser", "AccessDenied")

    with pytest.raises(AnsibleIAMError) as error:
        _iam.create_user(iam, "alice", "/", [])

    assert error.value.message == "Failed to create user"
    assert "AccessDenied" in str(error.value.exception)
    assert sleeps == []
    assert iam.list_users()["Users"] == []


def test_retries_give_up_after_the_limit(iam: t.Any, faults: FaultPoint, sleeps: list[float], group: str) -> None:
    faults.fail_next("GetGroup", "Throttling", count=50)

    with pytest.raises(AnsibleIAMError) as error:
        _iam.get_group(iam, group)

    assert "Throttling" in str(error.value.exception)
    assert 1 <= len(sleeps) < 50


@pytest.mark.parametrize(
    "call",
    [
        lambda c: _iam.get_user(c, "nobody"),
        lambda c: _iam.get_group(c, "nobody"),
        lambda c: _iam.get_login_profile(c, "nobody"),
        lambda c: _iam.get_policy(c, "arn:aws:iam::123456789012:policy/nothing"),
        _iam.get_account_password_policy,
    ],
    ids=["user", "group", "login-profile", "policy", "password-policy"],
)
def test_missing_entities_read_as_none(iam: t.Any, call: t.Callable[[t.Any], t.Any]) -> None:
    assert call(iam) is None
