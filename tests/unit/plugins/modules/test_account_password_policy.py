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
# A policy weaker than everything: no class, the shortest length IAM accepts, no reuse prevention, no expiry.
WEAK = {
    "MinimumPasswordLength": 6,
    "RequireSymbols": False,
    "RequireNumbers": False,
    "RequireUppercaseCharacters": False,
    "RequireLowercaseCharacters": False,
    "AllowUsersToChangePassword": False,
    "HardExpiry": False,
}
WEAK_READ = dict(WEAK, ExpirePasswords=False, MaxPasswordAge=0)
WEAK_SETTINGS = {
    "min_password_length": 6,
    "require_symbols": False,
    "require_numbers": False,
    "require_uppercase_characters": False,
    "require_lowercase_characters": False,
    "allow_users_to_change_password": False,
    "max_password_age": 0,
    "password_reuse_prevention": 0,
    "hard_expiry": False,
}
NO_POLICY_WARNING = "the account had no password policy"


def read_policy(iam: t.Any) -> dict[str, t.Any] | None:
    try:
        return iam.get_account_password_policy()["PasswordPolicy"]
    except iam.exceptions.NoSuchEntityException:
        return None


def sent_requests(api_calls: t.Any) -> list[dict[str, t.Any]]:
    return api_calls.requests("UpdateAccountPasswordPolicy")


# What a fresh account gets when the operator names only allow_users_to_change_password (the bootstrap role's
# default): the CIS AWS Foundations values for every floor setting.
CIS_REQUEST = {
    "MinimumPasswordLength": 14,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": True,
    "PasswordReusePrevention": 24,
    "HardExpiry": False,
}
CIS_READ = dict(CIS_REQUEST, ExpirePasswords=False, MaxPasswordAge=0)
CIS_SETTINGS = {
    "min_password_length": 14,
    "require_symbols": True,
    "require_numbers": True,
    "require_uppercase_characters": True,
    "require_lowercase_characters": True,
    "allow_users_to_change_password": True,
    "max_password_age": 0,
    "password_reuse_prevention": 24,
    "hard_expiry": False,
}
EVERY_FLOOR_SETTING = [
    "min_password_length",
    "require_symbols",
    "require_numbers",
    "require_uppercase_characters",
    "require_lowercase_characters",
    "password_reuse_prevention",
]
FLOOR_WARNING = (
    "the account had no password policy; the new one got the CIS AWS Foundations value for every setting not named: "
    "min_password_length=14, require_symbols=true, require_numbers=true, require_uppercase_characters=true, "
    "require_lowercase_characters=true, password_reuse_prevention=24"
)
WEAKER_WARNING = "the new one keeps the named settings that are weaker than the CIS AWS Foundations values"


def test_no_policy_creates_the_cis_floor_plus_the_named_setting(
    iam: t.Any, api_calls: t.Any, run_module: Run, warning_messages: t.Any
) -> None:
    result = run_module(account_password_policy, {"allow_users_to_change_password": True})

    assert result["changed"] is True
    assert api_calls.writes == ["UpdateAccountPasswordPolicy"]
    assert sent_requests(api_calls) == [CIS_REQUEST]
    assert read_policy(iam) == CIS_READ
    assert result["password_policy"] == CIS_SETTINGS
    assert result["floor_settings"] == EVERY_FLOOR_SETTING
    assert result["below_floor"] == []
    (message,) = [m for m in warning_messages(result) if m.startswith(NO_POLICY_WARNING)]
    assert message.startswith(FLOOR_WARNING)
    assert "AWS's built-in default" in message


def test_no_policy_the_named_settings_keep_their_values(
    iam: t.Any, api_calls: t.Any, run_module: Run, warning_messages: t.Any
) -> None:
    args = {"allow_users_to_change_password": True, "min_password_length": 16, "require_symbols": False}
    result = run_module(account_password_policy, args)

    assert sent_requests(api_calls) == [dict(CIS_REQUEST, MinimumPasswordLength=16, RequireSymbols=False)]
    assert read_policy(iam) == dict(CIS_READ, MinimumPasswordLength=16, RequireSymbols=False)
    assert result["floor_settings"] == [
        "require_numbers",
        "require_uppercase_characters",
        "require_lowercase_characters",
        "password_reuse_prevention",
    ]
    # 16 is stronger than the floor; symbols off is weaker: kept, and named in a warning.
    assert result["below_floor"] == ["require_symbols"]
    messages = warning_messages(result)
    assert any(
        "the account had no password policy; the new one got the CIS AWS Foundations value for every setting not "
        "named: require_numbers=true, require_uppercase_characters=true, require_lowercase_characters=true, "
        "password_reuse_prevention=24" in message
        for message in messages
    )
    assert any(
        WEAKER_WARNING + ": require_symbols=false (CIS AWS Foundations: true)" in message for message in messages
    )


def test_no_policy_an_operator_choosing_length_8_gets_it_with_a_warning(
    iam: t.Any, run_module: Run, warning_messages: t.Any
) -> None:
    result = run_module(account_password_policy, {"allow_users_to_change_password": True, "min_password_length": 8})

    assert read_policy(iam) == dict(CIS_READ, MinimumPasswordLength=8)
    assert result["floor_settings"] == EVERY_FLOOR_SETTING[1:]
    assert result["below_floor"] == ["min_password_length"]
    assert any(
        WEAKER_WARNING + ": min_password_length=8 (CIS AWS Foundations: 14)" in message
        for message in warning_messages(result)
    )


def test_no_policy_every_setting_named_gets_no_floor(iam: t.Any, run_module: Run, warning_messages: t.Any) -> None:
    args = dict(STRICT_SETTINGS, password_reuse_prevention=24)
    result = run_module(account_password_policy, args)

    assert result["changed"] is True
    assert read_policy(iam) == dict(STRICT_READ, PasswordReusePrevention=24)
    assert result["floor_settings"] == []
    assert result["below_floor"] == []
    assert not any(message.startswith(NO_POLICY_WARNING) for message in warning_messages(result))


def test_no_policy_a_second_run_changes_nothing(
    iam: t.Any, api_calls: t.Any, run_module: Run, warning_messages: t.Any
) -> None:
    args = {"allow_users_to_change_password": True}
    run_module(account_password_policy, args)
    api_calls.clear()

    again = run_module(account_password_policy, args, diff=True)

    assert again["changed"] is False
    assert api_calls.writes == []
    assert again["password_policy"] == CIS_SETTINGS
    assert again["floor_settings"] == []
    assert again["below_floor"] == []
    assert again["diff"] == {"before": CIS_SETTINGS, "after": CIS_SETTINGS}
    assert not any(message.startswith(NO_POLICY_WARNING) for message in warning_messages(again))
    assert read_policy(iam) == CIS_READ


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
    assert result["floor_settings"] == []
    assert api_calls.writes == []
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_account_password_policy()


@pytest.mark.parametrize("start", [pytest.param(STRICT, id="strict"), pytest.param(WEAK, id="weak")])
def test_existing_policy_gives_no_warning_and_no_floor(
    iam: t.Any, run_module: Run, warning_messages: t.Any, start: dict[str, t.Any]
) -> None:
    iam.update_account_password_policy(**start)
    result = run_module(account_password_policy, {"allow_users_to_change_password": True, "min_password_length": 8})
    assert warning_messages(result) == []
    assert result["floor_settings"] == []
    assert result["below_floor"] == []


@pytest.mark.parametrize("check_mode", [False, True])
def test_existing_weak_policy_is_not_raised_to_the_floor(
    iam: t.Any, api_calls: t.Any, run_module: Run, check_mode: bool
) -> None:
    # No class, length 6, no reuse prevention: weaker than the floor and than AWS's built-in default, but the
    # operator's. Only the named setting changes; the request carries the rest exactly as read.
    iam.update_account_password_policy(**WEAK)
    api_calls.clear()

    result = run_module(
        account_password_policy, {"allow_users_to_change_password": True}, check_mode=check_mode, diff=True
    )

    assert result["changed"] is True
    assert result["diff"] == {
        "before": WEAK_SETTINGS,
        "after": dict(WEAK_SETTINGS, allow_users_to_change_password=True),
    }
    if check_mode:
        assert api_calls.writes == []
        assert read_policy(iam) == WEAK_READ
    else:
        assert sent_requests(api_calls) == [dict(WEAK, AllowUsersToChangePassword=True)]
        assert read_policy(iam) == dict(WEAK_READ, AllowUsersToChangePassword=True)


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


def test_check_mode_without_a_policy_predicts_the_floor(
    iam: t.Any, api_calls: t.Any, run_module: Run, warning_messages: t.Any
) -> None:
    result = run_module(account_password_policy, {"allow_users_to_change_password": True}, check_mode=True, diff=True)

    assert result["changed"] is True
    assert api_calls.writes == []
    assert read_policy(iam) is None
    assert result["diff"] == {"before": {}, "after": CIS_SETTINGS}
    assert result["password_policy"] == CIS_SETTINGS
    assert result["floor_settings"] == EVERY_FLOOR_SETTING
    assert any(
        FLOOR_WARNING.replace("the new one got", "the new one would get") in message
        for message in warning_messages(result)
    )


def test_check_mode_then_apply_without_a_policy(iam: t.Any, api_calls: t.Any, run_module: Run) -> None:
    args = {"allow_users_to_change_password": True, "min_password_length": 8}
    predicted = run_module(account_password_policy, args, check_mode=True, diff=True)
    assert api_calls.writes == []
    applied = run_module(account_password_policy, args, diff=True)

    assert {k: predicted[k] for k in ("changed", "password_policy", "floor_settings", "below_floor", "diff")} == {
        k: applied[k] for k in ("changed", "password_policy", "floor_settings", "below_floor", "diff")
    }
    assert api_calls.writes == ["UpdateAccountPasswordPolicy"]
    assert run_module(account_password_policy, args, check_mode=True)["changed"] is False


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
