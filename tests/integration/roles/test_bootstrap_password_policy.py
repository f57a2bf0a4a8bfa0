# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bootstrap role and the account password policy.

- "Allow users to change their own password" is turned on even when the operator names other settings only (on a
  fresh account AWS's default would leave it off, and no new user could set a password of their own), and stays
  off only when the operator says so.
- The floor (DESIGN section 1, 0.3): on an account without a password policy, the settings the operator did not
  name get the CIS AWS Foundations values, and the run says so (bootstrap_result, a warning, the playbook's
  summary), in check mode too; a rerun changes nothing. An account that has a policy, however weak, keeps every
  setting that is not named.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t

from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer

EVERY_FLOOR_SETTING = [
    "min_password_length",
    "require_symbols",
    "require_numbers",
    "require_uppercase_characters",
    "require_lowercase_characters",
    "password_reuse_prevention",
]
# What GetAccountPasswordPolicy returns (moto 5.2.5) after a first bootstrap with the role's defaults.
CIS_READ = {
    "MinimumPasswordLength": 14,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": True,
    "ExpirePasswords": False,
    "MaxPasswordAge": 0,
    "PasswordReusePrevention": 24,
    "HardExpiry": False,
}
FLOOR_WARNING = "the account had no password policy; the new one {verb} the CIS AWS Foundations value"
WEAKER_WARNING = "weaker than the CIS AWS Foundations values: min_password_length=8 (CIS AWS Foundations: 14)"
SUMMARY = (
    "set to the CIS AWS Foundations value (only on an account without a password policy, for the settings not "
    "named): {settings}"
)


class Run(t.NamedTuple):
    result: dict[str, t.Any]  # bootstrap_result
    out: str  # stdout and stderr, warnings unwrapped


def bootstrap(server: MotoServer, tmp_path: t.Any, extra_vars: dict[str, t.Any], *options: str) -> Run:
    """Run the collection's bootstrap playbook, then a play that saves bootstrap_result; both outputs."""
    assert "ANSIBLE_COLLECTIONS_PATH" in os.environ, "set ANSIBLE_COLLECTIONS_PATH (the Makefile does)"
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(extra_vars), encoding="utf-8")
    saved = tmp_path / "bootstrap_result.json"
    saved.unlink(missing_ok=True)
    playbook = tmp_path / "bootstrap_and_save.yml"
    playbook.write_text(
        "- name: The collection's playbook\n"
        "  ansible.builtin.import_playbook: mfa_onboarding.iam.bootstrap\n"
        "- name: Save what the role published\n"
        "  hosts: localhost\n"
        "  connection: local\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        "    - name: Save bootstrap_result\n"
        "      ansible.builtin.copy:\n"
        '        content: "{{ bootstrap_result | to_json }}"\n'
        f"        dest: {saved}\n"
        "        mode: '0600'\n"
        "      check_mode: false\n",
        encoding="utf-8",
    )
    env = dict(server.env(), ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["COLUMNS"] = "10000"  # one warning on one line
    process = subprocess.run(
        ["ansible-playbook", str(playbook), "-e", f"@{vars_file}", *options],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    out = process.stdout + process.stderr
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-2000:]
    return Run(json.loads(saved.read_text(encoding="utf-8")), " ".join(out.split()))


def account(server: MotoServer) -> dict[str, t.Any]:
    """Everything the bootstrap role makes: users, groups and policies (iam_state.snapshot), with the policies'
    paths and descriptions and the groups' paths, and the password policy."""
    iam = server.iam_client()
    policies = {}
    for listed in iam.list_policies(Scope="Local")["Policies"]:
        policy = iam.get_policy(PolicyArn=listed["Arn"])["Policy"]
        policies[policy["PolicyName"]] = {key: policy.get(key) for key in ("Path", "Description", "DefaultVersionId")}
    return {
        "state": iam_state.snapshot(iam),
        "policies": policies,
        "groups": {group["GroupName"]: group["Path"] for group in iam.list_groups()["Groups"]},
        "password_policy": read_policy(server),
    }


def read_policy(server: MotoServer) -> dict[str, t.Any] | None:
    iam = server.iam_client()
    try:
        return iam.get_account_password_policy()["PasswordPolicy"]
    except iam.exceptions.NoSuchEntityException:
        return None


def test_changing_the_own_password_stays_off_when_turned_off(tmp_path: t.Any, server: MotoServer) -> None:
    """Off only when the operator says so. On when the operator names other settings only: the fresh account of
    test_a_fresh_account_keeps_what_the_operator_named_with_a_warning, where the operator names the length alone."""
    settings = {"min_password_length": 14, "allow_users_to_change_password": False}
    bootstrap(server, tmp_path, {"bootstrap_password_policy": settings})
    policy = read_policy(server)

    assert policy is not None
    assert policy["AllowUsersToChangePassword"] is False
    assert policy["MinimumPasswordLength"] == 14


def test_a_fresh_account_gets_the_cis_floor_and_the_run_says_so(tmp_path: t.Any, server: MotoServer) -> None:
    # Check mode writes nothing and predicts the floor.
    predicted = bootstrap(server, tmp_path, {}, "--check", "--diff")
    assert MotoServer.writes(server.actions()) == []
    assert read_policy(server) is None
    assert predicted.result["password_policy_floor"] == EVERY_FLOOR_SETTING
    assert FLOOR_WARNING.format(verb="would get") in predicted.out
    assert SUMMARY.format(settings=", ".join(EVERY_FLOOR_SETTING)) in predicted.out

    server.reset_recording()
    first = bootstrap(server, tmp_path, {})
    assert read_policy(server) == CIS_READ
    assert MotoServer.writes(server.actions()).count("UpdateAccountPasswordPolicy") == 1
    assert first.result["password_policy_floor"] == EVERY_FLOOR_SETTING
    assert first.result["password_policy_below_floor"] == []
    assert first.result["password_policy"] == predicted.result["password_policy"]
    assert first.result["password_policy"]["min_password_length"] == 14
    assert FLOOR_WARNING.format(verb="got") in first.out
    assert SUMMARY.format(settings=", ".join(EVERY_FLOOR_SETTING)) in first.out

    # A second run: the account has a policy now; nothing is written, no floor, no warning.
    server.reset_recording()
    again = bootstrap(server, tmp_path, {})
    assert MotoServer.writes(server.actions()) == []
    assert read_policy(server) == CIS_READ
    assert again.result["password_policy_floor"] == []
    assert "the account had no password policy" not in again.out
    assert SUMMARY.format(settings="none") in again.out

    # The other roles' suites set this account up with boto3 (iam_state.bootstrapped) instead of a playbook run:
    # the same account, down to the policies' descriptions.
    made_by_the_role = account(server)
    server.reset()
    iam_state.bootstrapped(server.iam_client())
    assert account(server) == made_by_the_role


def test_a_fresh_account_keeps_what_the_operator_named_with_a_warning(tmp_path: t.Any, server: MotoServer) -> None:
    run = bootstrap(server, tmp_path, {"bootstrap_password_policy": {"min_password_length": 8}})
    policy = read_policy(server)

    # allow_users_to_change_password is on (the role's default) although the operator named the length only: on a
    # fresh account AWS's default would leave it off. Length 8 is the operator's; the rest is the floor.
    assert policy == dict(CIS_READ, MinimumPasswordLength=8)
    assert run.result["password_policy_floor"] == EVERY_FLOOR_SETTING[1:]
    assert run.result["password_policy_below_floor"] == ["min_password_length"]
    assert WEAKER_WARNING in run.out


def test_an_existing_weak_policy_is_left_alone_except_what_is_named(tmp_path: t.Any, server: MotoServer) -> None:
    weak = {
        "MinimumPasswordLength": 6,
        "RequireSymbols": False,
        "RequireNumbers": False,
        "RequireUppercaseCharacters": False,
        "RequireLowercaseCharacters": False,
        "AllowUsersToChangePassword": False,
        "MaxPasswordAge": 30,
        "HardExpiry": False,
    }
    server.iam_client().update_account_password_policy(**weak)
    server.reset_recording()
    run = bootstrap(server, tmp_path, {"bootstrap_password_policy": {"require_numbers": True}})
    policy = read_policy(server)
    writes = MotoServer.writes(server.actions())

    # Turned on: what the operator named, and allow_users_to_change_password (the role's default); nothing else.
    assert policy == dict(
        weak, RequireNumbers=True, AllowUsersToChangePassword=True, ExpirePasswords=True, MaxPasswordAge=30
    )
    assert writes.count("UpdateAccountPasswordPolicy") == 1
    assert run.result["password_policy_floor"] == []
    assert run.result["password_policy_below_floor"] == []
    assert "CIS AWS Foundations value for every setting" not in run.out
