# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A stricter IAM than moto: `DeleteConflict` where AWS answers it, for the two deletions moto lets through.

moto 5.2.5 deletes a user that still has a login profile, access keys, signing certificates, SSH public keys,
MFA devices or group memberships (it refuses only for policies), and deletes a virtual MFA device that is still
assigned to a user. AWS answers both with `DeleteConflict` (HTTP 409), so against plain moto an incomplete
offboarding passes. With the stand-in on,

    strict = StrictIam().attach_botocore(monkeypatch)          # exempt=[...] for clients it must not judge
    ...
    strict.conflicts   # [Conflict("DeleteUser", "alice", "access_keys", "Cannot delete entity, ..."), ...]

- `DeleteUser` is answered `DeleteConflict` while the user still holds any of the BLOCKERS kinds (the message of
  the first kind found, in that order);
- `DeleteVirtualMFADevice` is answered `DeleteConflict` while the device is assigned to a user;
- every other request, and these two when nothing blocks them, goes through unchanged.

The way in is a patch of botocore's `BaseClient._make_request`, the step of `_make_api_call` that sends the
serialized request and returns the parsed answer. A refused request gets an answer parsed as AWS's 409 would be,
so botocore raises its modelled `DeleteConflictException` (a ClientError) for it, with AWS's message. Being below
`_make_api_call`, the stand-in works whichever way the test patched that (tests/support/recorder.py,
tests/support/faults.py, in any order): the Recorder records the refused call, and the fault point counts it as
served (it reached "AWS", which refused it). It works against in-process moto (`mock_aws`) and against a moto
server alike, since it reads the state through the very client that sent the request.

Those reads (`holdings`, ListAccessKeys and the like) go through botocore's own `_make_api_call`, captured when
this module is imported, so neither the Recorder nor the fault point's botocore way in sees them: a test's call
counts are not disturbed. Against a moto server they are requests to that server all the same (its own request
recording, or the fault point's loopback way in, sees them).

moto 5.2.5 does not implement service-specific credentials: tests/support/moto_patched.py gives them to moto, and
its `apply()` must have run (a moto without them raises NotImplementedError here rather than reading "none").
"""

from __future__ import annotations

import threading
import typing as t

import botocore.awsrequest
import botocore.client
import botocore.exceptions

if t.TYPE_CHECKING:
    import pytest

CONFLICT_CODE = "DeleteConflict"

# botocore's own call, captured before any test patches it: the stand-in's reads go through it, unrecorded.
_UNRECORDED_CALL = botocore.client.BaseClient._make_api_call

# What blocks DeleteUser on AWS, in the order checked here, with AWS's message for each. The messages are the ones
# AWS gives (seen in public reports), except those marked ours, for which no report was found.
BLOCKERS: tuple[tuple[str, str], ...] = (
    ("login_profile", "Cannot delete entity, must delete login profile first."),
    ("access_keys", "Cannot delete entity, must delete access keys first."),
    ("signing_certificates", "Cannot delete entity, must delete certificates first."),
    ("ssh_public_keys", "Cannot delete entity, must remove referenced objects first."),
    ("service_specific_credentials", "Cannot delete entity, must remove referenced objects first."),  # ours
    ("mfa_devices", "Cannot delete entity, must delete MFA device first."),
    ("inline_policies", "Cannot delete entity, must delete policies first."),
    ("attached_policies", "Cannot delete entity, must detach all policies first."),
    ("groups", "Cannot delete entity, must remove users from group first."),
)
KINDS = tuple(kind for kind, _message in BLOCKERS)
ASSIGNED_DEVICE_MESSAGE = "Cannot delete entity, must deactivate MFA device first."  # ours


class Conflict(t.NamedTuple):
    """One request the stand-in answered with DeleteConflict: the operation, the user name or device serial, the
    kind that blocked it (a BLOCKERS kind, or "assigned" for a device) and the message given."""

    operation: str
    target: str
    kind: str
    message: str


def call(client: t.Any, operation: str, **params: t.Any) -> dict[str, t.Any]:
    """One API call through botocore's own `_make_api_call`: unseen by the Recorder and the fault point."""
    return t.cast("dict[str, t.Any]", _UNRECORDED_CALL(client, operation, params))


def _pages(client: t.Any, operation: str, key: str, **params: t.Any) -> list[t.Any]:
    """Every item under `key` of a Marker-paginated IAM listing."""
    items: list[t.Any] = []
    while True:
        page = call(client, operation, **params)
        items.extend(page.get(key, []))
        if not page.get("IsTruncated"):
            return items
        params["Marker"] = page["Marker"]


def _login_profile(client: t.Any, name: str) -> list[str]:
    try:
        call(client, "GetLoginProfile", UserName=name)
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] == "NoSuchEntity":
            return []
        raise
    return [name]


_READERS: dict[str, t.Callable[[t.Any, str], list[str]]] = {
    "login_profile": _login_profile,
    "access_keys": lambda c, n: [
        k["AccessKeyId"] for k in _pages(c, "ListAccessKeys", "AccessKeyMetadata", UserName=n)
    ],
    "signing_certificates": lambda c, n: [
        k["CertificateId"] for k in _pages(c, "ListSigningCertificates", "Certificates", UserName=n)
    ],
    "ssh_public_keys": lambda c, n: [
        k["SSHPublicKeyId"] for k in _pages(c, "ListSSHPublicKeys", "SSHPublicKeys", UserName=n)
    ],
    "service_specific_credentials": lambda c, n: [
        k["ServiceSpecificCredentialId"]
        for k in _pages(c, "ListServiceSpecificCredentials", "ServiceSpecificCredentials", UserName=n)
    ],
    "mfa_devices": lambda c, n: [d["SerialNumber"] for d in _pages(c, "ListMFADevices", "MFADevices", UserName=n)],
    "inline_policies": lambda c, n: list(_pages(c, "ListUserPolicies", "PolicyNames", UserName=n)),
    "attached_policies": lambda c, n: [
        p["PolicyArn"] for p in _pages(c, "ListAttachedUserPolicies", "AttachedPolicies", UserName=n)
    ],
    "groups": lambda c, n: [g["GroupName"] for g in _pages(c, "ListGroupsForUser", "Groups", UserName=n)],
}


def holdings(client: t.Any, name: str) -> dict[str, list[str]]:
    """What blocks DeleteUser for user `name`, read unrecorded: BLOCKERS kind -> ids (the non-empty ones only);
    {} when the user does not exist (nothing blocks then: DeleteUser answers NoSuchEntity)."""
    try:
        found = {kind: _READERS[kind](client, name) for kind in KINDS}
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] == "NoSuchEntity":
            return {}
        raise
    return {kind: ids for kind, ids in found.items() if ids}


def assigned_user(client: t.Any, serial: str) -> str | None:
    """The user a virtual MFA device is assigned to, or None (unassigned, or no such device), read unrecorded."""
    for device in _pages(client, "ListVirtualMFADevices", "VirtualMFADevices", AssignmentStatus="Assigned"):
        if device["SerialNumber"] == serial:
            return str(device.get("User", {}).get("UserName", "")) or "?"
    return None


class StrictIam:
    """The stand-in; see the module docstring. `conflicts` records every DeleteConflict it answered, in order;
    `active` turns it off and on without detaching it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.conflicts: list[Conflict] = []
        self.active = True
        self._exempt: list[t.Any] = []

    def decide(self, client: t.Any, operation: str, params: t.Mapping[str, t.Any]) -> Conflict | None:
        """The conflict AWS would answer this request with, or None to let it through."""
        if operation == "DeleteUser":
            name = str(params.get("UserName", ""))
            held = holdings(client, name)
            for kind, message in BLOCKERS:
                if kind in held:
                    return Conflict(operation, name, kind, message)
        elif operation == "DeleteVirtualMFADevice":
            serial = str(params.get("SerialNumber", ""))
            if assigned_user(client, serial) is not None:
                return Conflict(operation, serial, "assigned", ASSIGNED_DEVICE_MESSAGE)
        return None

    def judged(self, client: t.Any, operation: str, params: t.Mapping[str, t.Any]) -> Conflict | None:
        """`decide`, recorded, for the requests the stand-in judges (active, client not exempt)."""
        if not self.active or any(client is other for other in self._exempt):
            return None
        if operation not in ("DeleteUser", "DeleteVirtualMFADevice"):
            return None
        conflict = self.decide(client, operation, params)
        if conflict is not None:
            with self._lock:
                self.conflicts.append(conflict)
        return conflict

    def wrap(self, inner: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        """`inner` (botocore's `BaseClient._make_request`, or what patches it already) behind the stand-in."""

        def strict(client: t.Any, operation_model: t.Any, request_dict: dict[str, t.Any], context: t.Any) -> t.Any:
            body = request_dict.get("body")
            params = body if isinstance(body, t.Mapping) else {}  # IAM's Query protocol: a dict of text values
            conflict = self.judged(client, operation_model.name, params)
            if conflict is None:
                return inner(client, operation_model, request_dict, context)
            return _conflict_answer(request_dict, conflict)

        return strict

    def attach_botocore(self, monkeypatch: pytest.MonkeyPatch, exempt: t.Iterable[t.Any] = ()) -> StrictIam:
        """Judge every botocore client's requests but those of the clients in `exempt`, until the test ends."""
        self._exempt = list(exempt)
        inner = botocore.client.BaseClient._make_request
        monkeypatch.setattr(botocore.client.BaseClient, "_make_request", self.wrap(inner))
        return self

    @property
    def kinds(self) -> list[str]:
        """The kinds of the conflicts answered, in order."""
        return [conflict.kind for conflict in self.conflicts]


def _conflict_answer(request_dict: t.Mapping[str, t.Any], conflict: Conflict) -> tuple[t.Any, dict[str, t.Any]]:
    """What `_make_request` returns for AWS's 409 DeleteConflict: the HTTP response and the parsed answer."""
    http = botocore.awsrequest.AWSResponse(str(request_dict.get("url", "")), 409, {}, None)
    error = {"Type": "Sender", "Code": CONFLICT_CODE, "Message": conflict.message}
    parsed = {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 409, "RequestId": "strict-iam"}}
    return http, parsed
