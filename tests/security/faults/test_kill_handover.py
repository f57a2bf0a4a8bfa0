# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""kill -9 during a file handover of 50 users (DESIGN.md invariants 1 and 6, section 4), with ansible-playbook as an
operator runs it: the onboard playbook against a moto server on loopback, set up as the bootstrap playbook leaves an
account (iam_state.bootstrapped, which test_bootstrap_password_policy.py proves equal to the playbook's result).

A first uninterrupted run measures how long a run takes (T) and when within it the notes were put in place. Then,
per way, at 10 moments drawn at random within T (the odd points) or within its handover part (the even points, so
that kills fall among the writes; a kill drawn over the whole run often falls in ansible-playbook's start-up or in
the module's imports and reads), a run of 50 new users is killed with SIGKILL. The draws are seeded: the seed is
printed and written to the report, KILL_SEED=<seed> replays it, KILL_POINTS=<n> changes the number of points per
way. The ways:

- `tree`: every process of the run at once: ansible-playbook's own process group, and the process group of each of
  its workers (ansible-core's workers call setsid, so their group, and the module's, is not ansible-playbook's),
  stopped first so that none can start another, then killed;
- `playbook`: ansible-playbook alone. Its worker and the module it runs carry on; the test waits until the module
  has finished, then ends the worker, which would wait forever to hand its result to a parent that is gone.

Then one rerun of the same playbook, and: every user is delivered and has exactly one current note (mode 0600)
holding IAM's password, no staged note and no backup is left; a user that was delivered before the rerun (its note
in place or staged) kept its password, a pending or absent one got exactly one; the rerun's recap is not changed=0
when users were pending; invariant 1 holds after the kill and after the rerun.

The table of the points (build/reports/kill-handover-<way>.txt) says when each kill fell, where the run was, what
it left and what the rerun did.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import time
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support import reports
from ansible_collections.mfa_onboarding.iam.tests.support import scenario
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer

USERS = 50
POINTS = int(os.environ.get("KILL_POINTS") or 10)  # per way
WAYS = ("tree", "playbook")
ONBOARDING_GROUP = scenario.ONBOARDING_GROUP
MODULE = b"/AnsiballZ_iam_onboard_user.py"
RECAP = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)
SEED = int(os.environ.get("KILL_SEED") or secrets.randbelow(2**31))


# Processes (Linux /proc)


class Process(t.NamedTuple):
    pid: int
    ppid: int
    pgrp: int
    sid: int
    cmdline: bytes

    @property
    def is_module(self) -> bool:
        """The Python process that runs iam_onboard_user (not the shells around it, nor the chmod before it)."""
        argv = self.cmdline.split(b"\0")
        return not argv[0].endswith(b"sh") and any(arg.endswith(MODULE) for arg in argv[1:])


def processes(main: int | None, sessions: set[int]) -> list[Process]:
    """The live processes (zombies left out) of a run: ansible-playbook (`main`, whose session is its pid; None
    once it is gone), its children (the workers, each the leader of a session of its own, added to `sessions`), and
    everything in those sessions (the module and its shells)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            state, ppid, pgrp, sid = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
            if state == "Z" or not (sid in sessions or (main is not None and main in (ppid, int(entry)))):
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read()
        except (OSError, IndexError, ValueError):
            continue
        if main is not None and ppid == main:
            sessions.add(int(entry))
        found.append(Process(int(entry), ppid, pgrp, sid, cmdline))
    return found


def signal_groups(groups: t.Iterable[int], signum: int) -> None:
    """Signal the process groups of a run (never this test's own group, nor init's)."""
    for group in groups:
        assert group > 1 and group != os.getpgrp(), f"process group {group} is not the run's"
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signum)


# The account


class Ansible:
    """ansible-playbook against the moto server, with the environment the other suites give it."""

    def __init__(self, server: MotoServer, workdir: t.Any) -> None:
        self.workdir = workdir
        env = dict(server.env(), ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
        env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_HOME=str(workdir / "ansible-home"))
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        for name in ("ANSIBLE_CONFIG", "ANSIBLE_STDOUT_CALLBACK", "ANSIBLE_KEEP_REMOTE_FILES", "ANSIBLE_DEBUG"):
            env.pop(name, None)
        assert env.get("ANSIBLE_COLLECTIONS_PATH"), "set ANSIBLE_COLLECTIONS_PATH (the Makefile does)"
        self.env = env

    def argv(self, playbook: str, extra_vars: dict[str, t.Any], name: str) -> list[str]:
        path = self.workdir / f"{name}.json"
        path.write_text(json.dumps(extra_vars), encoding="utf-8")
        return ["ansible-playbook", f"mfa_onboarding.iam.{playbook}", "--extra-vars", f"@{path}"]

    def run(self, argv: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, env=self.env, cwd=self.workdir, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip

    def start(self, argv: list[str], log: t.Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            argv, env=self.env, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def onboard_vars(prefix: str, directory: t.Any) -> dict[str, t.Any]:
    users = [{"name": f"{prefix}u{index:02d}"} for index in range(USERS)]
    return {"onboard_users": users, "onboard_delivery": "file", "onboard_handover_dir": str(directory)}


def recap(output: str) -> tuple[int, int]:
    """(changed, failed) of the play recap; (-1, -1) without one."""
    found = RECAP.findall(output)
    if not found:
        return -1, -1
    _ok, changed, _unreachable, failed = (int(value) for value in found[-1])
    return changed, failed


class Account(t.NamedTuple):
    server: MotoServer
    ansible: Ansible
    duration: float  # of an uninterrupted run of 50 new users
    handover: tuple[float, float]  # when, from its start, it put its notes in place (the first to the last)
    workdir: t.Any


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Account]:
    """A moto server, bootstrapped (iam_state.bootstrapped); an uninterrupted onboarding of 50 users, timed."""
    workdir = tmp_path_factory.mktemp("kill")
    with MotoServer(record=False) as server:
        ansible = Ansible(server, workdir)
        iam_state.bootstrapped(server.iam_client())
        directory = workdir / "notes-clean"
        argv = ansible.argv("onboard", onboard_vars("clean", directory), "clean")
        sessions: set[int] = set()
        notes: list[tuple[float, int]] = []  # (when, how many notes were in place) whenever there were some
        with open(workdir / "clean.log", "wb") as log:
            process = ansible.start(argv, log)
            sessions.add(process.pid)
            started = time.monotonic()
            while process.poll() is None:
                in_place = len(scenario.handover_notes(str(directory)).current)
                if in_place and (not notes or notes[-1][1] < USERS):
                    notes.append((time.monotonic() - started, in_place))
                time.sleep(0.05)
            duration = time.monotonic() - started
        output = (workdir / "clean.log").read_text(encoding="utf-8", errors="replace")
        assert process.returncode == 0, output[-3000:]
        assert notes and notes[-1][1] == USERS, notes
        state = State.read(server.url, "clean", directory)
        assert [name for name in state.names if state.outcomes[name] != scenario.DELIVERED_IN_PLACE] == []
        # The handover window: from just before the first note was in place to when the last one was.
        window = (max(0.0, notes[0][0] - 0.2), notes[-1][0])
        yield Account(server, ansible, duration, window, workdir)


# What a run left


class State(t.NamedTuple):
    names: list[str]
    users: dict[str, scenario.MotoUser]
    notes: scenario.Notes
    outcomes: dict[str, str]
    problems: list[str]

    @classmethod
    def read(cls, url: str, prefix: str, directory: t.Any) -> State:
        """The users of one point and their notes, once moto has served what was still in flight (two reads that
        agree)."""
        users = scenario.moto_users(url)
        for _attempt in range(20):
            time.sleep(0.2)
            again = scenario.moto_users(url)
            if again == users:
                break
            users = again
        names = [f"{prefix}u{index:02d}" for index in range(USERS)]
        notes = scenario.handover_notes(str(directory))
        outcomes, problems = {}, []
        for name in names:
            user = users.get(name)
            mark = None if user is None else user.tags.get(scenario.HANDOVER_TAG)
            password = None if user is None else user.password
            outcomes[name], found = scenario.handover_outcome(name, user is not None, mark, password, notes)
            problems.extend(found)
            if password is not None and user is not None and ONBOARDING_GROUP not in user.groups:
                problems.append(f"invariant 1: {name} has a console password outside {ONBOARDING_GROUP}")
        return cls(names, users, notes, outcomes, problems)

    def count(self, *outcomes: str) -> int:
        return sum(outcome in outcomes for outcome in self.outcomes.values())

    def password(self, name: str) -> str | None:
        user = self.users.get(name)
        return None if user is None else user.password


class Point(t.NamedTuple):
    way: str
    index: int
    kill_at: float
    drawn: str = ""  # within the whole run, or within its handover part
    phase: str = ""
    after: State | None = None
    rerun: State | None = None
    changed: int = 0
    failed: int = 0
    first: int = 0  # first passwords the rerun issued (to users absent or without one after the kill)
    reissued: int = 0  # second passwords (to users whose first was never delivered)
    rerun_seconds: float = 0.0
    problems: tuple[str, ...] = ()


def kill(account: Account, way: str, index: int, kill_at: float, drawn: str) -> Point:
    """One point: start a run of 50 new users, SIGKILL it `kill_at` seconds in (the way says what), wait for
    what survives, rerun, and judge."""
    prefix = f"{way[0]}{index:02d}"
    directory = account.workdir / f"notes-{prefix}"
    argv = account.ansible.argv("onboard", onboard_vars(prefix, directory), prefix)
    sessions: set[int] = set()
    try:
        phase, problems = kill_run(account, argv, prefix, way, kill_at, sessions)
    finally:  # whatever happened, nothing of the run outlives the point
        signal_groups({p.pgrp for p in processes(None, sessions)}, signal.SIGKILL)
    after = State.read(account.server.url, prefix, directory)
    problems.extend(after.problems)

    started = time.monotonic()
    rerun_run = account.ansible.run(argv)
    rerun_seconds = time.monotonic() - started
    rerun = State.read(account.server.url, prefix, directory)
    changed, failed = recap(rerun_run.stdout)
    if rerun_run.returncode != 0 or failed != 0:
        problems.append(f"the rerun failed (rc {rerun_run.returncode}): {rerun_run.stdout[-2000:]}")
    first = reissued = 0
    for name in rerun.names:
        password = rerun.password(name)
        if rerun.outcomes[name] != scenario.DELIVERED_IN_PLACE:
            problems.append(f"{name} is {rerun.outcomes[name]} after the rerun")
        if name in rerun.notes.staged:
            problems.append(f"{name}'s staged note is still there after the rerun")
        if rerun.notes.modes.get(name) != "0o600":
            problems.append(f"{name}'s note has mode {rerun.notes.modes.get(name)}")
        if after.password(name) is None:
            first += 1
        elif password != after.password(name):
            reissued += 1
            if after.outcomes[name] in scenario.DELIVERED:
                problems.append(f"{name} got a second password though its first was delivered ({after.outcomes[name]})")
    problems.extend(rerun.problems)
    undelivered = len(rerun.names) - after.count(*scenario.DELIVERED)
    if reissued != after.count(scenario.PENDING_PASSWORD):
        problems.append(
            f"the rerun re-issued {reissued} passwords, {after.count(scenario.PENDING_PASSWORD)} were pending"
        )
    if undelivered and not changed:
        problems.append(f"the rerun's recap says changed=0 with {undelivered} users not delivered")
    backups = [name for name in rerun.notes.others if name.endswith("~")]
    if backups:
        problems.append(f"notes were replaced (backups {backups}): a user got a second note")
    return Point(way, index, kill_at, drawn, phase, after, rerun, changed, failed, first, reissued, rerun_seconds,
                 tuple(problems))  # fmt: skip


def kill_run(
    account: Account, argv: list[str], prefix: str, way: str, kill_at: float, sessions: set[int]
) -> tuple[str, list[str]]:
    """Start the run, SIGKILL it `kill_at` seconds in, and wait for what the way leaves running; (where the run
    was when it was killed, problems)."""
    module_seen = module_done = False
    with open(account.workdir / f"{prefix}-killed.log", "wb") as log:
        process = account.ansible.start(argv, log)
        sessions.add(process.pid)
        started = time.monotonic()
        while time.monotonic() - started < kill_at and process.poll() is None:
            running = any(p.is_module for p in processes(process.pid, sessions))
            module_done = module_done or (module_seen and not running)
            module_seen = module_seen or running
            time.sleep(0.05)
        if process.poll() is not None:
            phase = "run over"
        else:
            os.kill(process.pid, signal.SIGSTOP)  # no new worker from now on
            members = processes(process.pid, sessions)
            running = any(p.is_module for p in members)
            phase = "module running" if running else "after module" if module_seen else "before module"
            if way == "tree":
                groups = {process.pid} | {p.pgrp for p in members}
                signal_groups(groups, signal.SIGSTOP)
                groups |= {p.pgrp for p in processes(process.pid, sessions)}
                signal_groups(groups, signal.SIGKILL)
            else:
                os.kill(process.pid, signal.SIGKILL)
        process.wait()
    problems = []
    if way == "tree":
        survivors = wait_gone(sessions, 10.0)
        if survivors:
            problems.append(f"{survivors} processes of the run survived the kill")
    else:
        wait_for_module(sessions, module_seen=module_seen or phase == "module running", module_done=module_done)
    return phase, problems


def wait_gone(sessions: set[int], timeout: float) -> int:
    """Wait until no process of the run is alive (killed ones take a moment to go); how many still are."""
    deadline = time.monotonic() + timeout
    while True:
        members = processes(None, sessions)
        if not members or time.monotonic() > deadline:
            return len(members)
        time.sleep(0.05)


def wait_for_module(sessions: set[int], *, module_seen: bool, module_done: bool) -> int:
    """Once ansible-playbook is dead: wait until the module that a worker still runs (or is about to start) has
    finished, then end what is left of the run (a worker waiting to hand its result over); how many processes
    were left."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        members = processes(None, sessions)
        running = any(p.is_module for p in members)
        module_done = module_done or (module_seen and not running)
        module_seen = module_seen or running
        if not members or module_done:
            signal_groups({p.pgrp for p in members}, signal.SIGKILL)
            return len(members)
        time.sleep(0.05)
    members = processes(None, sessions)
    signal_groups({p.pgrp for p in members}, signal.SIGKILL)
    raise AssertionError(f"the run's module did not finish within 180 s: {[p.cmdline[:120] for p in members]}")


def table(account: Account, points: list[Point]) -> str:
    head = ["point", "way", "kill at", "drawn in", "phase", "absent", "pending", "delivered staged",
            "delivered in place", "notes", "staged", "stray", "re-issued", "kept", "first", "rerun recap", "rerun s",
            "result"]  # fmt: skip
    rows: list[list[t.Any]] = [head]
    for point in points:
        after = t.cast(State, point.after)
        rows.append([
            point.index, point.way, f"{point.kill_at:.2f}s", point.drawn, point.phase, after.count(scenario.ABSENT),
            after.count(scenario.PENDING_NO_PASSWORD, scenario.PENDING_PASSWORD),
            after.count(scenario.DELIVERED_STAGED),
            after.count(scenario.DELIVERED_IN_PLACE), len(after.notes.current), len(after.notes.staged),
            len(after.notes.others), point.reissued, after.count(*scenario.DELIVERED),
            point.first, f"changed={point.changed} failed={point.failed}", f"{point.rerun_seconds:.1f}",
            "ok" if not point.problems else "FAILED",
        ])  # fmt: skip
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    intro = (
        f"kill -9 during a file handover of {USERS} users: seed {SEED} (KILL_SEED={SEED} replays it), kill times drawn "
        f"within the {account.duration:.2f} s of an uninterrupted run (odd points), or within the part of it when it "
        f"put its notes in place, {account.handover[0]:.2f} s to {account.handover[1]:.2f} s (even points, so that "
        "kills fall among the writes). After the kill: absent / pending / delivered users, "
        "current notes, staged notes, stray temporary files; the rerun: second passwords (first never delivered), "
        "delivered passwords kept, first passwords issued."
    )
    return "\n".join([intro, *lines])


@pytest.mark.parametrize("way", WAYS)
def test_kill_9_during_a_file_handover_then_one_rerun(
    account: Account, way: str, capsys: pytest.CaptureFixture[str], record_property: t.Callable[[str, object], None]
) -> None:
    rng = random.Random(f"{SEED}-{way}")
    windows = {"run": (0.0, account.duration), "handover": account.handover}
    drawn = ["run" if index % 2 else "handover" for index in range(1, POINTS + 1)]
    moments = [rng.uniform(*windows[window]) for window in drawn]
    started = time.monotonic()
    points = [kill(account, way, index, moment, window)
              for index, (moment, window) in enumerate(zip(moments, drawn), start=1)]  # fmt: skip
    text = table(account, points) + f"\n{way}: {POINTS} points in {time.monotonic() - started:.1f} s"
    path = reports.write(f"kill-handover-{way}.txt", text)
    record_property(f"kill_handover_{way}", text)
    with capsys.disabled():
        print(f"\n{text}\n(written to {path})")
    failures = [f"point {p.index} ({p.way}, {p.kill_at:.2f}s, {p.phase}): " + "; ".join(p.problems)
                for p in points if p.problems]  # fmt: skip
    assert failures == [], f"seed {SEED}: {failures}"
