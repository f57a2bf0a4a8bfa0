# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.modules import account_password_policy

Run = t.Callable[..., dict[str, t.Any]]

# UpdateAccountPasswordPolicy requests that set up the starting policy.
STRICT = {
    "MinimumPasswordLength": 14,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": False,
    "MaxPasswordAge": 90,
    "PasswordReusePrevention": 5,
    "HardExpiry": True,
}
PARTIAL = {"MinimumPasswordLength": 12, "RequireNumbers": True, "RequireLowercaseCharacters": True}
# What GetAccountPasswordPolicy returns for them in moto 5.2.5 (ExpirePasswords derived; 0 age reported,
# unset reuse prevention left out).
STRICT_READ = dict(STRICT, ExpirePasswords=True)
PARTIAL_READ = {
    "MinimumPasswordLength": 12,
    "RequireSymbols": False,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": False,
    "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": False,
    "ExpirePasswords": False,
    "MaxPasswordAge": 0,
    "HardExpiry": False,
}
STRICT_SETTINGS = {
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
NO_POLICY_WARNING = "the account had no password policy"


def read_policy(iam: t.Any) -> dict[str, t.Any] | None:
    try:
        return iam.get_account_password_policy()["PasswordPolicy"]
    except iam.exceptions.NoSuchEntityException:
        return None


def sent_requests(api_calls: t.Any) -> list[dict[str, t.Any]]:
    return api_calls.requests("UpdateAccountPasswordPolicy")


def test_no_policy_creates_aws_defaults_plus_the_named_setting(
    iam: t.Any, api_calls: t.Any, run_module: Run, warning_messages: t.Any
) -> None:
    result = run_module(account_password_policy, {"allow_users_to_change_password": True})

    assert result["changed"] is True
    assert api_calls.writes == ["UpdateAccountPasswordPolicy"]
    assert sent_requests(api_calls) == [
        {
            "MinimumPasswordLength": 8,
            "RequireSymbols": False,
            "RequireNumbers": False,
            "RequireUppercaseCharacters": False,
            "RequireLowercaseCharacters": False,
            "AllowUsersToChangePassword": True,
            "HardExpiry": False,
        }
    ]
    assert read_policy(iam) == {
        "MinimumPasswordLength": 8,
        "RequireSymbols": False,
        "RequireNumbers": False,
        "RequireUppercaseCharacters": False,
        "RequireLowercaseCharacters": False,
        "AllowUsersToChangePassword": True,
        "ExpirePasswords": False,
        "MaxPasswordAge": 0,
        "HardExpiry": False,
    }
    assert result["password_policy"] == {
        "min_password_length": 8,
        "require_symbols": False,
        "require_numbers": False,
        "require_uppercase_characters": False,
        "require_lowercase_characters": False,
        "allow_users_to_change_password": True,
        "max_password_age": 0,
        "password_reuse_prevention": 0,
        "hard_expiry": False,
    }
    assert any(message.startswith(NO_POLICY_WARNING) for message in warning_messages(result))


def test_no_policy_with_several_settings(iam: t.Any, run_module: Run) -> None:
    args = {"allow_users_to_change_password": True, "min_password_length": 16, "require_symbols": True}
    run_module(account_password_policy, args)
    policy = read_policy(iam)
    assert policy is not None
    assert (policy["MinimumPasswordLength"], policy["RequireSymbols"], policy["RequireNumbers"]) == (16, True, False)
    assert policy["AllowUsersToChangePassword"] is True


@pytest.mark.parametrize(
    ("start", "expected_read"),
    [
        pytest.param(STRICT, dict(STRICT_READ, AllowUsersToChangePassword=True), id="strict"),
        pytest.param(PARTIAL, dict(PARTIAL_READ, AllowUsersToChangePassword=True), id="partial"),
        pytest.param(
            {"MinimumPasswordLength": 10, "PasswordReusePrevention": 24, "HardExpiry": False},
            {
                "MinimumPasswordLength": 10,
                "RequireSymbols": False,
                "RequireNumbers": False,
                "RequireUppercaseCharacters": False,
                "RequireLowercaseCharacters": False,
                "AllowUsersToChangePassword": True,
                "ExpirePasswords": False,
                "MaxPasswordAge": 0,
                "PasswordReusePrevention": 24,
                "HardExpiry": False,
            },
            id="reuse-only",
        ),
    ],
)
def test_allowing_password_change_keeps_every_other_setting(
    iam: t.Any, api_calls: t.Any, run_module: Run, start: dict[str, t.Any], expected_read: dict[str, t.Any]
) -> None:
    iam.update_account_password_policy(**start)
    api_calls.clear()

    result = run_module(account_password_policy, {"allow_users_to_change_password": True})

    assert result["changed"] is True
    assert api_calls.writes == ["UpdateAccountPasswordPolicy"]
    assert read_policy(iam) == expected_read

    api_calls.clear()
    again = run_module(account_password_policy, {"allow_users_to_change_password": True})
    assert again["changed"] is False
    assert api_calls.writes == []
    assert read_policy(iam) == expected_read


def test_strict_policy_update_sends_every_field(iam: t.Any, api_calls: t.Any, run_module: Run) -> None:
    iam.update_account_password_policy(**STRICT)
    api_calls.clear()

    run_module(account_password_policy, {"allow_users_to_change_password": True})

    assert sent_requests(api_calls) == [dict(STRICT, AllowUsersToChangePassword=True)]


@pytest.mark.parametrize(
    ("args", "changed_fields"),
    [
        pytest.param({"min_password_length": 20}, {"MinimumPasswordLength": 20}, id="length"),
        pytest.param({"require_symbols": False}, {"RequireSymbols": False}, id="symbols-off"),
        pytest.param({"password_reuse_prevention": 24}, {"PasswordReusePrevention": 24}, id="reuse"),
        pytest.param({"hard_expiry": False}, {"HardExpiry": False}, id="hard-expiry-off"),
        pytest.param({"max_password_age": 0}, {"MaxPasswordAge": 0, "ExpirePasswords": False}, id="expiry-off"),
    ],
)
def test_changing_one_setting_of_a_strict_policy(
    iam: t.Any, api_calls: t.Any, run_module: Run, args: dict[str, t.Any], changed_fields: dict[str, t.Any]
) -> None:
    iam.update_account_password_policy(**STRICT)
    api_calls.clear()

    result = run_module(account_password_policy, args)

    assert result["changed"] is True
    assert api_calls.writes == ["UpdateAccountPasswordPolicy"]
    assert read_policy(iam) == dict(STRICT_READ, **changed_fields)


def test_reuse_prevention_off_removes_it(iam: t.Any, run_module: Run) -> None:
    iam.update_account_password_policy(**STRICT)
    run_module(account_password_policy, {"password_reuse_prevention": 0})
    policy = read_policy(iam)
    assert policy is not None
    assert "PasswordReusePrevention" not in policy
    assert policy == {k: v for k, v in STRICT_READ.items() if k != "PasswordReusePrevention"}


@pytest.mark.parametrize(
    "args",
    [
        pytest.param({}, id="nothing-named"),
        pytest.param({"min_password_length": 14, "hard_expiry": True}, id="same-values"),
        pytest.param(
            dict(STRICT_SETTINGS),
            id="every-setting-the-same",
        ),
    ],
)
def test_matching_policy_is_not_written(iam: t.Any, api_calls: t.Any, run_module: Run, args: dict[str, t.Any]) -> None:
    iam.update_account_password_policy(**STRICT)
    api_calls.clear()

    result = run_module(account_password_policy, args)

    assert result["changed"] is False
    assert api_calls.writes == []
    assert result["password_policy"] == STRICT_SETTINGS


@pytest.mark.parametrize("check_mode", [False, True])
def test_nothing_named_and_no_policy_creates_nothing(
    iam: t.Any, api_calls: t.Any, run_module: Run, check_mode: bool
) -> None:
    result = run_module(account_password_policy, {}, check_mode=check_mode, diff=True)

    assert result["changed"] is False
    assert result["password_policy"] == {}
    assert result["diff"] == {"before": {}, "after": {}}
    assert api_calls.writes == []
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_account_password_policy()


def test_existing_policy_gives_no_warning(iam: t.Any, run_module: Run, warning_messages: t.Any) -> None:
    iam.update_account_password_policy(**STRICT)
    result = run_module(account_password_policy, {"allow_users_to_change_password": True})
    assert warning_messages(result) == []


def test_check_mode_with_diff(iam: t.Any, api_calls: t.Any, run_module: Run) -> None:
    iam.update_account_password_policy(**STRICT)
    api_calls.clear()

    result = run_module(account_password_policy, {"allow_users_to_change_password": True}, check_mode=True, diff=True)

    assert result["changed"] is True
    assert api_calls.writes == []
    assert read_policy(iam) == STRICT_READ
    assert result["diff"] == {
        "before": STRICT_SETTINGS,
        "after": dict(STRICT_SETTINGS, allow_users_to_change_password=True),
    }
    assert result["password_policy"] == dict(STRICT_SETTINGS, allow_users_to_change_password=True)


def test_check_mode_without_a_policy(iam: t.Any, api_calls: t.Any, run_module: Run, warning_messages: t.Any) -> None:
    result = run_module(account_password_policy, {"allow_users_to_change_password": True}, check_mode=True, diff=True)

    assert result["changed"] is True
    assert api_calls.writes == []
    assert read_policy(iam) is None
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["allow_users_to_change_password"] is True
    assert result["diff"]["after"]["min_password_length"] == 8
    assert any(message.startswith(NO_POLICY_WARNING) for message in warning_messages(result))


def test_check_apply_check_apply(iam: t.Any, api_calls: t.Any, run_module: Run) -> None:
    iam.update_account_password_policy(**PARTIAL)
    api_calls.clear()
    args = {"allow_users_to_change_password": True}

    assert run_module(account_password_policy, args, check_mode=True)["changed"] is True
    assert api_calls.writes == []
    assert run_module(account_password_policy, args)["changed"] is True
    assert api_calls.writes == ["UpdateAccountPasswordPolicy"]
    api_calls.clear()
    assert run_module(account_password_policy, args, check_mode=True)["changed"] is False
    assert run_module(account_password_policy, args)["changed"] is False
    assert api_calls.writes == []


def test_diff_without_change(iam: t.Any, run_module: Run) -> None:
    iam.update_account_password_policy(**STRICT)
    result = run_module(account_password_policy, {"hard_expiry": True}, diff=True)
    assert result["diff"] == {"before": STRICT_SETTINGS, "after": STRICT_SETTINGS}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"min_password_length": 5}, "min_password_length: 5 is out of range; IAM accepts 6 to 128"),
        ({"min_password_length": 129}, "min_password_length: 129 is out of range"),
        ({"max_password_age": 1096}, "max_password_age: 1096 is out of range; IAM accepts 0 to 1095"),
        ({"max_password_age": -1}, "max_password_age: -1 is out of range"),
        ({"password_reuse_prevention": 25}, "password_reuse_prevention: 25 is out of range; IAM accepts 0 to 24"),
        ({"allow_users_to_change_password": "perhaps"}, "allow_users_to_change_password"),
        ({"min_password_length": "long"}, "min_password_length"),
        ({"state": "gone"}, "value of state must be one of: present, absent, got: gone"),
        (
            {"state": "absent", "allow_users_to_change_password": True},
            "state=absent deletes the whole policy; do not also give allow_users_to_change_password",
        ),
    ],
)
def test_bad_input_fails_before_any_api_call(
    iam: t.Any, api_calls: t.Any, run_module: Run, args: dict[str, t.Any], message: str
) -> None:
    iam.update_account_password_policy(**STRICT)
    api_calls.clear()

    result = run_module(account_password_policy, args)

    assert result["failed"] is True
    assert message in result["msg"]
    assert api_calls.names == []
    assert read_policy(iam) == STRICT_READ


def test_absent_deletes_the_policy(iam: t.Any, api_calls: t.Any, run_module: Run) -> None:
    iam.update_account_password_policy(**STRICT)
    api_calls.clear()

    result = run_module(account_password_policy, {"state": "absent"}, diff=True)

    assert result["changed"] is True
    assert api_calls.writes == ["DeleteAccountPasswordPolicy"]
    assert read_policy(iam) is None
    assert result["password_policy"] == {}
    assert result["diff"] == {"before": STRICT_SETTINGS, "after": {}}

    api_calls.clear()
    again = run_module(account_password_policy, {"state": "absent"})
    assert again["changed"] is False
    assert api_calls.writes == []


def test_absent_in_check_mode(iam: t.Any, api_calls: t.Any, run_module: Run) -> None:
    iam.update_account_password_policy(**STRICT)
    api_calls.clear()

    result = run_module(account_password_policy, {"state": "absent"}, check_mode=True)

    assert result["changed"] is True
    assert api_calls.writes == []
    assert read_policy(iam) == STRICT_READ
