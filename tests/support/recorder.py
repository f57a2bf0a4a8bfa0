# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which API actions only read, and a recorder of every call made through botocore.

The classification is the one every suite counts with: an action whose name starts with Get, List or Describe
only reads, and so does GenerateCredentialReport (IAM's access level for it is Read: it builds the report that
GetCredentialReport returns, and changes no user, group or policy); every other action (Create*, Add*, Update*,
Tag*, ...) is a write.

The recorder wraps botocore's `BaseClient._make_api_call`, the one place every client call passes through (a
module's and a test's alike), and keeps each call's operation name and parameters, in order:

    calls = Recorder().attach(monkeypatch)     # or Recorder(active=False), then set `calls.active` around a run
    ...
    calls.names, calls.writes, calls.requests("CreateLoginProfile")

The parameters are kept in memory only (they can hold passwords); nothing is written anywhere.
"""

from __future__ import annotations

import typing as t

import botocore.client

if t.TYPE_CHECKING:
    import pytest

READ_PREFIXES = ("Get", "List", "Describe")
# Reads whose names do not say so.
READ_ACTIONS = frozenset({"GenerateCredentialReport"})

ApiCall = t.Callable[[t.Any, str, t.Dict[str, t.Any]], t.Any]


def is_write(action: str) -> bool:
    """Whether an API action (CreateUser, GetUser, ...) may change something: every action but Get*, List*,
    Describe* and the READ_ACTIONS."""
    return not action.startswith(READ_PREFIXES) and action not in READ_ACTIONS


def writes(actions: t.Iterable[str]) -> list[str]:
    """The writes among actions, in order."""
    return [action for action in actions if is_write(action)]


class Recorder:
    """Every botocore API call (operation, parameters) made while `active`, in order."""

    def __init__(self, *, active: bool = True) -> None:
        self.calls: list[tuple[str, dict[str, t.Any]]] = []
        self.active = active

    def record(self, operation: str, params: t.Mapping[str, t.Any]) -> None:
        if self.active:
            self.calls.append((operation, dict(params)))

    @property
    def names(self) -> list[str]:
        return [operation for operation, _params in self.calls]

    @property
    def writes(self) -> list[str]:
        return writes(self.names)

    def requests(self, operation: str) -> list[dict[str, t.Any]]:
        """The parameters of every call of one operation, in order."""
        return [params for name, params in self.calls if name == operation]

    def clear(self) -> None:
        self.calls.clear()

    def wrap(self, inner: ApiCall) -> ApiCall:
        """`inner` (botocore's `_make_api_call`, or what patches it already) with every call recorded first."""

        def recording(client: t.Any, operation: str, params: dict[str, t.Any]) -> t.Any:
            self.record(operation, params)
            return inner(client, operation, params)

        return recording

    def attach(self, monkeypatch: pytest.MonkeyPatch) -> Recorder:
        """Record every client's calls from now on, until the test ends (monkeypatch undoes it)."""
        monkeypatch.setattr(
            botocore.client.BaseClient, "_make_api_call", self.wrap(botocore.client.BaseClient._make_api_call)
        )
        return self
