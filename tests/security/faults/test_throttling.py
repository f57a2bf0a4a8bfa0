# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Throttling and 5xx: the fault point answers about 30% of the modules' requests with Throttling (HTTP 400),
InternalFailure (500) or ServiceUnavailable (503), seeded, and the full lifecycle must still complete with the
same results and the same end state as a run without faults.

The lifecycle: bootstrap (both managed policies and the account password policy through the modules, the group
with boto3), onboard 3 users in one run, enable MFA for 2 of them (as the users would, with boto3), promote all 3
with an extra group and policy: 2 are promoted, 1 is refused.

Two layers retry: botocore's own handler (legacy mode: 5 attempts per call, for Throttling and 5xx) and, around
it, amazon.aws's AWSRetry in the collection's boto3 layer (`_iam.py`). Both are counted, separately; their
backoff sleeps are recorded instead of slept. The second case turns botocore's retries off, so that the
collection's own layer has to absorb every fault: a call it does not wrap would fail the lifecycle.

Faults are injected only into the modules' requests; the tests' own boto3 calls (group, MFA devices, the state
read-back) run with the fault point off. An injected fault never reaches moto, so a retried write is never
applied twice.
"""

from __future__ import annotations

import time
import typing as t

import pytest
from botocore.exceptions import ClientError

from ansible_collections.mfa_onboarding.iam.plugins.modules import account_password_policy
from ansible_collections.mfa_onboarding.iam.plugins.modules import iam_onboard_user
from ansible_collections.mfa_onboarding.iam.plugins.modules import mfa_onboarding_policy
from ansible_collections.mfa_onboarding.iam.tests.support import guards
from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support.faults import FaultPoint
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import register_mfa

SEED = 20261128
RATE = 0.3
USERS = ["carol", "dave", "erin"]
WITH_MFA = ["carol", "dave"]
PASSWORD_POLICY = {
    "allow_users_to_change_password": True,
    "min_password_length": 16,
    "require_symbols": True,
    "require_numbers": True,
}


def summary(result: dict[str, t.Any]) -> dict[str, t.Any]:
    """What a run decided, without dates, ids and passwords."""
    found: dict[str, t.Any] = {"failed": bool(result.get("failed")), "changed": result.get("changed")}
    if "policy" in result:
        policy = result["policy"]
        found["policy"] = {k: policy.get(k) for k in ("name", "path", "default_version_id", "document")}
    if "password_policy" in result:
        found["password_policy"] = result["password_policy"]
    for user in result.get("users", []):
        found[user["name"]] = {
            "stage": user.get("stage"),
            "changed": user.get("changed"),
            "failed": user.get("failed"),
            "actions": sorted(user.get("actions") or []),
            "groups": sorted(user.get("groups") or []),
            "login_profile": (user.get("login_profile") or {}).get("exists"),
            "temporary_password": "temporary_password" in user,
            "msg": user.get("msg"),
        }
    return found


def lifecycle(
    fault_point: FaultPoint, iam: t.Any, run_module: t.Any, faults: bool
) -> tuple[list[dict[str, t.Any]], dict[str, t.Any], float]:
    """The whole lifecycle on a fresh account: (summaries of the module runs, end state, seconds)."""
    fault_point.reset_backend()

    def run(module: t.Any, args: dict[str, t.Any]) -> dict[str, t.Any]:
        if not faults:
            return run_module(module, args)
        with fault_point.throttling(RATE, SEED):
            return run_module(module, args)

    started = time.monotonic()
    results = [
        run(mfa_onboarding_policy, {"stage": "first_login"}),
        run(mfa_onboarding_policy, {"stage": "current_users"}),
        run(account_password_policy, PASSWORD_POLICY),
    ]
    iam.create_group(GroupName=iam_state.ONBOARDING_GROUP)
    iam.attach_group_policy(GroupName=iam_state.ONBOARDING_GROUP, PolicyArn=iam_state.FIRST_LOGIN_ARN)
    iam_state.create_extras(iam)
    results.append(run(iam_onboard_user, {"users": [{"name": name, "tags": {"team": "data"}} for name in USERS]}))
    for name in WITH_MFA:
        register_mfa(iam, name)
    promote = {
        "state": "promoted",
        "users": [{"name": name} for name in USERS],
        "groups": [iam_state.EXTRA_GROUP],
        "managed_policies": [iam_state.EXTRA_POLICY],
    }
    results.append(run(iam_onboard_user, promote))
    elapsed = time.monotonic() - started
    state = iam_state.snapshot(iam)
    state["password_policy"] = iam.get_account_password_policy()["PasswordPolicy"]
    return [summary(r) for r in results], state, elapsed


@pytest.mark.parametrize(
    "botocore_retries",
    [
        pytest.param("legacy", id="botocore-legacy-5-attempts-and-awsretry"),
        pytest.param("off", id="awsretry-only"),
    ],
)
def test_lifecycle_under_throttling_and_5xx(
    fault_point: FaultPoint,
    iam: t.Any,
    run_module: t.Any,
    retries: t.Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    botocore_retries: str,
) -> None:
    monkeypatch.setenv("AWS_RETRY_MODE", "legacy")
    if botocore_retries == "off":
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")

    clean, clean_state, clean_seconds = lifecycle(fault_point, iam, run_module, faults=False)
    assert fault_point.faults == {} and retries.total == 0

    # The clean run is the lifecycle the issue describes.
    promoted = clean[-1]
    assert promoted["failed"], promoted
    assert [promoted[name]["stage"] for name in USERS] == ["promoted", "promoted", "onboarding"]
    assert [promoted[name]["failed"] for name in USERS] == [False, False, True]
    assert "erin has no MFA device" in promoted["erin"]["msg"]
    assert guards.violations(clean_state) == []
    assert sorted(clean_state["users"]) == USERS

    fault_point.clear()
    retries.clear()
    faulted, faulted_state, faulted_seconds = lifecycle(fault_point, iam, run_module, faults=True)
    injected = sum(fault_point.faults.values())
    requests = len(fault_point.served) + len(fault_point.refused)

    with capsys.disabled():
        kinds = ", ".join(f"{code} {count}" for code, count in sorted(fault_point.faults.items()))
        print(
            f"\nthrottling ({botocore_retries}): {injected} faults injected into {requests} requests "
            f"({injected / requests:.0%}; {kinds}); retries taken: {retries.total} = botocore "
            f"{len(retries.botocore.sleeps)} + AWSRetry {len(retries.awsretry.sleeps)} (both layers counted; "
            f"backoff not slept: {sum(retries.botocore.sleeps) + sum(retries.awsretry.sleeps):.1f} s); "
            f"lifecycle {faulted_seconds:.2f} s with faults, {clean_seconds:.2f} s without"
        )

    assert faulted == clean
    assert faulted_state == clean_state
    # About 30% of the requests, of all three kinds, and every one of them retried exactly once by one layer.
    assert 0.15 <= injected / requests <= 0.45, (injected, requests)
    assert set(fault_point.faults) == {"Throttling", "InternalFailure", "ServiceUnavailable"}
    assert retries.total == injected
    if botocore_retries == "off":
        assert retries.botocore.sleeps == []
        assert len(retries.awsretry.sleeps) == injected


def test_the_injector_faults_30_percent_of_requests_whatever_their_order() -> None:
    """The seeded decision depends on the request (and its repetition), not on when it arrives."""
    requests = [{"Action": "GetUser", "UserName": f"user{i % 50}"} for i in range(20000)]

    def decisions(order: t.Iterable[int]) -> dict[tuple[str, int], str | None]:
        point = FaultPoint()
        point.throttle(RATE, SEED)
        seen: dict[str, int] = {}
        found = {}
        for index in order:
            name = requests[index]["UserName"]
            seen[name] = seen.get(name, 0) + 1
            fault = point.decide("GetUser", requests[index])
            found[(name, seen[name])] = fault.code if fault else None
        return found

    forward = decisions(range(len(requests)))
    assert decisions(reversed(range(len(requests)))) == forward
    faults = [kind for kind in forward.values() if kind is not None]
    assert 0.28 <= len(faults) / len(requests) <= 0.32
    for kind in ("Throttling", "InternalFailure", "ServiceUnavailable"):
        assert 0.3 <= faults.count(kind) / len(faults) <= 0.37, kind


def test_without_the_collections_retries_the_lifecycle_breaks(
    fault_point: FaultPoint,
    iam: t.Any,
    run_module: t.Any,
    retries: t.Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The comparison above can fail: with botocore's retries off and AWSRetry reduced to a single attempt, the
    same faults break the lifecycle."""
    from ansible_collections.amazon.aws.plugins.module_utils import cloud

    monkeypatch.setenv("AWS_RETRY_MODE", "legacy")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    clean, clean_state, _seconds = lifecycle(fault_point, iam, run_module, faults=False)
    monkeypatch.setattr(cloud, "_retry_func", lambda func, **kwargs: func())
    try:
        faulted, faulted_state, _seconds = lifecycle(fault_point, iam, run_module, faults=True)
    except ClientError as e:
        # A bootstrap module failed, so the test's own calls after it (the group's policy) found nothing.
        assert e.response["Error"]["Code"] == "NoSuchEntity"
    else:
        assert (faulted, faulted_state) != (clean, clean_state)
    assert sum(fault_point.faults.values()) > 0
    assert retries.total == 0
