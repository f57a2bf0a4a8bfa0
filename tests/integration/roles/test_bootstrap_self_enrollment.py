# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bootstrap role's bootstrap_self_enrollment reaches both policies: guarded writes the guarded documents,
a rerun changes nothing, and official again restores the official text in a new default version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import official_document
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import render
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer

POLICIES = {"first_login": "MFARequiredOnlyForTheFirstLogin", "current_users": "MFARequiredForCurrentUsers"}


def bootstrap(server: MotoServer, tmp_path: t.Any, extra_vars: dict[str, t.Any]) -> str:
    """Run the bootstrap playbook; its output."""
    assert "ANSIBLE_COLLECTIONS_PATH" in os.environ, "set ANSIBLE_COLLECTIONS_PATH (the Makefile does)"
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(extra_vars), encoding="utf-8")
    env = dict(server.env(), ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    process = subprocess.run(
        ["ansible-playbook", "mfa_onboarding.iam.bootstrap", "-e", f"@{vars_file}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-2000:]
    return process.stdout


def stored(iam: t.Any) -> dict[str, tuple[str, dict[str, t.Any]]]:
    """Per stage: the default version id and its document."""
    found = {}
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
        found[policy["PolicyName"]] = (policy["DefaultVersionId"], version["PolicyVersion"]["Document"])
    return {stage: found[name] for stage, name in POLICIES.items()}


def test_guarded_then_official(tmp_path: t.Any) -> None:
    guarded = {"bootstrap_self_enrollment": "guarded", "bootstrap_mfa_device_scope": "own"}
    with MotoServer(record=False) as server:
        iam = server.iam_client()
        bootstrap(server, tmp_path, guarded)
        assert stored(iam) == {
            stage: ("v1", render(official_document(), stage, "own", "guarded")) for stage in POLICIES
        }

        bootstrap(server, tmp_path, guarded)
        assert {stage: entry[0] for stage, entry in stored(iam).items()} == dict.fromkeys(POLICIES, "v1")

        bootstrap(server, tmp_path, {"bootstrap_mfa_device_scope": "own"})
        assert stored(iam) == {stage: ("v2", render(official_document(), stage, "own")) for stage in POLICIES}
