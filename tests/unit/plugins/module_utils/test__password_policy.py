# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import re
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import AWS_DEFAULTS
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import FIELDS
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import PasswordPolicyError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import from_api
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import merge
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import update_request
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import validate

# GetAccountPasswordPolicy results (ExpirePasswords is read-only, derived from MaxPasswordAge).
STRICT_API = {
    "MinimumPasswordLength": 14,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": False,
    "ExpirePasswords": True,
    "MaxPasswordAge": 90,
    "PasswordReusePrevention": 5,
    "HardExpiry": True,
}
# Real IAM leaves out MaxPasswordAge, PasswordReusePrevention and HardExpiry when they are not set.
PARTIAL_API = {
    "MinimumPasswordLength": 12,
    "RequireSymbols": False,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": False,
    "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": False,
    "ExpirePasswords": False,
}
ALREADY_ALLOWED_API = {
    "MinimumPasswordLength": 8,
    "RequireSymbols": False,
    "RequireNumbers": False,
    "RequireUppercaseCharacters": False,
    "RequireLowercaseCharacters": False,
    "AllowUsersToChangePassword": True,
    "ExpirePasswords": True,
    "MaxPasswordAge": 30,
    "HardExpiry": False,
}

STRICT = {
    "min_password_length": 14,
    "require_symbols": True,
    "require_numbers": True,
    "require_uppercase_characters": True,
    "require_lowercase_characters": True,
    "allow_users_to_change_password": False,
    "max_password_age": 90,
    "password_reuse_prevention": 5,
    "hard_expiry": True,
}


def requested(**settings: t.Any) -> dict[str, t.Any]:
    """What the module passes: every option, None where the operator named nothing."""
    return {option: settings.get(option) for option in FIELDS}


def test_from_api_reads_every_field() -> None:
    assert from_api(STRICT_API) == STRICT


def test_from_api_reads_absent_optional_fields_as_off() -> None:
    assert from_api(PARTIAL_API) == {
        "min_password_length": 12,
        "require_symbols": False,
        "require_numbers": True,
        "require_uppercase_characters": False,
        "require_lowercase_characters": True,
        "allow_users_to_change_password": False,
        "max_password_age": 0,
        "password_reuse_prevention": 0,
        "hard_expiry": False,
    }


def test_from_api_without_a_policy() -> None:
    assert from_api(None) is None


@pytest.mark.parametrize(
    ("current_api", "expected_request"),
    [
        pytest.param(
            None,
            {
                "MinimumPasswordLength": 8,
                "RequireSymbols": False,
                "RequireNumbers": False,
                "RequireUppercaseCharacters": False,
                "RequireLowercaseCharacters": False,
                "AllowUsersToChangePassword": True,
                "HardExpiry": False,
            },
            id="no-policy",
        ),
        pytest.param(
            STRICT_API,
            {
                "MinimumPasswordLength": 14,
                "RequireSymbols": True,
                "RequireNumbers": True,
                "RequireUppercaseCharacters": True,
                "RequireLowercaseCharacters": True,
                "AllowUsersToChangePassword": True,
                "MaxPasswordAge": 90,
                "PasswordReusePrevention": 5,
                "HardExpiry": True,
            },
            id="strict",
        ),
        pytest.param(
            PARTIAL_API,
            {
                "MinimumPasswordLength": 12,
                "RequireSymbols": False,
                "RequireNumbers": True,
                "RequireUppercaseCharacters": False,
                "RequireLowercaseCharacters": True,
                "AllowUsersToChangePassword": True,
                "HardExpiry": False,
            },
            id="partial",
        ),
        pytest.param(
            ALREADY_ALLOWED_API,
            {
                "MinimumPasswordLength": 8,
                "RequireSymbols": False,
                "RequireNumbers": False,
                "RequireUppercaseCharacters": False,
                "RequireLowercaseCharacters": False,
                "AllowUsersToChangePassword": True,
                "MaxPasswordAge": 30,
                "HardExpiry": False,
            },
            id="already-allowed",
        ),
    ],
)
def test_merge_keeps_every_other_setting(
    current_api: dict[str, t.Any] | None, expected_request: dict[str, t.Any]
) -> None:
    before = copy.deepcopy(current_api)
    current = from_api(current_api)
    merged = merge(current, requested(allow_users_to_change_password=True))
    assert update_request(merged) == expected_request
    assert current_api == before


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"min_password_length": 20}, dict(STRICT, min_password_length=20)),
        ({"require_symbols": False}, dict(STRICT, require_symbols=False)),
        ({"max_password_age": 0}, dict(STRICT, max_password_age=0)),
        (
            {"password_reuse_prevention": 24, "hard_expiry": False},
            dict(STRICT, password_reuse_prevention=24, hard_expiry=False),
        ),
        ({}, STRICT),
        ({"allow_users_to_change_password": False}, STRICT),
    ],
)
def test_merge_changes_only_the_named_settings(change: dict[str, t.Any], expected: dict[str, t.Any]) -> None:
    assert merge(dict(STRICT), requested(**change)) == expected


def test_merge_ignores_options_that_are_not_settings() -> None:
    assert merge(dict(STRICT), {"state": "present", "region": "us-east-1", "min_password_length": None}) == STRICT


def test_merge_without_a_policy_starts_from_aws_defaults_and_leaves_them_alone() -> None:
    defaults = dict(AWS_DEFAULTS)
    merged = merge(None, requested(require_numbers=True, min_password_length=16))
    assert merged == dict(defaults, require_numbers=True, min_password_length=16)
    assert defaults == AWS_DEFAULTS


def test_merge_does_not_modify_the_current_settings() -> None:
    current = dict(STRICT)
    merge(current, requested(min_password_length=30))
    assert current == STRICT


@pytest.mark.parametrize(
    ("age", "reuse", "sent"),
    [
        (0, 0, {}),
        (90, 0, {"MaxPasswordAge": 90}),
        (0, 5, {"PasswordReusePrevention": 5}),
        (1, 1, {"MaxPasswordAge": 1, "PasswordReusePrevention": 1}),
        (1095, 24, {"MaxPasswordAge": 1095, "PasswordReusePrevention": 24}),
    ],
)
def test_update_request_leaves_out_zero_age_and_reuse(age: int, reuse: int, sent: dict[str, int]) -> None:
    request = update_request(dict(STRICT, max_password_age=age, password_reuse_prevention=reuse))
    assert {k: v for k, v in request.items() if k in ("MaxPasswordAge", "PasswordReusePrevention")} == sent
    assert request["HardExpiry"] is True
    assert request["MinimumPasswordLength"] == 14
    assert "ExpirePasswords" not in request


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(STRICT, id="strict"),
        pytest.param(from_api(PARTIAL_API), id="partial"),
        pytest.param(AWS_DEFAULTS, id="defaults"),
    ],
)
def test_what_is_sent_reads_back_as_the_same_settings(settings: dict[str, t.Any]) -> None:
    # Omitted fields read back as off, so leaving out a 0 loses nothing.
    assert from_api(update_request(settings)) == settings


@pytest.mark.parametrize(
    "settings",
    [
        {"min_password_length": 6},
        {"min_password_length": 128},
        {"max_password_age": 0},
        {"max_password_age": 1},
        {"max_password_age": 1095},
        {"password_reuse_prevention": 0},
        {"password_reuse_prevention": 24},
        {"min_password_length": None, "max_password_age": None},
        {"hard_expiry": True, "allow_users_to_change_password": False},
    ],
)
def test_validate_accepts(settings: dict[str, t.Any]) -> None:
    validate(requested(**settings))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"min_password_length": 5}, "min_password_length: 5 is out of range; IAM accepts 6 to 128"),
        ({"min_password_length": 129}, "min_password_length: 129 is out of range; IAM accepts 6 to 128"),
        ({"min_password_length": 0}, "min_password_length: 0 is out of range"),
        ({"max_password_age": -1}, "max_password_age: -1 is out of range; IAM accepts 0 to 1095"),
        ({"max_password_age": 1096}, "max_password_age: 1096 is out of range; IAM accepts 0 to 1095"),
        ({"password_reuse_prevention": 25}, "password_reuse_prevention: 25 is out of range; IAM accepts 0 to 24"),
        ({"password_reuse_prevention": -3}, "password_reuse_prevention: -3 is out of range"),
    ],
)
def test_validate_refuses_out_of_range(settings: dict[str, t.Any], message: str) -> None:
    with pytest.raises(PasswordPolicyError, match=re.escape(message)):
        validate(requested(**settings))


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"allow_users_to_change_password": True}, "allow_users_to_change_password"),
        ({"hard_expiry": False}, "hard_expiry"),
        ({"min_password_length": 10, "require_symbols": True}, "min_password_length, require_symbols"),
    ],
)
def test_validate_refuses_absent_with_settings(settings: dict[str, t.Any], named: str) -> None:
    with pytest.raises(
        PasswordPolicyError, match=re.escape(f"state=absent deletes the whole policy; do not also give {named}")
    ):
        validate(requested(**settings), "absent")


def test_validate_accepts_absent_without_settings() -> None:
    validate(requested(), "absent")
