# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bootstrap role and the account password policy: "allow users to change their own password" is turned on
even when the operator names other settings only (on a fresh account AWS's default would leave it off, and no new
user could set a password of their own), and stays off only when the operator says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer


def bootstrap(server: MotoServer, tmp_path: t.Any, extra_vars: dict[str, t.Any]) -> dict[str, t.Any]:
    """Run the bootstrap playbook; the account password policy it leaves."""
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
    return server.iam_client().get_account_password_policy()["PasswordPolicy"]


@pytest.mark.parametrize(
    ("settings", "allowed"),
    [
        ({"min_password_length": 14}, True),
        ({"min_password_length": 14, "allow_users_to_change_password": False}, False),
    ],
)
def test_changing_the_own_password_is_on_unless_turned_off(
    tmp_path: t.Any, settings: dict[str, t.Any], allowed: bool
) -> None:
    with MotoServer(record=False) as server:
        policy = bootstrap(server, tmp_path, {"bootstrap_password_policy": settings})

    assert policy["AllowUsersToChangePassword"] is allowed
    assert policy["MinimumPasswordLength"] == 14
