# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""`make bench`: how long onboarding and promoting N users takes, against a local moto server.

    python tools/bench.py [N ...]      (default: 10 100)

For each N, on a fresh moto server: bootstrap, onboard N users with the onboard playbook (no handover), run it
again unchanged, register an MFA device for every user (boto3, not timed), promote them all. Prints wall-clock
seconds and IAM calls per step. The baseline to beat (../shared/ENVIRONMENT.md, measured here with amazon.aws's
iam_user and iam_group in a loop): 10 users ~11 s, 100 users ~75 s, an unchanged rerun of 100 users ~68 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iam_user_sim
from moto_server import MotoServer

BASELINE = {10: {"onboard": 11.0}, 100: {"onboard": 75.0, "onboard again": 68.0}}


def run(server: MotoServer, playbook: str, extra_vars: dict[str, object] | None = None) -> tuple[float, int, int]:
    """(seconds, API calls, writes) of one playbook run; fails loudly if the play failed."""
    env = dict(server.env(), ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    command = ["ansible-playbook", playbook]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(extra_vars or {}, handle)
    command += ["-e", f"@{handle.name}"]
    server.reset_recording()
    start = time.monotonic()
    process = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    os.unlink(handle.name)
    if process.returncode != 0:
        raise SystemExit(f"bench: {playbook} failed:\n{process.stdout[-3000:]}\n{process.stderr[-2000:]}")
    actions = server.actions()
    return seconds, len(actions), len(MotoServer.writes(actions))


def enable_mfa(server: MotoServer, users: list[str]) -> None:
    iam = boto3.client("iam", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    for user in users:
        iam_user_sim.register_mfa(iam, user)


def bench(count: int) -> list[tuple[str, float, int, int]]:
    users = [f"user{i:04d}" for i in range(count)]
    rows = []
    # Request recording is on so that the calls can be counted; it costs moto a little time per request.
    with MotoServer() as server:
        run(server, "mfa_onboarding.iam.bootstrap")
        onboard = {"onboard_users": [{"name": u} for u in users], "onboard_delivery": "none"}
        rows.append(("onboard", *run(server, "mfa_onboarding.iam.onboard", onboard)))
        rows.append(("onboard again", *run(server, "mfa_onboarding.iam.onboard", onboard)))
        enable_mfa(server, users)
        promote = {"promote_users": [{"name": u} for u in users]}
        rows.append(("promote", *run(server, "mfa_onboarding.iam.promote", promote)))
        rows.append(("promote again", *run(server, "mfa_onboarding.iam.promote", promote)))
    return rows


def main() -> int:
    counts = [int(arg) for arg in sys.argv[1:]] or [10, 100]
    print(f"{'users':>5}  {'step':<14} {'seconds':>8} {'per user':>9} {'API calls':>10} {'writes':>7}  baseline")
    for count in counts:
        for step, seconds, calls, writes in bench(count):
            baseline = BASELINE.get(count, {}).get(step)
            against = f"{baseline:.0f} s (amazon.aws loop)" if baseline else ""
            per_user = f"{seconds / count:.3f}"
            print(f"{count:>5}  {step:<14} {seconds:>8.1f} {per_user:>9} {calls:>10} {writes:>7}  {against}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
