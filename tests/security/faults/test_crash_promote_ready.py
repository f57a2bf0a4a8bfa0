# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Crash at every write of a hands-off promotion (DESIGN.md section 1, Promote; invariants 1, 2 and 8; issue 15,
item 6).

One module run as the scheduled promote role makes it: `state: promoted, all_ready: true, users: []`, the
operator's profiles (developer: the group Developers and the policy DeveloperTools; analyst: the policy
AppReadOnly) and `default_profile: analyst`, over an account holding

- dev, ana and noa: ready (in the onboarding group, a temporary password, an MFA device), recorded as developer,
  as analyst, and with no profile (the default applies);
- mal: ready, its profile tag rewritten to the ARN of AdministratorAccess; und: ready, its tag naming Admins, a
  group of the account (with an allow-everything policy) that is no profile: both refused by name, nothing granted;
- onb: still onboarding, recorded as developer, without MFA: not ready, not touched;
- pro: promoted already (recorded as developer, holding the current-users policy and developer's grants): not
  touched.

A clean run is counted first (N writes). Then, for every k from 1 to N, on a fresh account, the fault point lets k
writes through and fails every later request (a kill right after the k-th write), and, as a second kind of crash
point, lets k - 1 writes through and serves the k-th but loses its answer (a kill while the run waited for it).
From the IAM state at each point alone (never from the module's plan):

- invariants 1 and 2 (tests/support/guards.py);
- invariant 8: every user holds no group and no policy beyond the guards and its own profile's grants (dev:
  developer's, ana and noa: analyst's); the refused users (mal, und) and the users to leave alone (onb, pro) hold
  exactly what they held before, tags included;
- a rerun without faults reaches exactly the end state of the uninterrupted run (the same snapshot function).
"""

from __future__ import annotations

import collections
import json
import time
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _profiles
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _run
from ansible_collections.mfa_onboarding.iam.plugins.modules import iam_onboard_user
from ansible_collections.mfa_onboarding.iam.tests.support import guards
from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support import reports
from ansible_collections.mfa_onboarding.iam.tests.support.faults import CRASH_CODE
from ansible_collections.mfa_onboarding.iam.tests.support.faults import FaultPoint
from ansible_collections.mfa_onboarding.iam.tests.support.faults import caught_at
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import register_mfa

GROUP = iam_state.ONBOARDING_GROUP
CURRENT = iam_state.CURRENT_USERS_ARN
TAG = lc.PROFILE_TAG
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
TOOLS = "DeveloperTools"


def _arn(name: str) -> str:
    return f"arn:aws:iam::{iam_state.ACCOUNT}:policy/{name}"


PROFILES = {
    "developer": {"groups": [iam_state.EXTRA_GROUP], "managed_policies": [TOOLS]},
    "analyst": {"managed_policies": [iam_state.EXTRA_POLICY]},
}
# What each profile grants, as IAM names it (group names, policy ARNs): written here, not read from the module.
GRANTS = {
    "developer": ({iam_state.EXTRA_GROUP}, {_arn(TOOLS)}),
    "analyst": (set(), {iam_state.EXTRA_POLICY_ARN}),
}
ARGS = {
    "state": "promoted",
    "users": [],
    "all_ready": True,
    "profiles": PROFILES,
    "default_profile": "analyst",
    "concurrency": 4,
}
# name: (kind, the tag's value or None)
USERS = {
    "dev": ("ready", "developer"),
    "ana": ("ready", "analyst"),
    "noa": ("ready", None),
    "mal": ("ready", ADMIN),
    "und": ("ready", "Admins"),
    "onb": ("onboarding", "developer"),
    "pro": ("promoted", "developer"),
}
PROMOTED = {"dev": "developer", "ana": "analyst", "noa": "analyst"}  # the users promoted, by the profile expected
REFUSED = {"mal": "holds the ARN", "und": "which is not defined"}  # refused by name, and why
UNTOUCHED = ("onb", "pro")  # neither found ready nor named: left as they are, and not in the results


@pytest.fixture(autouse=True)
def crash_is_a_crash(monkeypatch: pytest.MonkeyPatch, aws_env: None) -> None:
    """No retry layer may turn the injected crash into a success (as in test_crash_at_every_call.py)."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")


def setup(iam: t.Any) -> None:
    """The account of the module docstring, made with boto3 by root (not by the module under test)."""
    iam_state.bootstrap_guards(iam)
    iam_state.create_extras(iam)  # Developers, AppReadOnly
    iam.create_policy(PolicyName=TOOLS, PolicyDocument=json.dumps(iam_state.APP_READ_ONLY))
    iam.create_policy(PolicyName="Everything", PolicyDocument=json.dumps(EVERYTHING))
    iam.create_group(GroupName="Admins")
    iam.attach_group_policy(GroupName="Admins", PolicyArn=_arn("Everything"))
    for name, (kind, recorded) in USERS.items():
        tags = [] if recorded is None else [{"Key": TAG, "Value": recorded}]
        iam.create_user(UserName=name, Tags=tags)
        iam.add_user_to_group(UserName=name, GroupName=GROUP)
        iam.create_login_profile(UserName=name, Password=f"{name.title()}-temp-Passw0rd!x", PasswordResetRequired=True)
        if kind == "onboarding":
            continue
        register_mfa(iam, name)
        if kind == "promoted":
            iam.attach_user_policy(UserName=name, PolicyArn=CURRENT)
            iam.add_user_to_group(UserName=name, GroupName=iam_state.EXTRA_GROUP)
            iam.attach_user_policy(UserName=name, PolicyArn=_arn(TOOLS))
            iam.remove_user_from_group(UserName=name, GroupName=GROUP)


def invariant_8(before: t.Mapping[str, t.Any], state: t.Mapping[str, t.Any]) -> list[str]:
    """Invariant 8 over the account (see the module docstring); [] when it holds."""
    problems = []
    for name, user in sorted(state["users"].items()):
        was = before["users"].get(name)
        if name not in PROMOTED:
            if user != was:
                problems.append(f"invariant 8: {name} was changed: {was} -> {user}")
            continue
        groups, policies = GRANTS[PROMOTED[name]]
        beyond_groups = sorted(set(user["groups"]) - groups - {GROUP})
        beyond_policies = sorted(set(user["policies"]) - policies - {CURRENT})
        if beyond_groups or beyond_policies or user["inline_policies"]:
            problems.append(
                f"invariant 8: {name} holds {beyond_groups + beyond_policies + user['inline_policies']} beyond the "
                f"guards and profile {PROMOTED[name]}'s grants"
            )
        if user["tags"] != was["tags"]:
            problems.append(f"{name}'s tags changed: {was['tags']} -> {user['tags']}")
    return problems


def end_problems(state: t.Mapping[str, t.Any]) -> list[str]:
    """The uninterrupted run's end state: each user promoted holds exactly the guard and its profile's grants."""
    problems = []
    for name, profile in PROMOTED.items():
        user = state["users"][name]
        groups, policies = GRANTS[profile]
        held = (set(user["groups"]), set(user["policies"]))
        if held != (groups, policies | {CURRENT}):
            problems.append(f"{name} holds (groups, policies) {held}, not profile {profile}'s and the guard")
    return problems


def results_problems(result: t.Mapping[str, t.Any]) -> list[str]:
    """The uninterrupted run: the users promoted by their profile, the others refused by name, and why."""
    problems = []
    by_name = {user["name"]: user for user in result.get("users") or []}
    if sorted(by_name) != sorted([*PROMOTED, *REFUSED]):
        problems.append(f"the run's users are {sorted(by_name)}")
    for name, profile in PROMOTED.items():
        user = by_name.get(name) or {}
        got = (user.get("failed"), user.get("stage"), user.get("profile"), user.get("found_ready"))
        if got != (False, lc.PROMOTED, profile, True):
            problems.append(f"{name}'s result (failed, stage, profile, found_ready) is {got}")
    for name, why in REFUSED.items():
        user = by_name.get(name) or {}
        message = user.get("msg") or ""
        if not (user.get("failed") and user.get("refused") and name in message and why in message):
            problems.append(f"{name} was not refused by name ({why}): {user}")
    if not (result.get("failed") and all(name in (result.get("msg") or "") for name in REFUSED)):
        problems.append(f"the run does not fail naming {sorted(REFUSED)}: {result.get('msg')}")
    return problems


def failed_users(result: t.Mapping[str, t.Any]) -> set[str]:
    """The users whose promotion failed, but for those refused by design."""
    return {u["name"] for u in result.get("users") or [] if u.get("failed") and u["name"] not in REFUSED}


def _writes(counts: dict[str, int]) -> list[str]:
    return sorted(collections.Counter(counts).elements())


# dev 4 (the current-users policy, DeveloperTools, Developers, leaving the group), ana and noa 3 each (the
# current-users policy, AppReadOnly, leaving the group); mal, und, onb and pro nothing.
WRITES = _writes({"AttachUserPolicy": 6, "AddUserToGroup": 1, "RemoveUserFromGroup": 3})
KINDS = ("refused", "lost")  # the (k+1)-th write refused, or the k-th served with its answer lost


class Sweep(t.NamedTuple):
    writes: int
    points: int
    failures: list[str]
    seconds: float


def promote_ready_sweep(
    fault_point: FaultPoint,
    iam: t.Any,
    run_module: t.Any,
    retries: t.Any,
    kinds: t.Sequence[str] = KINDS,
    stop_when: t.Callable[[str], bool] | None = None,
) -> Sweep:
    """N, the number of crash points swept, and the problems found (the uninterrupted run's first, then one message
    per failed point); [] when all passed. kinds: the kinds of crash point to sweep; stop_when (for the mutant
    controls): the sweep stops at the first failure it holds true for."""
    started = time.monotonic()
    failures = []
    fault_point.reset_backend()
    setup(iam)
    before = iam_state.snapshot(iam)
    fault_point.clear()
    clean = run_module(iam_onboard_user, ARGS)
    served = list(fault_point.writes_served)
    reference = iam_state.snapshot(iam)
    end = [] if sorted(served) == WRITES else [f"it wrote {served}"]
    end += results_problems(clean) + guards.violations(reference) + invariant_8(before, reference)
    end += end_problems(reference)
    writes = len(served)
    points = 0
    if end:
        failures.append("the uninterrupted run: " + "; ".join(end))
        if stop_when is not None and stop_when(failures[-1]):
            return Sweep(writes, points, failures, time.monotonic() - started)

    for kind in kinds:
        for k in range(1, writes + 1):
            points += 1
            fault_point.reset_backend()
            setup(iam)
            before = iam_state.snapshot(iam)
            retries.clear()
            if kind == "refused":
                fault_point.crash_after(k)
            else:
                fault_point.crash_after(k - 1, answer_lost=True)
            interrupted = run_module(iam_onboard_user, ARGS)
            fault_point.off()
            let_through = fault_point.writes_served
            state = iam_state.snapshot(iam)
            problems = guards.violations(state) + invariant_8(before, state)
            if len(let_through) != k:
                problems.append(f"{len(let_through)} writes reached moto, not {k}")
            interrupted_failed = bool(failed_users(interrupted))
            if interrupted_failed != (k < writes or kind == "lost"):
                problems.append(f"the interrupted run failed for {sorted(failed_users(interrupted))}")
            if (k < writes or kind == "lost") and not fault_point.faults[CRASH_CODE]:
                problems.append("the fault point never answered InjectedCrash")
            if retries.total:
                problems.append(f"the crash was retried ({retries.total} retries)")
            rerun = run_module(iam_onboard_user, ARGS)
            if failed_users(rerun):
                problems.append(f"the rerun failed for {sorted(failed_users(rerun))}: {rerun.get('msg')}")
            after = iam_state.snapshot(iam)
            if after != reference:
                problems.append(f"the rerun ended in {after['users']}, not in {reference['users']}")
            if problems:
                failures.append(f"{kind} k={k} after {let_through}: " + "; ".join(problems))
                if stop_when is not None and stop_when(failures[-1]):
                    return Sweep(writes, points, failures, time.monotonic() - started)
    return Sweep(writes, points, failures, time.monotonic() - started)


def test_crash_at_every_write_of_a_promote_ready_run(
    fault_point: FaultPoint,
    iam: t.Any,
    run_module: t.Any,
    retries: t.Any,
    capsys: pytest.CaptureFixture[str],
    record_property: t.Callable[[str, object], None],
) -> None:
    writes, points, failures, seconds = promote_ready_sweep(fault_point, iam, run_module, retries)
    failed_points = [f for f in failures if not f.startswith("the uninterrupted run")]
    text = (
        f"promote_ready crash matrix: {points - len(failed_points)}/{points} crash points passed ({writes} writes "
        f"of a clean run, each refused after it and with its answer lost; users {', '.join(USERS)}, all_ready in "
        f"one module run; {seconds:.1f} s)"
    )
    path = reports.write("crash-matrix-promote-ready.txt", "\n".join([text, *failures]))
    record_property("crash_matrix_promote_ready", text)
    with capsys.disabled():
        print(f"\n{text}\n(written to {path})")
    assert failures == []
    assert points == 2 * len(WRITES)


# The sweep must fail for a module that gets a hands-off promotion wrong: the same module with one function patched.


def _leave_group_first(original: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    def plan(*args: t.Any, **kwargs: t.Any) -> t.Any:
        steps, notes, refusal = original(*args, **kwargs)
        return lc.Plan(sorted(steps, key=lambda s: s.action != lc.REMOVE_FROM_GROUP), notes, refusal)

    return plan


def _default_for_a_bad_tag(original: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """A recorded profile that names no profile falls back to the default one (as if it were absent)."""

    def choose(requested: t.Any, recorded: t.Any, profiles: t.Any, default: t.Any, found_ready: bool) -> t.Any:
        if recorded is not None and _profiles.recorded_problem(recorded, profiles):
            recorded = None
        return original(requested, recorded, profiles, default, found_ready)

    return choose


def _trusting_the_tag(original: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """Any recorded value is taken as a profile's name: an undefined one promotes with the guard alone."""

    def problem(value: str, profiles: t.Any) -> None:
        return None

    return problem


def _blind_to_an_interrupted_promotion(original: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """Discovery skips a ready user that already has the current-users policy (a promotion killed halfway)."""

    def candidates(client: t.Any, regime: lc.Regime) -> list[str]:
        names = original(client, regime)
        attached = {
            u["UserName"]
            for u in client.get_account_authorization_details(Filter=["User"])["UserDetailList"]
            if any(p["PolicyArn"] == regime.current_users_policy for p in u.get("AttachedManagedPolicies") or ())
        }
        return [name for name in names if name not in attached]

    return candidates


MUTANTS = {
    "promotion leaves the onboarding group first": (lc, "plan_promotion", _leave_group_first, "invariant 1"),
    "a tag that names no profile gets the default profile": (
        _profiles, "choose", _default_for_a_bad_tag, "invariant 8: mal was changed"),
    "a tag that names no profile promotes with the guard alone": (
        _profiles, "recorded_problem", _trusting_the_tag, "invariant 8: und was changed"),
    "discovery misses a promotion killed halfway": (
        _run, "ready_candidates", _blind_to_an_interrupted_promotion, "the rerun ended in"),
}  # fmt: skip


@pytest.mark.parametrize("mutant", list(MUTANTS))
def test_the_promote_ready_sweep_catches_a_wrong_module(
    fault_point: FaultPoint,
    iam: t.Any,
    run_module: t.Any,
    retries: t.Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mutant: str,
) -> None:
    owner, attribute, mutate, expected = MUTANTS[mutant]
    monkeypatch.setattr(owner, attribute, mutate(getattr(owner, attribute)))
    # A control only has to show that the sweep can fail: one kind of crash point, and the sweep stops at the first
    # failure showing the expected text.
    writes, _points, failures, _seconds = promote_ready_sweep(
        fault_point, iam, run_module, retries, ["refused"], stop_when=lambda failure: expected in failure
    )
    with capsys.disabled():
        print(f"\nmutant '{mutant}': {caught_at(failures, writes, expected)}")
        print(f"  first: {failures[0][:400]}" if failures else "  not caught")
    assert failures
    assert any(expected in failure for failure in failures), failures
    # Caught by the invariants and the convergence, not by a harness that broke.
    assert not any("writes reached moto" in f for f in failures), failures
