# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A small evaluator for the part of IAM's identity-policy logic that the two MFA policies use.

moto checks actions only: it cannot evaluate conditions or ``${aws:username}``. This module decides one request
against a set of identity-based policy documents the way IAM does, for the subset of the policy language below,
and refuses (``UnsupportedPolicy``) anything outside it rather than guessing:

- ``Effect`` ``Allow`` or ``Deny``;
- ``Action`` or ``NotAction`` (a string or a list): case-insensitive, ``*`` and ``?`` wildcards;
- ``Resource`` or ``NotResource`` (a string or a list): case-sensitive, ``*`` and ``?`` wildcards, policy
  variables ``${key}`` (``${aws:username}`` is the principal's user name, any other key comes from the request
  context; an entry whose variable has no value matches nothing) and the escapes ``${*}``, ``${?}``, ``${$}``;
- ``Condition`` with the operators ``Bool``, ``BoolIfExists`` and ``Null``: every operator and every key in the
  block must hold. For ``Bool``/``BoolIfExists`` a key holds when the request's value equals one of the listed
  values (``"true"``/``"false"``, compared case-insensitively); with the key missing from the request, ``Bool`` is
  false and ``BoolIfExists`` is true. ``Null`` tests presence only: ``"true"`` holds when the key is absent from
  the request, ``"false"`` when it is present (whatever its value). Condition key names are case-insensitive.

Decision: an explicit deny in any matching statement wins; otherwise any matching allow allows; otherwise the
request is implicitly denied. Not modelled: resource-based policies, permissions boundaries, SCPs, session
policies, and the account password policy's ``AllowUsersToChangePassword`` (which lets users call
``iam:ChangePassword`` on themselves without an Allow; an explicit deny still overrides it).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import re
import typing as t

USERNAME_KEY = "aws:username"

_STATEMENT_KEYS = frozenset({"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"})
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


class UnsupportedPolicy(ValueError):
    """The document uses something this evaluator does not model; the message says what."""


class Decision(enum.Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"

    def __str__(self) -> str:
        return self.value


@dataclasses.dataclass(frozen=True)
class Request:
    """One API request: who asks, for which action, on which resource, with which context keys.

    ``context`` holds the request's condition keys as strings, e.g. ``{"aws:MultiFactorAuthPresent": "true"}``
    for a session authenticated with MFA; a long-term access key sends no ``aws:MultiFactorAuthPresent`` at all.
    """

    principal: str
    action: str
    resource: str
    context: t.Mapping[str, str] = dataclasses.field(default_factory=dict)

    def context_value(self, key: str) -> str | None:
        """The request's value for a condition key (key names are case-insensitive), or None when absent."""
        if key.lower() == USERNAME_KEY:
            return self.principal
        for name, value in self.context.items():
            if name.lower() == key.lower():
                return value
        return None


@dataclasses.dataclass(frozen=True)
class Result:
    """The decision, and the statements (by Sid or index) that matched, for messages."""

    decision: Decision
    allowed_by: tuple[str, ...] = ()
    denied_by: tuple[str, ...] = ()


def _as_list(value: t.Any, element: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) for item in items):
        raise UnsupportedPolicy(f"{element} must be a string or a non-empty list of strings, got {value!r}")
    return items


def _glob(pattern: str) -> str:
    """A regular expression for an IAM wildcard text: '*' is any run of characters, '?' exactly one."""
    return "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)


@functools.lru_cache(maxsize=None)
def _action_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(_glob(pattern), re.IGNORECASE | re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, with '*' and '?' wildcards."""
    return _action_regex(pattern).fullmatch(action) is not None


def resource_matches(pattern: str, resource: str, request: Request) -> bool:
    """IAM resource matching: case-sensitive, wildcards, policy variables substituted as literal text."""
    parts: list[str] = []
    position = 0
    for variable in _VARIABLE.finditer(pattern):
        parts.append(_glob(pattern[position : variable.start()]))
        name = variable.group(1)
        if name in _ESCAPES:
            value: str | None = _ESCAPES[name]
        elif "," in name:
            raise UnsupportedPolicy(f"policy variable with a default value is not modelled: {variable.group(0)}")
        else:
            value = request.context_value(name.strip())
        if value is None:
            return False
        parts.append(re.escape(value))
        position = variable.end()
    parts.append(_glob(pattern[position:]))
    return re.fullmatch("".join(parts), resource, re.DOTALL) is not None


def _bool_values(values: t.Any, where: str) -> set[str]:
    items = values if isinstance(values, list) else [values]
    result: set[str] = set()
    for item in items:
        text = str(item).lower()  # JSON true/false arrive as Python bools: str() gives "True"/"False"
        if text not in ("true", "false"):
            raise UnsupportedPolicy(f"{where}: Bool value must be true or false, got {item!r}")
        result.add(text)
    return result


_OPERATORS = ("Bool", "BoolIfExists", "Null")


def condition_holds(condition: t.Any, request: Request) -> bool:
    """Every operator and every key of a Condition block must hold (Bool, BoolIfExists and Null only)."""
    if condition is None:
        return True
    if not isinstance(condition, dict):
        raise UnsupportedPolicy(f"Condition must be an object, got {condition!r}")
    for operator, tests in condition.items():
        if operator not in _OPERATORS:
            raise UnsupportedPolicy(f"condition operator {operator!r} is not modelled (only {', '.join(_OPERATORS)})")
        if not isinstance(tests, dict) or not tests:
            raise UnsupportedPolicy(f"condition {operator} must map keys to values, got {tests!r}")
        for key, values in tests.items():
            expected = _bool_values(values, f"{operator} {key}")
            actual = request.context_value(key)
            if operator == "Null":
                if ("true" if actual is None else "false") not in expected:
                    return False
                continue
            if actual is None:
                if operator == "BoolIfExists":
                    continue
                return False
            if actual.lower() not in expected:
                return False
    return True


def _label(statement: dict[str, t.Any], index: int) -> str:
    sid = statement.get("Sid")
    return str(sid) if sid else f"Statement[{index}]"


def statement_applies(statement: dict[str, t.Any], request: Request) -> bool:
    """Whether a statement's action, resource and condition all match the request (its Effect aside)."""
    unknown = set(statement) - _STATEMENT_KEYS
    if unknown:
        raise UnsupportedPolicy(f"statement elements not modelled: {', '.join(sorted(unknown))}")
    if ("Action" in statement) == ("NotAction" in statement):
        raise UnsupportedPolicy("a statement needs exactly one of Action and NotAction")
    if ("Resource" in statement) == ("NotResource" in statement):
        raise UnsupportedPolicy("a statement needs exactly one of Resource and NotResource")

    if "Action" in statement:
        action_ok = any(action_matches(p, request.action) for p in _as_list(statement["Action"], "Action"))
    else:
        action_ok = not any(action_matches(p, request.action) for p in _as_list(statement["NotAction"], "NotAction"))
    if not action_ok:
        return False

    if "Resource" in statement:
        entries = _as_list(statement["Resource"], "Resource")
        resource_ok = any(resource_matches(p, request.resource, request) for p in entries)
    else:
        entries = _as_list(statement["NotResource"], "NotResource")
        resource_ok = not any(resource_matches(p, request.resource, request) for p in entries)
    if not resource_ok:
        return False

    return condition_holds(statement.get("Condition"), request)


def _statements(document: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise UnsupportedPolicy("document needs a Statement object or list of objects")
    return statements


def evaluate(documents: t.Iterable[dict[str, t.Any]], request: Request) -> Result:
    """Decide a request against identity-based policy documents: explicit deny, else allow, else implicit deny."""
    allowed_by: list[str] = []
    denied_by: list[str] = []
    for document in documents:
        for index, statement in enumerate(_statements(document)):
            effect = statement.get("Effect")
            if effect not in ("Allow", "Deny"):
                raise UnsupportedPolicy(f"Effect must be Allow or Deny, got {effect!r}")
            if statement_applies(statement, request):
                (allowed_by if effect == "Allow" else denied_by).append(_label(statement, index))
    if denied_by:
        decision = Decision.EXPLICIT_DENY
    elif allowed_by:
        decision = Decision.ALLOW
    else:
        decision = Decision.IMPLICIT_DENY
    return Result(decision, tuple(allowed_by), tuple(denied_by))
