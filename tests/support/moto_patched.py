# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""moto with what it does not implement answered as AWS would, in-process and as a server.

moto (5.x) has no service-specific credentials (the CodeCommit HTTPS Git credentials, the Amazon Keyspaces ones):
`CreateServiceSpecificCredential` and the rest raise NotImplementedError inside moto (in-process) or answer HTTP 500
(server). The collection lists, deactivates and deletes them for every user it disables or offboards, as AWS
requires (DeleteUser refuses a user that still has one). `apply()` gives moto's IAM the five actions, as AWS answers
them:

- CreateServiceSpecificCredential(UserName, ServiceName): codecommit.amazonaws.com or cassandra.amazonaws.com
  (else NotSupportedService, 404); at most two per user and service (else LimitExceeded, 409); answers the
  ServiceUserName (`<user>-at-<account>`), the ServicePassword (shown only here and by Reset), the
  ServiceSpecificCredentialId (`ACCA...`), Status Active and the CreateDate;
- ListServiceSpecificCredentials(UserName, ServiceName, AllUsers, Marker, MaxItems): the user's credentials, of
  one service if given, without the passwords;
- UpdateServiceSpecificCredential(UserName, ServiceSpecificCredentialId, Status Active|Inactive);
- ResetServiceSpecificCredential(UserName, ServiceSpecificCredentialId): a new password, the same id;
- DeleteServiceSpecificCredential(UserName, ServiceSpecificCredentialId).

An unknown user or credential is NoSuchEntity (404); without UserName the caller's own user is meant (a caller that
is no IAM user gets AWS's ValidationError). The credentials live on moto's User object, so they are per account
(each account's IAM backend holds its own users), they go with their user when moto's DeleteUser deletes it (moto
stays as permissive as before: tests/support/strict_iam.py adds AWS's DeleteConflict), and moto's reset empties
them. The actions go through moto's own dispatch (IamResponse.call_action, the action name taken from the
request's `Action`), so moto's IAM enforcement authorises them as iam:<Action>, as it does every other action.

moto never lets days pass, and its GetLoginProfile answers the user's creation date as the password's: a test that
needs an old temporary password moves the user's creation date back, `age_user(name, days)` in-process, or
`age_user_at(url, name, days)` against a moto server started through this module (a POST to its
/moto-api/mfa-onboarding/age-user, a path `apply()` adds to moto's own /moto-api/ paths).

The moto servers the tests, the demo and molecule start run through this module:

    python -m ansible_collections.mfa_onboarding.iam.tests.support.moto_patched -H 127.0.0.1 -p PORT
"""

from __future__ import annotations

import base64
import datetime
import json
import secrets
import typing as t
import urllib.request

from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam import responses
from moto.iam.exceptions import IAMException
from moto.iam.exceptions import LimitExceededException
from moto.iam.exceptions import NotFoundException
from moto.iam.exceptions import ValidationError
from moto.iam.models import iam_backends
from moto.iam.utils import generate_access_key_id_from_account_id
from moto.moto_api._internal import urls as moto_api_urls

# The services that take service-specific credentials of a user name and a password (AWS, 2026). Amazon Bedrock's
# API keys (an alias and a secret, with an expiry) are service-specific credentials too: not answered here.
SERVICES = ("codecommit.amazonaws.com", "cassandra.amazonaws.com")
PER_USER_PER_SERVICE = 2  # AWS's quota ServiceSpecificCredentialsPerUserPerService
STATUSES = ("Active", "Inactive")
_ATTRIBUTE = "service_specific_credentials"  # on moto's User: list[ServiceSpecificCredential]
ACTIONS = (
    "create_service_specific_credential",
    "list_service_specific_credentials",
    "update_service_specific_credential",
    "reset_service_specific_credential",
    "delete_service_specific_credential",
)


class ServiceNotSupported(IAMException):
    code = "NotSupportedService"


class ServiceSpecificCredential:
    """One credential of one user, as IAM keeps it."""

    def __init__(self, account_id: str, user_name: str, service_name: str) -> None:
        self.user_name = user_name
        self.service_name = service_name
        self.service_user_name = f"{user_name}-at-{account_id}"
        self.service_password = _password()
        self.credential_id = generate_access_key_id_from_account_id(account_id, prefix="ACCA", total_length=21)
        self.status = "Active"
        self.create_date = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

    def metadata(self) -> dict[str, t.Any]:
        """As ListServiceSpecificCredentials gives it (no password)."""
        return {
            "UserName": self.user_name,
            "Status": self.status,
            "ServiceUserName": self.service_user_name,
            "CreateDate": self.create_date,
            "ServiceSpecificCredentialId": self.credential_id,
            "ServiceName": self.service_name,
        }

    def with_password(self) -> dict[str, t.Any]:
        """As Create and Reset give it."""
        return dict(self.metadata(), ServicePassword=self.service_password)


def _password() -> str:
    """A password shaped like AWS's (44 characters of base64)."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def credentials_of(user: t.Any) -> list[ServiceSpecificCredential]:
    """The list of service-specific credentials kept on moto's User (created empty on first use)."""
    found = getattr(user, _ATTRIBUTE, None)
    if found is None:
        found = []
        setattr(user, _ATTRIBUTE, found)
    return t.cast("list[ServiceSpecificCredential]", found)


def _user(response: t.Any) -> t.Any:
    """The moto User the request names (UserName), or the caller's own user when it names none."""
    name = response._get_param("UserName")
    if name:
        return response.backend.get_user(name)  # NoSuchEntity: "The user with name X cannot be found."
    user = response.backend.get_user_from_access_key_id(response.access_key)
    if user is None:
        raise ValidationError("Must specify userName when calling with non-User credentials")
    return user


def _credential(response: t.Any) -> tuple[t.Any, ServiceSpecificCredential]:
    user = _user(response)
    wanted = response._get_param("ServiceSpecificCredentialId")
    for credential in credentials_of(user):
        if credential.credential_id == wanted:
            return user, credential
    raise NotFoundException(f"The Service Specific Credential with id {wanted} cannot be found.")


def create_service_specific_credential(self: t.Any) -> t.Any:
    user = _user(self)
    service = self._get_param("ServiceName")
    if service not in SERVICES:
        raise ServiceNotSupported(f"No such service {service} is supported for Service-Specific Credentials")
    held = credentials_of(user)
    if sum(1 for c in held if c.service_name == service) >= PER_USER_PER_SERVICE:
        raise LimitExceededException(
            f"Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: {PER_USER_PER_SERVICE}"
        )
    credential = ServiceSpecificCredential(self.current_account, user.name, service)
    held.append(credential)
    return responses.ActionResult({"ServiceSpecificCredential": credential.with_password()})


def list_service_specific_credentials(self: t.Any) -> t.Any:
    users = list(self.backend.users.values()) if self._get_param("AllUsers") else [_user(self)]
    service = self._get_param("ServiceName")
    found = [c.metadata() for u in users for c in credentials_of(u) if not service or c.service_name == service]
    start = int(self._get_param("Marker") or 0)
    limit = self._get_param("MaxItems") or 100
    page = found[start : start + limit]
    result: dict[str, t.Any] = {"ServiceSpecificCredentials": page, "IsTruncated": start + limit < len(found)}
    if result["IsTruncated"]:
        result["Marker"] = str(start + limit)
    return responses.ActionResult(result)


def update_service_specific_credential(self: t.Any) -> t.Any:
    status = self._get_param("Status")
    if status not in STATUSES:
        raise ValidationError(
            f"1 validation error detected: Value '{status}' at 'status' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(STATUSES)}]"
        )
    _user_found, credential = _credential(self)
    credential.status = status
    return responses.EmptyResult()


def reset_service_specific_credential(self: t.Any) -> t.Any:
    _user_found, credential = _credential(self)
    credential.service_password = _password()
    return responses.ActionResult({"ServiceSpecificCredential": credential.with_password()})


def delete_service_specific_credential(self: t.Any) -> t.Any:
    user, credential = _credential(self)
    credentials_of(user).remove(credential)
    return responses.EmptyResult()


# Ageing a user (moto cannot let days pass)

AGE_PATH = "/moto-api/mfa-onboarding/age-user"


def age_user(name: str, days: float, account: str = DEFAULT_ACCOUNT_ID) -> None:
    """Move user `name`'s creation date (and so, in moto, its login profile's) `days` back from now."""
    user = iam_backends[account]["aws"].get_user(name)
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)  # moto keeps naive UTC dates
    user.create_date = now - datetime.timedelta(days=days)


def age_user_at(url: str, name: str, days: float, account: str = DEFAULT_ACCOUNT_ID) -> None:
    """`age_user` in the moto server at `url` (started through this module)."""
    body = json.dumps({"user": name, "days": days, "account": account}).encode()
    request = urllib.request.Request(
        url.rstrip("/") + AGE_PATH, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def _age_user_response(request: t.Any, full_url: str, headers: t.Any) -> tuple[int, dict[str, str], str]:
    wanted = json.loads(request.data or b"{}")
    age_user(wanted["user"], float(wanted["days"]), wanted.get("account", DEFAULT_ACCOUNT_ID))
    return 200, {}, json.dumps({"status": "ok"})


_OURS = {name: globals()[name] for name in ACTIONS}
for _method in _OURS.values():
    _method._mfa_onboarding_shim = True  # type: ignore[attr-defined]


def apply() -> None:
    """Give moto's IamResponse the five actions (idempotent; an action moto implements itself is left to moto)."""
    for name, method in _OURS.items():
        current = vars(responses.IamResponse).get(name)
        if current is None or getattr(current, "_mfa_onboarding_shim", False):
            setattr(responses.IamResponse, name, method)
    moto_api_urls.url_paths.setdefault("{0}" + AGE_PATH, _age_user_response)


def main() -> None:
    apply()
    from moto.server import main as server_main

    server_main()


if __name__ == "__main__":
    main()
