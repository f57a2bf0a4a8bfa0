# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Verify the lifecycle scenario's end state with boto3: IAM as the roles must have left it, and the notes.

    python verify_iam.py --state-file MOTO_STATE --handover-dir DIR --snapshot NOTES_JSON

Prints every failed check (never a password) and a count; exits 1 when a check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import typing as t

from ansible_collections.mfa_onboarding.iam.tests.support import scenario as lib
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import iam_client

USERS = ("alice", "bob", "carol")
# name -> (groups, attached policies, MFA devices) expected at the end; carol was refused and left untouched.
EXPECTED = {
    "alice": ({"Developers"}, {lib.CURRENT_USERS_POLICY}, 1),
    "bob": (set(), {lib.CURRENT_USERS_POLICY, "AppReadOnly"}, 1),
    "carol": ({lib.ONBOARDING_GROUP}, set(), 0),
}
SIGNED_IN = {"alice", "bob"}


def check_policies(checks: lib.Checks, iam: t.Any) -> None:
    first = lib.policy_document(iam, lib.FIRST_LOGIN_POLICY)
    current = lib.policy_document(iam, lib.CURRENT_USERS_POLICY)
    if not checks.check(first and current, "both MFA policies exist"):
        return
    assert first is not None and current is not None
    first_exceptions = lib.mfa_deny_exceptions(first)
    current_exceptions = lib.mfa_deny_exceptions(current)
    checks.check(first_exceptions is not None, f"{lib.FIRST_LOGIN_POLICY} has the statement {lib.MFA_DENY_SID}")
    checks.check(current_exceptions is not None, f"{lib.CURRENT_USERS_POLICY} has the statement {lib.MFA_DENY_SID}")
    for action in lib.FIRST_LOGIN_EXCEPTIONS:
        checks.check(action in (first_exceptions or []), f"{lib.FIRST_LOGIN_POLICY} lets {action} through without MFA")
        checks.check(
            action not in (current_exceptions or ["?"]), f"{lib.CURRENT_USERS_POLICY} denies {action} without MFA"
        )
    # Apart from the first-login edit, the two documents are the same policy.
    checks.equal(
        sorted(set(first_exceptions or []) - set(current_exceptions or [])),
        sorted(lib.FIRST_LOGIN_EXCEPTIONS),
        "the NotAction lists differ by exactly the first-login edit",
    )
    for name, document in ((lib.FIRST_LOGIN_POLICY, first), (lib.CURRENT_USERS_POLICY, current)):
        deny = [s for s in document["Statement"] if s.get("Sid") == lib.MFA_DENY_SID]
        condition = deny[0].get("Condition", {}) if deny else {}
        checks.equal(
            condition.get("BoolIfExists", {}).get("aws:MultiFactorAuthPresent"),
            "false",
            f"{name}: the deny applies when no MFA is present",
        )
    attached = iam.list_attached_group_policies(GroupName=lib.ONBOARDING_GROUP)["AttachedPolicies"]
    checks.equal([p["PolicyName"] for p in attached], [lib.FIRST_LOGIN_POLICY], f"{lib.ONBOARDING_GROUP}'s policies")
    checks.equal(
        iam.list_group_policies(GroupName=lib.ONBOARDING_GROUP)["PolicyNames"],
        [],
        f"{lib.ONBOARDING_GROUP}'s inline policies",
    )
    settings = iam.get_account_password_policy()["PasswordPolicy"]
    checks.equal(settings.get("AllowUsersToChangePassword"), True, "AllowUsersToChangePassword")


def check_users(checks: lib.Checks, iam: t.Any, url: str, notes: dict[str, dict[str, str | None]]) -> None:
    stored = lib.stored_passwords(url)
    members = {u["UserName"] for u in iam.get_group(GroupName=lib.ONBOARDING_GROUP)["Users"]}
    checks.equal(members, {"carol"}, f"members of {lib.ONBOARDING_GROUP}")
    developers = {u["UserName"] for u in iam.get_group(GroupName="Developers")["Users"]}
    checks.equal(developers, {"alice"}, "members of Developers")
    states = {name: lib.user_state(iam, name) for name in USERS}
    for name in USERS:
        groups, attached, devices = EXPECTED[name]
        state = states[name]
        checks.equal(state.groups, groups, f"{name}'s groups")
        checks.equal(state.attached, attached, f"{name}'s attached policies")
        checks.equal(state.inline, set(), f"{name}'s inline policies")
        checks.equal(len(state.mfa_serials), devices, f"{name}'s MFA devices")
        checks.check(state.login_profile, f"{name} has a console password (login profile)")
        note_password = notes.get(name, {}).get("password")
        if name in SIGNED_IN:
            checks.check(
                stored.get(name) and stored.get(name) != note_password,
                f"{name}'s console password was replaced at the first sign-in",
            )
            checks.equal(
                state.mfa_serials, [f"arn:aws:iam::{lib.ACCOUNT_ID}:mfa/{name}"], f"{name}'s MFA device serial"
            )
        else:
            checks.check(
                note_password is not None and stored.get(name) == note_password,
                f"{name}'s note holds the console password IAM holds",
            )
    # The operator's tag, and the collection's handover mark (invariant 6): delivered, since her note was written.
    checks.equal(states["alice"].tags, {"team": "platform", "mfa-onboarding:handover": "delivered"}, "alice's tags")
    checks.equal(states["bob"].path, "/staff/", "bob's path")
    checks.equal(states["carol"].path, "/", "carol's path")


def read_notes(checks: lib.Checks, handover_dir: str, snapshot: str) -> dict[str, dict[str, str | None]]:
    checks.equal(lib.mode(handover_dir), "0o700", f"mode of {handover_dir}")
    checks.equal(sorted(os.listdir(handover_dir)), [f"{name}.txt" for name in USERS], "the handover directory's files")
    with open(snapshot, encoding="utf-8") as handle:
        first = {os.path.basename(item["path"]): item for item in json.load(handle)}
    notes = {}
    for name in USERS:
        path = os.path.join(handover_dir, f"{name}.txt")
        if not checks.check(os.path.isfile(path) and not os.path.islink(path), f"{path} is a regular file"):
            continue
        checks.equal(lib.mode(path), "0o600", f"mode of {path}")
        info = os.stat(path)
        before = first.get(f"{name}.txt", {})
        checks.equal(
            (info.st_size, info.st_mtime),
            (before.get("size"), before.get("mtime")),
            f"{name}'s note is untouched since the first converge (size, mtime)",
        )
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        fields = lib.handover_fields(text)
        checks.equal(fields["user"], name, f"{name}'s note: user name")
        checks.equal(fields["url"], lib.CONSOLE_URL, f"{name}'s note: sign-in URL")
        checks.check(fields["password"], f"{name}'s note states one temporary password")
        checks.check("MFA" in text, f"{name}'s note tells the owner to register an MFA device")
        notes[name] = fields
    passwords = [note["password"] for note in notes.values() if note["password"]]
    checks.equal(len(set(passwords)), len(USERS), "distinct temporary passwords in the notes")
    return notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-file", required=True)
    parser.add_argument("--handover-dir", required=True)
    parser.add_argument("--snapshot", required=True)
    args = parser.parse_args()
    checks = lib.Checks("lifecycle")
    url = lib.moto_url(args.state_file)
    iam = iam_client(url)
    check_policies(checks, iam)
    notes = read_notes(checks, args.handover_dir, args.snapshot)
    check_users(checks, iam, url, notes)
    return checks.done()


if __name__ == "__main__":
    sys.exit(main())
