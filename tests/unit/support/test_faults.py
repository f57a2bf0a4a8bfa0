# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fault point: its modes, its botocore way in (exempt clients, the errors botocore would raise) and the same
decision answered over loopback."""

from __future__ import annotations

import typing as t

import boto3
import pytest
from botocore.exceptions import ClientError

from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support.faults import CRASH_CODE
from ansible_collections.mfa_onboarding.iam.tests.support.faults import FaultPoint
from ansible_collections.mfa_onboarding.iam.tests.support.recorder import Recorder


@pytest.fixture
def module_client(iam: t.Any) -> t.Any:
    """A second client on the same in-process moto: the code under test, as opposed to the test's own `iam`."""
    return boto3.client("iam", region_name="us-east-1")


def code_of(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = error.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


# The botocore way in


def test_off_lets_everything_through(iam: t.Any, module_client: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    point = FaultPoint().attach_botocore(monkeypatch)

    module_client.create_user(UserName="alice")
    module_client.get_user(UserName="alice")

    assert point.served == ["CreateUser", "GetUser"]
    assert point.raised == []


def test_crash_after_k_writes_fails_every_later_call(
    iam: t.Any, module_client: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    point = FaultPoint().attach_botocore(monkeypatch, exempt=[iam])
    point.crash_after(1, code="AccessDenied")

    module_client.get_account_summary()  # reads before the limit pass
    module_client.create_user(UserName="alice")
    module_client.list_users()
    with pytest.raises(ClientError) as write:
        module_client.add_user_to_group(UserName="alice", GroupName="NotYetLoginUsers")
    with pytest.raises(ClientError) as read:  # the run is dead: reads fail too
        module_client.get_user(UserName="alice")

    assert code_of(write) == ("AccessDenied", 403)
    assert code_of(read) == ("AccessDenied", 403)
    assert point.writes_served == ["CreateUser"]
    assert point.refused == ["AddUserToGroup", "GetUser"]
    assert point.faults == {"AccessDenied": 2}
    # The test's own client is exempt: never faulted, never counted.
    assert iam.get_user(UserName="alice")["User"]["UserName"] == "alice"
    assert "GetUser" not in point.served
    point.off()
    assert module_client.get_user(UserName="alice")["User"]["UserName"] == "alice"


def test_crash_after_zero_writes_fails_the_first_write(module_client: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    point = FaultPoint().attach_botocore(monkeypatch)
    point.crash_after(0)

    module_client.list_users()
    with pytest.raises(ClientError) as error:
        module_client.create_user(UserName="alice")

    assert code_of(error) == (CRASH_CODE, 400)
    point.off()
    assert module_client.list_users()["Users"] == []


def test_a_lost_answer_is_a_write_that_took_effect(
    iam: t.Any, module_client: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    point = FaultPoint().attach_botocore(monkeypatch, exempt=[iam])
    point.crash_after(1, answer_lost=True)

    module_client.create_user(UserName="alice")
    with pytest.raises(ClientError) as lost:  # served, but the caller sees the crash
        module_client.create_user(UserName="bob")
    with pytest.raises(ClientError) as later:
        module_client.get_user(UserName="bob")

    assert code_of(lost) == (CRASH_CODE, 400)
    assert code_of(later) == (CRASH_CODE, 400)
    assert sorted(user["UserName"] for user in iam.list_users()["Users"]) == ["alice", "bob"]
    assert point.writes_served == ["CreateUser", "CreateUser"]
    assert point.refused == ["CreateUser", "GetUser"]


def test_crash_now_fails_every_later_call_and_keeps_the_records(
    module_client: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    point = FaultPoint().attach_botocore(monkeypatch)
    module_client.create_user(UserName="alice")
    point.crash_now()

    with pytest.raises(ClientError) as read:
        module_client.list_users()

    assert code_of(read) == (CRASH_CODE, 400)
    assert point.served == ["CreateUser"]
    assert point.refused == ["ListUsers"]


def test_scripted_errors_fail_the_next_calls_of_one_operation(
    module_client: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    point = FaultPoint().attach_botocore(monkeypatch)
    point.fail_next("CreateUser", "EntityTemporarilyUnmodifiable", count=2)
    point.fail_next("GetUser", "NoSuchEntity")

    for _attempt in range(2):
        with pytest.raises(ClientError) as error:
            module_client.create_user(UserName="alice")
        assert code_of(error) == ("EntityTemporarilyUnmodifiable", 409)
    module_client.list_users()  # another operation: not scripted
    module_client.create_user(UserName="alice")
    with pytest.raises(module_client.exceptions.NoSuchEntityException):  # botocore's own modelled exception
        module_client.get_user(UserName="alice")
    module_client.get_user(UserName="alice")

    assert point.raised == [
        ("CreateUser", "EntityTemporarilyUnmodifiable"),
        ("CreateUser", "EntityTemporarilyUnmodifiable"),
        ("GetUser", "NoSuchEntity"),
    ]
    assert point.served == ["ListUsers", "CreateUser", "GetUser"]


def test_throttling_is_seeded_by_the_request(module_client: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    point = FaultPoint().attach_botocore(monkeypatch)

    def outcomes(seed: int) -> list[str | None]:
        point.clear()
        point.throttle(0.5, seed)
        found: list[str | None] = []
        for index in range(40):
            try:
                module_client.list_users(PathPrefix=f"/p{index % 10}/")
            except ClientError as error:
                found.append(error.response["Error"]["Code"])
            else:
                found.append(None)
        point.off()
        return found

    first = outcomes(7)
    assert outcomes(7) == first
    assert outcomes(8) != first
    faults = [code for code in first if code is not None]
    assert 5 <= len(faults) <= 35
    assert set(faults) <= {"Throttling", "InternalFailure", "ServiceUnavailable"}
    assert len(point.raised) + len(point.served) == 40


def test_the_patch_wraps_what_patched_botocore_before(module_client: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attached after a recorder, the fault point decides first: a faulted call never reaches what is below."""
    calls = Recorder().attach(monkeypatch)
    point = FaultPoint().attach_botocore(monkeypatch)
    point.fail_next("CreateUser", "AccessDenied")

    with pytest.raises(ClientError):
        module_client.create_user(UserName="alice")
    module_client.create_user(UserName="alice")

    assert calls.names == ["CreateUser"]
    assert point.raised == [("CreateUser", "AccessDenied")]


# The loopback way in: the same decision as an HTTP answer


@pytest.fixture
def served(aws_env: None) -> t.Iterator[FaultPoint]:
    with FaultPoint() as point:
        point.reset_backend()
        yield point


def test_over_loopback_the_same_decision_reaches_the_client(served: FaultPoint) -> None:
    iam = iam_state.client(served.url)  # one attempt per call: botocore's retries would hide the answer
    served.fail_next("CreateUser", "AccessDenied")

    with pytest.raises(ClientError) as error:
        iam.create_user(UserName="alice")
    iam.create_user(UserName="alice")
    served.crash_after(0)
    iam.list_users()  # reads before the first write pass
    with pytest.raises(ClientError) as crashed:
        iam.create_user(UserName="bob")

    assert code_of(error) == ("AccessDenied", 403)
    assert code_of(crashed) == (CRASH_CODE, 400)
    served.off()
    assert [user["UserName"] for user in iam.list_users()["Users"]] == ["alice"]


def test_over_loopback_a_lost_answer_still_reaches_moto(served: FaultPoint) -> None:
    iam = iam_state.client(served.url)
    served.crash_after(0, answer_lost=True)

    with pytest.raises(ClientError) as lost:
        iam.create_user(UserName="alice")

    assert code_of(lost) == (CRASH_CODE, 400)
    served.off()
    assert [user["UserName"] for user in iam.list_users()["Users"]] == ["alice"]
