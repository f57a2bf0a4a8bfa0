# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The offboard role through its playbook: disable keeps the user and its grants, delete removes everything it
held (nothing of it left in the account, its virtual device's name free again), a rerun changes nothing, and an
unknown user is reported absent."""

from __future__ import annotations

import json
import os
import typing as t

from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer
from ansible_collections.mfa_onboarding.iam.tests.support.scenario import playbook
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import register_mfa

EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def leaver(iam: t.Any, name: str) -> None:
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password="His-own-Passw0rd!x", PasswordResetRequired=False)
    register_mfa(iam, name)
    iam.attach_user_policy(UserName=name, PolicyArn=iam_state.CURRENT_USERS_ARN)
    iam.attach_user_policy(UserName=name, PolicyArn=iam_state.EXTRA_POLICY_ARN)
    iam.put_user_policy(UserName=name, PolicyName="legacy", PolicyDocument=json.dumps(EVERYTHING))
    for group in ("Developers", "Ops", "Audit"):
        iam.add_user_to_group(UserName=name, GroupName=group)
    for _key in range(2):
        iam.create_access_key(UserName=name)


def leftovers(iam: t.Any, name: str) -> dict[str, t.Any]:
    users = [u["UserName"] for u in iam.list_users()["Users"]]
    devices = [d["SerialNumber"] for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]]
    found = {
        "user": [n for n in users if n == name],
        "virtual MFA devices": [d for d in devices if d.rsplit("/", 1)[-1] == name],
    }
    return {k: v for k, v in found.items() if v}


def test_disable_then_delete_through_the_playbook() -> None:
    assert "ANSIBLE_COLLECTIONS_PATH" in os.environ, "set ANSIBLE_COLLECTIONS_PATH (the Makefile does)"
    with MotoServer() as server:
        iam_state.bootstrapped(server.iam_client())  # as the bootstrap role leaves it (test_bootstrap_password_policy)
        iam = server.iam_client()
        iam_state.create_extras(iam)
        for group in ("Ops", "Audit"):
            iam.create_group(GroupName=group)
        leaver(iam, "leo")

        server.reset_recording()
        rc, out = playbook(server, "offboard", {"offboard_users": [{"name": "leo"}], "offboard_mode": "disable"})
        assert rc == 0, out[-3000:]
        assert sorted(MotoServer.writes(server.actions())) == sorted(
            ["DeleteLoginProfile", "UpdateAccessKey", "UpdateAccessKey", "TagUser"]
        )
        assert "leo: disabled, changed" in out
        keys = iam.list_access_keys(UserName="leo")["AccessKeyMetadata"]
        assert [k["Status"] for k in keys] == ["Inactive", "Inactive"]
        assert len(iam.list_groups_for_user(UserName="leo")["Groups"]) == 3

        server.reset_recording()
        users = [{"name": "leo"}, {"name": "ghost"}]
        rc, out = playbook(server, "offboard", {"offboard_users": users}, "--check")
        assert rc == 0, out[-3000:]
        assert MotoServer.writes(server.actions()) == []
        rc, out = playbook(server, "offboard", {"offboard_users": users})
        assert rc == 0, out[-3000:]
        writes = MotoServer.writes(server.actions())
        assert writes[-1] == "DeleteUser" and writes.count("DeleteAccessKey") == 2
        assert writes.index("DeleteVirtualMFADevice") > writes.index("DeactivateMFADevice")
        assert "ghost: absent" in out
        assert leftovers(iam, "leo") == {}

        server.reset_recording()
        rc, out = playbook(server, "offboard", {"offboard_users": users})
        assert rc == 0, out[-3000:]
        assert MotoServer.writes(server.actions()) == []


def test_bad_offboard_mode_is_refused_before_any_call() -> None:
    with MotoServer() as server:
        server.reset_recording()
        rc, out = playbook(server, "offboard", {"offboard_users": [{"name": "leo"}], "offboard_mode": "purge"})
        assert rc != 0 and "offboard_mode" in out and "delete, disable" in out, out[-2000:]
        assert server.actions() == []


def test_expire_leaves_fresh_onboarding_users_alone_and_refuses_zero_days(tmp_path: t.Any) -> None:
    with MotoServer() as server:
        iam_state.bootstrapped(server.iam_client())  # as the bootstrap role leaves it (test_bootstrap_password_policy)
        onboard = {"onboard_users": [{"name": "una"}], "onboard_delivery": "file"}
        onboard["onboard_handover_dir"] = str(tmp_path / "notes")
        assert playbook(server, "onboard", onboard)[0] == 0
        server.reset_recording()
        rc, out = playbook(server, "expire", {})
        assert rc == 0, out[-3000:]
        assert MotoServer.writes(server.actions()) == []
        rc, out = playbook(server, "expire", {"expire_after_days": 0})
        assert rc != 0 and "expire_after_days: must be a whole number of days, at least 1" in out, out[-2000:]
