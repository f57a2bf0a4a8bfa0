# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The "full user" of issue 14 (everything a leaver can hold), and what of a user is left in the account.

    made = full_user(iam, "alice")       # FullUser: the ids of what was created
    ...offboard alice...
    assert leftovers(iam, "alice") == {}

`full_user` gives the user a console password, two access keys, a signing certificate, an SSH public key, a
virtual MFA device enabled for it (named after the user, as the console names it), an inline policy, an attached
customer-managed policy, three groups and a CodeCommit service-specific credential. moto 5.2.5 has no
service-specific credentials of its own: tests/support/moto_patched.py gives them to moto (in-process and server),
and `apply()` must have run (the `iam` unit fixture, the fault suites and every moto server the tests start do).

`PARTS` creates one kind of holding at a time (for a user with exactly one leftover kind). The X.509 certificates
and the ssh-rsa keys are generated with `cryptography` (moto parses the certificate body); one RSA key per process,
a fresh certificate serial per upload.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
import typing as t
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ansible_collections.mfa_onboarding.iam.tests.support import strict_iam
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import register_mfa

PASSWORD = "Full-User-Temp-Passw0rd!"
GROUPS = ("LeaverStaff", "LeaverBuilders", "LeaverAuditors")
INLINE_POLICY = "LeaverOwnBucket"
MANAGED_POLICY = "LeaverReadOnly"
SERVICE_NAME = "codecommit.amazonaws.com"
_DOCUMENT = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}
)


class FullUser(t.NamedTuple):
    """What `full_user` created for one user."""

    name: str
    access_key_ids: tuple[str, ...]
    certificate_id: str
    ssh_key_id: str
    service_credential_id: str
    mfa_serial: str
    inline_policy: str
    policy_arn: str
    groups: tuple[str, ...]


@functools.lru_cache(maxsize=1)
def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate_body(common_name: str) -> str:
    """A self-signed X.509 certificate (PEM), with a fresh serial: a valid signing-certificate body."""
    key = _rsa_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def ssh_public_key_body() -> str:
    """A valid ssh-rsa public key (OpenSSH format)."""
    public = _rsa_key().public_key()
    return public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


# One kind of holding each (strict_iam.KINDS): create it for user `name`, return the ids created.


def add_login_profile(iam: t.Any, name: str) -> list[str]:
    iam.create_login_profile(UserName=name, Password=PASSWORD, PasswordResetRequired=True)
    return [name]


def add_access_key(iam: t.Any, name: str) -> list[str]:
    return [iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]]


def add_signing_certificate(iam: t.Any, name: str) -> list[str]:
    body = certificate_body(f"{name}-{uuid.uuid4().hex[:8]}")
    return [iam.upload_signing_certificate(UserName=name, CertificateBody=body)["Certificate"]["CertificateId"]]


def add_ssh_public_key(iam: t.Any, name: str) -> list[str]:
    key = iam.upload_ssh_public_key(UserName=name, SSHPublicKeyBody=ssh_public_key_body())["SSHPublicKey"]
    return [key["SSHPublicKeyId"]]


def add_service_specific_credential(iam: t.Any, name: str) -> list[str]:
    """A CodeCommit credential (HTTPS Git user name and password)."""
    made = iam.create_service_specific_credential(UserName=name, ServiceName=SERVICE_NAME)
    return [made["ServiceSpecificCredential"]["ServiceSpecificCredentialId"]]


def add_mfa_device(iam: t.Any, name: str) -> list[str]:
    return [register_mfa(iam, name)]


def add_inline_policy(iam: t.Any, name: str) -> list[str]:
    iam.put_user_policy(UserName=name, PolicyName=INLINE_POLICY, PolicyDocument=_DOCUMENT)
    return [INLINE_POLICY]


def managed_policy_arn(iam: t.Any) -> str:
    """The ARN of the customer-managed policy MANAGED_POLICY, created when missing."""
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        if policy["PolicyName"] == MANAGED_POLICY:
            return str(policy["Arn"])
    return str(iam.create_policy(PolicyName=MANAGED_POLICY, PolicyDocument=_DOCUMENT)["Policy"]["Arn"])


def add_attached_policy(iam: t.Any, name: str) -> list[str]:
    arn = managed_policy_arn(iam)
    iam.attach_user_policy(UserName=name, PolicyArn=arn)
    return [arn]


def add_groups(iam: t.Any, name: str, groups: t.Iterable[str] = GROUPS[:1]) -> list[str]:
    """Make the user a member of `groups` (each created when missing)."""
    added = []
    for group in groups:
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_group(GroupName=group)
        iam.add_user_to_group(UserName=name, GroupName=group)
        added.append(group)
    return added


PARTS: dict[str, t.Callable[[t.Any, str], list[str]]] = {
    "login_profile": add_login_profile,
    "access_keys": add_access_key,
    "signing_certificates": add_signing_certificate,
    "ssh_public_keys": add_ssh_public_key,
    "service_specific_credentials": add_service_specific_credential,
    "mfa_devices": add_mfa_device,
    "inline_policies": add_inline_policy,
    "attached_policies": add_attached_policy,
    "groups": add_groups,
}
if tuple(PARTS) != strict_iam.KINDS:  # one part per kind that blocks DeleteUser, in the same order
    raise AssertionError(f"PARTS {tuple(PARTS)} differ from strict_iam.KINDS {strict_iam.KINDS}")


def full_user(iam: t.Any, name: str, *, create: bool = True) -> FullUser:
    """Give user `name` (created first unless `create` is false) everything of the issue's full user."""
    if create:
        iam.create_user(UserName=name)
    add_login_profile(iam, name)
    keys = add_access_key(iam, name) + add_access_key(iam, name)
    return FullUser(
        name=name,
        access_key_ids=tuple(keys),
        certificate_id=add_signing_certificate(iam, name)[0],
        ssh_key_id=add_ssh_public_key(iam, name)[0],
        service_credential_id=add_service_specific_credential(iam, name)[0],
        mfa_serial=add_mfa_device(iam, name)[0],
        inline_policy=add_inline_policy(iam, name)[0],
        policy_arn=add_attached_policy(iam, name)[0],
        groups=tuple(add_groups(iam, name, GROUPS)),
    )


def _virtual_devices_of(iam: t.Any, name: str) -> list[str]:
    """Every virtual MFA device, assigned or not, that is assigned to the user or named after it (an unassigned
    device named after the user blocks that name for the user's next registration)."""
    found = []
    pages = strict_iam._pages(iam, "ListVirtualMFADevices", "VirtualMFADevices", AssignmentStatus="Any")
    for device in pages:
        serial = str(device["SerialNumber"])
        owner = device.get("User", {}).get("UserName")
        if owner == name or serial.rsplit("/", 1)[-1] == name:
            found.append(serial)
    return found


def leftovers(iam: t.Any, user: str | FullUser) -> dict[str, list[str]]:
    """Everything of a user still in the account, read unrecorded: "user" (the user itself), every
    strict_iam.KINDS kind (login profile, access keys active or not, certificates, SSH keys, service-specific
    credentials, MFA devices, inline and attached policies, group memberships) and "virtual_mfa_devices" (see
    `_virtual_devices_of`); only the non-empty lists. {} proves an offboarding complete."""
    name = user.name if isinstance(user, FullUser) else user
    found = dict(strict_iam.holdings(iam, name))
    try:
        strict_iam.call(iam, "GetUser", UserName=name)
        found["user"] = [name]
    except iam.exceptions.NoSuchEntityException:
        pass
    devices = _virtual_devices_of(iam, name)
    if devices:
        found["virtual_mfa_devices"] = devices
    return found
