# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""`make demo`: the main job against a local moto server.

Starts moto on a free loopback port, runs the bootstrap playbook, shows what IAM then holds, runs the playbook
a second time and checks that it changed nothing and wrote nothing, then stops the server.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import time

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moto_server import MotoServer

_RECAP = re.compile(r"^localhost\s*:.*\bchanged=(\d+).*\bfailed=(\d+)", re.MULTILINE)


def run_playbook(server: MotoServer, playbook: str) -> tuple[int, list[str], float]:
    """Run a playbook against the server; returns (changed tasks, API actions, seconds)."""
    server.reset_recording()
    env = dict(server.env(), ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    start = time.monotonic()
    process = subprocess.run(
        ["ansible-playbook", playbook],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - start
    print(process.stdout)
    recap = _RECAP.search(process.stdout)
    if process.returncode != 0 or recap is None or recap.group(2) != "0":
        raise SystemExit(f"demo: {playbook} failed (exit {process.returncode})")
    return int(recap.group(1)), server.actions(), seconds


def describe(actions: list[str]) -> str:
    writes = MotoServer.writes(actions)
    counted = ", ".join(f"{name} x{n}" if n > 1 else name for name, n in collections.Counter(writes).items())
    return f"{len(actions)} API calls, {len(writes)} writes" + (f" ({counted})" if counted else "")


def show_state(server: MotoServer) -> None:
    iam = boto3.client("iam", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    print("== what IAM holds now")
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        document = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
        deny = [s for s in document["PolicyVersion"]["Document"]["Statement"] if s.get("Effect") == "Deny"]
        exempt = [a for s in deny for a in s.get("NotAction", []) if a in ("iam:ChangePassword",)]
        print(f"  policy {policy['PolicyName']}: {policy['DefaultVersionId']}, attached {policy['AttachmentCount']}x,"
              f" ChangePassword without MFA: {'yes' if exempt else 'no'}")  # fmt: skip
    for group in iam.list_groups()["Groups"]:
        attached = [
            p["PolicyName"] for p in iam.list_attached_group_policies(GroupName=group["GroupName"])["AttachedPolicies"]
        ]
        print(f"  group {group['GroupName']}: {', '.join(attached)}")
    settings = iam.get_account_password_policy()["PasswordPolicy"]
    print(f"  password policy: AllowUsersToChangePassword={settings['AllowUsersToChangePassword']},"
          f" MinimumPasswordLength={settings['MinimumPasswordLength']}")  # fmt: skip


def main() -> int:
    started = time.monotonic()
    with MotoServer() as server:
        print(f"== moto server on {server.url}")
        print("== run 1: bootstrap")
        changed1, actions1, seconds1 = run_playbook(server, "mfa_onboarding.iam.bootstrap")
        show_state(server)
        print("== run 2: the same again (must change nothing)")
        changed2, actions2, seconds2 = run_playbook(server, "mfa_onboarding.iam.bootstrap")
    print("== summary")
    print(f"  run 1: changed={changed1}, {describe(actions1)}, {seconds1:.1f} s")
    print(f"  run 2: changed={changed2}, {describe(actions2)}, {seconds2:.1f} s")
    if changed2 != 0 or MotoServer.writes(actions2):
        print("demo: the second run was not idempotent")
        return 1
    print(f"demo: done in {time.monotonic() - started:.1f} s, moto server stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
