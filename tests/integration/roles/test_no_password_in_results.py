# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Invariant 3 through the roles: a full lifecycle (bootstrap, onboard with a note each, a reset, first sign-in,
promote, status) with every callback event recorded (tests/support/callbacks/record_events.py) and every host
variable dumped at the end of each play (registered results included). No temporary password that IAM ever held
for these users appears in any of them, and no result has a `temporary_password` key."""

from __future__ import annotations

import glob
import os
import subprocess
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.tests.support import callbacks
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import first_sign_in

USERS = ["alice", "bob"]
DUMP = """
    - name: Dump every host variable, registered results included
      ansible.builtin.copy:
        content: "{{ hostvars[inventory_hostname] | to_json }}"
        dest: "{{ dump_path }}"
        mode: "0600"
"""
ONBOARD = (
    """
- name: Bootstrap and onboard, then reset bob's password as for a lost note
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Bootstrap
      ansible.builtin.include_role:
        name: mfa_onboarding.iam.bootstrap
    - name: Onboard
      ansible.builtin.include_role:
        name: mfa_onboarding.iam.onboard
      vars:
        onboard_users: [{name: alice}, {name: bob}]
        onboard_delivery: file
        onboard_handover_dir: "{{ notes_dir }}"
    - name: Reset bob
      ansible.builtin.include_role:
        name: mfa_onboarding.iam.onboard
      vars:
        onboard_users: [{name: bob}]
        onboard_delivery: file
        onboard_handover_dir: "{{ notes_dir }}"
        onboard_reset_password: true
"""
    + DUMP
)
PROMOTE = (
    """
- name: Promote alice (bob has no MFA and is refused), then the status report
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Promote
      block:
        - name: Promote
          ansible.builtin.include_role:
            name: mfa_onboarding.iam.promote
          vars:
            promote_users: [{name: alice}, {name: bob}]
      rescue:
        - name: Bob is refused
          ansible.builtin.assert:
            that: ansible_failed_result.msg is search('bob')
    - name: Status
      ansible.builtin.include_role:
        name: mfa_onboarding.iam.status
"""
    + DUMP
)


def note_passwords(directory: str) -> set[str]:
    """The password of every note and backup note (each password IAM held for the users at some point)."""
    found = set()
    for path in glob.glob(os.path.join(directory, "*.txt*")):
        with open(path, encoding="utf-8") as handle:
            found.update(line.split(":", 1)[1].strip() for line in handle if "Temporary password:" in line)
    return found


KEY = '"temporary_password":'  # the module's return key, as JSON (the role docs mention the template variable)


def leaks(secrets: t.Iterable[str], texts: dict[str, str]) -> list[str]:
    found = []
    for where, text in texts.items():
        found.extend(f"{where}: a password" for secret in secrets if secret in text)
        if KEY in text.replace('" :', '":'):
            found.append(f"{where}: a temporary_password key")
    return sorted(found)


def test_the_scan_finds_a_password_where_there_is_one() -> None:
    assert leaks(["Sup3r-secret!"], {"events": '{"x": "Sup3r-secret!"}', "vars": "{}"}) == ["events: a password"]
    assert leaks([], {"vars": '{"temporary_password": 1}'}) == ["vars: a temporary_password key"]
    assert leaks(["x1"], {"docs": "It sees C(item.temporary_password)."}) == []


def test_no_password_in_any_registered_result_or_callback_event(tmp_path: t.Any) -> None:
    assert "ANSIBLE_COLLECTIONS_PATH" in os.environ, "set ANSIBLE_COLLECTIONS_PATH (the Makefile does)"
    events = tmp_path / "events.jsonl"
    notes = tmp_path / "notes"
    with MotoServer() as server:
        env = dict(
            server.env(),
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
            ANSIBLE_CALLBACK_PLUGINS=os.path.dirname(callbacks.__file__),
            ANSIBLE_CALLBACKS_ENABLED="record_events",
            RECORD_EVENTS_FILE=str(events),
        )
        dumps = []
        for index, play in enumerate((ONBOARD, PROMOTE)):
            if index == 1:
                first_sign_in(server.iam_client(), "alice", "Alice-own-Passw0rd!")
            playbook = tmp_path / f"play{index}.yml"
            playbook.write_text(play, encoding="utf-8")
            dump = tmp_path / f"hostvars{index}.json"
            process = subprocess.run(
                [
                    "ansible-playbook",
                    "-v",
                    "--diff",
                    str(playbook),
                    "-e",
                    f"notes_dir={notes}",
                    "-e",
                    f"dump_path={dump}",
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-2000:]
            dumps.append(dump.read_text(encoding="utf-8"))
            stdout = process.stdout
    passwords = note_passwords(str(notes))
    # alice's and bob's first passwords, and bob's second: three in all, from the notes and their backup.
    assert len(passwords) == 3, sorted(os.listdir(notes))
    recorded = events.read_text(encoding="utf-8")
    assert '"onboard_results"' in recorded and '"users"' in recorded  # the scan saw the module results
    texts = {"callback events": recorded, "hostvars after onboarding": dumps[0], "hostvars after promotion": dumps[1]}
    texts["output of the promote play"] = stdout
    assert leaks(passwords, texts) == []
    summaries = [line for line in recorded.splitlines() if '"summary"' in line]
    assert summaries, "no per-user summary was recorded"


@pytest.fixture(autouse=True)
def _no_inherited_callbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANSIBLE_CALLBACKS_ENABLED", "ANSIBLE_STDOUT_CALLBACK"):
        monkeypatch.delenv(name, raising=False)
