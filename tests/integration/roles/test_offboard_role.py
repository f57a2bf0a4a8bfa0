# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The offboard role through its playbook, for the issue's full user (tests/support/full_user.py, promoted): disable
keeps the user and its grants and leaves no credential active, delete removes everything it held (nothing of it left
in the account, its service-specific credential and its virtual device's name included), a rerun changes nothing,
and an unknown user is reported absent."""

from __future__ import annotations

import os
import typing as t

from ansible_collections.mfa_onboarding.iam.tests.support import full_user as fu
from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support import moto_patched
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer
from ansible_collections.mfa_onboarding.iam.tests.support.scenario import playbook
from ansible_collections.mfa_onboarding.iam.tests.support.scenario import stored_passwords


def test_disable_then_delete_through_the_playbook(server: MotoServer) -> None:
    assert "ANSIBLE_COLLECTIONS_PATH" in os.environ, "set ANSIBLE_COLLECTIONS_PATH (the Makefile does)"
    iam_state.bootstrapped(server.iam_client())  # as the bootstrap role leaves it (test_bootstrap_password_policy)
    iam = server.iam_client()
    leo = fu.full_user(iam, "leo")
    iam.attach_user_policy(UserName="leo", PolicyArn=iam_state.CURRENT_USERS_ARN)

    server.reset_recording()
    rc, out = playbook(server, "offboard", {"offboard_users": [{"name": "leo"}], "offboard_mode": "disable"})
    assert rc == 0, out[-3000:]
    assert sorted(MotoServer.writes(server.actions())) == sorted(
        [
            "DeleteLoginProfile",
            "UpdateAccessKey",
            "UpdateAccessKey",
            "UpdateSigningCertificate",
            "UpdateSSHPublicKey",
            "UpdateServiceSpecificCredential",
            "TagUser",
        ]
    )
    assert "leo: disabled, changed" in out
    keys = iam.list_access_keys(UserName="leo")["AccessKeyMetadata"]
    assert [k["Status"] for k in keys] == ["Inactive", "Inactive"]
    credentials = iam.list_service_specific_credentials(UserName="leo")["ServiceSpecificCredentials"]
    assert [(c["ServiceSpecificCredentialId"], c["Status"]) for c in credentials] == [
        (leo.service_credential_id, "Inactive")
    ]
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
    assert writes.count("DeleteServiceSpecificCredential") == 1
    assert writes.index("DeleteVirtualMFADevice") > writes.index("DeactivateMFADevice")
    assert "ghost: absent" in out
    assert fu.leftovers(iam, leo) == {}

    server.reset_recording()
    rc, out = playbook(server, "offboard", {"offboard_users": users})
    assert rc == 0, out[-3000:]
    assert MotoServer.writes(server.actions()) == []


def test_bad_offboard_mode_is_refused_before_any_call(server: MotoServer) -> None:
    server.reset_recording()
    rc, out = playbook(server, "offboard", {"offboard_users": [{"name": "leo"}], "offboard_mode": "purge"})
    assert rc != 0 and "offboard_mode" in out and "delete, disable" in out, out[-2000:]
    assert server.actions() == []


def test_expire_then_onboard_again_through_the_playbooks(tmp_path: t.Any, server: MotoServer) -> None:
    """Two users a week past their handover (aged in moto), one fresh: the expire playbook expires the two, deletes the
    unassigned virtual MFA device named after one of them (a registration given up halfway) and keeps the stranger's,
    saying why; the fresh user is left alone; the rerun writes nothing; onboarding one again issues a fresh
    password through a new note; 0 days is refused before any call."""
    notes = tmp_path / "notes"
    iam_state.bootstrapped(server.iam_client())  # as the bootstrap role leaves it (test_bootstrap_password_policy)
    users = [{"name": n} for n in ("una", "vic", "young")]
    assert playbook(server, "onboard", {"onboard_users": users, "onboard_delivery": "file",
                                        "onboard_handover_dir": str(notes)})[0] == 0  # fmt: skip
    iam = server.iam_client()
    for name in ("una", "vic"):
        moto_patched.age_user_at(server.url, name, 8)
    for device in ("UNA", "stranger"):
        iam.create_virtual_mfa_device(VirtualMFADeviceName=device)
    server.reset_recording()

    rc, out = playbook(server, "expire", {})

    assert rc == 0, out[-3000:]
    assert sorted(MotoServer.writes(server.actions())) == sorted(
        ["TagUser", "DeleteLoginProfile", "DeleteVirtualMFADevice", "TagUser", "DeleteLoginProfile"]
    )
    devices = [d["SerialNumber"] for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]]
    assert [d.rsplit("/", 1)[-1] for d in devices] == ["stranger"]
    assert f"{devices[0]}: kept, not named after an expired user" in out
    for name in ("una", "vic"):
        assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=name)["Groups"]] == [
            iam_state.ONBOARDING_GROUP
        ]
        tags = {t_["Key"]: t_["Value"] for t_ in iam.list_user_tags(UserName=name)["Tags"]}
        assert "mfa-onboarding:expired" in tags, name
    assert iam.get_login_profile(UserName="young")["LoginProfile"]["UserName"] == "young"
    server.reset_recording()
    rc, out = playbook(server, "expire", {})
    assert rc == 0 and MotoServer.writes(server.actions()) == [], out[-3000:]

    before = (notes / "una.txt").read_text(encoding="utf-8")
    rc, out = playbook(server, "onboard", {"onboard_users": [{"name": "una"}], "onboard_delivery": "file",
                                           "onboard_handover_dir": str(notes)})  # fmt: skip
    assert rc == 0, out[-3000:]
    # moto answers PasswordResetRequired false whatever CreateLoginProfile asked: the password itself is checked.
    fresh = stored_passwords(server.url)["una"]
    after = (notes / "una.txt").read_text(encoding="utf-8")
    assert after != before and fresh in after and fresh not in before
    tags = {t_["Key"] for t_ in iam.list_user_tags(UserName="una")["Tags"]}
    assert "mfa-onboarding:expired" not in tags

    server.reset_recording()
    rc, out = playbook(server, "expire", {"expire_after_days": 0})
    assert rc != 0 and "expire_after_days: must be a whole number of days, at least 1" in out, out[-2000:]
    assert MotoServer.writes(server.actions()) == []
