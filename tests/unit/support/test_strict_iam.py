# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The stricter IAM stand-in (DeleteConflict where AWS answers it), the full user and `leftovers`, against
in-process moto; and why the stand-in exists: plain moto deletes what AWS refuses to."""

from __future__ import annotations

import typing as t

import boto3
import pytest
from botocore.exceptions import ClientError

from ansible_collections.mfa_onboarding.iam.tests.support import full_user as fu
from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support import moto_patched
from ansible_collections.mfa_onboarding.iam.tests.support.faults import FaultPoint
from ansible_collections.mfa_onboarding.iam.tests.support.recorder import Recorder
from ansible_collections.mfa_onboarding.iam.tests.support.strict_iam import ASSIGNED_DEVICE_MESSAGE
from ansible_collections.mfa_onboarding.iam.tests.support.strict_iam import BLOCKERS
from ansible_collections.mfa_onboarding.iam.tests.support.strict_iam import KINDS
from ansible_collections.mfa_onboarding.iam.tests.support.strict_iam import Conflict
from ansible_collections.mfa_onboarding.iam.tests.support.strict_iam import StrictIam

NAME = "alice"
MESSAGES = dict(BLOCKERS)
# What plain moto 5.2.5 deletes the user with (it refuses only for policies).
MOTO_LENIENT_KINDS = [k for k in KINDS if k not in ("inline_policies", "attached_policies")]


@pytest.fixture
def module_client(iam: t.Any) -> t.Any:
    """A second client on the same in-process moto: the code under test, as opposed to the test's own `iam`."""
    return boto3.client("iam", region_name="us-east-1")


@pytest.fixture
def strict(iam: t.Any, monkeypatch: pytest.MonkeyPatch) -> StrictIam:
    return StrictIam().attach_botocore(monkeypatch)


def one_leftover(iam: t.Any, kind: str) -> list[str]:
    """User NAME with exactly one kind of holding; returns its ids."""
    iam.create_user(UserName=NAME)
    return fu.PARTS[kind](iam, NAME)


def conflict_of(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = error.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def clean_up(iam: t.Any, made: fu.FullUser) -> None:
    """A complete offboarding by hand, in the order AWS needs: credentials, grants, MFA, the user."""
    name = made.name
    iam.delete_login_profile(UserName=name)
    for key in made.access_key_ids:
        iam.delete_access_key(UserName=name, AccessKeyId=key)
    iam.delete_signing_certificate(UserName=name, CertificateId=made.certificate_id)
    iam.delete_ssh_public_key(UserName=name, SSHPublicKeyId=made.ssh_key_id)
    iam.delete_service_specific_credential(UserName=name, ServiceSpecificCredentialId=made.service_credential_id)
    iam.delete_user_policy(UserName=name, PolicyName=made.inline_policy)
    iam.detach_user_policy(UserName=name, PolicyArn=made.policy_arn)
    for group in made.groups:
        iam.remove_user_from_group(UserName=name, GroupName=group)
    iam.deactivate_mfa_device(UserName=name, SerialNumber=made.mfa_serial)
    iam.delete_virtual_mfa_device(SerialNumber=made.mfa_serial)
    iam.delete_user(UserName=name)


# DeleteUser


@pytest.mark.parametrize("kind", KINDS)
def test_delete_user_is_refused_for_each_kind_of_leftover(iam: t.Any, strict: StrictIam, kind: str) -> None:
    ids = one_leftover(iam, kind)
    held = {k: v for k, v in fu.leftovers(iam, NAME).items() if k not in ("user", "virtual_mfa_devices")}
    assert held == {kind: ids}  # exactly one kind

    with pytest.raises(ClientError) as error:
        iam.delete_user(UserName=NAME)

    assert conflict_of(error) == ("DeleteConflict", MESSAGES[kind], 409)
    assert error.value.__class__ is iam.exceptions.DeleteConflictException
    assert strict.conflicts == [Conflict("DeleteUser", NAME, kind, MESSAGES[kind])]
    assert "user" in fu.leftovers(iam, NAME)


def test_delete_user_of_a_full_user_names_each_kind_until_nothing_is_left(iam: t.Any, strict: StrictIam) -> None:
    made = fu.full_user(iam, NAME)
    removals = {  # each kind's removal, in BLOCKERS order
        "login_profile": lambda: iam.delete_login_profile(UserName=NAME),
        "access_keys": lambda: [iam.delete_access_key(UserName=NAME, AccessKeyId=k) for k in made.access_key_ids],
        "signing_certificates": lambda: iam.delete_signing_certificate(
            UserName=NAME, CertificateId=made.certificate_id
        ),
        "ssh_public_keys": lambda: iam.delete_ssh_public_key(UserName=NAME, SSHPublicKeyId=made.ssh_key_id),
        "service_specific_credentials": lambda: iam.delete_service_specific_credential(
            UserName=NAME, ServiceSpecificCredentialId=made.service_credential_id
        ),
        "mfa_devices": lambda: iam.deactivate_mfa_device(UserName=NAME, SerialNumber=made.mfa_serial),
        "inline_policies": lambda: iam.delete_user_policy(UserName=NAME, PolicyName=made.inline_policy),
        "attached_policies": lambda: iam.detach_user_policy(UserName=NAME, PolicyArn=made.policy_arn),
        "groups": lambda: [iam.remove_user_from_group(UserName=NAME, GroupName=g) for g in made.groups],
    }
    assert list(removals) == list(KINDS)

    for kind, remove in removals.items():
        with pytest.raises(ClientError) as error:
            iam.delete_user(UserName=NAME)
        assert conflict_of(error)[:2] == ("DeleteConflict", MESSAGES[kind])
        remove()
    iam.delete_user(UserName=NAME)  # nothing left: allowed

    assert strict.kinds == list(removals)
    # The deactivated virtual device is not the user's any more, but it still blocks the name.
    assert fu.leftovers(iam, NAME) == {"virtual_mfa_devices": [made.mfa_serial]}


def test_delete_user_is_allowed_once_nothing_is_left(iam: t.Any, strict: StrictIam) -> None:
    made = fu.full_user(iam, NAME)

    clean_up(iam, made)

    assert strict.conflicts == []
    assert fu.leftovers(iam, NAME) == {}


def test_a_missing_user_is_moto_s_answer(iam: t.Any, strict: StrictIam) -> None:
    with pytest.raises(ClientError) as error:
        iam.delete_user(UserName="nobody")

    assert error.value.response["Error"]["Code"] == "NoSuchEntity"
    assert strict.conflicts == []


# DeleteVirtualMFADevice


def test_delete_virtual_mfa_device_is_refused_while_assigned(iam: t.Any, strict: StrictIam) -> None:
    iam.create_user(UserName=NAME)
    serial = fu.add_mfa_device(iam, NAME)[0]

    with pytest.raises(ClientError) as error:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert conflict_of(error) == ("DeleteConflict", ASSIGNED_DEVICE_MESSAGE, 409)
    assert fu.leftovers(iam, NAME)["virtual_mfa_devices"] == [serial]

    iam.deactivate_mfa_device(UserName=NAME, SerialNumber=serial)
    iam.delete_virtual_mfa_device(SerialNumber=serial)

    assert strict.conflicts == [Conflict("DeleteVirtualMFADevice", serial, "assigned", ASSIGNED_DEVICE_MESSAGE)]
    assert fu.leftovers(iam, NAME) == {"user": [NAME]}


# Without the stand-in: why it exists


@pytest.mark.parametrize("kind", MOTO_LENIENT_KINDS)
def test_without_the_stand_in_moto_deletes_a_user_aws_would_not(iam: t.Any, kind: str) -> None:
    ids = one_leftover(iam, kind)
    assert ids

    iam.delete_user(UserName=NAME)  # AWS: DeleteConflict

    assert "user" not in fu.leftovers(iam, NAME)


def test_without_the_stand_in_moto_deletes_an_assigned_virtual_device(iam: t.Any) -> None:
    iam.create_user(UserName=NAME)
    serial = fu.add_mfa_device(iam, NAME)[0]

    iam.delete_virtual_mfa_device(SerialNumber=serial)  # AWS: DeleteConflict

    assert "virtual_mfa_devices" not in fu.leftovers(iam, NAME)


def test_the_stand_in_inactive_or_exempt_lets_everything_through(
    iam: t.Any, module_client: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    strict = StrictIam().attach_botocore(monkeypatch, exempt=[iam])
    for name in ("alice", "bob"):
        module_client.create_user(UserName=name)
        fu.add_access_key(module_client, name)

    iam.delete_user(UserName="alice")  # exempt client
    strict.active = False
    module_client.delete_user(UserName="bob")

    assert strict.conflicts == []
    assert fu.leftovers(iam, "alice") == {}  # moto dropped the key with the user
    assert fu.leftovers(iam, "bob") == {}


# Unrecorded: the stand-in's reads disturb no call count, whichever way the test patched botocore


@pytest.mark.parametrize("strict_first", [True, False], ids=["strict-then-recorder", "recorder-then-strict"])
def test_the_stand_in_s_reads_are_unrecorded(
    iam: t.Any, module_client: t.Any, monkeypatch: pytest.MonkeyPatch, strict_first: bool
) -> None:
    iam.create_user(UserName=NAME)
    fu.add_access_key(iam, NAME)
    if strict_first:
        strict = StrictIam().attach_botocore(monkeypatch)
    calls = Recorder().attach(monkeypatch)
    point = FaultPoint().attach_botocore(monkeypatch)
    if not strict_first:
        strict = StrictIam().attach_botocore(monkeypatch)

    with pytest.raises(ClientError):
        module_client.delete_user(UserName=NAME)

    assert calls.names == ["DeleteUser"]
    assert point.served == ["DeleteUser"]  # it reached "AWS", which refused it
    assert strict.kinds == ["access_keys"]


# Against a moto server (the fault point's loopback server): the same answers


def test_against_a_moto_server_the_same_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    moto_patched.apply()  # the loopback server is moto's app in this process: service-specific credentials too
    with FaultPoint() as point:
        point.reset_backend()
        iam = iam_state.client(point.url)
        strict = StrictIam().attach_botocore(monkeypatch)
        iam.create_user(UserName=NAME)
        serial = fu.add_mfa_device(iam, NAME)[0]
        credential = fu.add_service_specific_credential(iam, NAME)[0]

        with pytest.raises(ClientError) as first:
            iam.delete_user(UserName=NAME)
        iam.delete_service_specific_credential(UserName=NAME, ServiceSpecificCredentialId=credential)
        with pytest.raises(ClientError) as user:
            iam.delete_user(UserName=NAME)
        with pytest.raises(ClientError) as device:
            iam.delete_virtual_mfa_device(SerialNumber=serial)

    assert conflict_of(first) == ("DeleteConflict", MESSAGES["service_specific_credentials"], 409)
    assert conflict_of(user) == ("DeleteConflict", MESSAGES["mfa_devices"], 409)
    assert conflict_of(device) == ("DeleteConflict", ASSIGNED_DEVICE_MESSAGE, 409)
    assert strict.kinds == ["service_specific_credentials", "mfa_devices", "assigned"]
    assert "ListMFADevices" in point.served  # over a server, the stand-in's reads are requests to it


# The full user and leftovers


def test_full_user_and_leftovers_report_each_kind(iam: t.Any) -> None:
    made = fu.full_user(iam, NAME)

    found = fu.leftovers(iam, NAME)
    assert sorted(found.pop("access_keys")) == sorted(made.access_key_ids)
    assert found == {
        "user": [NAME],
        "login_profile": [NAME],
        "signing_certificates": [made.certificate_id],
        "ssh_public_keys": [made.ssh_key_id],
        "service_specific_credentials": [made.service_credential_id],
        "mfa_devices": [made.mfa_serial],
        "virtual_mfa_devices": [made.mfa_serial],
        "inline_policies": [fu.INLINE_POLICY],
        "attached_policies": [made.policy_arn],
        "groups": list(fu.GROUPS),
    }
    assert len(set(made.access_key_ids)) == 2
    assert made.service_credential_id.startswith("ACCA")
    assert made.mfa_serial.endswith(f":mfa/{NAME}")


def test_leftovers_report_inactive_keys_and_service_credentials(iam: t.Any) -> None:
    iam.create_user(UserName=NAME)
    key = fu.add_access_key(iam, NAME)[0]
    iam.update_access_key(UserName=NAME, AccessKeyId=key, Status="Inactive")
    credential = fu.add_service_specific_credential(iam, NAME)[0]
    iam.update_service_specific_credential(UserName=NAME, ServiceSpecificCredentialId=credential, Status="Inactive")

    assert fu.leftovers(iam, NAME) == {
        "user": [NAME],
        "access_keys": [key],
        "service_specific_credentials": [credential],
    }


def test_leftovers_report_an_unassigned_device_named_after_a_deleted_user(iam: t.Any) -> None:
    made = fu.full_user(iam, NAME)
    fu.full_user(iam, "bob")  # another user's things are not alice's
    iam.create_virtual_mfa_device(VirtualMFADeviceName="carol")  # nor a device named after someone else

    clean_up(iam, made)
    assert fu.leftovers(iam, NAME) == {}
    blocked = iam.create_virtual_mfa_device(VirtualMFADeviceName=NAME)["VirtualMFADevice"]["SerialNumber"]

    assert fu.leftovers(iam, NAME) == {"virtual_mfa_devices": [blocked]}
    assert fu.leftovers(iam, made) == {"virtual_mfa_devices": [blocked]}
