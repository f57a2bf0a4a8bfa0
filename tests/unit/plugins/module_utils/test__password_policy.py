# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import re
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _password
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import AWS_DEFAULTS
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import CIS_FLOOR
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import FIELDS
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import NEW_POLICY
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import PasswordPolicyError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import below_floor
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import floor_messages
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import floor_settings
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
                "MinimumPasswordLength": 14,
                "RequireSymbols": True,
                "RequireNumbers": True,
                "RequireUppercaseCharacters": True,
                "RequireLowercaseCharacters": True,
                "AllowUsersToChangePassword": True,
                "PasswordReusePrevention": 24,
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


def test_merge_without_a_policy_starts_from_the_floor_and_leaves_it_alone() -> None:
    floor, defaults = dict(CIS_FLOOR), dict(AWS_DEFAULTS)
    merged = merge(None, requested(require_numbers=False, min_password_length=16))
    assert merged == {
        "min_password_length": 16,
        "require_symbols": True,
        "require_numbers": False,
        "require_uppercase_characters": True,
        "require_lowercase_characters": True,
        "allow_users_to_change_password": False,
        "max_password_age": 0,
        "password_reuse_prevention": 24,
        "hard_expiry": False,
    }
    assert (floor, defaults) == (CIS_FLOOR, AWS_DEFAULTS)


# --- the floor: a policy created on an account without one -------------------------------------------------------


def test_the_floor_is_cis_aws_foundations() -> None:
    assert CIS_FLOOR == {
        "min_password_length": 14,
        "require_symbols": True,
        "require_numbers": True,
        "require_uppercase_characters": True,
        "require_lowercase_characters": True,
        "password_reuse_prevention": 24,
    }
    # Expiry, hard expiry and changing one's own password are not the floor's: off unless named (the bootstrap role
    # names allow_users_to_change_password).
    assert {k: v for k, v in NEW_POLICY.items() if k not in CIS_FLOOR} == {
        "allow_users_to_change_password": False,
        "max_password_age": 0,
        "hard_expiry": False,
    }
    validate(dict(CIS_FLOOR))


EVERY_FLOOR_SETTING = [option for option in FIELDS if option in CIS_FLOOR]


@pytest.mark.parametrize(
    ("current", "named", "floored"),
    [
        pytest.param(None, {"allow_users_to_change_password": True}, EVERY_FLOOR_SETTING, id="fresh-role-default"),
        pytest.param(None, {"hard_expiry": False}, EVERY_FLOOR_SETTING, id="fresh-a-non-floor-setting-false"),
        pytest.param(None, {"max_password_age": 0}, EVERY_FLOOR_SETTING, id="fresh-age-0-named"),
        pytest.param(
            None, {"min_password_length": 8, "require_symbols": False}, EVERY_FLOOR_SETTING[2:], id="fresh-two-named"
        ),
        # 0 is a value the operator named (no reuse prevention), not "not named".
        pytest.param(None, {"password_reuse_prevention": 0}, EVERY_FLOOR_SETTING[:-1], id="fresh-reuse-0-named"),
        pytest.param(None, dict(STRICT), [], id="fresh-every-setting-named"),
        pytest.param(None, {}, [], id="fresh-nothing-named-nothing-created"),
        pytest.param(STRICT, {"allow_users_to_change_password": True}, [], id="existing-strict"),
        pytest.param(from_api(ALREADY_ALLOWED_API), {"allow_users_to_change_password": True}, [], id="existing-weak"),
        pytest.param(from_api(ALREADY_ALLOWED_API), {}, [], id="existing-nothing-named"),
    ],
)
def test_floor_settings(current: dict[str, t.Any] | None, named: dict[str, t.Any], floored: list[str]) -> None:
    request = requested(**named)
    assert floor_settings(current, request) == floored
    if current is None and floored:
        merged = merge(current, request)
        # Exactly the listed settings hold the floor's value without the operator having named them.
        assert [o for o in FIELDS if o in CIS_FLOOR and request[o] is None and merged[o] == CIS_FLOOR[o]] == floored
        assert all(merged[o] == v for o, v in named.items())


@pytest.mark.parametrize(
    ("named", "weaker"),
    [
        pytest.param({"min_password_length": 8}, ["min_password_length"], id="length-8"),
        pytest.param({"min_password_length": 14}, [], id="length-14"),
        pytest.param({"min_password_length": 20}, [], id="length-20"),
        pytest.param({"require_uppercase_characters": False}, ["require_uppercase_characters"], id="upper-off"),
        pytest.param({"require_uppercase_characters": True}, [], id="upper-on"),
        pytest.param({"password_reuse_prevention": 0}, ["password_reuse_prevention"], id="reuse-0"),
        pytest.param({"password_reuse_prevention": 23}, ["password_reuse_prevention"], id="reuse-23"),
        pytest.param({"password_reuse_prevention": 24}, [], id="reuse-24"),
        pytest.param({"max_password_age": 0, "hard_expiry": False}, [], id="not-floor-settings"),
        pytest.param(
            {"password_reuse_prevention": 5, "require_numbers": False, "min_password_length": 6},
            ["min_password_length", "require_numbers", "password_reuse_prevention"],
            id="three-in-fields-order",
        ),
        pytest.param({}, [], id="nothing-named"),
    ],
)
def test_below_floor_on_a_new_policy(named: dict[str, t.Any], weaker: list[str]) -> None:
    assert below_floor(None, requested(**named)) == weaker


@pytest.mark.parametrize("current", [pytest.param(STRICT, id="strict"), pytest.param(from_api(PARTIAL_API), id="weak")])
def test_below_floor_never_judges_an_existing_policy(current: dict[str, t.Any]) -> None:
    assert below_floor(current, requested(min_password_length=6, require_symbols=False)) == []


def test_floor_messages_name_the_settings_and_cis() -> None:
    request = requested(min_password_length=8, require_symbols=False, allow_users_to_change_password=True)
    floored, weaker = floor_settings(None, request), below_floor(None, request)
    assert floor_messages(floored, weaker, request, check_mode=False) == [
        "the account had no password policy; the new one got the CIS AWS Foundations value for every setting not "
        "named: require_numbers=true, require_uppercase_characters=true, require_lowercase_characters=true, "
        "password_reuse_prevention=24 (AWS's built-in default, which it replaces, asks for 8 characters and three "
        "of the four character classes; name a setting to choose its value)",
        "the account had no password policy; the new one keeps the named settings that are weaker than the CIS AWS "
        "Foundations values: min_password_length=8 (CIS AWS Foundations: 14), require_symbols=false (CIS AWS "
        "Foundations: true)",
    ]
    done = floor_messages(floored, weaker, request, check_mode=False)
    predicted = floor_messages(floored, weaker, request, check_mode=True)
    assert predicted == [
        done[0].replace("the new one got", "the new one would get"),
        done[1].replace("the new one keeps", "the new one would keep"),
    ]
    assert predicted != done


def test_floor_messages_none_without_a_floor() -> None:
    assert floor_messages([], [], requested(allow_users_to_change_password=True), check_mode=False) == []


def test_generated_passwords_satisfy_the_floor() -> None:
    # A freshly bootstrapped account asks for the floor: the generator must satisfy it, and explicit passwords are
    # checked against it.
    settings = merge(None, requested(allow_users_to_change_password=True))
    assert settings["min_password_length"] == 14
    for _attempt in range(1000):
        assert _password.problems(_password.generate(settings), settings) == []
    assert _password.problems("Short1!a", settings) == [
        "password has 8 characters; the account password policy requires at least 14"
    ]
    assert _password.problems("all-lowercase-but-long-enough", settings) == [
        "password has no uppercase letter; the account password policy requires one",
        "password has no digit; the account password policy requires one",
    ]


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
        pytest.param(NEW_POLICY, id="new-policy"),
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
