# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The boto3 layer: retries on throttling, on entities being modified, and on NoSuchEntity right after a create;
typed errors otherwise. Faults are injected in front of moto, per operation."""

from __future__ import annotations

import typing as t

import botocore.client
import botocore.exceptions
import pytest
from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _iam


class Faults:
    """Makes the next `count` calls of `operation` fail with `code` before reaching moto."""

    def __init__(self) -> None:
        self.pending: dict[str, list[str]] = {}
        self.raised: list[tuple[str, str]] = []

    def add(self, operation: str, code: str, count: int = 1) -> None:
        self.pending.setdefault(operation, []).extend([code] * count)


@pytest.fixture
def faults(iam: t.Any, monkeypatch: pytest.MonkeyPatch) -> Faults:
    injected = Faults()
    original = botocore.client.BaseClient._make_api_call

    def faulty(self: t.Any, operation: str, params: dict[str, t.Any]) -> t.Any:
        codes = injected.pending.get(operation)
        if codes:
            code = codes.pop(0)
            injected.raised.append((operation, code))
            status = 404 if code == "NoSuchEntity" else 400 if code == "Throttling" else 409
            raise botocore.exceptions.ClientError(
                {
                    "Error": {"Code": code, "Message": f"injected {code}"},
                    "ResponseMetadata": {"HTTPStatusCode": status},
                },
                operation,
            )
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", faulty)
    return injected


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
    iam: t.Any, faults: Faults, sleeps: list[float], group: str, code: str
) -> None:
    iam.create_user(UserName="alice")
    faults.add("AddUserToGroup", code, count=2)

    _iam.add_user_to_group(iam, "alice", group)

    assert faults.raised == [("AddUserToGroup", code)] * 2
    assert len(sleeps) == 2
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="alice")["Groups"]] == [group]


def test_reads_are_retried_on_throttling(iam: t.Any, faults: Faults, sleeps: list[float], group: str) -> None:
    faults.add("GetGroup", "Throttling", count=3)

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
    iam: t.Any, faults: Faults, sleeps: list[float], group: str, call: t.Callable[[t.Any], t.Any], operation: str
) -> None:
    # IAM is eventually consistent: the user just created may not be visible to the next call for a moment.
    _iam.create_user(iam, "alice", "/", [])
    faults.add(operation, "NoSuchEntity")

    call(iam)

    assert faults.raised == [(operation, "NoSuchEntity")]
    assert len(sleeps) == 1


def test_no_such_entity_is_not_retried_for_an_ordinary_write(
    iam: t.Any, faults: Faults, sleeps: list[float], group: str
) -> None:
    iam.create_user(UserName="alice")
    iam.add_user_to_group(UserName="alice", GroupName=group)
    faults.add("RemoveUserFromGroup", "NoSuchEntity")

    with pytest.raises(AnsibleIAMError) as error:
        _iam.remove_user_from_group(iam, "alice", group)

    assert error.value.message == "Failed to remove user from group"
    assert sleeps == []


def test_other_errors_are_typed_and_not_retried(iam: t.Any, faults: Faults, sleeps: list[float]) -> None:
    faults.add("CreateUser", "AccessDenied")

    with pytest.raises(AnsibleIAMError) as error:
        _iam.create_user(iam, "alice", "/", [])

    assert error.value.message == "Failed to create user"
    assert "AccessDenied" in str(error.value.exception)
    assert sleeps == []
    assert iam.list_users()["Users"] == []


def test_retries_give_up_after_the_limit(iam: t.Any, faults: Faults, sleeps: list[float], group: str) -> None:
    faults.add("GetGroup", "Throttling", count=50)

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
