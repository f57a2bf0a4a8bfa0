# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure logic for the account password policy: read, merge the named settings, build the update request.

UpdateAccountPasswordPolicy resets every setting it is not given, so the module always sends the whole merged
policy, never only the settings the operator named.

An account without a password policy is under AWS's built-in default (at least 8 characters and three of the four
character classes), which the API cannot express. A policy created here is never weaker than that: every setting
the operator did not name gets the CIS AWS Foundations value (the floor). An existing policy is never raised to
the floor: only the named settings change.
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

# What IAM reports for a setting a policy leaves out (from_api reads an absent field as this), and what a call
# that omits a setting sets it to.
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

# The floor: the CIS AWS Foundations Benchmark's password policy recommendations (length 14 or more and reuse
# prevention 24 in every version; one character of each of the four classes in version 1.2, whose 90-day expiry
# later versions dropped). A new policy takes these for every setting the operator did not name. Age and hard
# expiry are not among them, nor AllowUsersToChangePassword (the caller decides it).
CIS_FLOOR: dict[str, t.Any] = {
    "min_password_length": 14,
    "require_symbols": True,
    "require_numbers": True,
    "require_uppercase_characters": True,
    "require_lowercase_characters": True,
    "password_reuse_prevention": 24,
}

# What a policy created on an account without one starts from, before the named settings.
NEW_POLICY: dict[str, t.Any] = dict(AWS_DEFAULTS, **CIS_FLOOR)

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
    """The current settings with the named settings (those not None) replaced.

    Without a current policy (None), the new one starts from NEW_POLICY: the floor for every setting not named."""
    merged = dict(NEW_POLICY if current is None else current)
    merged.update({k: v for k, v in requested.items() if k in FIELDS and v is not None})
    return merged


def floor_settings(current: dict[str, t.Any] | None, requested: dict[str, t.Any]) -> list[str]:
    """The settings that get the floor's value: on an account without a policy (current None), every floor setting
    the operator did not name, in FIELDS order; none when a policy exists, or when nothing is named (then nothing is
    created and AWS's built-in default stays)."""
    if current is not None or all(requested.get(option) is None for option in FIELDS):
        return []
    return [option for option in FIELDS if option in CIS_FLOOR and requested.get(option) is None]


def below_floor(current: dict[str, t.Any] | None, requested: dict[str, t.Any]) -> list[str]:
    """The named settings of a policy about to be created (current None) that are weaker than the floor: a class
    turned off, a shorter minimum, a smaller reuse count (0, none, included). Kept, since the operator named them;
    the caller warns. Empty when a policy exists: an existing policy is the operator's, not measured here."""
    if current is not None:
        return []
    return [option for option in FIELDS if option in CIS_FLOOR and _weaker(requested.get(option), CIS_FLOOR[option])]


def _weaker(value: t.Any, floor: t.Any) -> bool:
    """Whether a named value is weaker than the floor's: a requirement off that the floor has on, or a number below
    the floor's. None (not named) is never weaker."""
    if value is None:
        return False
    if isinstance(floor, bool):
        return floor and not value
    return bool(value < floor)


def _show(value: t.Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def floor_messages(floored: list[str], weaker: list[str], requested: dict[str, t.Any], check_mode: bool) -> list[str]:
    """The warnings of a policy created on an account without one: which settings got the floor, and which named
    settings are weaker than it. No message when neither list has an entry."""
    messages = []
    if floored:
        verb = "would get" if check_mode else "got"
        values = ", ".join(f"{option}={_show(CIS_FLOOR[option])}" for option in floored)
        messages.append(
            f"the account had no password policy; the new one {verb} the CIS AWS Foundations value for every "
            f"setting not named: {values} (AWS's built-in default, which it replaces, asks for 8 characters and "
            "three of the four character classes; name a setting to choose its value)"
        )
    if weaker:
        values = ", ".join(
            f"{option}={_show(requested[option])} (CIS AWS Foundations: {_show(CIS_FLOOR[option])})"
            for option in weaker
        )
        verb = "would keep" if check_mode else "keeps"
        messages.append(
            f"the account had no password policy; the new one {verb} the named settings that are weaker than the "
            f"CIS AWS Foundations values: {values}"
        )
    return messages


def update_request(settings: dict[str, t.Any]) -> dict[str, t.Any]:
    """The full UpdateAccountPasswordPolicy request; age and reuse 0 are sent by leaving them out."""
    request = {}
    for option, field in FIELDS.items():
        value = settings[option]
        if option in ("max_password_age", "password_reuse_prevention") and not value:
            continue
        request[field] = value
    return request
