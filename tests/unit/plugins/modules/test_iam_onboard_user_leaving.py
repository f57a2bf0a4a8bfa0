# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""iam_onboard_user's states at the end of the lifecycle (expired, disabled, absent), in-process against moto
(DESIGN section 1, Expire and Disable / offboard; invariant 1's offboarding order)."""

from __future__ import annotations

import datetime
import json
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _run
from ansible_collections.mfa_onboarding.iam.plugins.modules import iam_onboard_user
from ansible_collections.mfa_onboarding.iam.tests.support import full_user
from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support import strict_iam

Run = t.Callable[..., dict[str, t.Any]]
GROUP = iam_state.ONBOARDING_GROUP
CURRENT = iam_state.CURRENT_USERS_ARN
APP = iam_state.EXTRA_POLICY_ARN
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def leaver(iam: t.Any, enable_mfa: t.Callable[..., str], name: str = "leo") -> str:
    """A promoted user: a password, two access keys (one inactive), a CodeCommit service-specific credential, an
    inline and two attached policies, three groups, a virtual MFA device. Returns the device's serial number."""
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password="His-own-Passw0rd!x", PasswordResetRequired=False)
    serial = enable_mfa(name)
    iam.attach_user_policy(UserName=name, PolicyArn=CURRENT)
    iam.attach_user_policy(UserName=name, PolicyArn=APP)
    iam.put_user_policy(UserName=name, PolicyName="legacy", PolicyDocument=json.dumps(EVERYTHING))
    for group in ("Developers", "Ops", "Audit"):
        if group != "Developers":
            iam.create_group(GroupName=group)
        iam.add_user_to_group(UserName=name, GroupName=group)
    first = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    iam.create_access_key(UserName=name)
    iam.update_access_key(UserName=name, AccessKeyId=first, Status="Inactive")
    full_user.add_service_specific_credential(iam, name)
    return serial


def service_credentials(iam: t.Any, name: str) -> list[str]:
    """The statuses of the user's service-specific credentials."""
    return [c["Status"] for c in iam.list_service_specific_credentials(UserName=name)["ServiceSpecificCredentials"]]


def test_offboarding_removes_everything_in_order_and_frees_the_device_name(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    serial = leaver(iam, enable_mfa)
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "leo", "state": "absent"})

    assert api_calls.writes == [
        "DeleteLoginProfile",
        "DeleteAccessKey",
        "DeleteAccessKey",
        "DeleteServiceSpecificCredential",
        "DeleteUserPolicy",
        "DetachUserPolicy",
        "RemoveUserFromGroup",
        "RemoveUserFromGroup",
        "RemoveUserFromGroup",
        "DeactivateMFADevice",
        "DeleteVirtualMFADevice",
        "DetachUserPolicy",
        "DeleteUser",
    ]
    assert (result["changed"], result["stage"]) == (True, "absent")
    assert [u["UserName"] for u in iam.list_users()["Users"]] == []
    assert serial not in [d["SerialNumber"] for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]]
    # The name is free again: a new device of the same name can be created.
    iam.create_virtual_mfa_device(VirtualMFADeviceName="leo")
    api_calls.clear()
    again = run_module(iam_onboard_user, {"name": "leo", "state": "absent"})
    assert (again["changed"], again["stage"], api_calls.writes) == (False, "absent", [])


def test_offboarding_in_check_mode_writes_nothing_and_lists_every_step(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    leaver(iam, enable_mfa)
    api_calls.clear()
    predicted = run_module(iam_onboard_user, {"name": "leo", "state": "absent"}, check_mode=True, diff=True)
    assert api_calls.writes == []
    assert predicted["changed"] is True and predicted["stage"] == "absent"
    assert predicted["actions"][0] == "DeleteLoginProfile" and predicted["actions"][-1] == "DeleteUser"
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["leo"]


def test_an_interrupted_offboarding_is_finished_by_the_rerun_including_the_unassigned_device(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    serial = leaver(iam, enable_mfa)
    # As a run killed after DeactivateMFADevice leaves it: no credential, no grant, the device unassigned.
    run_module(iam_onboard_user, {"name": "leo", "state": "disabled"})
    for key in iam.list_access_keys(UserName="leo")["AccessKeyMetadata"]:
        iam.delete_access_key(UserName="leo", AccessKeyId=key["AccessKeyId"])
    for credential in iam.list_service_specific_credentials(UserName="leo")["ServiceSpecificCredentials"]:
        iam.delete_service_specific_credential(
            UserName="leo", ServiceSpecificCredentialId=credential["ServiceSpecificCredentialId"]
        )
    iam.delete_user_policy(UserName="leo", PolicyName="legacy")
    iam.detach_user_policy(UserName="leo", PolicyArn=APP)
    for group in ("Developers", "Ops", "Audit"):
        iam.remove_user_from_group(UserName="leo", GroupName=group)
    iam.deactivate_mfa_device(UserName="leo", SerialNumber=serial)
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "leo", "state": "absent"})

    assert api_calls.writes == ["DeleteVirtualMFADevice", "DetachUserPolicy", "DeleteUser"]
    assert result["stage"] == "absent"
    assert serial not in [d["SerialNumber"] for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]]


def test_disabling_deactivates_the_credentials_and_keeps_the_grants(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    leaver(iam, enable_mfa)
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "leo", "state": "disabled"})

    assert api_calls.writes == ["DeleteLoginProfile", "UpdateAccessKey", "UpdateServiceSpecificCredential", "TagUser"]
    assert result["stage"] == "disabled"
    keys = iam.list_access_keys(UserName="leo")["AccessKeyMetadata"]
    assert sorted(k["Status"] for k in keys) == ["Inactive", "Inactive"]
    assert service_credentials(iam, "leo") == ["Inactive"]
    groups = sorted(g["GroupName"] for g in iam.list_groups_for_user(UserName="leo")["Groups"])
    assert groups == ["Audit", "Developers", "Ops"]
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName="leo")["Tags"]}
    assert tags["mfa-onboarding:disabled"] == datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    api_calls.clear()
    again = run_module(iam_onboard_user, {"name": "leo", "state": "disabled"})
    assert (again["changed"], api_calls.writes) == (False, [])


def test_expiry_deletes_only_an_old_unused_password_and_keeps_the_guard(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_module(iam_onboard_user, {"users": [{"name": "una"}, {"name": "young"}], "handover": "none"})
    api_calls.clear()
    refused = run_module(iam_onboard_user, {"name": "una", "state": "expired"})
    assert refused["failed"] and "is not older than the limit yet" in refused["msg"]
    assert api_calls.writes == []

    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=8)
    monkeypatch.setattr(_run, "now_utc", lambda: later)
    api_calls.clear()
    result = run_module(iam_onboard_user, {"users": [{"name": "una"}], "state": "expired"})

    (una,) = result["users"]
    assert api_calls.writes == ["TagUser", "DeleteLoginProfile"]
    assert una["stage"] == "expired"
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="una")["Groups"]] == [GROUP]
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_login_profile(UserName="una")
    # More days than the limit allows: still too young for it.
    api_calls.clear()
    young = run_module(iam_onboard_user, {"name": "young", "state": "expired", "expire_after_days": 30})
    assert young["failed"] and api_calls.writes == []


def devices(iam: t.Any) -> list[str]:
    return sorted(d["SerialNumber"].rsplit("/", 1)[-1] for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"])


def test_expiry_deletes_the_unassigned_devices_named_after_the_user_and_no_other(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registration given up halfway leaves an unassigned device named after the user, which blocks the name."""
    run_module(iam_onboard_user, {"users": [{"name": "una"}, {"name": "vic"}], "handover": "none"})
    for name in ("UNA", "stranger", "vic"):
        iam.create_virtual_mfa_device(VirtualMFADeviceName=name)
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=8)
    monkeypatch.setattr(_run, "now_utc", lambda: later)
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "una", "state": "expired"})

    assert api_calls.writes == ["TagUser", "DeleteLoginProfile", "DeleteVirtualMFADevice"]
    assert result["stage"] == "expired" and result["console_password"] == "deleted"
    assert devices(iam) == ["stranger", "vic"]
    # Turned off, the device named after the user stays; a later run with it on deletes it (and nothing else).
    api_calls.clear()
    run_module(iam_onboard_user, {"name": "vic", "state": "expired", "expire_unassigned_mfa": False})
    assert api_calls.writes == ["TagUser", "DeleteLoginProfile"] and devices(iam) == ["stranger", "vic"]
    api_calls.clear()
    again = run_module(iam_onboard_user, {"users": [{"name": "una"}, {"name": "vic"}], "state": "expired"})
    assert api_calls.writes == ["DeleteVirtualMFADevice"] and devices(iam) == ["stranger"]
    assert [(u["name"], u["changed"]) for u in again["users"]] == [("una", False), ("vic", True)]


def test_a_disabled_user_onboarded_again_is_guarded_first_and_holds_nothing_else(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    """Disabled for audit (grants kept), then back: the guard first, what it kept removed and reported, a fresh
    temporary password; its keys stay inactive and its device registered, so it is ready, to be promoted again."""
    leaver(iam, enable_mfa)
    run_module(iam_onboard_user, {"name": "leo", "state": "disabled"})
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "leo", "handover": "none"})

    assert not result.get("failed"), result.get("msg")
    assert api_calls.writes[0] == "AddUserToGroup"
    assert api_calls.writes[-2:] == ["UntagUser", "CreateLoginProfile"]
    assert (
        sorted(api_calls.writes[1:-2])
        == ["DeleteUserPolicy", "DetachUserPolicy", "DetachUserPolicy"] + ["RemoveUserFromGroup"] * 3
    )
    assert result["stage"] == "ready" and result["temporary_password"]
    assert sorted(result["detached"]["groups"]) == ["Audit", "Developers", "Ops"]
    assert "legacy" in result["detached"]["inline_policies"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="leo")["Groups"]] == [GROUP]
    assert iam.list_attached_user_policies(UserName="leo")["AttachedPolicies"] == []
    assert {k["Status"] for k in iam.list_access_keys(UserName="leo")["AccessKeyMetadata"]} == {"Inactive"}
    assert "mfa-onboarding:disabled" not in {t_["Key"] for t_ in iam.list_user_tags(UserName="leo")["Tags"]}
    api_calls.clear()
    rerun = run_module(iam_onboard_user, {"name": "leo", "handover": "none"})
    assert (rerun["changed"], api_calls.writes) == (False, [])


def test_expiry_refuses_a_user_that_registered_mfa(
    bootstrapped: t.Any,
    api_calls: t.Any,
    run_module: Run,
    iam: t.Any,
    enable_mfa: t.Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_module(iam_onboard_user, {"name": "mo", "handover": "none"})
    enable_mfa("mo")
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=8)
    monkeypatch.setattr(_run, "now_utc", lambda: later)
    api_calls.clear()
    result = run_module(iam_onboard_user, {"name": "mo", "state": "expired"})
    assert result["failed"] and "user mo has registered an MFA device; it was not expired" in result["msg"]
    assert api_calls.writes == []


def test_a_failed_caller_lookup_fails_only_the_user_that_needed_it(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sts:GetCallerIdentity is asked once, for the first plan that takes something away (here: leo, disabled with
    his grants kept, onboarded again). If it fails, leo fails by name with nothing changed, and nina, created in the
    same run, keeps her result and her temporary password (found by a crash sweep: the whole run used to fail)."""
    from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

    iam.create_user(UserName="leo", Tags=[{"Key": "mfa-onboarding:disabled", "Value": "2026-11-30"}])
    iam.attach_user_policy(UserName="leo", PolicyArn=APP)

    def unreachable(_client: t.Any) -> str:
        raise AnsibleIAMError(message="Failed to get caller identity", exception=RuntimeError("STS unreachable"))

    monkeypatch.setattr(iam_onboard_user, "caller_arn", unreachable)
    api_calls.clear()
    result = run_module(iam_onboard_user, {"users": [{"name": "nina"}, {"name": "leo"}], "handover": "none"})

    nina, leo = result["users"]
    assert result["failed"] and not nina["failed"] and nina["temporary_password"]
    assert leo["failed"] and "user leo: Failed to get caller identity" in leo["msg"] and "STS unreachable" in leo["msg"]
    assert [a for a in api_calls.writes if a not in ("CreateUser", "AddUserToGroup", "CreateLoginProfile")] == []
    assert iam.list_attached_user_policies(UserName="leo")["AttachedPolicies"][0]["PolicyArn"] == APP


def test_a_run_never_offboards_its_own_identity(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    iam.create_user(UserName="ops")
    key = iam.create_access_key(UserName="ops")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    api_calls.clear()
    for state in ("absent", "disabled"):
        result = run_module(iam_onboard_user, {"name": "ops", "state": state})
        assert result["failed"] and "user ops is the identity this run uses" in result["msg"], state
    assert api_calls.writes == []
    assert iam.list_access_keys(UserName="ops")["AccessKeyMetadata"][0]["Status"] == "Active"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"name": "alice", "state": "expired", "expire_after_days": 0}, "expire_after_days: must be a whole number"),
        ({"name": "NotYetLoginUsers", "state": "absent"}, "name: NotYetLoginUsers is the onboarding group's name"),
        ({"name": "mfarequiredforcurrentusers", "state": "disabled"}, "is the name of an MFA guard policy"),
        ({"users": [{"name": "Leo"}, {"name": "leo"}], "state": "absent"}, "IAM user names are case-insensitive"),
    ],
)
def test_bad_input_at_the_end_of_the_lifecycle_is_refused_before_any_call(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, args: dict[str, t.Any], fragment: str
) -> None:
    api_calls.clear()
    result = run_module(iam_onboard_user, args)
    assert result["failed"] and fragment in result["msg"], result["msg"]
    assert api_calls.names == []


def test_offboarding_a_full_user_meets_no_delete_conflict_and_leaves_nothing(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With AWS's DeleteConflict supplied (moto deletes a user that still holds things): the issue's full user,
    promoted, is removed without a single conflict, and nothing of it is left, its device's name included."""
    created = full_user.full_user(iam, "fay")
    iam.attach_user_policy(UserName="fay", PolicyArn=CURRENT)
    strict = strict_iam.StrictIam().attach_botocore(monkeypatch)
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "fay", "state": "absent"})

    assert not result.get("failed"), result.get("msg")
    assert strict.conflicts == []
    assert full_user.leftovers(iam, created) == {}
    assert api_calls.writes.count("DeleteUser") == 1


@pytest.mark.parametrize(
    ("forgotten", "kind"),
    [("DeleteSSHPublicKey", "ssh_public_keys"), ("DeleteServiceSpecificCredential", "service_specific_credentials")],
)
def test_the_strict_stand_in_catches_an_offboarding_that_skips_a_kind(
    bootstrapped: t.Any, run_module: Run, iam: t.Any, monkeypatch: pytest.MonkeyPatch, forgotten: str, kind: str
) -> None:
    """The control: a planner that forgets the SSH keys, or the service-specific credentials, meets DeleteConflict,
    and the user stays."""
    from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _leaving

    full_user.full_user(iam, "fay")
    original = _leaving.plan_offboarding

    def forgetful(observed: t.Any, regime: t.Any) -> t.Any:
        plan = original(observed, regime)
        return plan._replace(steps=[s for s in plan.steps if s.action != forgotten])

    monkeypatch.setattr(_leaving, "plan_offboarding", forgetful)
    strict = strict_iam.StrictIam().attach_botocore(monkeypatch)
    result = run_module(iam_onboard_user, {"name": "fay", "state": "absent"})
    assert result["failed"] and "DeleteConflict" in result["msg"]
    assert strict.kinds == [kind]
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["fay"]


def test_disabling_a_full_user_leaves_no_credential_active(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any
) -> None:
    """The issue's full user disabled: no console password, and every access key, signing certificate, SSH key and
    service-specific credential inactive; its MFA device, policies and groups kept."""
    created = full_user.full_user(iam, "fay")
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "fay", "state": "disabled"})

    assert not result.get("failed"), result.get("msg")
    assert sorted(api_calls.writes) == sorted(
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
    assert active_credentials(iam, "fay") == {}
    kept = full_user.leftovers(iam, created)
    assert kept["service_specific_credentials"] == [created.service_credential_id]
    assert kept["groups"] == list(full_user.GROUPS) and kept["mfa_devices"] == [created.mfa_serial]


def test_a_disable_planner_that_forgets_the_service_credentials_leaves_one_active(
    bootstrapped: t.Any, run_module: Run, iam: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control of the test above: its check sees the credential a forgetful planner leaves active."""
    from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _leaving

    created = full_user.full_user(iam, "fay")
    original = _leaving.plan_disable

    def forgetful(*args: t.Any) -> t.Any:
        plan = original(*args)
        return plan._replace(steps=[s for s in plan.steps if s.action != "UpdateServiceSpecificCredential"])

    monkeypatch.setattr(_leaving, "plan_disable", forgetful)
    run_module(iam_onboard_user, {"name": "fay", "state": "disabled"})
    assert active_credentials(iam, "fay") == {"service_specific_credentials": [created.service_credential_id]}


def active_credentials(iam: t.Any, name: str) -> dict[str, list[str]]:
    """The user's live credentials: a console password, and the active keys, certificates, SSH keys and
    service-specific credentials (the non-empty kinds only)."""
    found = {
        "login_profile": strict_iam._login_profile(iam, name),
        "access_keys": [
            k["AccessKeyId"]
            for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
            if k["Status"] == "Active"
        ],
        "signing_certificates": [
            c["CertificateId"]
            for c in iam.list_signing_certificates(UserName=name)["Certificates"]
            if c["Status"] == "Active"
        ],
        "ssh_public_keys": [
            k["SSHPublicKeyId"]
            for k in iam.list_ssh_public_keys(UserName=name)["SSHPublicKeys"]
            if k["Status"] == "Active"
        ],
        "service_specific_credentials": [
            c["ServiceSpecificCredentialId"]
            for c in iam.list_service_specific_credentials(UserName=name)["ServiceSpecificCredentials"]
            if c["Status"] == "Active"
        ],
    }
    return {kind: ids for kind, ids in found.items() if ids}
