# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""`make demo`: the whole lifecycle of MFA onboarding, walked through on a local moto server.

1. bootstrap the account (twice: the second run changes nothing),
2. onboard four users, alice, bob, carol and dave, each with its promotion profile, their temporary passwords
   handed over as files,
3. alice and dave sign in, set their own passwords and register MFA devices (simulated with boto3 and pyotp), and
   someone allowed only to tag users rewrites dave's profile tag to AdministratorAccess,
4. the scheduled promote: every user who registered MFA gets its profile's grants, alice does; dave is refused
   (a tag cannot grant) until the operator records his profile again; bob (no MFA yet) is not touched,
5. carol never signs in: eight days later the expire playbook deletes her unused temporary password,
6. dave leaves: the offboard playbook disables him first (kept for audit), then deletes him and all he held,
7. show where every user stands (the status playbook), and where the notes are.

Each playbook's full output goes to build/demo/<step>.log; the walk-through shows the lines that matter. The moto
server, the first sign-in and the leftover check come from the test support package (tests/support), which
`make demo` puts on PYTHONPATH. moto cannot let eight days pass, and it dates a login profile by its user's creation
date, which no API call changes: the demo moves carol's creation date eight days back through the control route the
test support's moto server has for it (moto_patched.age_user_at) before the expiry, and says so. Nothing else is changed
behind the playbooks' back.
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import subprocess
import sys
import time
import typing as t

from ansible_collections.mfa_onboarding.iam.tests.support import moto_patched
from ansible_collections.mfa_onboarding.iam.tests.support.full_user import leftovers
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import first_sign_in

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(HERE, "build", "demo")
NOTES = os.path.join(WORK, "notes")
STEPS = 7
ADMINISTRATOR = "arn:aws:iam::aws:policy/AdministratorAccess"
# The operator's profiles, as the AWX job template holds them in its extra vars.
PROMOTE_READY = {
    "promote_ready": True,
    "promote_profiles": {
        "analyst": {"managed_policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]},
        "developer": {"managed_policies": ["arn:aws:iam::aws:policy/PowerUserAccess"]},
    },
}
EXPIRE_AFTER_DAYS = 7  # the expire role's default

_RECAP = re.compile(r"^localhost\s*:.*\bchanged=(\d+).*\bfailed=(\d+)", re.MULTILINE)
_MESSAGE = re.compile(r'^\s*"msg": "(.*)"$', re.MULTILINE)
# The roles' per-user summary: one debug task whose message is a list, a line per user.
_MESSAGE_LINES = re.compile(r'^\s*"msg": \[\n((?:\s*".*",?\n)*)\s*\]', re.MULTILINE)
_FATAL = re.compile(r"^fatal: \[localhost\]: FAILED! => (\{.*\})$", re.MULTILINE)


def say(text: str = "") -> None:
    print(text, flush=True)


def step(number: int, title: str, explanation: str) -> None:
    say()
    say(f"Step {number}/{STEPS}  {title}")
    for line in explanation.strip().splitlines():
        say(f"  {line.strip()}")


class Demo:
    def __init__(self, server: MotoServer) -> None:
        self.server = server
        self.env = dict(
            server.env(),
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
            ANSIBLE_NOCOLOR="1",
        )
        self.iam = server.iam_client()

    def playbook(self, log: str, name: str, extra_vars: dict[str, t.Any] | None = None) -> tuple[int, bool]:
        """Run a playbook of the collection; show its messages; returns (changed tasks, failed)."""
        command = ["ansible-playbook", name]
        if extra_vars:
            vars_file = os.path.join(WORK, f"{log}.vars.json")
            with open(vars_file, "w", encoding="utf-8") as handle:
                json.dump(extra_vars, handle, indent=2)
            command += ["-e", f"@{vars_file}"]
        say(f"  $ {' '.join(command)}")
        self.server.reset_recording()
        start = time.monotonic()
        process = subprocess.run(command, env=self.env, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - start
        with open(os.path.join(WORK, f"{log}.log"), "w", encoding="utf-8") as handle:
            handle.write(process.stdout + process.stderr)
        for match in _MESSAGE.finditer(process.stdout):
            say(f"    {match.group(1)}")
        for match in _MESSAGE_LINES.finditer(process.stdout):
            for line in match.group(1).splitlines():
                say(f"    {json.loads(line.strip().rstrip(','))}")
        for match in _FATAL.finditer(process.stdout):
            say(f"    the play failed: {json.loads(match.group(1)).get('msg')}")
        recap = _RECAP.search(process.stdout)
        if recap is None:
            raise SystemExit(f"demo: {name} did not run; see {os.path.join(WORK, log + '.log')}\n{process.stderr}")
        writes = MotoServer.writes(self.server.actions())
        counted = ", ".join(f"{a} x{n}" if n > 1 else a for a, n in collections.Counter(writes).items()) or "none"
        say(f"    -> changed={recap.group(1)} failed={recap.group(2)}, {seconds:.1f} s, IAM writes: {counted}")
        return int(recap.group(1)), recap.group(2) != "0"

    def sign_in_and_register_mfa(self, user: str) -> None:
        """What the user does in the console: a new password, then a virtual MFA device with two TOTP codes."""
        serial = first_sign_in(self.iam, user, f"{user.capitalize()}-chose-this-0wn-passw0rd!")
        say(f"  {user} set a new password and enabled the MFA device {serial}")

    def policies(self, user: str) -> list[str]:
        return [p["PolicyName"] for p in self.iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]]

    def grants(self, user: str) -> tuple[list[str], list[str]]:
        """The user's attached policies and groups."""
        groups = [g["GroupName"] for g in self.iam.list_groups_for_user(UserName=user)["Groups"]]
        return self.policies(user), groups

    def has_login_profile(self, user: str) -> bool:
        try:
            self.iam.get_login_profile(UserName=user)
        except self.iam.exceptions.NoSuchEntityException:
            return False
        return True

    def holdings(self, user: str) -> str:
        """What the account holds of `user`, one phrase (the test support's leftover check: every kind of
        credential, grant and MFA device, and the virtual devices named after the user)."""
        found = leftovers(self.iam, user)
        return "; ".join(f"{kind}: {len(items)}" for kind, items in found.items()) or "nothing"


def main() -> int:
    started = time.monotonic()
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    # AWS-managed policies (ReadOnlyAccess) exist in moto only when it loads them.
    with MotoServer(extra_env={"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}) as server:
        demo = Demo(server)
        say("mfa_onboarding.iam demo: create IAM users for whom MFA is mandatory, and hand them over safely.")
        say(f"A local moto server on {server.url} stands in for AWS; the same playbooks run against a real account.")

        step(
            1,
            "Bootstrap the account (once per account)",
            """
            Two customer-managed policies: MFARequiredOnlyForTheFirstLogin (the official AWS policy, plus
            iam:ChangePassword and iam:GetAccountPasswordPolicy allowed without MFA) and MFARequiredForCurrentUsers
            (the official policy); the group NotYetLoginUsers holding only the first; and the account password
            policy's "allow users to change their own password" turned on, other settings kept. This account has
            no password policy yet, so the new one gets the CIS AWS Foundations values for every setting not named
            (14 characters, all four character classes, no reuse of the last 24 passwords), and the run says so.""",
        )
        demo.playbook("1-bootstrap", "mfa_onboarding.iam.bootstrap")
        say("  Run it again: nothing to change.")
        changed, _failed = demo.playbook("1-bootstrap-again", "mfa_onboarding.iam.bootstrap")
        if changed:
            say("demo: the second bootstrap changed something; it should not")
            return 1

        step(
            2,
            "Onboard alice, bob, carol and dave, each with a promotion profile",
            """
            The run first checks that NotYetLoginUsers and MFARequiredForCurrentUsers really carry the MFA
            deny statement. Each user is created marked mfa-onboarding:handover=pending, put into
            NotYetLoginUsers, and only then given a temporary console password that must be reset at the first
            sign-in. Without MFA the account can do nothing but change that password and register an MFA
            device. The module itself writes one note per user (0600, in a 0700 directory) and only then marks
            the user delivered: the password never reaches Ansible, so the play's output cannot show it. Each user's
            profile (analyst or developer) is recorded as its tag mfa-onboarding:profile: a name, never a grant.""",
        )
        onboard = {
            "onboard_users": [
                {"name": "alice", "email": "alice@example.com", "tags": {"team": "data"}, "profile": "analyst"},
                {"name": "bob", "email": "bob@example.com", "tags": {"team": "web"}, "profile": "developer"},
                {"name": "carol", "email": "carol@example.com", "tags": {"team": "data"}, "profile": "analyst"},
                {"name": "dave", "email": "dave@example.com", "tags": {"team": "ops"}, "profile": "developer"},
            ],
            "onboard_delivery": "file",
            "onboard_handover_dir": NOTES,
        }
        demo.playbook("2-onboard", "mfa_onboarding.iam.onboard", onboard)
        say("  Run it again: the users are already onboarding, no new password, no note rewritten.")
        changed, _failed = demo.playbook("2-onboard-again", "mfa_onboarding.iam.onboard", onboard)
        if changed:
            say("demo: the second onboarding changed something; it should not")
            return 1

        step(
            3,
            "alice and dave sign in for the first time",
            """
            Each opens the sign-in URL from the note, replaces the temporary password, and registers a virtual MFA
            device (simulated here with boto3 and pyotp; moto has no ChangePassword, so UpdateLoginProfile stands
            in for it). bob and carol have not signed in yet. Then someone who may only tag users (iam:TagUser)
            tries to make dave an administrator: tags cannot grant anything, but the scheduled promote job may
            attach any policy, so he rewrites dave's profile tag to the ARN of AdministratorAccess.""",
        )
        demo.sign_in_and_register_mfa("alice")
        demo.sign_in_and_register_mfa("dave")
        demo.iam.tag_user(UserName="dave", Tags=[{"Key": "mfa-onboarding:profile", "Value": ADMINISTRATOR}])
        say(f"  dave's tag mfa-onboarding:profile now holds {ADMINISTRATOR}")

        step(
            4,
            "The scheduled promote (AWX runs it every 15 minutes)",
            """
            promote_ready finds every user who has registered MFA and grants it what its profile says; the
            profiles are the operator's, in the job's variables (analyst: ReadOnlyAccess; developer:
            PowerUserAccess). alice is ready: MFARequiredForCurrentUsers first, then ReadOnlyAccess, and only then
            she leaves NotYetLoginUsers. dave's tag now names no profile but an ARN: he is refused by name and
            gets nothing (a tag selects a profile, it never grants), and the job fails to say so. bob has not
            registered MFA: he is not touched.""",
        )
        _changed, failed = demo.playbook("4-promote", "mfa_onboarding.iam.promote", PROMOTE_READY)
        if not failed or demo.grants("dave") != ([], ["NotYetLoginUsers"]) or demo.policies("alice") == []:
            say("demo: the scheduled promote should have promoted alice and refused dave, granting him nothing")
            return 1
        say(f"  dave's policies and groups: {demo.grants('dave')}: the guard only")
        say("  The operator records dave's profile again (onboarding him with it is the explicit way to change it),")
        say("  and the next scheduled run promotes him:")
        dave = dict(onboard, onboard_users=[onboard["onboard_users"][3]])
        demo.playbook("4-onboard-dave-profile", "mfa_onboarding.iam.onboard", dave)
        _changed, failed = demo.playbook("4-promote-again", "mfa_onboarding.iam.promote", PROMOTE_READY)
        if failed or "PowerUserAccess" not in demo.policies("dave") or "ReadOnlyAccess" not in demo.policies("alice"):
            say("demo: the second scheduled promote should have promoted dave")
            return 1

        step(
            5,
            f"carol's invitation expires (after {EXPIRE_AFTER_DAYS} days)",
            f"""
            carol never signed in: her temporary password sits unused in a note (CIS AWS Foundations 1.12 wants
            unused credentials disabled). moto cannot let days pass and dates a login profile by its user's
            creation date, so the demo moves carol's creation date 8 days back in moto's backend (only this
            date, only for carol: on AWS the days simply pass). The expire playbook (expire_after_days
            {EXPIRE_AFTER_DAYS}) finds her and deletes her login profile: the handed-over password is worthless.
            She stays guarded in NotYetLoginUsers, tagged mfa-onboarding:expired; onboarding her again would issue
            a fresh password. bob's password is new: he is left alone. AWX runs this job daily.""",
        )
        moto_patched.age_user_at(server.url, "carol", EXPIRE_AFTER_DAYS + 1)
        say(f"  carol's temporary password is now {EXPIRE_AFTER_DAYS + 1} days old and was never used")
        expire = {"expire_after_days": EXPIRE_AFTER_DAYS}
        changed, failed = demo.playbook("5-expire", "mfa_onboarding.iam.expire", expire)
        if failed or not changed or demo.has_login_profile("carol") or not demo.has_login_profile("bob"):
            say("demo: the expiry should have deleted carol's password, and only hers")
            return 1

        step(
            6,
            "dave leaves",
            """
            He had also created an access key for the CLI. A leaver under audit is disabled first: his console
            password is deleted and every access key, signing certificate, SSH key and service-specific
            credential deactivated; the user, his groups and policies stay for the auditors. Later he is
            deleted, in an order that keeps every call safe: every credential first, then every grant that is
            not a guard, then the MFA devices (deactivated, the virtual one deleted so that its name is free
            again), then the guard, then the user.""",
        )
        demo.iam.create_access_key(UserName="dave")
        say("  dave created an access key")
        leaver = {"offboard_users": [{"name": "dave"}], "offboard_mode": "disable"}
        _changed, failed = demo.playbook("6-offboard-disable", "mfa_onboarding.iam.offboard", leaver)
        if failed:
            say("demo: disabling dave failed")
            return 1
        keys = [key["Status"] for key in demo.iam.list_access_keys(UserName="dave")["AccessKeyMetadata"]]
        say(f"  What the account still holds of dave: {demo.holdings('dave')} (access keys {', '.join(keys)})")
        leaver["offboard_mode"] = "delete"
        _changed, failed = demo.playbook("6-offboard-delete", "mfa_onboarding.iam.offboard", leaver)
        left = demo.holdings("dave")
        say(f"  What the account still holds of dave: {left}")
        if failed or left != "nothing":
            say("demo: offboarding dave left something behind")
            return 1

        step(
            7,
            "Where every user stands",
            """
            The status playbook reads the account (it only reads: files/auditor-policy.json is all it needs) and
            shows one line per user, grouped by stage, with the findings an auditor checks. It writes the same
            report as Markdown; with status_fail_on it would fail on chosen findings (a compliance gate).
            moto dates every credential report 2015-02-02 and never records a sign-in; on AWS the report is at
            most a few hours old, and the onboarding group's members are read live either way.""",
        )
        _changed, failed = demo.playbook(
            "7-status", "mfa_onboarding.iam.status", {"status_report_path": os.path.join(WORK, "status.md")}
        )
        if failed:
            say("demo: the status playbook failed")
            return 1
    say()
    say(f"  The handover notes are in {NOTES} (mode {oct(os.stat(NOTES).st_mode & 0o777)[2:]}):")
    for note in sorted(os.listdir(NOTES)):
        path = os.path.join(NOTES, note)
        say(f"    {note}  (mode {oct(os.stat(path).st_mode & 0o777)[2:]})")
    say(f"  The status report: {os.path.join(WORK, 'status.md')}")
    say(f"  Full playbook output: {WORK}/*.log")
    say("  Next for bob: once he has registered MFA, the next scheduled promote gives him his profile's grants")
    say("  (rerun onboard with onboard_reset_password=true if his note was lost). carol's note is worthless now:")
    say("  onboarding her again issues a fresh password.")
    say()
    say(f"demo: done in {time.monotonic() - started:.1f} s; the moto server is stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
