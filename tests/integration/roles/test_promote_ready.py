# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Hands-off promotion (issue 15) through the collection's playbooks, against one moto server.

- Invariant 8 through the scheduled run (`ansible-playbook mfa_onboarding.iam.promote -e promote_ready=true`): three
  ready users whose profile tag was tampered with (rewritten to the ARN of AdministratorAccess, naming a profile
  that is not defined, holding a list of groups) gain nothing, each is named in the play's failure and refused in
  promote_results with its reason; two ready users with valid profiles are promoted with their profiles' grants.
- End to end: bootstrap, onboard three users with profiles, two of them sign in with TOTP MFA, the scheduled promote
  promotes exactly those two by their profiles, the third stays onboarding, the rerun changes nothing, and the status
  playbook reports ready_not_promoted for nobody.

promote_results and the AWX summary are read from the callback events of the run (tests/support/callbacks), so the
playbooks run exactly as an operator or AWX runs them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.tests.support import callbacks
from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import first_sign_in

FATAL = "fatal: [localhost]: FAILED! => "
RECAP = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)
TAG = "mfa-onboarding:profile"
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
APP = iam_state.EXTRA_POLICY_ARN
CURRENT = iam_state.CURRENT_USERS_ARN
GUARD = iam_state.ONBOARDING_GROUP
PROFILES = {
    "developer": {"groups": ["Developers"]},
    "analyst": {"managed_policies": ["AppReadOnly"]},
}


class Run(t.NamedTuple):
    rc: int
    message: str
    stdout: str
    changed: int  # the PLAY RECAP's changed= count
    facts: dict[str, t.Any]  # every fact a set_fact task set, the last value of each
    stats: dict[str, t.Any]  # set_stats' custom data


def run(server: MotoServer, tmp: t.Any, playbook: str, extra_vars: dict[str, t.Any]) -> Run:
    """ansible-playbook mfa_onboarding.iam.<playbook> -e <extra_vars as JSON>, every callback event recorded."""
    assert "ANSIBLE_COLLECTIONS_PATH" in os.environ, "set ANSIBLE_COLLECTIONS_PATH (the Makefile does)"
    events = tmp / f"events-{playbook}-{time.monotonic_ns()}.jsonl"
    env = dict(
        server.env(),
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        ANSIBLE_CALLBACK_PLUGINS=os.path.dirname(callbacks.__file__),
        ANSIBLE_CALLBACKS_ENABLED="record_events",
        RECORD_EVENTS_FILE=str(events),
    )
    process = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            f"mfa_onboarding.iam.{playbook}",
            "-e",
            json.dumps(extra_vars),
        ],
        env=env,
        cwd=str(tmp),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    message = ""
    for line in process.stdout.splitlines():
        if line.startswith(FATAL):
            message = str(json.loads(line[len(FATAL) :]).get("msg", ""))
    recap = RECAP.findall(process.stdout)
    assert recap, process.stdout[-3000:] + process.stderr[-2000:]
    facts: dict[str, t.Any] = {}
    stats: dict[str, t.Any] = {}
    with open(events, encoding="utf-8") as handle:
        for line in handle:
            event = json.loads(line)
            if event["event"] == "ok":
                facts.update(event["result"].get("ansible_facts") or {})
            elif event["event"] == "stats":
                stats = event["custom"].get("_run", {})
    return Run(process.returncode, message, process.stdout + process.stderr, int(recap[-1][1]), facts, stats)


@pytest.fixture(scope="module")
def server() -> t.Iterator[MotoServer]:
    with MotoServer() as moto:
        yield moto


def grants(iam: t.Any, name: str) -> dict[str, list[str]]:
    """A user's groups and attached managed policies (ARNs), sorted."""
    return {
        "groups": sorted(g["GroupName"] for g in iam.list_groups_for_user(UserName=name)["Groups"]),
        "policies": sorted(p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]),
    }


def profile_tag(iam: t.Any, name: str) -> str | None:
    return {tag["Key"]: tag["Value"] for tag in iam.list_user_tags(UserName=name)["Tags"]}.get(TAG)


# Invariant 8: a tag selects a profile by name, never grants by itself.

# name -> the profile tag as onboarding recorded it, and the value someone holding iam:TagUser wrote over it
# (None: left as recorded).
READY = {
    "tina": ("developer", ADMIN_ARN),
    "ulla": ("analyst", "superuser"),
    "vera": ("developer", "Admins,Developers"),
    "nora": ("developer", None),
    "otto": ("analyst", None),
}
TAMPERED = {
    "tina": f"its profile tag mfa-onboarding:profile holds the ARN '{ADMIN_ARN}'",
    "ulla": "its profile tag mfa-onboarding:profile names the profile 'superuser', which is not defined",
    "vera": "its profile tag mfa-onboarding:profile holds a list ('Admins,Developers')",
}
NEVER = "a tag can only select one of the profiles the operator defined (analyst, developer), never name a group or"


def ready_with_tampered_tags(iam: t.Any) -> None:
    """The guards, the profiles' grants (Developers, AppReadOnly), a group Admins that a split list would name, and
    the five users of READY: onboarded with their profile, signed in with MFA, then some tags rewritten."""
    iam_state.bootstrap_guards(iam)
    iam_state.create_extras(iam)
    iam.create_group(GroupName="Admins")
    for name, (profile, tampered) in READY.items():
        iam.create_user(UserName=name, Tags=[{"Key": TAG, "Value": profile}])
        iam.add_user_to_group(UserName=name, GroupName=GUARD)
        iam.create_login_profile(UserName=name, Password=f"{name.title()}-Temp-Passw0rd!", PasswordResetRequired=True)
        first_sign_in(iam, name, f"{name.title()}-own-Passw0rd!-long")
        if tampered is not None:
            iam.tag_user(UserName=name, Tags=[{"Key": TAG, "Value": tampered}])


def test_a_tampered_profile_tag_grants_nothing_in_the_scheduled_run(server: MotoServer, tmp_path: t.Any) -> None:
    server.reset()
    iam = server.iam_client()
    ready_with_tampered_tags(iam)
    before = {name: grants(iam, name) for name in READY}

    played = run(server, tmp_path, "promote", {"promote_ready": True, "promote_profiles": PROFILES})

    # None of the three gains anything: still guarded only, no policy, not promoted.
    for name in TAMPERED:
        assert grants(iam, name) == before[name] == {"groups": [GUARD], "policies": []}, name
    # The others are promoted with their profile's grants, and only those.
    assert grants(iam, "nora") == {"groups": ["Developers"], "policies": [CURRENT]}
    assert grants(iam, "otto") == {"groups": [], "policies": sorted([CURRENT, APP])}

    # The play fails naming each of the three and why.
    assert played.rc != 0, played.stdout[-3000:]
    assert played.message.startswith("promotion refused for tina, ulla, vera: "), played.message
    for name, reason in TAMPERED.items():
        assert f"user {name} is not promoted: {reason}; {NEVER}" in played.message, (name, played.message)
    assert "nora" not in played.message and "otto" not in played.message

    # promote_results: each refused with its reason, the others promoted by their profile; all found ready.
    results = {r["name"]: r for r in played.facts["promote_results"]}
    assert sorted(results) == sorted(READY)
    for name, reason in TAMPERED.items():
        item = results[name]
        assert (item["failed"], item["refused"], item["changed"], item["stage"]) == (True, True, False, "ready"), item
        assert reason in item["reason"] and NEVER in item["reason"], item
        assert item["profile"] is None and item["found_ready"] is True, item
    for name in ("nora", "otto"):
        item = results[name]
        assert (item["failed"], item["changed"], item["stage"]) == (False, True, "promoted"), item
        assert (item["profile"], item["found_ready"]) == (READY[name][0], True), item

    # The AWX summary says the same.
    summary = played.stats["mfa_onboarding_promote"]
    assert summary["counts"] == {"promoted": 2, "refused": 3, "failed": 0, "unchanged": 0}, summary
    assert sorted((p["name"], p["profile"]) for p in summary["promoted"]) == [
        ("nora", "developer"),
        ("otto", "analyst"),
    ]
    assert sorted(r["name"] for r in summary["refused"]) == sorted(TAMPERED)


# End to end: bootstrap, onboard with profiles, two sign in, the scheduled promote, its rerun, the status report.

ONBOARD = [
    {"name": "alice", "profile": "developer"},
    {"name": "bob", "profile": "analyst"},
    {"name": "carol", "profile": "developer"},
]
SCHEDULED = {"promote_ready": True, "promote_profiles": PROFILES}


def test_end_to_end_the_scheduled_promote_promotes_exactly_the_users_who_signed_in(
    server: MotoServer, tmp_path: t.Any
) -> None:
    server.reset()
    iam = server.iam_client()
    timings: dict[str, float] = {}

    def timed(step: str, playbook: str, extra_vars: dict[str, t.Any]) -> Run:
        start = time.monotonic()
        result = run(server, tmp_path, playbook, extra_vars)
        timings[step] = round(time.monotonic() - start, 1)
        return result

    # 1. bootstrap; the operator's grants for the profiles exist beside the guards.
    bootstrapped = timed("bootstrap", "bootstrap", {})
    assert bootstrapped.rc == 0, bootstrapped.stdout[-3000:]
    iam_state.create_extras(iam)

    # 2. onboard three users with profiles, the passwords handed over as files.
    notes = tmp_path / "notes"
    onboarded = timed(
        "onboard", "onboard", {"onboard_users": ONBOARD, "onboard_delivery": "file", "onboard_handover_dir": str(notes)}
    )
    assert onboarded.rc == 0, onboarded.stdout[-3000:]
    assert sorted(os.listdir(notes)) == ["alice.txt", "bob.txt", "carol.txt"]
    for user in ONBOARD:
        assert profile_tag(iam, user["name"]) == user["profile"]
        assert grants(iam, user["name"]) == {"groups": [GUARD], "policies": []}

    # 3. alice and bob sign in: a password of their own, a virtual MFA device enabled with two TOTP codes.
    for name in ("alice", "bob"):
        first_sign_in(iam, name, f"{name.title()}-own-Passw0rd!-long")

    # 4. the scheduled promote promotes exactly those two, each with its profile's grants.
    promoted = timed("promote", "promote", SCHEDULED)
    assert promoted.rc == 0, promoted.stdout[-3000:]
    assert promoted.changed > 0  # the control for the rerun's changed=0 below
    assert grants(iam, "alice") == {"groups": ["Developers"], "policies": [CURRENT]}
    assert grants(iam, "bob") == {"groups": [], "policies": sorted([CURRENT, APP])}
    assert [
        (r["name"], r["stage"], r["changed"], r["profile"], r["found_ready"]) for r in promoted.facts["promote_results"]
    ] == [("alice", "promoted", True, "developer", True), ("bob", "promoted", True, "analyst", True)]
    assert promoted.stats["mfa_onboarding_promote"]["counts"] == {
        "promoted": 2,
        "refused": 0,
        "failed": 0,
        "unchanged": 0,
    }

    # 5. carol stays onboarding: guarded, nothing granted, her profile still recorded.
    assert grants(iam, "carol") == {"groups": [GUARD], "policies": []}
    assert profile_tag(iam, "carol") == "developer"

    # 6. the rerun changes nothing: nobody is ready any more, no task changed, IAM as it was.
    account = iam_state.snapshot(iam)
    rerun = timed("promote again", "promote", SCHEDULED)
    assert rerun.rc == 0, rerun.stdout[-3000:]
    assert rerun.changed == 0, rerun.stdout[-3000:]
    assert rerun.facts["promote_results"] == []
    assert rerun.stats["mfa_onboarding_promote"]["counts"] == {"promoted": 0, "refused": 0, "failed": 0, "unchanged": 0}
    assert iam_state.snapshot(iam) == account

    # 7. the status playbook reports ready_not_promoted for nobody (and gates on it).
    status = timed("status", "status", {"status_fail_on": ["ready_not_promoted"]})
    assert status.rc == 0, status.stdout[-3000:]
    result = status.facts["status_result"]
    assert result["summary"]["findings"]["ready_not_promoted"] == 0, result["summary"]
    stages = {u["name"]: u["stage"] for u in result["users"]}
    assert stages == {"alice": "promoted", "bob": "promoted", "carol": "onboarding"}, stages
    assert all("ready_not_promoted" not in u["findings"] for u in result["users"]), result["users"]
    print(f"\nwall time per playbook run (s): {timings}")
