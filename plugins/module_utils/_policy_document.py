# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure logic for the two MFA policy documents: the bundled official text, the edits of each policy, comparison.

Nothing here talks to AWS; every function takes and returns plain values.
"""

from __future__ import annotations

import copy
import json
import re
import typing as t

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

# The official AWS example policy "AWS: Allows MFA-authenticated IAM users to manage their own credentials on
# the Security credentials page" (IAM User Guide, reference_policies_examples_aws_my-sec-creds-self-manage).
# Base text: the last verbatim copy AWS published as source, awsdocs/iam-user-guide
# doc_source/reference_policies_examples_aws_my-sec-creds-self-manage.md, dated 2022-12-16; plus the two
# actions AWS added to the page in 2023: iam:GetAccessKeyLastUsed (AllowManageOwnAccessKeys) and
# iam:GetMFADevice (the NotAction of DenyAllExceptListedIfNoMFA).
OFFICIAL_SOURCE = (
    "AWS IAM User Guide, 'AWS: Allows MFA-authenticated IAM users to manage their own credentials on the "
    "Security credentials page' (reference_policies_examples_aws_my-sec-creds-self-manage)"
)
OFFICIAL_DATE = "2022-12-16, with the 2023 additions iam:GetAccessKeyLastUsed and iam:GetMFADevice"

_OWN_USER = "arn:aws:iam::*:user/${aws:username}"

_OFFICIAL_DOCUMENT: dict[str, t.Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowViewAccountInfo",
            "Effect": "Allow",
            "Action": ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"],
            "Resource": "*",
        },
        {
            "Sid": "AllowManageOwnPasswords",
            "Effect": "Allow",
            "Action": ["iam:ChangePassword", "iam:GetUser"],
            "Resource": _OWN_USER,
        },
        {
            "Sid": "AllowManageOwnAccessKeys",
            "Effect": "Allow",
            "Action": [
                "iam:CreateAccessKey",
                "iam:DeleteAccessKey",
                "iam:ListAccessKeys",
                "iam:UpdateAccessKey",
                "iam:GetAccessKeyLastUsed",
            ],
            "Resource": _OWN_USER,
        },
        {
            "Sid": "AllowManageOwnSigningCertificates",
            "Effect": "Allow",
            "Action": [
                "iam:DeleteSigningCertificate",
                "iam:ListSigningCertificates",
                "iam:UpdateSigningCertificate",
                "iam:UploadSigningCertificate",
            ],
            "Resource": _OWN_USER,
        },
        {
            "Sid": "AllowManageOwnSSHPublicKeys",
            "Effect": "Allow",
            "Action": [
                "iam:DeleteSSHPublicKey",
                "iam:GetSSHPublicKey",
                "iam:ListSSHPublicKeys",
                "iam:UpdateSSHPublicKey",
                "iam:UploadSSHPublicKey",
            ],
            "Resource": _OWN_USER,
        },
        {
            "Sid": "AllowManageOwnGitCredentials",
            "Effect": "Allow",
            "Action": [
                "iam:CreateServiceSpecificCredential",
                "iam:DeleteServiceSpecificCredential",
                "iam:ListServiceSpecificCredentials",
                "iam:ResetServiceSpecificCredential",
                "iam:UpdateServiceSpecificCredential",
            ],
            "Resource": _OWN_USER,
        },
        {
            "Sid": "AllowManageOwnVirtualMFADevice",
            "Effect": "Allow",
            "Action": ["iam:CreateVirtualMFADevice"],
            "Resource": "arn:aws:iam::*:mfa/*",
        },
        {
            "Sid": "AllowManageOwnUserMFA",
            "Effect": "Allow",
            "Action": [
                "iam:DeactivateMFADevice",
                "iam:EnableMFADevice",
                "iam:ListMFADevices",
                "iam:ResyncMFADevice",
            ],
            "Resource": _OWN_USER,
        },
        {
            "Sid": "DenyAllExceptListedIfNoMFA",
            "Effect": "Deny",
            "NotAction": [
                "iam:CreateVirtualMFADevice",
                "iam:EnableMFADevice",
                "iam:GetUser",
                "iam:GetMFADevice",
                "iam:ListMFADevices",
                "iam:ListVirtualMFADevices",
                "iam:ResyncMFADevice",
                "sts:GetSessionToken",
            ],
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        },
    ],
}

# Which of the two policies (the policy module's `stage` option; a user's stage is another thing: _lifecycle.py).
POLICY_KINDS = ("first_login", "current_users")
MFA_DEVICE_SCOPES = {"any": "*", "own": "${aws:username}"}

# The seed's edit: a user who has no MFA yet may still replace the temporary password.
FIRST_LOGIN_ACTIONS = ("iam:ChangePassword", "iam:GetAccountPasswordPolicy")

# self_enrollment (the render option): `official` leaves device enrolment as the official text has it; `guarded`
# adds one statement, by stage, with a stable Sid that is the module's own (any statement with one of these Sids
# in a base document is replaced, or removed under `official`, so that switching back restores the text).
#
# Why: the official deny-unless-MFA statement exempts the MFA setup actions (its NotAction) and denies with
# BoolIfExists, which is true when the key is absent. A long-term access key sends no aws:MultiFactorAuthPresent
# at all, so whoever holds a user's key may create a virtual device, enable it on that user and then mint an MFA
# session with sts:GetSessionToken (which no policy can deny). A console session sends the key ("false" before
# MFA, "true" after), and so does every session from sts:GetSessionToken; IAM refuses IAM API calls from a
# session token obtained without MFA, so the only request context without the key is a long-term key.
#
# - first_login: a Deny of every MFA device change when the key is absent (Null ... "true"): the first device is
#   enrolled from the console (where the key is present and "false"), never with a long-term key. Deactivate and
#   delete are in the list too: without MFA the main deny already refuses them, and with a long-term key there is
#   never MFA, so naming them costs nothing and keeps the statement whole if a base document exempts them.
# - current_users: a Deny of the same actions unless MFA (BoolIfExists ... "false", the official deny's own
#   condition): adding, resyncing or removing a device takes an MFA session, whatever the base document's
#   NotAction says. A separate statement rather than an edit of the NotAction, so that it holds for any base
#   document (a wildcard NotAction entry included) and `official` can take it out again exactly.
SELF_ENROLLMENT = ("official", "guarded")
MFA_DEVICE_ACTIONS = (
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:ResyncMFADevice",
    "iam:DeactivateMFADevice",
    "iam:DeleteVirtualMFADevice",
)
GUARDED_SIDS = {
    "first_login": "DenyMFADeviceChangesWithLongTermKey",
    "current_users": "DenyMFADeviceChangesWithoutMFA",
}
_GUARDED_CONDITIONS = {
    "first_login": {"Null": {"aws:MultiFactorAuthPresent": "true"}},
    "current_users": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
}


def guarded_statement(kind: str) -> dict[str, t.Any]:
    """The statement that self_enrollment=guarded adds to a policy of this kind."""
    return {
        "Sid": GUARDED_SIDS[kind],
        "Effect": "Deny",
        "Action": list(MFA_DEVICE_ACTIONS),
        "Resource": "*",
        "Condition": copy.deepcopy(_GUARDED_CONDITIONS[kind]),
    }


# IAM counts a managed policy document's size without white space.
MAX_DOCUMENT_CHARS = 6144

_MFA_RESOURCE = re.compile(r"^(arn:[^:]+:iam::[^:]*:mfa/)(\*|\$\{aws:username\})$")


class PolicyDocumentError(ValueError):
    """The base document cannot be used; the message says why."""


def official_document() -> dict[str, t.Any]:
    """A fresh copy of the bundled official document."""
    return copy.deepcopy(_OFFICIAL_DOCUMENT)


def parse_document(value: t.Any) -> dict[str, t.Any]:
    """Accept a dict or a JSON text; return a dict whose Statement is a list of objects."""
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError as e:
            raise PolicyDocumentError(f"document is not valid JSON: {e}") from e
    if not isinstance(value, dict):
        raise PolicyDocumentError(f"document must be a JSON object, got {type(value).__name__}")
    statements = value.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise PolicyDocumentError("document has no Statement list")
    for index, statement in enumerate(statements):
        if not isinstance(statement, dict):
            raise PolicyDocumentError(f"document Statement[{index}] is not an object")
    document = copy.deepcopy(value)
    document["Statement"] = copy.deepcopy(statements)
    return document


def _as_list(value: t.Any) -> list[t.Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _is_false(value: t.Any) -> bool:
    return any(str(item).lower() == "false" for item in _as_list(value))


def is_mfa_deny(statement: dict[str, t.Any]) -> bool:
    """True for the deny-unless-MFA statement, recognised by its shape rather than its Sid.

    Shape: Effect Deny, a NotAction list, and a Condition BoolIfExists aws:MultiFactorAuthPresent "false".
    """
    if statement.get("Effect") != "Deny" or "NotAction" not in statement:
        return False
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return False
    for operator, tests in condition.items():
        if operator.lower() != "boolifexists" or not isinstance(tests, dict):
            continue
        for key, value in tests.items():
            if key.lower() == "aws:multifactorauthpresent" and _is_false(value):
                return True
    return False


def carries_mfa_deny(document: t.Any) -> bool:
    """Whether a policy document holds the deny-unless-MFA statement (is_mfa_deny): what makes a policy a guard."""
    statements = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    return any(isinstance(s, dict) and is_mfa_deny(s) for s in statements or ())


# What a guard may allow (invariant 7: "nothing that grants more"), from the official document's own Allow
# statements: on any resource (*), on MFA devices (mfa/...), and on the caller itself (user/${aws:username}).
# DeleteVirtualMFADevice is in earlier official versions of the page.
_STAR, _MFA, _OWN = "*", "mfa", "own"
# The caller's own user at any path: whatever comes before it, a last segment of exactly /${aws:username} matches only
# the caller (a user name holds no /, and IAM user names are unique), so user/*/${aws:username} is its own too, while
# user/*${aws:username} (no / before the name) is not: for bob it would match the user alice-bob too.
_OWN_RESOURCE = re.compile(r"^arn:[^:]+:iam::[^:]*:user/(?:[^:]*/)?\$\{aws:username\}$")
_MFA_RESOURCE_ANY = re.compile(r"^arn:[^:]+:iam::[^:]*:mfa/.*$")


def _resource_kind(resource: t.Any) -> str | None:
    if resource == "*":
        return _STAR
    if isinstance(resource, str) and _MFA_RESOURCE_ANY.match(resource):
        return _MFA
    if isinstance(resource, str) and _OWN_RESOURCE.match(resource):
        return _OWN
    return None


def _guard_allows() -> dict[str, frozenset[str]]:
    allowed: dict[str, set[str]] = {_STAR: set(), _MFA: {"iam:deletevirtualmfadevice"}, _OWN: set()}
    for statement in _OFFICIAL_DOCUMENT["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        kind = _resource_kind(statement["Resource"])
        allowed[str(kind)].update(a.lower() for a in _as_list(statement["Action"]))
    allowed[_OWN].update(a.lower() for a in FIRST_LOGIN_ACTIONS)
    return {k: frozenset(v) for k, v in allowed.items()}


def grants_beyond_the_guard(document: t.Any) -> list[str]:
    """What a guard policy's Allow statements grant beyond what the official policy lets a user do for itself,
    each as `statement SID allows ACTION on RESOURCE`; [] for the official document and the policy module's
    renderings of it. NotAction, NotResource and wildcard actions are beyond; conditions are not evaluated (they
    only narrow an Allow)."""
    allowed = _guard_allows()
    found = []
    statements = document.get("Statement") if isinstance(document, dict) else None
    for index, statement in enumerate(_as_list(statements)):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        label = f"statement {statement.get('Sid') or index}"
        if "NotAction" in statement or "NotResource" in statement:
            found.append(f"{label} allows everything but what it names (NotAction or NotResource)")
            continue
        for action in _as_list(statement.get("Action")):
            for resource in _as_list(statement.get("Resource")):
                kind = _resource_kind(resource)
                if not isinstance(action, str) or "*" in action or "?" in action:
                    found.append(f"{label} allows {action} (a wildcard) on {resource}")
                elif kind is None or action.lower() not in allowed[kind]:
                    found.append(f"{label} allows {action} on {resource}")
    return found


def _action_pattern(pattern: str) -> re.Pattern[str]:
    """IAM action matching: case-insensitive, '*' and '?' are the only wildcards."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE)


def _covers(entries: list[t.Any], action: str) -> list[str]:
    """The entries (exact or wildcard) of an action list that match action."""
    return [e for e in entries if isinstance(e, str) and _action_pattern(e).fullmatch(action)]


def _statement_label(statement: dict[str, t.Any], index: int) -> str:
    sid = statement.get("Sid")
    return f"statement {sid!r}" if sid else f"Statement[{index}]"


def _apply_first_login(statement: dict[str, t.Any]) -> None:
    not_action = _as_list(statement["NotAction"])
    for action in FIRST_LOGIN_ACTIONS:
        if not _covers(not_action, action):
            not_action.append(action)
    statement["NotAction"] = not_action


def _apply_current_users(statement: dict[str, t.Any], index: int) -> None:
    not_action = _as_list(statement["NotAction"])
    for action in FIRST_LOGIN_ACTIONS:
        for entry in _covers(not_action, action):
            if entry.lower() != action.lower():
                raise PolicyDocumentError(
                    f"document {_statement_label(statement, index)}: NotAction entry {entry!r} exempts {action} "
                    "from the MFA requirement; the current_users policy must not (that exception belongs to "
                    "the first_login policy only)"
                )
            not_action.remove(entry)
    statement["NotAction"] = not_action


def _apply_mfa_device_scope(statement: dict[str, t.Any], scope: str) -> None:
    if statement.get("Effect") != "Allow" or "Resource" not in statement:
        return
    target = MFA_DEVICE_SCOPES[scope]
    resources = statement["Resource"]
    rewritten = [
        _MFA_RESOURCE.sub(lambda m: m.group(1) + target, r) if isinstance(r, str) else r for r in _as_list(resources)
    ]
    statement["Resource"] = rewritten if isinstance(resources, list) else rewritten[0]


def _is_guarded_statement(statement: dict[str, t.Any]) -> bool:
    sid = statement.get("Sid")
    return isinstance(sid, str) and sid.lower() in {s.lower() for s in GUARDED_SIDS.values()}


def _apply_self_enrollment(document: dict[str, t.Any], kind: str, self_enrollment: str) -> None:
    """Take out every statement with a guarded Sid (IAM Sids are unique in a policy; case is ignored here so that
    a look-alike is never kept beside ours), then append this kind's one under guarded."""
    for index, statement in enumerate(document["Statement"]):
        if _is_guarded_statement(statement) and is_mfa_deny(statement):
            raise PolicyDocumentError(
                f"document {_statement_label(statement, index)} is the deny-unless-MFA statement, but its Sid is "
                "reserved for the statements that self_enrollment=guarded manages "
                f"({', '.join(GUARDED_SIDS.values())}); give it another Sid"
            )
    statements = [s for s in document["Statement"] if not _is_guarded_statement(s)]
    if self_enrollment == "guarded":
        statements.append(guarded_statement(kind))
    document["Statement"] = statements


def render(
    base: dict[str, t.Any], kind: str, mfa_device_scope: str = "any", self_enrollment: str = "official"
) -> dict[str, t.Any]:
    """Apply the edits of a policy kind to a base document; idempotent (rendering twice changes nothing).

    - first_login: iam:ChangePassword and iam:GetAccountPasswordPolicy are exempt from the MFA deny.
    - current_users: those two are not exempt (the official text); a wildcard that exempts them is refused.
    - mfa_device_scope: the virtual-MFA resource of Allow statements becomes mfa/* (any) or
      mfa/${aws:username} (own).
    - self_enrollment: official removes the guarded statements (GUARDED_SIDS); guarded puts in this kind's one
      (guarded_statement), replacing any statement with one of those Sids.
    """
    if kind not in POLICY_KINDS:
        raise PolicyDocumentError(f"stage must be one of {', '.join(POLICY_KINDS)}, got {kind!r}")
    if mfa_device_scope not in MFA_DEVICE_SCOPES:
        raise PolicyDocumentError(
            f"mfa_device_scope must be one of {', '.join(MFA_DEVICE_SCOPES)}, got {mfa_device_scope!r}"
        )
    if self_enrollment not in SELF_ENROLLMENT:
        raise PolicyDocumentError(
            f"self_enrollment must be one of {', '.join(SELF_ENROLLMENT)}, got {self_enrollment!r}"
        )
    document = parse_document(base)
    _apply_self_enrollment(document, kind, self_enrollment)
    denies = [(i, s) for i, s in enumerate(document["Statement"]) if is_mfa_deny(s)]
    if not denies:
        raise PolicyDocumentError(
            "document has no deny-unless-MFA statement (Effect Deny, NotAction, and Condition BoolIfExists "
            "aws:MultiFactorAuthPresent false); it cannot serve as an MFA guard"
        )
    for index, statement in denies:
        if kind == "first_login":
            _apply_first_login(statement)
        else:
            _apply_current_users(statement, index)
    for statement in document["Statement"]:
        _apply_mfa_device_scope(statement, mfa_device_scope)
    size = len(re.sub(r"\s", "", dump(document)))
    if size > MAX_DOCUMENT_CHARS:
        raise PolicyDocumentError(
            f"document has {size} characters without white space; IAM allows {MAX_DOCUMENT_CHARS} for a managed policy"
        )
    return document


def dump(document: dict[str, t.Any]) -> str:
    """The JSON text sent to IAM (compact, key order kept)."""
    return json.dumps(document, separators=(",", ":"))


def same_document(current: dict[str, t.Any] | None, desired: dict[str, t.Any]) -> bool:
    """Order-insensitive comparison (statement order, list order, a string vs a one-item list)."""
    if current is None:
        return False
    return not compare_policies(current, desired)
