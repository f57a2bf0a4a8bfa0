# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection's action group `aws` extends `amazon.aws.aws`: one `module_defaults` entry for
`group/mfa_onboarding.iam.aws` sets the endpoint, region and credentials of this collection's modules and of
amazon.aws's modules in the same play. The play runs with no AWS_* variable and no ~/.aws, so every connection
setting can only come from module_defaults."""

from __future__ import annotations

import os
import subprocess
import sys
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer

PLAY = """
- name: Play of someone else, connection settings only in module_defaults
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  module_defaults:
{defaults}
  tasks:
    - name: This collection's module
      mfa_onboarding.iam.mfa_onboarding_policy:
        stage: first_login

    - name: Another of this collection's modules
      mfa_onboarding.iam.account_password_policy:
        allow_users_to_change_password: true

    - name: An amazon.aws module in the same play
      amazon.aws.iam_group:
        name: Operators
        state: present

    - name: An amazon.aws info module
      amazon.aws.aws_caller_info:
      register: caller

    - name: Report the account
      ansible.builtin.debug:
        msg: "account={{{{ caller.account }}}}"
"""

GROUP_DEFAULTS = """    group/mfa_onboarding.iam.aws:
      endpoint_url: {url}
      region: us-east-1
      access_key: testing
      secret_key: testing
"""


def run_play(tmp_path: t.Any, defaults: str) -> subprocess.CompletedProcess[str]:
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY.format(defaults=defaults), encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(home),
        AWS_EC2_METADATA_DISABLED="true",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
    )
    assert "ANSIBLE_COLLECTIONS_PATH" in env, "set ANSIBLE_COLLECTIONS_PATH (the Makefile does)"
    return subprocess.run(
        ["ansible-playbook", str(playbook)], env=env, capture_output=True, text=True, check=False, timeout=300
    )


@pytest.fixture
def moto() -> t.Iterator[MotoServer]:
    with MotoServer(record=False) as server:
        yield server


def test_group_defaults_reach_both_collections(tmp_path: t.Any, moto: MotoServer) -> None:
    result = run_play(tmp_path, GROUP_DEFAULTS.format(url=moto.url))

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert '"msg": "account=123456789012"' in result.stdout
    iam = moto.iam_client()
    assert [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]] == [
        "MFARequiredOnlyForTheFirstLogin"
    ]
    assert [g["GroupName"] for g in iam.list_groups()["Groups"]] == ["Operators"]
    assert iam.get_account_password_policy()["PasswordPolicy"]["AllowUsersToChangePassword"] is True


@pytest.mark.parametrize(
    "defaults",
    [
        pytest.param("    {{}}\n", id="no-module-defaults"),
        # amazon.aws's own group does not reach this collection's modules: our group extends it, not the reverse.
        pytest.param(GROUP_DEFAULTS.replace("mfa_onboarding.iam.aws", "amazon.aws.aws"), id="amazon-group-only"),
    ],
)
def test_without_the_group_defaults_nothing_reaches_moto(tmp_path: t.Any, moto: MotoServer, defaults: str) -> None:
    # The control: the same play without this group's defaults has no endpoint, region or credentials.
    result = run_play(tmp_path, defaults.format(url=moto.url))

    assert result.returncode != 0
    assert "Failed to list customer managed policies: Unable to locate credentials" in result.stdout
    iam = moto.iam_client()
    assert iam.list_policies(Scope="Local")["Policies"] == []
