# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure decisions about a customer-managed policy: names, descriptions, versions, attachments, results."""

from __future__ import annotations

import datetime
import typing as t

DEFAULT_NAMES = {
    "first_login": "MFARequiredOnlyForTheFirstLogin",
    "current_users": "MFARequiredForCurrentUsers",
}

# IAM descriptions cannot hold a link, so they name the official page's title (as the seed does).
_TITLE = "AWS Allows MFA-Authenticated IAM Users to Manage Their Own Credentials on the My Security Credentials Page"
_DESCRIPTIONS = {
    "first_login": "Copied and edited the official sample JSON to enable password reset",
    "current_users": "Copied from the official document",
}

# IAM keeps at most five versions of a managed policy.
MAX_VERSIONS = 5


def default_description(kind: str, today: datetime.date) -> str:
    """The seed's description of a new policy of this kind (first_login or current_users)."""
    return f"Created {today.isoformat()} - {_DESCRIPTIONS[kind]} - {_TITLE}"


def version_to_prune(versions: list[dict[str, t.Any]]) -> str | None:
    """The version to delete before a new one can be added: the oldest non-default one, at the limit only."""
    if len(versions) < MAX_VERSIONS:
        return None
    candidates = [v for v in versions if not v.get("IsDefaultVersion")]
    if not candidates:
        return None
    oldest = min(candidates, key=lambda v: (v["CreateDate"], int(str(v["VersionId"]).lstrip("v") or 0)))
    return str(oldest["VersionId"])


def attachment_summary(entities: dict[str, t.Any]) -> str:
    """'groups: a, b; users: c; roles: d' from a ListEntitiesForPolicy result."""
    parts = []
    for key, label, field in (
        ("PolicyGroups", "groups", "GroupName"),
        ("PolicyUsers", "users", "UserName"),
        ("PolicyRoles", "roles", "RoleName"),
    ):
        names = sorted(item[field] for item in entities.get(key) or [])
        if names:
            parts.append(f"{label}: {', '.join(names)}")
    return "; ".join(parts)


def policy_result(policy: dict[str, t.Any] | None, document: dict[str, t.Any] | None) -> dict[str, t.Any]:
    """The module's snake_case `policy` return value from a ListPolicies/GetPolicy/CreatePolicy item."""
    if policy is None:
        return {}
    result = {
        "arn": policy.get("Arn"),
        "name": policy.get("PolicyName"),
        "policy_id": policy.get("PolicyId"),
        "path": policy.get("Path"),
        "description": policy.get("Description"),
        "default_version_id": policy.get("DefaultVersionId"),
        "attachment_count": policy.get("AttachmentCount"),
        "create_date": policy.get("CreateDate"),
        "update_date": policy.get("UpdateDate"),
        "document": document,
    }
    for key in ("create_date", "update_date"):
        if isinstance(result[key], datetime.datetime):
            result[key] = result[key].isoformat()
    return result


class PolicyInUseError(Exception):
    """The policy cannot be deleted while it is attached; the message names the attachments."""
