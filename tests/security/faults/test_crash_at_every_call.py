# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Crash at every call (DESIGN.md section 1, invariants 1 and 2).

For onboarding and for promotion, a clean run is counted first (N write calls). Then, for every k from 1 to N,
on a fresh account: the fault point lets k writes through and fails every later request, as if the run had been
killed right after the k-th write. The whole IAM state must then be safe (no credential without an MFA guard, no
permission beyond the guards for a user without MFA), and a rerun without faults must reach exactly the end state
of the uninterrupted run.

The module handles the users of one run in a pool of threads, so which writes make up "the first k" may differ
between runs; the invariants must hold for whatever interleaving happened.
"""

from __future__ import annotations

import typing as t

import pytest
from botocore.exceptions import ClientError

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.modules import iam_onboard_user
from ansible_collections.mfa_onboarding.iam.tests.support import guards
from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support.faults import CRASH_CODE
from ansible_collections.mfa_onboarding.iam.tests.support.faults import Fault
from ansible_collections.mfa_onboarding.iam.tests.support.faults import FaultPoint
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import register_mfa

USERS = [
    {"name": "ada", "tags": {"team": "data", "cost-center": "42"}},
    {"name": "bob", "path": "/contractors/", "tags": {"team": "ops"}},
]
ONBOARD = {"users": USERS}
TEMPORARY_PASSWORD = "A-long-temporary-password-1"
PROMOTE = {
    "state": "promoted",
    "users": [{"name": user["name"]} for user in USERS],
    "groups": [iam_state.EXTRA_GROUP],
    "managed_policies": [iam_state.EXTRA_POLICY],
}


@pytest.fixture(autouse=True)
def crash_is_a_crash(monkeypatch: pytest.MonkeyPatch, aws_env: None) -> None:
    """No retry layer may turn the injected crash into a success: botocore makes one attempt per call (AWSRetry
    does not retry InjectedCrash either; the `retries` fixture proves it)."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")


def onboarding_setup(iam: t.Any) -> None:
    iam_state.bootstrap_guards(iam)


def promotion_setup(iam: t.Any) -> None:
    """Two users as onboarding leaves them (made with boto3, which is faster than a module run), who then
    registered MFA."""
    iam_state.bootstrap_guards(iam)
    iam_state.create_extras(iam)
    for user in USERS:
        tags = [{"Key": key, "Value": value} for key, value in user["tags"].items()]
        iam.create_user(UserName=user["name"], Path=user.get("path", "/"), Tags=tags)
        iam.add_user_to_group(UserName=user["name"], GroupName=iam_state.ONBOARDING_GROUP)
        iam.create_login_profile(UserName=user["name"], Password=TEMPORARY_PASSWORD, PasswordResetRequired=True)
        register_mfa(iam, user["name"])


def sweep(
    setup: t.Callable[[t.Any], None],
    args: dict[str, t.Any],
    fault_point: FaultPoint,
    iam: t.Any,
    run_module: t.Any,
    retries: t.Any,
) -> tuple[int, list[str]]:
    """(N, the problems found at each k as one message per failed k); [] when every k passed."""
    # The uninterrupted run: how many writes it makes, and the end state every rerun must reach.
    fault_point.reset_backend()
    setup(iam)
    fault_point.clear()
    clean = run_module(iam_onboard_user, args)
    assert not clean.get("failed"), clean
    writes = len(fault_point.writes_served)
    reference = iam_state.snapshot(iam)
    assert guards.violations(reference) == []
    assert writes > 0

    failures = []
    for k in range(1, writes + 1):
        fault_point.reset_backend()
        setup(iam)
        retries.clear()
        fault_point.crash_after(k)
        interrupted = run_module(iam_onboard_user, args)
        fault_point.off()
        let_through = fault_point.writes_served
        state = iam_state.snapshot(iam)
        problems = guards.violations(state)
        if len(let_through) != k:
            problems.append(f"{len(let_through)} writes reached moto, not {k}")
        if bool(interrupted.get("failed")) != (k < writes):
            problems.append(f"the interrupted run reported failed={interrupted.get('failed')}")
        if k < writes and not fault_point.faults[CRASH_CODE]:
            problems.append("the fault point never answered InjectedCrash")
        if retries.total:
            problems.append(f"the crash was retried ({retries.total} retries)")
        rerun = run_module(iam_onboard_user, args)
        if rerun.get("failed"):
            problems.append(f"the rerun failed: {rerun.get('msg')}")
        after = iam_state.snapshot(iam)
        if after != reference:
            problems.append(f"the rerun ended in {after['users']}, not in {reference['users']}")
        if problems:
            failures.append(f"k={k} after {let_through}: " + "; ".join(problems))
    return writes, failures


@pytest.mark.parametrize(
    ("lifecycle", "setup", "args"),
    [("onboarding", onboarding_setup, ONBOARD), ("promotion", promotion_setup, PROMOTE)],
    ids=["onboarding", "promotion"],
)
def test_crash_at_every_write(
    fault_point: FaultPoint,
    iam: t.Any,
    run_module: t.Any,
    retries: t.Any,
    capsys: pytest.CaptureFixture[str],
    lifecycle: str,
    setup: t.Callable[[t.Any], None],
    args: dict[str, t.Any],
) -> None:
    writes, failures = sweep(setup, args, fault_point, iam, run_module, retries)
    with capsys.disabled():
        print(f"\n{lifecycle} {writes - len(failures)}/{writes} (crash after k of the {writes} writes of a clean run)")
    assert failures == []


# The sweep must fail for a module that gets the order (or the rerun) wrong: the same module with its planner
# patched.


def _password_first(original: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    def plan(*args: t.Any, **kwargs: t.Any) -> t.Any:
        steps, notes, refusal = original(*args, **kwargs)
        password = [s for s in steps if s.action == lc.CREATE_LOGIN_PROFILE]
        others = [s for s in steps if s.action != lc.CREATE_LOGIN_PROFILE]
        return lc.Plan(others[:1] + password + others[1:], notes, refusal)

    return plan


def _leave_group_first(original: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    def plan(*args: t.Any, **kwargs: t.Any) -> t.Any:
        steps, notes, refusal = original(*args, **kwargs)
        return lc.Plan(sorted(steps, key=lambda s: s.action != lc.REMOVE_FROM_GROUP), notes, refusal)

    return plan


def _no_password_for_existing_users(original: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    def plan(observed: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        steps, notes, refusal = original(observed, *args, **kwargs)
        if observed.exists:
            steps = [s for s in steps if s.action != lc.CREATE_LOGIN_PROFILE]
        return lc.Plan(steps, notes, refusal)

    return plan


MUTANTS = {
    "onboarding sets the password before the guard": (
        "plan_onboarding", _password_first, onboarding_setup, ONBOARD, "invariant 1"),
    "promotion leaves the onboarding group first": (
        "plan_promotion", _leave_group_first, promotion_setup, PROMOTE, "invariant 1"),
    "a rerun does not finish an interrupted onboarding": (
        "plan_onboarding", _no_password_for_existing_users, onboarding_setup, ONBOARD, "the rerun ended in"),
}  # fmt: skip


@pytest.mark.parametrize("mutant", list(MUTANTS))
def test_the_sweep_catches_a_wrong_module(
    fault_point: FaultPoint,
    iam: t.Any,
    run_module: t.Any,
    retries: t.Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mutant: str,
) -> None:
    planner, mutate, setup, args, expected = MUTANTS[mutant]
    monkeypatch.setattr(lc, planner, mutate(getattr(lc, planner)))
    writes, failures = sweep(setup, args, fault_point, iam, run_module, retries)
    with capsys.disabled():
        print(f"\nmutant '{mutant}': {writes - len(failures)}/{writes}, caught at k={[f.split()[0] for f in failures]}")
    assert failures
    assert all(expected in failure for failure in failures), failures


# The harness itself: a wrong order must be caught, and the fault point must really stop everything.


def _onboarded(iam: t.Any, name: str, *, mfa: bool) -> None:
    iam.create_user(UserName=name)
    iam.add_user_to_group(UserName=name, GroupName=iam_state.ONBOARDING_GROUP)
    iam.create_login_profile(UserName=name, Password=TEMPORARY_PASSWORD, PasswordResetRequired=True)
    if mfa:
        register_mfa(iam, name)


WRONG_ORDERS = {
    # name: (setup, the writes in a wrong order, crash after, the violation expected)
    "login profile before the guard group": (
        None,
        [
            ("create_user", {"UserName": "eve"}),
            ("create_login_profile", {"UserName": "eve", "Password": TEMPORARY_PASSWORD}),
            ("add_user_to_group", {"UserName": "eve", "GroupName": iam_state.ONBOARDING_GROUP}),
        ],
        2,
        "invariant 1: user eve holds console password without an MFA guard",
    ),
    "access key before the guard group": (
        None,
        [
            ("create_user", {"UserName": "eve"}),
            ("create_access_key", {"UserName": "eve"}),
            ("add_user_to_group", {"UserName": "eve", "GroupName": iam_state.ONBOARDING_GROUP}),
        ],
        2,
        "invariant 1: user eve holds access key without an MFA guard",
    ),
    "leaving the onboarding group before the current-users policy": (
        "mfa",
        [
            ("remove_user_from_group", {"UserName": "eve", "GroupName": iam_state.ONBOARDING_GROUP}),
            ("attach_user_policy", {"UserName": "eve", "PolicyArn": iam_state.CURRENT_USERS_ARN}),
        ],
        1,
        "invariant 1: user eve holds console password without an MFA guard",
    ),
    "a policy for a user without MFA": (
        "onboarded",
        [
            ("attach_user_policy", {"UserName": "eve", "PolicyArn": iam_state.EXTRA_POLICY_ARN}),
            ("remove_user_from_group", {"UserName": "eve", "GroupName": iam_state.ONBOARDING_GROUP}),
        ],
        1,
        f"invariant 2: user eve has no MFA but policies ['{iam_state.EXTRA_POLICY_ARN}'] attached",
    ),
    "a group for a user without MFA": (
        "onboarded",
        [
            ("add_user_to_group", {"UserName": "eve", "GroupName": iam_state.EXTRA_GROUP}),
            ("remove_user_from_group", {"UserName": "eve", "GroupName": iam_state.ONBOARDING_GROUP}),
        ],
        1,
        f"invariant 2: user eve has no MFA but is a member of ['{iam_state.EXTRA_GROUP}']",
    ),
    "a permission on the onboarding group": (
        "onboarded",
        [
            ("attach_group_policy", {"GroupName": iam_state.ONBOARDING_GROUP, "PolicyArn": iam_state.EXTRA_POLICY_ARN}),
            ("delete_user", {"UserName": "eve"}),
        ],
        1,
        f"invariant 2: user eve has no MFA and NotYetLoginUsers grants ['{iam_state.EXTRA_POLICY_ARN}']",
    ),
}


@pytest.mark.parametrize("case", list(WRONG_ORDERS))
def test_the_checker_catches_a_wrong_order(fault_point: FaultPoint, iam: t.Any, case: str) -> None:
    setup, writes, crash_after, expected = WRONG_ORDERS[case]
    iam_state.bootstrap_guards(iam)
    iam_state.create_extras(iam)
    if setup is not None:
        _onboarded(iam, "eve", mfa=setup == "mfa")
    assert guards.violations(iam_state.snapshot(iam)) == []

    fault_point.crash_after(crash_after)
    for index, (operation, params) in enumerate(writes):
        if index < crash_after:
            getattr(iam, operation)(**params)
        else:
            with pytest.raises(ClientError, match=CRASH_CODE):
                getattr(iam, operation)(**params)
    # Every later request fails too, reads included.
    with pytest.raises(ClientError, match=CRASH_CODE):
        iam.get_user(UserName="eve")
    fault_point.off()

    assert fault_point.writes_served == [op.title().replace("_", "") for op, _params in writes[:crash_after]]
    assert guards.violations(iam_state.snapshot(iam)) == [expected]


def test_a_failed_read_of_one_user_does_not_lose_the_others(
    fault_point: FaultPoint, iam: t.Any, run_module: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DESIGN.md section 2, bulk: one user's failure does not stop the others, and the module returns per-user
    results. Here only the reads of user bob fail (as when his part of a run is cut off): ada is onboarded, so her
    result, with the temporary password that was just set, must come back; otherwise it is lost for good (a rerun
    sees her login profile and does not create another)."""
    iam_state.bootstrap_guards(iam)

    def decide(action: str, params: t.Mapping[str, str]) -> Fault | None:
        if action == "GetUser" and params.get("UserName") == "bob":
            return Fault(400, "Sender", CRASH_CODE, "Injected: the reads of bob fail")
        return None

    monkeypatch.setattr(fault_point, "decide", decide)
    result = run_module(iam_onboard_user, ONBOARD)
    fault_point.off()

    assert iam_state.snapshot(iam)["users"]["ada"]["login_profile"]
    assert result["failed"]
    assert "bob" in result["msg"], result["msg"]
    assert result.get("changed") is True, result
    users = {user["name"]: user for user in result.get("users") or []}
    assert sorted(users) == ["ada", "bob"], result
    assert not users["ada"]["failed"] and users["ada"]["stage"] == "onboarding"
    assert users["ada"].get("temporary_password")
    assert users["bob"]["failed"] and CRASH_CODE in users["bob"]["msg"]
    assert users["bob"]["refused"] is False  # an API error, not a refusal of the lifecycle
