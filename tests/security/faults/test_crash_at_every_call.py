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

With a handover channel (file), the notes are part of the state: the sweep there also crashes at each user's note
operations and at writes whose answer is lost, and checks invariant 6 (no lost handover, no second password by
accident) at every point; see the section "With a handover channel" below.
"""

from __future__ import annotations

import collections
import errno
import json
import os
import threading
import typing as t

import pytest
from botocore.exceptions import ClientError

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _handover
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.modules import iam_onboard_user
from ansible_collections.mfa_onboarding.iam.tests.support import guards
from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support import reports
from ansible_collections.mfa_onboarding.iam.tests.support import scenario
from ansible_collections.mfa_onboarding.iam.tests.support.faults import CRASH_CODE
from ansible_collections.mfa_onboarding.iam.tests.support.faults import Fault
from ansible_collections.mfa_onboarding.iam.tests.support.faults import FaultPoint
from ansible_collections.mfa_onboarding.iam.tests.support.faults import caught_at
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
    # bob is at a path: the policies name user/*/${aws:username} too, or the run refuses his path before any write.
    iam_state.bootstrap_guards(iam, any_path=True)


def promotion_setup(iam: t.Any) -> None:
    """Two users as onboarding leaves them (made with boto3, which is faster than a module run), who then
    registered MFA."""
    iam_state.bootstrap_guards(iam, any_path=True)
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
    stop_when: t.Callable[[str], bool] | None = None,
) -> tuple[int, list[str]]:
    """(N, the problems found at each k as one message per failed k); [] when every k passed. stop_when (for the
    mutant controls): the sweep stops at the first failure it holds true for."""
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
            if stop_when is not None and stop_when(failures[-1]):
                break
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
    # A control only has to show that the sweep can fail: it stops at its first failure, which must show the
    # expected text (as every failure it finds must).
    writes, failures = sweep(setup, args, fault_point, iam, run_module, retries, stop_when=lambda failure: True)
    with capsys.disabled():
        print(f"\nmutant '{mutant}': {caught_at(failures, writes, expected)}")
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
    # name: (setup, the writes in a wrong order, crash after, the violation expected, or the violations)
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
        # An active key on a user without MFA breaks invariant 2 as well (adoption deactivates them).
        [
            "invariant 1: user eve holds access key without an MFA guard",
            "invariant 2: user eve has no MFA but 1 active access key",
        ],
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
    assert guards.violations(iam_state.snapshot(iam)) == (expected if isinstance(expected, list) else [expected])


def test_a_failed_read_of_one_user_does_not_lose_the_others(
    fault_point: FaultPoint, iam: t.Any, run_module: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DESIGN.md section 2, bulk: one user's failure does not stop the others, and the module returns per-user
    results. Here only the reads of user bob fail (as when his part of a run is cut off): ada is onboarded, so her
    result, with the temporary password that was just set, must come back; otherwise it is lost for good (a rerun
    sees her login profile and does not create another)."""
    iam_state.bootstrap_guards(iam, any_path=True)  # bob is at a path

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


# With a handover channel (invariants 6 and 3, DESIGN.md section 4): the notes are part of the state.
#
# The same onboarding with handover: file. Besides the IAM writes (CreateUser with the pending mark, AddUserToGroup,
# CreateLoginProfile, TagUser delivered), each user's handover makes two file operations: `deliver` stages the note
# (.<name>.txt.new), `commit` puts it in place (<name>.txt) once the mark says delivered. The crash points:
#
# - refused after k: the first k writes pass, every later request fails (the process goes on without IAM);
# - answer lost at k: the k-th write takes effect but its answer, and every later request, fail (a run killed while
#   it waited for that answer);
# - killed before / killed after one user's deliver or commit: from that moment nothing else happens (every request
#   and every later note operation fails);
# - note fails: that one note operation fails as a full or read-only disk makes it fail (OSError in tempfile.mkstemp
#   or os.replace, as the channel sees it), and the run goes on.
#
# At every point, after the interrupted run: invariants 1 and 2, and every user is absent, pending, or delivered
# with a note (in place or staged) that holds IAM's password; never a password in IAM with no pending mark and no
# delivered note, never a note in place for a user still pending. After one rerun: the end state of the
# uninterrupted run, every user delivered with exactly one current note (mode 0600) that holds IAM's password and no
# other file in the directory (no backup: no note was replaced); a user that was delivered before the rerun kept
# its password, a pending one got exactly one fresh password; no password in either run's result.

REFUSED = "refused after k"
LOST = "answer lost at k"
KILLED_BEFORE = "killed before"
KILLED_AFTER = "killed after"
NOTE_FAILS = "note fails"
POINT_KINDS = (REFUSED, LOST, KILLED_BEFORE, KILLED_AFTER, NOTE_FAILS)
NOTE_OPERATIONS = ("deliver", "commit")

# What a user is after the interrupted run (scenario.handover_outcome).
ABSENT = scenario.ABSENT
OUTCOMES = scenario.OUTCOMES
DELIVERED = scenario.DELIVERED
NAMES = [user["name"] for user in USERS]


class CrashPoint(t.NamedTuple):
    kind: str
    writes: int = 0  # REFUSED, LOST: k
    user: str = ""  # the note kinds: whose note operation
    operation: str = ""  # deliver or commit
    action: str = ""  # REFUSED, LOST: the k-th write of the clean run (its action), for the label

    @property
    def label(self) -> str:
        if self.kind in (REFUSED, LOST):
            return f"{self.kind}={self.writes} ({self.action})"
        return f"{self.kind} {self.user}'s {self.operation}"


class _FailingModule:
    """A module (os, tempfile) as _handover sees it: one function fails with EROFS in the thread that armed it."""

    def __init__(self, module: t.Any, function: str) -> None:
        self._module = module
        self._function = function
        self.armed = threading.local()

    def __getattr__(self, name: str) -> t.Any:
        if name == self._function and getattr(self.armed, "on", False):
            return self._fail
        return getattr(self._module, name)

    def _fail(self, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))


class NoteFaults:
    """The crash points in the file channel: wraps FileChannel.deliver and commit (as they are when it is made, so
    that a mutant patched before stays beneath) and records the note operations of a run in order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fault_point: FaultPoint) -> None:
        self.fault_point = fault_point
        self.point: CrashPoint | None = None
        self.dead = False
        self.operations: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        deliver, commit = _handover.FileChannel.deliver, _handover.FileChannel.commit
        # A note write fails where the disk says no: mkstemp (deliver) or the rename into place (commit).
        self._failing = {
            "deliver": _FailingModule(_handover.tempfile, "mkstemp"),
            "commit": _FailingModule(_handover.os, "replace"),
        }
        monkeypatch.setattr(_handover, "tempfile", self._failing["deliver"])
        monkeypatch.setattr(_handover, "os", self._failing["commit"])

        def faulty_deliver(channel: t.Any, name: str, address: t.Any, subject: str, text: str) -> None:
            self._around("deliver", name, lambda: deliver(channel, name, address, subject, text))

        def faulty_commit(channel: t.Any, name: str) -> bool:
            return bool(self._around("commit", name, lambda: commit(channel, name)))

        monkeypatch.setattr(_handover.FileChannel, "deliver", faulty_deliver)
        monkeypatch.setattr(_handover.FileChannel, "commit", faulty_commit)

    def arm(self, point: CrashPoint | None) -> None:
        with self._lock:
            self.point = point if point is not None and point.kind not in (REFUSED, LOST) else None
            self.dead = False
            self.operations = []

    def _kill(self) -> None:
        self.dead = True
        self.fault_point.crash_now()

    def _around(self, operation: str, name: str, call: t.Callable[[], t.Any]) -> t.Any:
        with self._lock:
            if self.dead:
                raise _handover.HandoverError("injected: the run was killed before this note operation")
            self.operations.append((name, operation))
            point = self.point
            hit = point is not None and (point.user, point.operation) == (name, operation)
            if hit and point is not None and point.kind == KILLED_BEFORE:
                self._kill()
                raise _handover.HandoverError("injected: the run was killed here")
        if hit and point is not None and point.kind == NOTE_FAILS:
            failing = self._failing[operation]
            failing.armed.on = True
            try:
                return call()
            finally:
                failing.armed.on = False
        result = call()
        if hit and point is not None and point.kind == KILLED_AFTER:
            with self._lock:
                self._kill()
            raise _handover.HandoverError("injected: the run was killed right after this note operation")
        return result


def handover_args(directory: t.Any) -> dict[str, t.Any]:
    return {"users": USERS, "handover": "file", "handover_dir": str(directory)}


class Account(t.NamedTuple):
    """IAM's state, the console passwords moto holds, and the handover directory."""

    state: dict[str, t.Any]
    passwords: dict[str, str]
    notes: scenario.Notes

    @classmethod
    def read(cls, iam: t.Any, fault_point: FaultPoint, directory: t.Any) -> Account:
        return cls(
            iam_state.snapshot(iam), scenario.stored_passwords(fault_point.url), scenario.handover_notes(directory)
        )


def outcome(account: Account, name: str) -> tuple[str, list[str]]:
    """What the interrupted run left of one user, and every breach of invariant 6 in it."""
    user = account.state["users"].get(name)
    mark = None if user is None else user["tags"].get(lc.HANDOVER_TAG)
    return scenario.handover_outcome(name, user is not None, mark, account.passwords.get(name), account.notes)


def end_problems(
    before: Account, outcomes: dict[str, str], after: Account, rerun: dict[str, t.Any], reference: dict[str, t.Any]
) -> list[str]:
    """Every way the rerun did not deliver each pending user exactly once, or re-issued a delivered password."""
    problems = []
    if rerun.get("failed"):
        problems.append(f"the rerun failed: {rerun.get('msg')}")
    if after.state != reference:
        problems.append(f"the rerun ended in {after.state['users']}, not in {reference['users']}")
    issued = {user["name"]: user.get("password_issued") for user in rerun.get("users") or []}
    changed = {user["name"]: user.get("changed") for user in rerun.get("users") or []}
    for name in NAMES:
        user = after.state["users"].get(name) or {}
        password = after.passwords.get(name)
        if (user.get("tags") or {}).get(lc.HANDOVER_TAG) != lc.DELIVERED:
            problems.append(f"{name} is not marked delivered after the rerun")
        if password is None or after.notes.current.get(name) != password:
            problems.append(f"{name} has no current note holding its password in IAM after the rerun")
        if name in after.notes.current and after.notes.modes.get(name) != "0o600":
            problems.append(f"{name}'s note has mode {after.notes.modes.get(name)}")
        if name in after.notes.staged:
            problems.append(f"{name}'s staged note is still there after the rerun")
        delivered = outcomes[name] in DELIVERED
        if delivered and password != before.passwords.get(name):
            problems.append(f"{name} got a second password though its first was delivered ({outcomes[name]})")
        if issued.get(name) is not (not delivered):
            problems.append(f"the rerun's password_issued for {name} is {issued.get(name)}, {outcomes[name]} before")
        # Putting a staged note in place is a change too (Ansible's changed: the rerun did something).
        if changed.get(name) is not (outcomes[name] != scenario.DELIVERED_IN_PLACE):
            problems.append(f"the rerun reports changed={changed.get(name)} for {name}, {outcomes[name]} before")
    if after.notes.others:
        problems.append(f"the handover directory holds more than one note per user: {after.notes.others}")
    return problems


def leaked(results: t.Iterable[dict[str, t.Any]], *accounts: Account) -> list[str]:
    """Invariant 3: no console password that IAM held in any result of the runs (failure messages included)."""
    text = "\n".join(json.dumps(result) for result in results)
    secrets = {password for account in accounts for password in account.passwords.values()}
    return ["a console password appears in a module result"] if any(s in text for s in secrets) else []


class Matrix:
    """Crash points x outcomes: per kind of point, how many points, and how many users ended in each outcome."""

    def __init__(self) -> None:
        self.points: collections.Counter[str] = collections.Counter()
        self.failed: collections.Counter[str] = collections.Counter()
        self.outcomes: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self.reissued: collections.Counter[str] = collections.Counter()

    def add(self, point: CrashPoint, outcomes: dict[str, str], rerun: dict[str, t.Any], failed: bool) -> None:
        self.points[point.kind] += 1
        self.failed[point.kind] += failed
        self.outcomes[point.kind].update(outcomes.values())
        self.reissued[point.kind] += sum(bool(user.get("password_issued")) for user in rerun.get("users") or [])

    def table(self) -> str:
        head = ["crash point", "points", "passed", *OUTCOMES, "passwords issued by the rerun"]
        rows = [head]
        for kind in [k for k in POINT_KINDS if self.points[k]] + ["total"]:
            kinds = [k for k in POINT_KINDS if self.points[k]] if kind == "total" else [kind]
            points = sum(self.points[k] for k in kinds)
            passed = points - sum(self.failed[k] for k in kinds)
            counts = [sum(self.outcomes[k][o] for k in kinds) for o in OUTCOMES]
            rows.append([kind, points, passed, *counts, sum(self.reissued[k] for k in kinds)])
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
        return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)


def handover_sweep(
    fault_point: FaultPoint,
    iam: t.Any,
    run_module: t.Any,
    retries: t.Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: t.Any,
    only: t.Collection[str] | None = None,
) -> tuple[list[CrashPoint], list[str], Matrix]:
    """(the crash points, the problems found at each as one message per failed point, the matrix)."""
    notes = NoteFaults(monkeypatch, fault_point)
    fault_point.reset_backend()
    onboarding_setup(iam)
    fault_point.clear()
    notes.arm(None)
    clean_dir = tmp_path / "clean"
    clean = run_module(iam_onboard_user, handover_args(clean_dir))
    assert not clean.get("failed"), clean
    writes = list(fault_point.writes_served)
    reference = iam_state.snapshot(iam)
    clean_account = Account.read(iam, fault_point, clean_dir)
    assert guards.violations(reference) == []
    assert end_problems(Account({}, {}, clean_account.notes), dict.fromkeys(NAMES, ABSENT), clean_account, clean,
                        reference) == []  # fmt: skip
    assert set(notes.operations) == {(name, op) for name in NAMES for op in NOTE_OPERATIONS}, notes.operations

    points = [CrashPoint(REFUSED, k, action=writes[k - 1]) for k in range(1, len(writes))]
    points += [CrashPoint(LOST, k, action=writes[k - 1]) for k in range(1, len(writes) + 1)]
    points += [CrashPoint(kind, user=name, operation=op) for kind in (KILLED_BEFORE, KILLED_AFTER, NOTE_FAILS)
               for name in NAMES for op in NOTE_OPERATIONS]  # fmt: skip
    if only is not None:
        points = [point for point in points if point.label in only]
        assert len(points) == len(only), [point.label for point in points]
    matrix = Matrix()
    failures = []
    for index, point in enumerate(points):
        fault_point.reset_backend()
        onboarding_setup(iam)
        retries.clear()
        directory = tmp_path / f"point-{index}"
        notes.arm(point)
        if point.kind == REFUSED:
            fault_point.crash_after(point.writes)
        elif point.kind == LOST:
            fault_point.crash_after(point.writes - 1, answer_lost=True)
        interrupted = run_module(iam_onboard_user, handover_args(directory))
        fault_point.off()
        notes.arm(None)
        before = Account.read(iam, fault_point, directory)
        problems = guards.violations(before.state)
        outcomes = {}
        for name in NAMES:
            outcomes[name], found = outcome(before, name)
            problems.extend(found)
        if not interrupted.get("failed"):
            problems.append("the interrupted run did not fail")
        if retries.total:
            problems.append(f"the crash was retried ({retries.total} retries)")
        rerun = run_module(iam_onboard_user, handover_args(directory))
        after = Account.read(iam, fault_point, directory)
        problems.extend(end_problems(before, outcomes, after, rerun, reference))
        problems.extend(leaked([interrupted, rerun], before, after))
        matrix.add(point, outcomes, rerun, bool(problems))
        if problems:
            failures.append(f"{point.label}: {outcomes}: " + "; ".join(problems))
    return points, failures, matrix


def test_crash_at_every_write_and_note_operation_with_file_handover(
    fault_point: FaultPoint,
    iam: t.Any,
    run_module: t.Any,
    retries: t.Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: t.Any,
    capsys: pytest.CaptureFixture[str],
    record_property: t.Callable[[str, object], None],
) -> None:
    points, failures, matrix = handover_sweep(fault_point, iam, run_module, retries, monkeypatch, tmp_path)
    table = matrix.table()
    text = f"handover crash matrix: {len(points) - len(failures)}/{len(points)} crash points passed, {len(NAMES)} " \
           f"users each (user outcomes after the interrupted run)\n{table}"  # fmt: skip
    path = reports.write("crash-matrix-handover.txt", text)
    record_property("crash_matrix_handover", table)
    with capsys.disabled():
        print(f"\n{text}\n(written to {path})")
    assert failures == []
    # Every kind of point happened, and every outcome of a user occurred somewhere: the sweep is not vacuous.
    assert all(matrix.points[kind] for kind in POINT_KINDS)
    assert all(sum(matrix.outcomes[kind][o] for kind in POINT_KINDS) for o in OUTCOMES), table


# The handover sweep must fail for a module that gets the handover wrong: each mutant at a point that shows it.


def _delivered_before_handover(original: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    def steps(password_step: str, handover: str | None) -> list[t.Any]:
        planned = original(password_step, handover)
        return sorted(planned, key=lambda s: {lc.TAG_USER: 1, lc.HANDOVER: 2}.get(s.action, 0))

    return steps


def _no_pending_mark(original: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    def plan(*args: t.Any, **kwargs: t.Any) -> t.Any:
        steps, notes, refusal = original(*args, **kwargs)
        unmarked = [
            s._replace(target={k: v for k, v in s.target.items() if k != lc.HANDOVER_TAG})
            if s.action == lc.CREATE_USER
            else s
            for s in steps
        ]
        return lc.Plan(unmarked, notes, refusal)

    return plan


def _note_in_place_at_once(original: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    def deliver(channel: t.Any, name: str, *args: t.Any) -> None:
        original(channel, name, *args)
        channel.commit(name)

    return deliver


def _no_recovery(original: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    def recover(channel: t.Any, name: str) -> bool:
        return False

    return recover


HANDOVER_MUTANTS = {
    "the mark says delivered before the note is written": (
        lc, "handover_steps", _delivered_before_handover, "killed before ada's deliver", "no note holds"),
    "a new user is not marked pending": (
        lc, "plan_onboarding", _no_pending_mark, "killed before ada's deliver", "no delivered note"),
    "the note is put in place before the mark says delivered": (
        _handover.FileChannel, "deliver", _note_in_place_at_once, "killed after ada's deliver", "is in place, but"),
    "a rerun does not put a staged note in place": (
        _handover.FileChannel, "recover", _no_recovery, "killed before ada's commit", "no current note"),
}  # fmt: skip


@pytest.mark.parametrize("mutant", list(HANDOVER_MUTANTS))
def test_the_handover_sweep_catches_a_wrong_module(
    fault_point: FaultPoint,
    iam: t.Any,
    run_module: t.Any,
    retries: t.Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: t.Any,
    mutant: str,
) -> None:
    owner, attribute, mutate, point, expected = HANDOVER_MUTANTS[mutant]
    monkeypatch.setattr(owner, attribute, mutate(getattr(owner, attribute)))
    _points, failures, _matrix = handover_sweep(
        fault_point, iam, run_module, retries, monkeypatch, tmp_path, only=[point]
    )
    assert len(failures) == 1, failures
    assert expected in failures[0], failures
