# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The status role through its playbook, against a moto server: the table grouped by stage, the report in each
format its file's extension names, the compliance gate naming each user and finding (after the report is shown and
written), a named user that does not exist reported as absent, and a report directory that the operator cannot
write refused before any API call."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import typing as t

import pytest
import yaml

from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import register_mfa

FATAL = "fatal: [localhost]: FAILED! => "
# The on-screen table: the debug task's list, one JSON string per line.
_LINES = re.compile(r'"msg": \[\n((?:\s*".*",?\n)*)\s*\]')


class Run(t.NamedTuple):
    rc: int
    stdout: str
    message: str
    actions: list[str]

    def lines(self) -> list[str]:
        """The lines of the status table (the last list a debug task printed)."""
        found = _LINES.findall(self.stdout)
        assert found, self.stdout[-3000:]
        return [json.loads(line.strip().rstrip(",")) for line in found[-1].splitlines()]


@pytest.fixture(scope="module")
def server() -> t.Iterator[MotoServer]:
    with MotoServer() as moto:
        yield moto


@pytest.fixture
def account(server: MotoServer) -> t.Any:
    """A bootstrapped account: carol onboarding (her temporary password unused), dave ready, erin promoted,
    mallory outside the regime with a console password and nothing guarding it."""
    server.reset()
    iam = server.iam_client()
    iam_state.bootstrap_guards(iam)
    for name in ("carol", "dave"):
        iam.create_user(UserName=name)
        iam.add_user_to_group(UserName=name, GroupName=iam_state.ONBOARDING_GROUP)
        iam.create_login_profile(UserName=name, Password="Temporary-Passw0rd!1", PasswordResetRequired=True)
    register_mfa(iam, "dave")
    iam.create_user(UserName="erin")
    iam.create_login_profile(UserName="erin", Password="Her-own-Passw0rd!1", PasswordResetRequired=False)
    register_mfa(iam, "erin")
    iam.attach_user_policy(UserName="erin", PolicyArn=iam_state.CURRENT_USERS_ARN)
    iam.create_user(UserName="mallory")
    iam.create_login_profile(UserName="mallory", Password="Mallory-Passw0rd!1", PasswordResetRequired=False)
    return iam


def status(server: MotoServer, tmp_path: t.Any, extra_vars: dict[str, t.Any], *, user: str | None = None) -> Run:
    """ansible-playbook mfa_onboarding.iam.status -e @vars.json (as another local user, with `user`)."""
    assert "ANSIBLE_COLLECTIONS_PATH" in os.environ, "set ANSIBLE_COLLECTIONS_PATH (the Makefile does)"
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(extra_vars), encoding="utf-8")
    env = dict(
        server.env(),
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
    )
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "mfa_onboarding.iam.status"]
    command += ["-e", f"@{vars_file}"]
    server.reset_recording()
    process = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300)
    message = ""
    for line in process.stdout.splitlines():
        if line.startswith(FATAL):
            message = str(json.loads(line[len(FATAL) :]).get("msg", ""))
    return Run(process.returncode, process.stdout + process.stderr, message, server.actions())


def test_the_table_groups_users_by_stage_with_their_findings(
    server: MotoServer, account: t.Any, tmp_path: t.Any
) -> None:
    run = status(server, tmp_path, {"status_scope": "account"})
    assert run.rc == 0, run.stdout[-3000:]
    lines = run.lines()
    assert lines[0].startswith("4 users: onboarding 1, ready 1, promoted 1, unmanaged 1; findings: ")
    assert [line.split()[:2] for line in lines[1:]] == [
        ["onboarding", "carol"],
        ["ready", "dave"],
        ["promoted", "erin"],
        ["unmanaged", "mallory"],
    ]
    assert lines[2].endswith("findings: ready_not_promoted")
    assert lines[4].endswith("findings: unguarded_console_password")
    assert [action for action in run.actions if not action.startswith(("Get", "List", "Generate"))] == []


@pytest.mark.parametrize("extension", [".md", ".csv", ".json"])
def test_the_report_in_the_format_of_its_extension(
    server: MotoServer, account: t.Any, tmp_path: t.Any, extension: str
) -> None:
    path = tmp_path / "reports" / f"iam-status{extension}"
    path.parent.mkdir()
    run = status(server, tmp_path, {"status_scope": "account", "status_report_path": str(path)})
    assert run.rc == 0, run.stdout[-3000:]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    text = path.read_text(encoding="utf-8")
    if extension == ".md":
        assert text.startswith("# MFA onboarding status\n")
        assert "| mallory | unmanaged | no MFA | yes | never |" in text
    elif extension == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [(r["name"], r["stage"]) for r in rows] == [
            ("carol", "onboarding"),
            ("dave", "ready"),
            ("erin", "promoted"),
            ("mallory", "unmanaged"),
        ]
        assert rows[3]["findings"] == "unguarded_console_password"
    else:
        document = json.loads(text)
        assert document["summary"]["stages"]["ready"] == 1
        assert [u["name"] for u in document["users"]] == ["carol", "dave", "erin", "mallory"]


def test_the_gate_names_each_user_and_finding_after_the_report(
    server: MotoServer, account: t.Any, tmp_path: t.Any
) -> None:
    path = tmp_path / "status.json"
    extra_vars = {
        "status_scope": "account",
        "status_report_path": str(path),
        "status_fail_on": ["unguarded_console_password", "ready_not_promoted", "grants_before_mfa"],
    }
    run = status(server, tmp_path, extra_vars)
    assert run.rc != 0
    assert run.message == "status_fail_on: dave: ready_not_promoted; mallory: unguarded_console_password"
    assert path.is_file(), "the report is written before the gate fails"
    # In the regime scope mallory is not reported, and so does not fail the gate.
    regime = status(server, tmp_path, dict(extra_vars, status_scope="regime"))
    assert regime.message == "status_fail_on: dave: ready_not_promoted"


def test_a_named_user_that_does_not_exist_is_reported_absent(
    server: MotoServer, account: t.Any, tmp_path: t.Any
) -> None:
    run = status(server, tmp_path, {"status_users": ["erin", "ghost"]})
    assert run.rc == 0, run.stdout[-3000:]
    lines = run.lines()
    assert lines[0].startswith("2 users: promoted 1, absent 1;")
    assert lines[2].split()[:2] == ["absent", "ghost"]
    assert "no such user" in lines[2]


def test_a_directory_the_operator_cannot_write_is_refused_before_any_call(
    server: MotoServer, account: t.Any, tmp_path: t.Any
) -> None:
    """root may write anywhere that permissions guard, so the directory is made immutable (chattr +i), which even
    root cannot write into, as on a read-only mount."""
    locked = tmp_path / "locked"
    locked.mkdir()
    subprocess.run(["chattr", "+i", str(locked)], check=True, capture_output=True)
    try:
        assert not os.access(locked, os.W_OK)
        run = status(server, tmp_path, {"status_report_path": str(locked / "report.md")})
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True, capture_output=True)
    assert run.rc != 0, run.stdout[-3000:]
    assert run.message == f"status_report_path: the directory {locked} cannot be written", run.stdout[-3000:]
    assert run.actions == []
    assert not (locked / "report.md").exists()


def test_the_example_variables_report_and_gate(server: MotoServer, account: t.Any, tmp_path: t.Any) -> None:
    """examples/status-vars.yml as the README runs it: the report in the working directory, and the gate."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    with open(os.path.join(root, "examples", "status-vars.yml"), encoding="utf-8") as handle:
        example = yaml.safe_load(handle)
    run = status(server, tmp_path, example)
    assert run.rc != 0
    assert run.message == "status_fail_on: mallory: unguarded_console_password"
    assert (tmp_path / "iam-status.md").read_text(encoding="utf-8").startswith("# MFA onboarding status")
