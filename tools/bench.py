# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""`make bench`: onboarding N users with the onboard role against the same job done with amazon.aws's modules.

    PYTHONPATH=build/collections python tools/bench.py [--repeat R] [N ...]      (defaults: --repeat 3, N = 10 100)

(`make bench` sets PYTHONPATH: the moto server and the first sign-in come from the test support package.)

Everything runs in one moto server on loopback, started here. For each N the account is reset and bootstrapped
(not timed); then, R times, in an order that alternates between repeats and with new user names each time:

- ours: `ansible-playbook mfa_onboarding.iam.onboard` for N new users with onboard_delivery=file and a fresh
  onboard_handover_dir (the run a user makes: the module writes each user's note), then the same run again
  (unchanged); then tools/bench/ours_onboard_no_handover.yml for N other new users (iam_onboard_user alone, handover
  none, no_log); then, once each user of the first run has registered an MFA device (boto3, not timed), the promote
  playbook and its unchanged rerun;
- amazon.aws: tools/bench/amazon_aws_onboard_file_handover.yml for N other new users (the passwords generated
  first into a no_log fact, `iam_user` with that password, `update_password: on_create`, `password_reset_required`
  in a loop, a note per created user with `copy`, mode 0600 in a 0700 directory, one task per user, then
  `iam_group` membership), then the same run again; then tools/bench/amazon_aws_onboard.yml (the same loop, no
  note) for N other new users.

Each run is a separate ansible-playbook process, timed from start to exit. The API calls are counted at the
server (moto's request recorder, reset before each run) and split into reads (Get*, List*, Describe*) and
writes. After each onboarding run the users are read back to check that both ways did the whole job (user,
group membership, console password); after the file-handover runs and their reruns, the notes too: exactly one
note `<dir>/<name>.txt` per user and nothing else, mode 0600, in a directory of mode 0700, each with a password
line, no two alike; and for ours each user's mark, the tag mfa-onboarding:handover=delivered. The table shows
medians over the repeats (and the range); the figures per user are the run's calls divided by N, account-level
reads included. The load average is printed at the start, after each repeat and at the end: the figures are only
as good as the machine was quiet.

With --status N (make bench: 1,000 users, --pending 50 of them onboarding, the rest promoted with a virtual MFA
device), the account is then reset and filled with those users (boto3, not timed), and the status job is timed:
ours, `ansible-playbook mfa_onboarding.iam.status` writing a JSON report (read back: the stages must count the
users), R times; amazon.aws's, tools/bench/amazon_aws_status.yml (`iam_user_info` for every user, then
`iam_mfa_device_info` for each user in a loop; its count of users without MFA is read back),
--status-baseline-repeat times (default 1: at 1,000 users one run takes minutes). Same server, same run.

With --offboard N (make bench: 100), the account is reset and bootstrapped again, and 2N "full users" are created
with boto3 (not timed), each promoted and holding what tests/support/full_user.py gives the issue's leaver: a
console password, two access keys, a signing certificate, an SSH public key, a service-specific credential where
the stand-in implements the call (moto 5.2.5 does not: it is skipped, and the output says so), a virtual MFA device,
an inline and an attached customer-managed policy, three groups, and MFARequiredForCurrentUsers. Then, R times in
alternating order (new full users each time), N of them are offboarded by ours,
`ansible-playbook mfa_onboarding.iam.offboard` (delete, all users in one role run), and N others by amazon.aws's,
tools/bench/amazon_aws_offboard.yml (`iam_user` state absent in a loop). What each left of every user is read back
(full_user.leftovers): ours must leave nothing, or the bench stops; amazon.aws's leftovers are counted and printed
(it deactivates the virtual MFA device without deleting it, and would never delete a service-specific credential).

The targets are checked at the end: at N = 100, ours takes at most 0.05x amazon.aws's time for the onboarding
with file handover; in both onboarding runs, a new user costs at most 4 writes (at every N) and, at N >= 100, at
most 2 reads, account-level reads included (at small N the 8 account-level reads of a run dominate); an
unchanged rerun, of the onboarding or of the promotion, writes nothing; the status job makes at most about 150
calls for 50 onboarding users, no write, and at 1,000 users takes at most 0.1x amazon.aws's time; the offboard role
leaves nothing of any user (tests/integration/roles/test_offboard_role.py checks that its rerun writes nothing).
The exit status is 1 when one is missed.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import time
import typing as t
from statistics import median

from ansible_collections.mfa_onboarding.iam.tests.support import full_user as fu
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import register_mfa

HERE = os.path.dirname(os.path.abspath(__file__))
BASELINE_PLAYBOOK = os.path.join(HERE, "bench", "amazon_aws_onboard.yml")
FILE_BASELINE_PLAYBOOK = os.path.join(HERE, "bench", "amazon_aws_onboard_file_handover.yml")
NO_HANDOVER_PLAYBOOK = os.path.join(HERE, "bench", "ours_onboard_no_handover.yml")
STATUS_BASELINE_PLAYBOOK = os.path.join(HERE, "bench", "amazon_aws_status.yml")
OFFBOARD_BASELINE_PLAYBOOK = os.path.join(HERE, "bench", "amazon_aws_offboard.yml")
OFFBOARD = "offboard, delete"
CURRENT_USERS_ARN = "arn:aws:iam::123456789012:policy/MFARequiredForCurrentUsers"  # moto's default account
STATUS_TARGET_RATIO = 0.1
STATUS_TARGET_CALLS = 150  # for 1,000 users of whom 50 are onboarding (DESIGN section 2)
STATUS_TARGET_COUNT = 1000  # the ratio target is for this many users
GROUP = "NotYetLoginUsers"
HANDOVER_TAG = "mfa-onboarding:handover"
FILE_HANDOVER_TARGET_RATIO = 0.05  # ours / amazon.aws, onboarding with file handover
TARGET_COUNT = 100  # the ratio target is for this many users, the reads target from this many on
TARGET_WRITES = 4  # per new user, at every N
TARGET_READS = 2  # per new user, account-level reads included, at N >= TARGET_COUNT
OURS, THEIRS = "ours", "amazon.aws"
FILE, NO_HANDOVER = "onboard, file handover", "onboard, no handover"
ONBOARDING = (FILE, NO_HANDOVER)
STEPS = (FILE, NO_HANDOVER, "unchanged rerun", "promote", "promote rerun")
# A note's password line: the module's default message and the amazon.aws baseline's note both have one.
PASSWORD_LINE = re.compile(r"^[ \t]*Temporary password:[ \t]*(\S+)[ \t]*$", re.MULTILINE)


class Measurement(t.NamedTuple):
    seconds: float
    reads: int
    writes: int


class Bench:
    def __init__(self, server: MotoServer, vars_dir: str) -> None:
        self.server = server
        self.env = dict(server.env(), ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
        self.iam = server.iam_client()
        self.vars_dir = vars_dir

    def run(self, playbook: str, extra_vars: dict[str, t.Any]) -> Measurement:
        """One ansible-playbook run, timed and counted; fails loudly if the play failed."""
        return self.run_with_output(playbook, extra_vars)[0]

    def run_with_output(self, playbook: str, extra_vars: dict[str, t.Any]) -> tuple[Measurement, str]:
        """One ansible-playbook run, timed and counted, and its output; fails loudly if the play failed."""
        vars_file = os.path.join(self.vars_dir, "vars.json")
        with open(vars_file, "w", encoding="utf-8") as handle:
            json.dump(extra_vars, handle)
        self.server.reset_recording()
        start = time.monotonic()
        process = subprocess.run(
            ["ansible-playbook", playbook, "-e", f"@{vars_file}"],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - start
        if process.returncode != 0:
            raise SystemExit(f"bench: {playbook} failed:\n{process.stdout[-3000:]}\n{process.stderr[-2000:]}")
        actions = self.server.actions()
        writes = len(MotoServer.writes(actions))
        return Measurement(seconds, len(actions) - writes, writes), process.stdout

    def fresh_account(self) -> None:
        self.server.reset()
        self.run("mfa_onboarding.iam.bootstrap", {})

    def check_onboarded(self, users: list[str]) -> None:
        """Both ways must have done the whole job: the user, in the onboarding group, with a console password."""
        members = set()
        for page in self.iam.get_paginator("get_group").paginate(GroupName=GROUP):
            members.update(user["UserName"] for user in page["Users"])
        missing = sorted(set(users) - members)
        if missing:
            raise SystemExit(f"bench: not in {GROUP} after onboarding: {', '.join(missing[:5])} ...")
        for user in users:
            self.iam.get_login_profile(UserName=user)  # raises NoSuchEntity when there is none

    def notes_dir(self) -> str:
        """Where a file-handover run is to put its notes: a path that does not exist yet (each way creates it)."""
        return os.path.join(tempfile.mkdtemp(prefix="notes-", dir=self.vars_dir), "notes")

    @staticmethod
    def check_notes(users: list[str], directory: str) -> None:
        """Each user has exactly one note, <name>.txt, mode 0600, with a password line, in a directory of mode
        0700 that holds nothing else (no second note, no backup, no temporary file); no two passwords alike."""
        try:
            info = os.lstat(directory)
        except FileNotFoundError:
            raise SystemExit(f"bench: no directory of notes at {directory}") from None
        if not stat.S_ISDIR(info.st_mode) or stat.S_IMODE(info.st_mode) != 0o700:
            raise SystemExit(f"bench: {directory} is not a directory of mode 0700: {stat.filemode(info.st_mode)}")
        found, expected = set(os.listdir(directory)), {f"{user}.txt" for user in users}
        if found != expected:
            missing, extra = sorted(expected - found), sorted(found - expected)
            raise SystemExit(f"bench: the notes in {directory} are not one per user: missing {missing[:5]},"
                             f" unexpected {extra[:5]}")  # fmt: skip
        passwords = set()
        for name in sorted(expected):
            path = os.path.join(directory, name)
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode) or stat.S_IMODE(info.st_mode) != 0o600:
                raise SystemExit(f"bench: the note {path} is not a file of mode 0600: {stat.filemode(info.st_mode)}")
            with open(path, encoding="utf-8") as handle:
                lines = PASSWORD_LINE.findall(handle.read())
            if len(lines) != 1:
                raise SystemExit(f"bench: the note {path} has {len(lines)} password lines, not one")
            passwords.add(lines[0])
        if len(passwords) != len(expected):
            raise SystemExit(f"bench: the notes in {directory} hold {len(passwords)} different passwords for"
                             f" {len(expected)} users")  # fmt: skip

    def check_delivered(self, users: list[str]) -> None:
        """Ours marks each user whose note is written: tag mfa-onboarding:handover=delivered."""
        for user in users:
            tags = {tag["Key"]: tag["Value"] for tag in self.iam.list_user_tags(UserName=user)["Tags"]}
            if tags.get(HANDOVER_TAG) != "delivered":
                raise SystemExit(f"bench: {user} is marked {HANDOVER_TAG}={tags.get(HANDOVER_TAG)}, not delivered")

    def ours(self, users: list[str], other_users: list[str]) -> dict[str, Measurement]:
        notes = self.notes_dir()
        onboard = {
            "onboard_users": [{"name": u} for u in users],
            "onboard_delivery": "file",
            "onboard_handover_dir": notes,
        }
        figures = {FILE: self.run("mfa_onboarding.iam.onboard", onboard)}
        self.check_onboarded(users)
        self.check_notes(users, notes)
        self.check_delivered(users)
        figures["unchanged rerun"] = self.run("mfa_onboarding.iam.onboard", onboard)
        self.check_notes(users, notes)
        plain = {"bench_onboard_users": [{"name": u} for u in other_users], "bench_group": GROUP}
        figures[NO_HANDOVER] = self.run(NO_HANDOVER_PLAYBOOK, plain)
        self.check_onboarded(other_users)
        for user in users:
            register_mfa(self.iam, user)
        promote = {"promote_users": [{"name": u} for u in users]}
        figures["promote"] = self.run("mfa_onboarding.iam.promote", promote)
        figures["promote rerun"] = self.run("mfa_onboarding.iam.promote", promote)
        return figures

    def theirs(self, users: list[str], other_users: list[str]) -> dict[str, Measurement]:
        notes = self.notes_dir()
        extra_vars = {"bench_users": users, "bench_group": GROUP, "bench_handover_dir": notes}
        figures = {FILE: self.run(FILE_BASELINE_PLAYBOOK, extra_vars)}
        self.check_onboarded(users)
        self.check_notes(users, notes)
        figures["unchanged rerun"] = self.run(FILE_BASELINE_PLAYBOOK, extra_vars)
        self.check_notes(users, notes)
        figures[NO_HANDOVER] = self.run(BASELINE_PLAYBOOK, {"bench_users": other_users, "bench_group": GROUP})
        self.check_onboarded(other_users)
        return figures


class StatusBench:
    """The status job on one account of `count` users, `pending` of them onboarding and the rest promoted (each
    with a console password and a virtual MFA device): ours (the status playbook, with a JSON report, which is read
    back) beside amazon.aws's iam_user_info plus iam_mfa_device_info for each user (its count of users without MFA
    is read back)."""

    def __init__(self, bench: Bench, count: int, pending: int) -> None:
        self.bench = bench
        self.count = count
        self.pending = pending

    def setup(self) -> None:
        """A bootstrapped account with the users (boto3 in a few threads; not timed)."""
        self.bench.fresh_account()
        iam = self.bench.iam

        def make(index: int) -> None:
            name = f"s-user{index:04d}"
            iam.create_user(UserName=name)
            if index < self.pending:
                iam.add_user_to_group(UserName=name, GroupName=GROUP)
            iam.create_login_profile(UserName=name, Password=f"Bench-Passw0rd!{index:04d}", PasswordResetRequired=False)
            if index >= self.pending:
                register_mfa(iam, name)
                iam.attach_user_policy(UserName=name, PolicyArn=CURRENT_USERS_ARN)

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(make, range(self.count)))

    def ours(self) -> Measurement:
        report = os.path.join(self.bench.vars_dir, "status.json")
        measurement = self.bench.run("mfa_onboarding.iam.status", {"status_report_path": report})
        with open(report, encoding="utf-8") as handle:
            stages = json.load(handle)["summary"]["stages"]
        expected = {"onboarding": self.pending, "promoted": self.count - self.pending}
        if {stage: stages.get(stage) for stage in expected} != expected:
            raise SystemExit(f"bench: the status report counts {stages}, expected {expected}")
        return measurement

    def theirs(self) -> Measurement:
        measurement, stdout = self.bench.run_with_output(STATUS_BASELINE_PLAYBOOK, {})
        expected = f"{self.count} users, {self.pending} without an MFA device"
        if expected not in stdout:
            raise SystemExit(f"bench: the amazon.aws status run did not report '{expected}':\n{stdout[-2000:]}")
        return measurement


def measure_status(
    bench: Bench, count: int, pending: int, repeats: int, baseline_repeats: int
) -> dict[str, list[Measurement]]:
    status = StatusBench(bench, count, pending)
    status.setup()
    results: dict[str, list[Measurement]] = {OURS: [], THEIRS: []}
    for repeat in range(max(repeats, baseline_repeats)):
        order = (OURS, THEIRS) if repeat % 2 == 0 else (THEIRS, OURS)
        for who in order:
            if who == OURS and repeat < repeats:
                results[OURS].append(status.ours())
            elif who == THEIRS and repeat < baseline_repeats:
                results[THEIRS].append(status.theirs())
        print(f"status of {count} users ({pending} onboarding), repeat {repeat + 1}", flush=True)
    return results


def status_table(count: int, pending: int, results: dict[str, list[Measurement]]) -> list[str]:
    ours, theirs = results[OURS], results[THEIRS]
    ratio = median([m.seconds for m in ours]) / median([m.seconds for m in theirs])
    calls = median([m.reads + m.writes for m in ours]), median([m.reads + m.writes for m in theirs])
    return [
        "| users | onboarding | ours, s | amazon.aws, s | ours / amazon.aws | calls, ours | calls, amazon.aws |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {count} | {pending} | {seconds([m.seconds for m in ours])} | {seconds([m.seconds for m in theirs])}"
        f" | {ratio:.3f} | {calls[0]:.0f} | {calls[1]:.0f} |",
        f"\nStatus: medians of {len(ours)} runs of ours and {len(theirs)} of amazon.aws's, on the same server.",
    ]


def status_targets(count: int, pending: int, results: dict[str, list[Measurement]]) -> list[tuple[str, bool]]:
    ratio = median([m.seconds for m in results[OURS]]) / median([m.seconds for m in results[THEIRS]])
    worst = max(m.reads + m.writes for m in results[OURS])
    writes = max(m.writes for m in results[OURS])
    # About 150 for 50 onboarding members: 2 live reads per member, and the rest for the account-wide pages.
    budget = STATUS_TARGET_CALLS - 2 * 50 + 2 * pending
    checks = [
        (f"status N={count}: {worst} calls for {pending} onboarding users, at most {budget:.0f}", worst <= budget),
        (f"status N={count}: {writes} writes, none allowed", writes == 0),
    ]
    if count >= STATUS_TARGET_COUNT:
        checks.insert(0, (f"status N={count}: ours / amazon.aws = {ratio:.3f}, at most {STATUS_TARGET_RATIO}",
                          ratio <= STATUS_TARGET_RATIO))  # fmt: skip
    return checks


class OffboardBench:
    """Offboarding `count` full users in one run: ours (the offboard role, delete) beside amazon.aws's iam_user state
    absent in a loop, each on users of its own, and what each left of them read back."""

    def __init__(self, bench: Bench, count: int) -> None:
        self.bench = bench
        self.count = count
        # Whether the stand-in implements CreateServiceSpecificCredential (moto 5.2.5 does not); found at setup.
        self.left_by_theirs: collections.Counter[str] = collections.Counter()  # kind -> users left holding it
        self.fresh = False

    def full_user(self, name: str) -> None:
        """tests/support/full_user.py's full user (its CodeCommit service-specific credential from the moto
        stand-in, tests/support/moto_patched.py), promoted (MFARequiredForCurrentUsers attached)."""
        fu.full_user(self.bench.iam, name)
        self.bench.iam.attach_user_policy(UserName=name, PolicyArn=CURRENT_USERS_ARN)

    def setup(self, users: list[str]) -> None:
        """The full users (boto3 in a few threads; not timed), in an account reset and bootstrapped before the first
        repeat (as for the onboarding, the repeats share it)."""
        if not self.fresh:
            self.bench.fresh_account()
            self.fresh = True
        self.full_user(users[0])  # alone first: it creates the policy and the groups the full users share
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(self.full_user, users[1:]))

    def leftovers(self, users: list[str]) -> dict[str, dict[str, list[str]]]:
        """What the account still holds of each user (full_user.leftovers), for the users that have anything."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            found = dict(zip(users, pool.map(lambda user: fu.leftovers(self.bench.iam, user), users)))
        return {user: left for user, left in found.items() if left}

    def ours(self, users: list[str]) -> dict[str, Measurement]:
        offboard = {"offboard_users": [{"name": u} for u in users], "offboard_mode": "delete"}
        figures = {OFFBOARD: self.bench.run("mfa_onboarding.iam.offboard", offboard)}
        left = self.leftovers(users)
        if left:
            user = sorted(left)[0]
            raise SystemExit(f"bench: the offboard role left something of {len(left)} users, e.g. {user}: {left[user]}")
        return figures

    def theirs(self, users: list[str]) -> dict[str, Measurement]:
        figures = {OFFBOARD: self.bench.run(OFFBOARD_BASELINE_PLAYBOOK, {"bench_users": users})}
        for left in self.leftovers(users).values():
            self.left_by_theirs.update(left.keys())
        return figures


def measure_offboard(
    bench: Bench, count: int, repeats: int
) -> tuple[OffboardBench, dict[str, dict[str, list[Measurement]]]]:
    offboarding = OffboardBench(bench, count)
    results: dict[str, dict[str, list[Measurement]]] = {OURS: {}, THEIRS: {}}
    for repeat in range(repeats):
        users = {
            who: [f"{'o' if who == OURS else 'a'}{repeat}-leaver{i:04d}" for i in range(count)]
            for who in (OURS, THEIRS)
        }
        offboarding.setup(users[OURS] + users[THEIRS])
        order = (OURS, THEIRS) if repeat % 2 == 0 else (THEIRS, OURS)
        for who in order:
            figures = offboarding.ours(users[who]) if who == OURS else offboarding.theirs(users[who])
            for step, measurement in figures.items():
                results[who].setdefault(step, []).append(measurement)
        print(f"offboard N={count}, repeat {repeat + 1}/{repeats}: {results[OURS][OFFBOARD][-1].seconds:.1f} s ours,"
              f" {results[THEIRS][OFFBOARD][-1].seconds:.1f} s amazon.aws ({load()})", flush=True)  # fmt: skip
    return offboarding, results


def offboard_table(
    offboarding: OffboardBench, results: dict[str, dict[str, list[Measurement]]], repeats: int
) -> list[str]:
    count = offboarding.count
    lines = [
        "| users | run | ours, s | amazon.aws, s | ours / amazon.aws | calls per user, ours | reads per user, ours"
        " | writes per user, ours | calls per user, amazon.aws | reads per user, amazon.aws"
        " | writes per user, amazon.aws |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    mine, theirs = results[OURS][OFFBOARD], results[THEIRS][OFFBOARD]
    ratio = median([m.seconds for m in mine]) / median([m.seconds for m in theirs])
    times = seconds([m.seconds for m in mine]), seconds([m.seconds for m in theirs])
    lines.append(f"| {count} | {OFFBOARD} | {times[0]} | {times[1]} | {ratio:.3f} | {calls_per_user(mine, count)}"
                 f" | {calls_per_user(theirs, count)} |")  # fmt: skip
    users = repeats * count
    left = ", ".join(f"{kind} of {n} of {users} users" for kind, n in sorted(offboarding.left_by_theirs.items()))
    lines += [
        f"\nOffboarding: medians of {repeats} runs each (range in brackets), each of {count} full users (two access"
        " keys, a signing certificate, an SSH key, a CodeCommit service-specific credential, a virtual MFA device,"
        " inline and attached policies, three groups, promoted); ours in one role run.",
        f"Ours left nothing of any user. amazon.aws.iam_user state absent left: {left or 'nothing'}"
        " (it deactivates MFA devices without deleting the virtual ones, whose names stay taken; moto's DeleteUser"
        " removes whatever else a user still holds, where AWS would refuse with DeleteConflict, so only what outlives"
        " the user can show here).",
    ]
    return lines


def calls_per_user(measurements: list[Measurement] | None, count: int) -> str:
    """Calls, reads and writes per user, three table cells."""
    if not measurements:
        return "- | - | -"
    reads = median([m.reads for m in measurements]) / count
    writes = median([m.writes for m in measurements]) / count
    calls = median([m.reads + m.writes for m in measurements]) / count
    return f"{calls:.2f} | {reads:.2f} | {writes:.2f}"


def seconds(values: list[float]) -> str:
    """The median, and the range when there is more than one value."""
    text = f"{median(values):.1f}"
    return text + f" ({min(values):.1f}-{max(values):.1f})" if len(values) > 1 else text


def measure(bench: Bench, count: int, repeats: int) -> dict[str, dict[str, list[Measurement]]]:
    results: dict[str, dict[str, list[Measurement]]] = {OURS: {}, THEIRS: {}}
    bench.fresh_account()
    for repeat in range(repeats):
        order = (OURS, THEIRS) if repeat % 2 == 0 else (THEIRS, OURS)
        for who in order:
            prefix = f"{'o' if who == OURS else 'a'}{repeat}"
            users = [f"{prefix}-file{i:04d}" for i in range(count)]
            other_users = [f"{prefix}-none{i:04d}" for i in range(count)]
            figures = bench.ours(users, other_users) if who == OURS else bench.theirs(users, other_users)
            for step, measurement in figures.items():
                results[who].setdefault(step, []).append(measurement)
        done = [f"{step} {results[OURS][step][-1].seconds:.1f} s ours, {results[THEIRS][step][-1].seconds:.1f} s"
                " amazon.aws" for step in ONBOARDING]  # fmt: skip
        print(f"N={count}, repeat {repeat + 1}/{repeats}: {'; '.join(done)} ({load()})", flush=True)
    return results


def load() -> str:
    """The load average, for the record: the figures are only as good as the machine was quiet."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def per_user(measurements: list[Measurement] | None, count: int) -> str:
    """Reads and writes per user, two table cells."""
    if not measurements:
        return "- | -"
    reads = median([m.reads for m in measurements]) / count
    writes = median([m.writes for m in measurements]) / count
    return f"{reads:.2f} | {writes:.2f}"


def table(all_results: dict[int, dict[str, dict[str, list[Measurement]]]], repeats: int) -> list[str]:
    lines = [
        "| users | run | ours, s | amazon.aws, s | ours / amazon.aws | reads per user, ours | writes per user, ours"
        " | reads per user, amazon.aws | writes per user, amazon.aws |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for count, results in all_results.items():
        for step in STEPS:
            mine = results[OURS][step]
            ours_s = median([m.seconds for m in mine])
            theirs = results[THEIRS].get(step)
            if theirs:
                theirs_s = median([m.seconds for m in theirs])
                against = seconds([m.seconds for m in theirs])
                ratio = f"{ours_s / theirs_s:.3f}"
            else:
                against = ratio = "-"
            lines.append(
                f"| {count} | {step} | {seconds([m.seconds for m in mine])} | {against} | {ratio}"
                f" | {per_user(mine, count)} | {per_user(theirs, count)} |"
            )
    lines.append(f"\nMedians of {repeats} runs each (range in brackets); one moto server, 2-core machine.")
    return lines


def targets(all_results: dict[int, dict[str, dict[str, list[Measurement]]]]) -> list[tuple[str, bool]]:
    checks = []
    results = all_results.get(TARGET_COUNT)
    if results:
        ours = median([m.seconds for m in results[OURS][FILE]])
        ratio = ours / median([m.seconds for m in results[THEIRS][FILE]])
        checks.append((f"N={TARGET_COUNT}, {FILE}: ours / amazon.aws = {ratio:.3f}, at most"
                       f" {FILE_HANDOVER_TARGET_RATIO}", ratio <= FILE_HANDOVER_TARGET_RATIO))  # fmt: skip
    for count, results in all_results.items():
        for step in ONBOARDING:
            new = results[OURS][step]
            worst_writes = max(m.writes for m in new)
            checks.append((f"N={count}, {step}: {worst_writes} writes for {count} new users, at most"
                           f" {TARGET_WRITES} each", worst_writes <= TARGET_WRITES * count))  # fmt: skip
            if count >= TARGET_COUNT:
                worst_reads = max(m.reads for m in new)
                checks.append((f"N={count}, {step}: {worst_reads} reads for {count} new users, at most"
                               f" {TARGET_READS} each", worst_reads <= TARGET_READS * count))  # fmt: skip
        for step in ("unchanged rerun", "promote rerun"):
            writes = max(m.writes for m in results[OURS][step])
            checks.append((f"N={count}: {writes} writes in the {step}, none allowed", writes == 0))
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument(
        "counts", nargs="*", type=int, default=[10, 100], metavar="N", help="users to onboard (10 100; 0 for none)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (default 3)")
    parser.add_argument("--status", type=int, default=0, metavar="N", help="also time the status job on N users")
    parser.add_argument("--pending", type=int, default=50, help="of them onboarding (default 50)")
    parser.add_argument("--offboard", type=int, default=0, metavar="N", help="also time offboarding N full users")
    parser.add_argument(
        "--status-baseline-repeat", type=int, default=1, help="runs of the amazon.aws status baseline (default 1)"
    )
    args = parser.parse_args(argv)
    if args.status and not 0 < args.pending <= args.status:
        parser.error(f"--pending must be from 1 to --status ({args.status}), got {args.pending}")
    started = time.monotonic()
    print(f"bench: {load()} at the start", flush=True)
    all_results = {}
    status_results = None
    offboard_results = None
    counts = [count for count in args.counts if count > 0]
    with MotoServer() as server, tempfile.TemporaryDirectory(prefix="bench-") as vars_dir:
        bench = Bench(server, vars_dir)
        for count in counts:
            all_results[count] = measure(bench, count, args.repeat)
        if args.status:
            status_results = measure_status(bench, args.status, args.pending, args.repeat, args.status_baseline_repeat)
        if args.offboard:
            offboard_results = measure_offboard(bench, args.offboard, args.repeat)
    checks = []
    if all_results:
        print()
        print("\n".join(table(all_results, args.repeat)))
        checks += targets(all_results)
    if status_results is not None:
        print()
        print("\n".join(status_table(args.status, args.pending, status_results)))
        checks += status_targets(args.status, args.pending, status_results)
    if offboard_results is not None:
        offboarding, results = offboard_results
        print()
        print("\n".join(offboard_table(offboarding, results, args.repeat)))
        # Reaching this point means ours left nothing (the read-back stops the bench otherwise).
        checks.append((f"offboard N={args.offboard}: nothing left of {args.repeat * args.offboard} full users", True))
    print()
    met = True
    for text, ok in checks:
        print(f"{'met   ' if ok else 'MISSED'} {text}")
        met = met and ok
    print(f"\nbench: {time.monotonic() - started:.0f} s in all; {load()} at the end")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
