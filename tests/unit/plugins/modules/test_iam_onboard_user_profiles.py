# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""iam_onboard_user's promotion profiles against an in-process moto IAM: the profile recorded at onboarding, grants
by profile at promotion, all_ready, and invariant 8 (a tag selects a profile by name, never grants by itself)."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _run
from ansible_collections.mfa_onboarding.iam.plugins.modules import iam_onboard_user
from ansible_collections.mfa_onboarding.iam.tests.support import iam_state
from ansible_collections.mfa_onboarding.iam.tests.support.recorder import is_write
from ansible_collections.mfa_onboarding.iam.tests.support.scenario import user_state

Run = t.Callable[..., dict[str, t.Any]]

GROUP = iam_state.ONBOARDING_GROUP
CURRENT = iam_state.CURRENT_USERS_ARN
APP = iam_state.EXTRA_POLICY_ARN
TAG = "mfa-onboarding:profile"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
PROFILES = {"developer": {"groups": ["Developers"]}, "analyst": {"managed_policies": ["AppReadOnly"]}}
SWEEP = {"state": "promoted", "users": [], "all_ready": True, "profiles": PROFILES}


def make_user(iam: t.Any, name: str, kind: str, enable_mfa: t.Callable[..., str]) -> None:
    """onboarding (a password, in the onboarding group), ready (and an MFA device), promoted (and promoted)."""
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password="Existing-Passw0rd!x", PasswordResetRequired=False)
    iam.add_user_to_group(UserName=name, GroupName=GROUP)
    if kind == "onboarding":
        return
    enable_mfa(name)
    if kind == "promoted":
        iam.attach_user_policy(UserName=name, PolicyArn=CURRENT)
        iam.remove_user_from_group(UserName=name, GroupName=GROUP)


def snapshot(iam: t.Any, name: str) -> dict[str, t.Any]:
    state = user_state(iam, name)
    return {
        "groups": sorted(state.groups),
        "policies": sorted(f"arn:aws:iam::{iam_state.ACCOUNT}:policy/{p}" for p in state.attached),
        "tags": state.tags,
        "mfa_devices": state.mfa_serials,
        "login_profile": state.login_profile,
    }


def writes_with_params(api_calls: t.Any) -> list[tuple[str, dict[str, t.Any]]]:
    return [(name, params) for name, params in api_calls.calls if is_write(name)]


def tag(iam: t.Any, name: str, value: str) -> None:
    iam.tag_user(UserName=name, Tags=[{"Key": TAG, "Value": value}])


def by_name(result: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    return {r["name"]: r for r in result["users"]}


# Recorded at onboarding


def test_a_new_users_profile_is_in_create_users_tags(bootstrapped: t.Any, api_calls: t.Any, run_module: Run) -> None:
    result = run_module(iam_onboard_user, {"name": "alice", "promotion_profile": "developer", "tags": {"team": "data"}})

    assert result["changed"] is True
    create = [p for n, p in writes_with_params(api_calls) if n == "CreateUser"]
    assert create[0]["Tags"] == [{"Key": "team", "Value": "data"}, {"Key": TAG, "Value": "developer"}]
    assert "TagUser" not in api_calls.names
    assert result["profile"] == "developer"


def test_an_onboarding_users_profile_is_changed_only_when_given(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    make_user(iam, "alice", "ready", enable_mfa)
    tag(iam, "alice", "developer")
    iam.tag_user(UserName="alice", Tags=[{"Key": "team", "Value": "data"}])
    api_calls.clear()

    unchanged = run_module(iam_onboard_user, {"name": "alice", "purge_tags": True})
    assert (unchanged["changed"], api_calls.writes) == (False, [])
    assert unchanged["profile"] == "developer"

    changed = run_module(iam_onboard_user, {"name": "alice", "promotion_profile": "analyst", "purge_tags": True})
    # purge_tags purges only among given tags: a profile alone purges nothing (team stays)
    assert writes_with_params(api_calls) == [
        ("TagUser", {"UserName": "alice", "Tags": [{"Key": TAG, "Value": "analyst"}]})
    ]
    assert changed["profile"] == "analyst"
    assert snapshot(iam, "alice")["tags"] == {TAG: "analyst", "team": "data"}


def test_a_promoted_users_profile_is_not_recorded(
    bootstrapped: t.Any,
    api_calls: t.Any,
    run_module: Run,
    iam: t.Any,
    enable_mfa: t.Callable[..., str],
    warning_messages: t.Any,
) -> None:
    make_user(iam, "alice", "promoted", enable_mfa)
    api_calls.clear()

    result = run_module(iam_onboard_user, {"name": "alice", "promotion_profile": "analyst"})

    assert (result["changed"], api_calls.writes) == (False, [])
    assert any("its profile analyst was not recorded" in w for w in warning_messages(result))


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ("Admins,Ops", "profile of user alice: the profile name 'Admins,Ops' holds ','"),
        (ADMIN, "profile of user alice: the profile name"),
        ("", "profile of user alice: a profile name must be a non-empty text"),
        ("x" * 257, "has 257 characters"),
    ],
)
def test_a_profile_that_a_tag_cannot_hold_fails_before_any_call(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, profile: str, message: str
) -> None:
    result = run_module(iam_onboard_user, {"users": [{"name": "bob"}, {"name": "alice", "profile": profile}]})

    assert result["failed"] is True
    assert message in result["msg"]
    assert api_calls.names == []


# Promoted by profile


def test_a_listed_user_gets_its_own_grants_and_its_recorded_profiles(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    make_user(iam, "alice", "ready", enable_mfa)
    tag(iam, "alice", "analyst")

    result = run_module(
        iam_onboard_user,
        {"state": "promoted", "profiles": PROFILES, "users": [{"name": "alice", "groups": ["Developers"]}]},
    )

    assert result["users"][0]["profile"] == "analyst"
    state = snapshot(iam, "alice")
    assert state is not None
    assert (state["groups"], state["policies"]) == (["Developers"], sorted([APP, CURRENT]))


def test_a_listed_profile_wins_over_the_recorded_one(
    bootstrapped: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    make_user(iam, "alice", "ready", enable_mfa)
    tag(iam, "alice", "analyst")

    result = run_module(
        iam_onboard_user, {"state": "promoted", "profiles": PROFILES, "name": "alice", "promotion_profile": "developer"}
    )

    assert result["profile"] == "developer"
    assert snapshot(iam, "alice")["policies"] == [CURRENT]


def test_a_run_without_profiles_does_not_apply_a_recorded_one(
    bootstrapped: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str], warning_messages: t.Any
) -> None:
    make_user(iam, "alice", "ready", enable_mfa)
    tag(iam, "alice", "admin")

    result = run_module(iam_onboard_user, {"state": "promoted", "name": "alice"})

    assert result["stage"] == "promoted"
    assert any("this run defines no profiles" in w for w in warning_messages(result))
    state = snapshot(iam, "alice")
    assert state is not None and (state["groups"], state["policies"]) == ([], [CURRENT])


def test_a_listed_profile_that_is_not_defined_fails_before_any_call(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run
) -> None:
    result = run_module(
        iam_onboard_user, {"state": "promoted", "profiles": PROFILES, "name": "alice", "promotion_profile": "admin"}
    )

    assert (
        "profile of user alice: admin is not one of the profiles this run defines (analyst, developer)" in result["msg"]
    )
    assert api_calls.names == []


def test_a_profile_naming_a_group_or_policy_that_does_not_exist_refuses_the_whole_run(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    make_user(iam, "alice", "ready", enable_mfa)
    tag(iam, "alice", "developer")
    profiles = dict(PROFILES, ops={"groups": ["Devlopers"], "managed_policies": ["NoSuchPolicy"]})
    api_calls.clear()

    result = run_module(iam_onboard_user, dict(SWEEP, profiles=profiles))

    assert result["failed"] is True
    assert result["msg"].startswith(
        "profiles.ops: groups not found: Devlopers; managed policies not found: NoSuchPolicy"
    )
    assert result["msg"].endswith("nothing was changed")
    assert api_calls.writes == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"all_ready": True},
            "all_ready: the users it finds are promoted by their recorded profile only, and profiles is empty",
        ),
        ({"all_ready": True, "profiles": {}}, "profiles is empty"),
        ({"profiles": ["developer"]}, "argument 'profiles' is of type list and we were unable to convert to dict"),
        ({"profiles": {"developer": ["Developers"]}}, "profiles.developer: must be a mapping with groups and"),
        (
            {"profiles": {"dev": {"groups": ["NotYetLoginUsers"]}}},
            "profiles.dev.groups: NotYetLoginUsers is the onboarding group",
        ),
        ({"profiles": PROFILES, "default_profile": "admin"}, "default_profile: admin is not one of the profiles"),
    ],
)
def test_bad_promotion_options_fail_before_any_call(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, args: dict[str, t.Any], message: str
) -> None:
    result = run_module(iam_onboard_user, dict({"state": "promoted", "users": []}, **args))

    assert result["failed"] is True
    assert message in result["msg"]
    assert api_calls.names == []


@pytest.mark.parametrize("state", ["onboarding", "expired", "disabled", "absent"])
def test_promotion_options_in_another_state_fail_before_any_call(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, state: str
) -> None:
    result = run_module(iam_onboard_user, {"name": "alice", "state": state, "profiles": PROFILES, "all_ready": True})

    assert f"profiles, all_ready: only with state=promoted (a promotion's grants), not {state}" in result["msg"]
    assert api_calls.names == []


# all_ready and invariant 8


@pytest.fixture
def ready_account(iam: t.Any, bootstrapped: t.Any, enable_mfa: t.Callable[..., str]) -> None:
    """dev (developer), ana (analyst), none (no profile), arn (tag rewritten to AdministratorAccess's ARN), ghost
    (a profile nobody defined), list (a list of groups), all ready; wait (onboarding, no MFA) and off (ready, then
    disabled); a group Admins."""
    iam.create_group(GroupName="Admins")
    for name, value in (
        ("dev", "developer"),
        ("ana", "analyst"),
        ("none", None),
        ("arn", ADMIN),
        ("ghost", "admin"),
        ("list", "Admins,Developers"),
        ("off", "developer"),
    ):
        make_user(iam, name, "ready", enable_mfa)
        if value is not None:
            tag(iam, name, value)
    iam.tag_user(UserName="off", Tags=[{"Key": "mfa-onboarding:disabled", "Value": "2026-11-30"}])
    make_user(iam, "wait", "onboarding", enable_mfa)
    tag(iam, "wait", "developer")


TAMPERED = ("arn", "ghost", "list")


def test_all_ready_promotes_by_profile_and_refuses_every_tag_that_is_no_profile(
    ready_account: None, api_calls: t.Any, run_module: Run, iam: t.Any
) -> None:
    before = {name: snapshot(iam, name) for name in (*TAMPERED, "none", "wait", "off")}

    result = run_module(iam_onboard_user, SWEEP)

    users = by_name(result)
    assert sorted(users) == ["ana", "arn", "dev", "ghost", "list", "none"]  # not wait (no MFA), not off (disabled)
    assert all(u["found_ready"] and u["listed"] is False for u in users.values())
    assert [n for n, u in users.items() if not u["failed"]] == ["ana", "dev"]
    assert (users["dev"]["profile"], users["ana"]["profile"]) == ("developer", "analyst")
    assert users["dev"]["summary"] == "dev: promoted by profile developer, changed (found ready, not listed)"
    assert users["arn"]["summary"].startswith("arn: refused: user arn is not promoted: its profile tag")
    assert snapshot(iam, "dev")["groups"] == ["Developers"]
    assert snapshot(iam, "ana")["policies"] == sorted([APP, CURRENT])
    assert "holds the ARN 'arn:aws:iam::aws:policy/AdministratorAccess'" in users["arn"]["msg"]
    assert "names the profile 'admin', which is not defined" in users["ghost"]["msg"]
    assert "holds a list ('Admins,Developers')" in users["list"]["msg"]
    assert "has no profile recorded (tag mfa-onboarding:profile) and no default_profile is set" in users["none"]["msg"]
    for name in (*TAMPERED, "none"):
        assert users[name]["refused"] is True
        assert users[name]["msg"].startswith(f"user {name} ")
        assert users[name]["msg"] in result["msg"]
    # nothing at all for the refused, the waiting and the disabled
    written = {params.get("UserName") for _name, params in writes_with_params(api_calls)}
    assert written == {"dev", "ana"}
    assert {name: snapshot(iam, name) for name in before} == before


def test_all_ready_applies_the_default_profile_only_to_users_without_one(
    ready_account: None, run_module: Run, iam: t.Any
) -> None:
    result = run_module(iam_onboard_user, dict(SWEEP, default_profile="analyst"))

    users = by_name(result)
    assert users["none"]["failed"] is False and users["none"]["profile"] == "analyst"
    assert snapshot(iam, "none")["policies"] == sorted([APP, CURRENT])
    for name in TAMPERED:  # a tampered tag is never replaced by the default
        assert users[name]["refused"] is True
        assert snapshot(iam, name)["groups"] == [GROUP]


def test_all_ready_rerun_and_a_run_with_nobody_ready_change_nothing(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    make_user(iam, "dev", "ready", enable_mfa)
    tag(iam, "dev", "developer")
    make_user(iam, "wait", "onboarding", enable_mfa)
    first = run_module(iam_onboard_user, SWEEP)
    assert [(u["name"], u["stage"], u["changed"]) for u in first["users"]] == [("dev", "promoted", True)]
    api_calls.clear()

    again = run_module(iam_onboard_user, SWEEP)

    assert (again["changed"], again.get("failed", False), again["users"]) == (False, False, [])
    assert api_calls.writes == []
    assert "ListMFADevices" in api_calls.names  # wait was looked at, and left alone


def test_a_listed_user_is_not_found_again(
    bootstrapped: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    make_user(iam, "Dev", "ready", enable_mfa)
    tag(iam, "Dev", "developer")

    result = run_module(iam_onboard_user, dict(SWEEP, users=[{"name": "Dev", "managed_policies": ["AppReadOnly"]}]))

    assert [(u["name"], u.get("found_ready", False)) for u in result["users"]] == [("Dev", False)]
    state = snapshot(iam, "Dev")
    assert state is not None and (state["groups"], state["policies"]) == (["Developers"], sorted([APP, CURRENT]))


def test_a_user_who_lost_its_device_after_it_was_found_is_refused(
    bootstrapped: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(iam, "dev", "ready", enable_mfa)
    tag(iam, "dev", "developer")
    found = _run.read_mfa_devices

    def found_then_lost(client: t.Any, name: str) -> t.Any:
        devices = found(client, name)
        for device in devices:  # someone deactivates it between the sweep's look and the writes
            iam.deactivate_mfa_device(UserName=name, SerialNumber=device.serial_number)
        return devices

    monkeypatch.setattr(_run, "read_mfa_devices", found_then_lost)

    result = run_module(iam_onboard_user, SWEEP)

    (user,) = result["users"]
    assert (user["name"], user["refused"]) == ("dev", True)
    assert "has no MFA device registered" in user["msg"]
    assert snapshot(iam, "dev")["groups"] == [GROUP]


def test_all_ready_in_check_mode_writes_nothing_and_predicts(
    ready_account: None, api_calls: t.Any, run_module: Run, iam: t.Any
) -> None:
    result = run_module(iam_onboard_user, SWEEP, check_mode=True, diff=True)

    assert api_calls.writes == []
    users = by_name(result)
    assert users["dev"]["actions"] == [
        f"AttachUserPolicy {CURRENT}",
        "AddUserToGroup Developers",
        f"RemoveUserFromGroup {GROUP}",
    ]
    assert users["dev"]["stage"] == "promoted"
    assert users["arn"]["refused"] is True
    assert snapshot(iam, "dev")["groups"] == [GROUP]


def test_a_profile_tag_key_in_another_case_refuses_the_user_even_with_a_default(
    bootstrapped: t.Any, run_module: Run, iam: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    """IAM's tag keys are one whatever their case: a key the collection never writes was written by hand; it must
    not be ignored (the default profile would apply) nor read (it would grant by a hand-written tag)."""
    make_user(iam, "eve", "ready", enable_mfa)
    iam.tag_user(UserName="eve", Tags=[{"Key": "MFA-Onboarding:Profile", "Value": "developer"}])

    result = run_module(iam_onboard_user, dict(SWEEP, default_profile="analyst"))

    (user,) = result["users"]
    assert user["refused"] is True
    assert "its tag 'MFA-Onboarding:Profile' differs from mfa-onboarding:profile only in case" in user["msg"]
    assert snapshot(iam, "eve")["groups"] == [GROUP]
    assert snapshot(iam, "eve")["policies"] == []
