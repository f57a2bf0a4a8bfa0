# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS's case-insensitive IAM names, in front of moto, which tells names apart by case and keeps `Alice`
and `alice` as two users (and `NotYetLoginUsers` and `notyetloginusers` as two groups).

On AWS, user and group names are unique regardless of case: `CreateUser(alice)` fails with EntityAlreadyExists when
`Alice` exists, and every other call that names `alice` acts on `Alice` (GetUser returns `"UserName": "Alice"`).
This patch of botocore gives the calls of every client but the exempt ones that behaviour over an in-process moto:

    names = CaseInsensitiveNames().attach(monkeypatch, exempt=[iam])   # before the recorder, so that it records
    ...                                                               # the calls as the module made them
    names.rewritten    # [(operation, "UserName", "alice", "Alice"), ...]

The lookups it makes (ListUsers, ListGroups) go to botocore directly, so no recorder or fault point sees them.
"""

from __future__ import annotations

import typing as t

import botocore.client
from botocore.exceptions import ClientError

if t.TYPE_CHECKING:
    import pytest

# Botocore's own call, captured before any test patches it.
_CALL = botocore.client.BaseClient._make_api_call

# parameter -> (the listing that names them, its list key, the item's name key, the create call)
_KINDS = {
    "UserName": ("ListUsers", "Users", "UserName", "CreateUser"),
    "GroupName": ("ListGroups", "Groups", "GroupName", "CreateGroup"),
}


class CaseInsensitiveNames:
    def __init__(self) -> None:
        self.rewritten: list[tuple[str, str, str, str]] = []

    def stored(self, client: t.Any, parameter: str, name: str) -> str | None:
        """The spelling IAM holds for a name, ignoring case, or None."""
        listing, key, item_key, _create = _KINDS[parameter]
        items = _CALL(client, listing, {})[key]
        return next((i[item_key] for i in items if i[item_key].lower() == name.lower()), None)

    def wrap(self, inner: t.Any, exempt: t.Iterable[t.Any] = ()) -> t.Any:
        exempt_ids = {id(c) for c in exempt}

        def call(client: t.Any, operation: str, params: dict[str, t.Any]) -> t.Any:
            if id(client) in exempt_ids or client.meta.service_model.service_name != "iam":
                return inner(client, operation, params)
            params = dict(params)
            for parameter, (_listing, _key, _item, create) in _KINDS.items():
                name = params.get(parameter)
                if not isinstance(name, str):
                    continue
                stored = self.stored(client, parameter, name)
                if stored is None or stored == name:
                    continue
                if operation == create:
                    kind = "User" if parameter == "UserName" else "Group"
                    raise ClientError(
                        {
                            "Error": {
                                "Code": "EntityAlreadyExists",
                                "Message": f"{kind} with name {name} already exists.",
                            },
                            "ResponseMetadata": {"HTTPStatusCode": 409},
                        },
                        operation,
                    )
                self.rewritten.append((operation, parameter, name, stored))
                params[parameter] = stored
            return inner(client, operation, params)

        return call

    def attach(self, monkeypatch: pytest.MonkeyPatch, exempt: t.Iterable[t.Any] = ()) -> CaseInsensitiveNames:
        """In front of every botocore client but the exempt ones, until the test ends."""
        inner = botocore.client.BaseClient._make_api_call
        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", self.wrap(inner, exempt))
        return self
