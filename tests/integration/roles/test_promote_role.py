# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The promote role through its playbook and through include_role, against a moto server: one user's typo fails
that user only (the others are promoted, promote_results is set, the play fails naming the user and its typo), and
a run that fails as a whole (an account without the onboarding group) still sets promote_results, every listed
user failed with the module's message, and the play fails with that message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import register_mfa

FATAL = "fatal: [localhost]: FAILED! => "
USERS = [{"name": "p1", "groups": ["Developers"]}, {"name": "p2", "groups": ["Devlopers"]}]
# A caller of the role, as an AWX workflow or another play includes it: promote_results is read after the failure.
CALLER = """
- name: Include the promote role and keep its results
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Promote
      block:
        - name: Include the role
          ansible.builtin.include_role:
            name: mfa_onboarding.iam.promote
      rescue:
        - name: Keep the results
          ansible.builtin.copy:
            content: "{{ promote_results | to_json }}"
            dest: "{{ results_file }}"
            mode: "0600"
        - name: Fail as the role did
          ansible.builtin.fail:
            msg: "{{ ansible_failed_result.msg }}"
"""


class Run(t.NamedTuple):
    rc: int
    message: str
    stdout: str
    results: list[dict[str, t.Any]] | None


def run(server: MotoServer, tmp: t.Any, playbook: str, extra_vars: dict[str, t.Any]) -> Run:
    assert "ANSIBLE_COLLECTIONS_PATH" in os.environ, "set ANSIBLE_COLLECTIONS_PATH (the Makefile does)"
    results_file = str(tmp / "promote_results.json")
    env = dict(
        server.env(),
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_RETRY_FILES_ENABLED="false",
    )
    command = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    process = subprocess.run(
        [command, playbook, "-e", json.dumps(dict(extra_vars, results_file=results_file))],
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
    results = None
    if os.path.exists(results_file):
        with open(results_file, encoding="utf-8") as handle:
            results = json.load(handle)
        os.unlink(results_file)
    return Run(process.returncode, message, process.stdout + process.stderr, results)


@pytest.fixture(scope="module")
def server() -> t.Iterator[MotoServer]:
    with MotoServer() as moto:
        yield moto


def ready_users(iam: t.Any) -> None:
    for user in USERS:
        iam.create_user(UserName=user["name"])
        iam.add_user_to_group(UserName=user["name"], GroupName=iam_state.ONBOARDING_GROUP)
        register_mfa(iam, user["name"])


def test_a_typo_fails_only_its_user_and_promote_results_is_set(server: MotoServer, tmp_path: t.Any) -> None:
    server.reset()
    iam = server.iam_client()
    iam_state.bootstrap_guards(iam)
    iam_state.create_extras(iam)
    ready_users(iam)
    caller = tmp_path / "caller.yml"
    caller.write_text(CALLER)

    # Through the collection's playbook: p1 is promoted, the play fails naming p2 and the group it named.
    played = run(server, tmp_path, "mfa_onboarding.iam.promote", {"promote_users": USERS})
    assert played.rc != 0, played.stdout[-3000:]
    assert played.message == (
        "promotion refused for p2: user p2: groups not found: Devlopers; nothing was changed for this user"
    ), played.stdout[-3000:]
    groups = {
        u["name"]: sorted(g["GroupName"] for g in iam.list_groups_for_user(UserName=u["name"])["Groups"]) for u in USERS
    }
    assert groups == {"p1": ["Developers"], "p2": [iam_state.ONBOARDING_GROUP]}

    # Through include_role: promote_results holds both users, in input order (p1 now unchanged).
    included = run(server, tmp_path, str(caller), {"promote_users": USERS})
    assert included.rc != 0 and included.message == played.message, included.stdout[-3000:]
    assert [(r.pop("profile"), r.pop("found_ready")) for r in included.results] == [(None, False), (None, False)]
    assert included.results == [
        {"name": "p1", "stage": "promoted", "changed": False, "failed": False, "refused": False, "reason": None},
        {
            "name": "p2",
            "stage": "ready",
            "changed": False,
            "failed": True,
            "refused": True,
            "reason": "user p2: groups not found: Devlopers; nothing was changed for this user",
        },
    ]

    # The typo fixed: p2 is promoted, and the play passes.
    fixed = run(
        server,
        tmp_path,
        "mfa_onboarding.iam.promote",
        {"promote_users": [USERS[0], dict(USERS[1], groups=["Developers"])]},
    )
    assert fixed.rc == 0, fixed.stdout[-3000:]
    assert "p2: promoted, changed" in fixed.stdout


def test_a_run_that_fails_as_a_whole_still_sets_promote_results(server: MotoServer, tmp_path: t.Any) -> None:
    server.reset()
    iam = server.iam_client()  # no bootstrap: the onboarding group does not exist
    caller = tmp_path / "caller.yml"
    caller.write_text(CALLER)
    expected = (
        "onboarding_group: the group NotYetLoginUsers does not exist; run the mfa_onboarding.iam.bootstrap role first"
    )

    played = run(server, tmp_path, "mfa_onboarding.iam.promote", {"promote_users": USERS})
    assert played.rc != 0
    assert played.message == expected, played.stdout[-3000:]

    included = run(server, tmp_path, str(caller), {"promote_users": USERS})
    assert included.rc != 0 and included.message == expected, included.stdout[-3000:]
    assert included.results == [
        {
            "name": name,
            "stage": None,
            "changed": False,
            "failed": True,
            "refused": False,
            "reason": expected,
            "profile": None,
            "found_ready": False,
        }
        for name in ("p1", "p2")
    ]
    assert iam.list_users()["Users"] == []
