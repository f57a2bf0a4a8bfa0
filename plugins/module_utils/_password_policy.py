# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure logic for the account password policy: read, merge the named settings, build the update request.

UpdateAccountPasswordPolicy resets every setting it is not given, so the module always sends the whole merged
policy, never only the settings the operator named.
"""

from __future__ import annotations

import typing as t

# option name -> IAM field
FIELDS = {
    "min_password_length": "MinimumPasswordLength",
    "require_symbols": "RequireSymbols",
    "require_numbers": "RequireNumbers",
    "require_uppercase_characters": "RequireUppercaseCharacters",
    "require_lowercase_characters": "RequireLowercaseCharacters",
    "allow_users_to_change_password": "AllowUsersToChangePassword",
    "max_password_age": "MaxPasswordAge",
    "password_reuse_prevention": "PasswordReusePrevention",
    "hard_expiry": "HardExpiry",
}

# What an account without a password policy starts from. AWS's documented default is a minimum length of 8
# and three of the four character classes; the API cannot express "three of four", so a new policy starts with
# no class required and the operator names the classes wanted (the module warns about it).
AWS_DEFAULTS: dict[str, t.Any] = {
    "min_password_length": 8,
    "require_symbols": False,
    "require_numbers": False,
    "require_uppercase_characters": False,
    "require_lowercase_characters": False,
    "allow_users_to_change_password": False,
    "max_password_age": 0,
    "password_reuse_prevention": 0,
    "hard_expiry": False,
}

# Integer settings: (lowest, highest); 0 means "off" for the age and the reuse count.
RANGES = {
    "min_password_length": (6, 128),
    "max_password_age": (0, 1095),
    "password_reuse_prevention": (0, 24),
}


class PasswordPolicyError(ValueError):
    """A requested setting is out of range; the message names it."""


def validate(requested: dict[str, t.Any], state: str = "present") -> None:
    named = sorted(option for option, value in requested.items() if value is not None)
    if state == "absent" and named:
        raise PasswordPolicyError(f"state=absent deletes the whole policy; do not also give {', '.join(named)}")
    for option, (low, high) in RANGES.items():
        value = requested.get(option)
        if value is not None and not low <= value <= high:
            raise PasswordPolicyError(f"{option}: {value} is out of range; IAM accepts {low} to {high}")


def from_api(policy: dict[str, t.Any] | None) -> dict[str, t.Any] | None:
    """snake_case settings from a GetAccountPasswordPolicy result; absent optional fields read as off."""
    if policy is None:
        return None
    return {option: policy.get(field, AWS_DEFAULTS[option]) for option, field in FIELDS.items()}


def merge(current: dict[str, t.Any] | None, requested: dict[str, t.Any]) -> dict[str, t.Any]:
    """The current settings (or AWS's defaults) with the named settings (those not None) replaced."""
    merged = dict(AWS_DEFAULTS if current is None else current)
    merged.update({k: v for k, v in requested.items() if k in FIELDS and v is not None})
    return merged


def update_request(settings: dict[str, t.Any]) -> dict[str, t.Any]:
    """The full UpdateAccountPasswordPolicy request; age and reuse 0 are sent by leaving them out."""
    request = {}
    for option, field in FIELDS.items():
        value = settings[option]
        if option in ("max_password_age", "password_reuse_prevention") and not value:
            continue
        request[field] = value
    return request
