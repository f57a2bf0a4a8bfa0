# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Crash at every write of an adoption (DESIGN.md section 1, Adopt; invariants 1 and 2; issue 13, item 6).

One module run as the adopt role's task makes it (state onboarding, adopt_only, adopt_detach, handover none) over a
mixed account:

- legacy: an admin with a console password, an allow-everything customer policy attached, an inline policy, a
  group membership (a group that grants everything too) and two active access keys, no MFA;
- erin: a console password only;
- mia: a console password, an MFA device and a policy (adopted as promoted: the current-users policy attached,
  nothing else touched);
- svc: a service user named explicitly (an access key and a policy, no console password).

A clean run is counted first (N writes). Then, for every k from 1 to N, on a fresh account, the fault point lets k
writes through and fails every later request (a kill right after the k-th write). From the IAM state at k alone,
compared with the account before the run (never from the module's plan):

- invariant 1: every user the run changed is covered by an MFA guard (the users it has not reached yet are as
  they were, outside the regime);
- the order, per user: no key was deactivated before the user was in the onboarding group, and no grant (group,
  attached or inline policy) was removed before the user was in the onboarding group or while it still had an
  active access key: the guard first, then the keys, then the detaching. Since the writes that reach IAM at k are
  a prefix of the run's, a step out of order shows at the k right after it;
- nothing was granted but the guards;
- a rerun without faults reaches exactly the end state of the uninterrupted run (the same snapshot function),
  where invariants 1 and 2 hold for the whole account (no user without MFA holds anything beyond the guard, nor
  an active access key);
- what was taken away is reported exactly once over the two runs: by the killed run (in the user's result, failed
  or not) for what it took, by the rerun for the rest. In particular the inline policy's document, which has no
  copy elsewhere, is in the result of the run that deleted it: the rerun cannot report a policy that is already
  gone, so a killed run's failure result must carry it. (A process killed outright returns no result at all; the
  operator then has only CloudTrail's PutUserPolicy record of that document.)
"""

from __future__ import annotations

import json
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _steps
from ansible_collections.mfa_onboarding.iam.plugins.modules import iam_onboard_user
from ansible_collections.mfa_onboarding.iam.tests.support import guards
from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support import reports
from ansible_collections.mfa_onboarding.iam.tests.support.faults import CRASH_CODE
from ansible_collections.mfa_onboarding.iam.tests.support.faults import FaultPoint
from ansible_collections.mfa_onboarding.iam.tests.support.faults import caught_at
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import register_mfa

ACCOUNT = iam_state.ACCOUNT
GROUP = iam_state.ONBOARDING_GROUP
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
LEGACY_ADMIN = f"arn:aws:iam::{ACCOUNT}:policy/LegacyAdmin"
READ_ONLY = f"arn:aws:iam::{ACCOUNT}:policy/ReadOnly"
ADMINS = "Admins"
INLINE = "legacy-inline"
NAMES = ["legacy", "erin", "mia", "svc"]
# As roles/adopt/tasks/users.yml makes the module task (the role's default concurrency).
ADOPT = {
    "state": "onboarding",
    "adopt_only": True,
    "adopt_detach": True,
    "handover": "none",
    "users": [{"name": name} for name in NAMES],
    "concurrency": 4,
}
# What the uninterrupted run writes: legacy 6 (guard, two keys, detach, inline, group), erin 1 (guard), mia 1
# (current-users policy), svc 3 (guard, key, detach).
EXPECTED_WRITES = sorted(
    ["AddUserToGroup"] * 3 + ["UpdateAccessKey"] * 3 + ["DetachUserPolicy"] * 2
    + ["DeleteUserPolicy", "RemoveUserFromGroup", "AttachUserPolicy"]
)  # fmt: skip
CATEGORIES = ("access_keys", "policies", "inline_policies", "groups")


@pytest.fixture(autouse=True)
def crash_is_a_crash(monkeypatch: pytest.MonkeyPatch, aws_env: None) -> None:
    """No retry layer may turn the injected crash into a success (as in test_crash_at_every_call.py)."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")


def adoption_setup(iam: t.Any) -> dict[str, dict[str, t.Any]]:
    """The mixed account above, with boto3; returns, per user, what adoption takes away from it (the `detached`
    its results must report in all, inline documents included)."""
    iam_state.bootstrap_guards(iam)
    iam.create_policy(PolicyName="LegacyAdmin", PolicyDocument=json.dumps(EVERYTHING))
    iam.create_policy(PolicyName="ReadOnly", PolicyDocument=json.dumps(iam_state.APP_READ_ONLY))
    iam.create_group(GroupName=ADMINS)
    iam.attach_group_policy(GroupName=ADMINS, PolicyArn=LEGACY_ADMIN)
    for name in ("legacy", "erin", "mia"):
        iam.create_user(UserName=name)
        iam.create_login_profile(UserName=name, Password=f"{name.title()}-own-Passw0rd!x", PasswordResetRequired=False)
    iam.add_user_to_group(UserName="legacy", GroupName=ADMINS)
    iam.attach_user_policy(UserName="legacy", PolicyArn=LEGACY_ADMIN)
    iam.put_user_policy(UserName="legacy", PolicyName=INLINE, PolicyDocument=json.dumps(EVERYTHING))
    legacy_keys = [iam.create_access_key(UserName="legacy")["AccessKey"]["AccessKeyId"] for _key in range(2)]
    register_mfa(iam, "mia")
    iam.attach_user_policy(UserName="mia", PolicyArn=READ_ONLY)
    iam.create_user(UserName="svc")
    iam.attach_user_policy(UserName="svc", PolicyArn=READ_ONLY)
    svc_key = iam.create_access_key(UserName="svc")["AccessKey"]["AccessKeyId"]
    nothing: dict[str, t.Any] = {"access_keys": [], "policies": [], "inline_policies": {}, "groups": []}
    return {
        "legacy": {
            "access_keys": sorted(legacy_keys),
            "policies": [LEGACY_ADMIN],
            "inline_policies": {INLINE: EVERYTHING},
            "groups": [ADMINS],
        },
        "erin": nothing,
        "mia": nothing,
        "svc": dict(nothing, access_keys=[svc_key], policies=[READ_ONLY]),
    }


def grants(user: t.Mapping[str, t.Any]) -> set[str]:
    """What a user holds beyond the guards, as `kind:name` (the guards themselves are not grants here)."""
    return (
        {f"group:{g}" for g in user["groups"] if g != GROUP}
        | {f"policy:{p}" for p in user["policies"] if p != iam_state.CURRENT_USERS_ARN}
        | {f"inline:{p}" for p in user["inline_policies"]}
    )


def state_problems(before: t.Mapping[str, t.Any], state: t.Mapping[str, t.Any]) -> list[str]:
    """Invariant 1 for the users the run changed, the order of the guard, the keys and the detaching, and no new
    grant: from the IAM state at k and the state before the run."""
    problems = []
    changed = {name: user for name, user in state["users"].items() if user != before["users"].get(name)}
    problems += [v for v in guards.violations(dict(state, users=changed)) if v.startswith("invariant 1")]
    for name, user in sorted(changed.items()):
        was = before["users"][name]
        in_group = GROUP in user["groups"]
        removed = sorted(grants(was) - grants(user))
        gained = sorted(grants(user) - grants(was))
        if user["active_access_keys"] < was["active_access_keys"] and not in_group:
            problems.append(f"order: {name} had an access key deactivated before it was in {GROUP}")
        if removed and not in_group:
            problems.append(f"order: {name} lost {removed} before it was in {GROUP}")
        if removed and user["active_access_keys"]:
            problems.append(
                f"order: {name} lost {removed} while it still had {user['active_access_keys']} active access key(s)"
            )
        if gained:
            problems.append(f"{name} was granted {gained}")
    return problems


def reported(result: t.Mapping[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    """Per user, what a module result says was taken away (`detached`, also in a failed user's result)."""
    return {user["name"]: user.get("detached") or {} for user in result.get("users") or []}


def reporting_problems(
    held: dict[str, dict[str, t.Any]], killed: t.Mapping[str, t.Any], rerun: t.Mapping[str, t.Any]
) -> list[str]:
    """What was taken away is reported exactly once over the killed run and the rerun, documents included."""
    problems = []
    first, second = reported(killed), reported(rerun)
    for name in NAMES:
        for category in CATEGORIES:
            a = (first.get(name) or {}).get(category) or ([] if category != "inline_policies" else {})
            b = (second.get(name) or {}).get(category) or ([] if category != "inline_policies" else {})
            both = set(a) & set(b)
            if category == "inline_policies":  # name: document
                union, expected = {**a, **b}, held[name][category]
            else:
                union, expected = sorted({*a, *b}), sorted(held[name][category])
            if both:
                problems.append(f"{name}'s {category} {sorted(both)} were reported by both runs")
            if union != expected:
                problems.append(
                    f"{name}'s {category} reported: {a} by the killed run, {b} by the rerun; taken: {expected}"
                )
    return problems


class Sweep(t.NamedTuple):
    writes: int
    failures: list[str]


def adoption_sweep(
    fault_point: FaultPoint,
    iam: t.Any,
    run_module: t.Any,
    retries: t.Any,
    stop_when: t.Callable[[str], bool] | None = None,
) -> Sweep:
    """N, and the problems found (the uninterrupted run's first, then one message per failed k); [] when all
    passed. stop_when (for the mutant controls): the sweep stops at the first failure it holds true for."""
    failures = []
    fault_point.reset_backend()
    held = adoption_setup(iam)
    before = iam_state.snapshot(iam)
    fault_point.clear()
    clean = run_module(iam_onboard_user, ADOPT)
    assert not clean.get("failed"), clean
    served = list(fault_point.writes_served)
    reference = iam_state.snapshot(iam)
    # The uninterrupted run: the writes expected, invariants 1 and 2 over the whole account, all it took reported.
    end = [] if sorted(served) == EXPECTED_WRITES else [f"it wrote {served}"]
    end += guards.violations(reference) + state_problems(before, reference)
    end += reporting_problems(held, clean, {})
    writes = len(served)
    if end:
        failures.append("the uninterrupted run: " + "; ".join(end))
        if stop_when is not None and stop_when(failures[-1]):
            return Sweep(writes, failures)

    for k in range(1, writes + 1):
        fault_point.reset_backend()
        held = adoption_setup(iam)
        before = iam_state.snapshot(iam)
        retries.clear()
        fault_point.crash_after(k)
        interrupted = run_module(iam_onboard_user, ADOPT)
        fault_point.off()
        let_through = fault_point.writes_served
        state = iam_state.snapshot(iam)
        problems = state_problems(before, state)
        if len(let_through) != k:
            problems.append(f"{len(let_through)} writes reached moto, not {k}")
        if bool(interrupted.get("failed")) != (k < writes):
            problems.append(f"the interrupted run reported failed={interrupted.get('failed')}")
        if k < writes and not fault_point.faults[CRASH_CODE]:
            problems.append("the fault point never answered InjectedCrash")
        if retries.total:
            problems.append(f"the crash was retried ({retries.total} retries)")
        rerun = run_module(iam_onboard_user, ADOPT)
        if rerun.get("failed"):
            problems.append(f"the rerun failed: {rerun.get('msg')}")
        after = iam_state.snapshot(iam)
        if after != reference:
            problems.append(f"the rerun ended in {after['users']}, not in {reference['users']}")
        problems += reporting_problems(held, interrupted, rerun)
        if problems:
            failures.append(f"k={k} after {let_through}: " + "; ".join(problems))
            if stop_when is not None and stop_when(failures[-1]):
                break
    return Sweep(writes, failures)


def test_crash_at_every_write_of_an_adoption(
    fault_point: FaultPoint,
    iam: t.Any,
    run_module: t.Any,
    retries: t.Any,
    capsys: pytest.CaptureFixture[str],
    record_property: t.Callable[[str, object], None],
) -> None:
    writes, failures = adoption_sweep(fault_point, iam, run_module, retries)
    text = (
        f"adoption crash matrix: {writes - len(failures)}/{writes} crash points passed (crash after k of the {writes} "
        f"writes of a clean run; users {', '.join(NAMES)} in one module run, as the adopt role makes it)"
    )
    path = reports.write("crash-matrix-adoption.txt", "\n".join([text, *failures]))
    record_property("crash_matrix_adoption", text)
    with capsys.disabled():
        print(f"\n{text}\n(written to {path})")
    assert failures == []


# The sweep must fail for a module that gets the adoption's order wrong, or skips the keys: the same module with
# its planner patched.


def _reordered(rank: dict[str, int]) -> t.Callable[[t.Callable[..., t.Any]], t.Callable[..., t.Any]]:
    def mutate(original: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        def plan(*args: t.Any, **kwargs: t.Any) -> t.Any:
            steps, notes, refusal = original(*args, **kwargs)
            return lc.Plan(sorted(steps, key=lambda s: rank.get(s.action, 1)), notes, refusal)

        return plan

    return mutate


def _without_keys(original: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    def plan(*args: t.Any, **kwargs: t.Any) -> t.Any:
        steps, notes, refusal = original(*args, **kwargs)
        return lc.Plan([s for s in steps if s.action != _steps.DEACTIVATE_ACCESS_KEY], notes, refusal)

    return plan


DETACHING = {_steps.DETACH_POLICY: 0, _steps.DELETE_INLINE_POLICY: 0, _steps.REMOVE_FROM_GROUP: 0}
MUTANTS = {
    "keys deactivated after the detaching": (
        _reordered({_steps.ADD_TO_GROUP: -1, _steps.DEACTIVATE_ACCESS_KEY: 2, **DETACHING}), "while it still had"),
    "detaching before the guard": (_reordered({**DETACHING, _steps.ADD_TO_GROUP: 1}), "before it was in"),
    "no key deactivation": (_without_keys, "active access key"),
}  # fmt: skip


@pytest.mark.parametrize("mutant", list(MUTANTS))
def test_the_adoption_sweep_catches_a_wrong_module(
    fault_point: FaultPoint,
    iam: t.Any,
    run_module: t.Any,
    retries: t.Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mutant: str,
) -> None:
    mutate, expected = MUTANTS[mutant]
    monkeypatch.setattr(lc, "plan_onboarding", mutate(lc.plan_onboarding))
    # A control only has to show that the sweep can fail: it stops at the first failure showing the expected text.
    writes, failures = adoption_sweep(
        fault_point, iam, run_module, retries, stop_when=lambda failure: expected in failure
    )
    with capsys.disabled():
        print(f"\nadoption mutant '{mutant}': {caught_at(failures, writes, expected)}")
    assert failures
    assert any(expected in failure for failure in failures), failures
    # Caught by the order and the invariants, not by a harness that broke.
    assert not any("writes reached moto" in f or "the rerun failed" in f for f in failures), failures


def test_a_killed_run_for_one_user_reports_the_inline_policy_it_deleted(
    fault_point: FaultPoint, iam: t.Any, run_module: t.Any
) -> None:
    """With `name` (the module's result is the user's): killed right after DeleteUserPolicy, the failed result
    carries the document of the inline policy it deleted (its only copy: IAM holds it no more, and the rerun does
    not report it), with the keys and the policy it took before; the rerun reports what was left."""
    held = adoption_setup(iam)["legacy"]
    one = {key: value for key, value in ADOPT.items() if key != "users"}
    one["name"] = "legacy"
    fault_point.crash_after(5)  # the guard, two keys, the attached policy, the inline policy
    killed = run_module(iam_onboard_user, one)
    fault_point.off()
    assert fault_point.writes_served[-1] == "DeleteUserPolicy", fault_point.writes_served
    assert killed["failed"] and CRASH_CODE in killed["msg"], killed
    assert iam_state.snapshot(iam)["users"]["legacy"]["inline_policies"] == []
    assert killed["detached"] == dict(held, groups=[]), killed

    rerun = run_module(iam_onboard_user, one)
    assert not rerun.get("failed"), rerun
    assert rerun["detached"] == {"access_keys": [], "policies": [], "inline_policies": {}, "groups": [ADMINS]}
