# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The check of invariants 1 and 2: it must see every way a credential can be covered, and catch every breach."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.tests.support import guards
from ansible_collections.mfa_onboarding.iam.tests.support import iam_state

GROUP = iam_state.ONBOARDING_GROUP
CURRENT = iam_state.CURRENT_USERS_ARN
FIRST = iam_state.FIRST_LOGIN_ARN
EXTRA = iam_state.EXTRA_POLICY_ARN
PASSWORD = "Not-a-real-Passw0rd!"


@pytest.mark.parametrize(
    ("user", "covered"),
    [
        ({"groups": [GROUP], "policies": [], "group_policies": [FIRST]}, True),
        ({"groups": [], "policies": [CURRENT], "group_policies": []}, True),
        ({"groups": ["Developers"], "policies": [], "group_policies": [CURRENT]}, True),
        ({"groups": [], "policies": [], "group_policies": []}, False),
        ({"groups": ["Developers"], "policies": [EXTRA], "group_policies": [FIRST]}, False),
    ],
    ids=["onboarding-group", "current-users-policy", "current-users-policy-through-a-group", "nothing", "others"],
)
def test_guarded(user: dict[str, t.Any], covered: bool) -> None:
    assert guards.guarded(user) is covered


def _user(**fields: t.Any) -> dict[str, t.Any]:
    user: dict[str, t.Any] = {
        "groups": [],
        "policies": [],
        "inline_policies": [],
        "login_profile": False,
        "access_keys": 0,
        "active_access_keys": 0,
        "mfa_devices": [],
    }
    user.update(fields)
    return user


def _account(**users: dict[str, t.Any]) -> dict[str, t.Any]:
    groups = {
        GROUP: {"policies": [FIRST], "inline_policies": []},
        "Developers": {"policies": [], "inline_policies": []},
        "Promoted": {"policies": [CURRENT], "inline_policies": []},
    }
    return {"users": users, "groups": groups, "policies": {}}


SAFE = {
    "onboarding": _user(groups=[GROUP], login_profile=True),
    "promoted": _user(groups=["Developers"], policies=[CURRENT, EXTRA], login_profile=True, mfa_devices=["mfa/p"]),
    "through-a-group": _user(
        groups=["Promoted", "Developers"], access_keys=1, active_access_keys=1, mfa_devices=["mfa/g"]
    ),
    "adopted": _user(groups=[GROUP], login_profile=True, access_keys=2),
    "no-credential": _user(),
}


def test_a_safe_account_has_no_violation() -> None:
    assert guards.violations(_account(**SAFE)) == []


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (_user(login_profile=True), ["invariant 1: user eve holds console password without an MFA guard"]),
        (
            _user(
                groups=["Developers"], login_profile=True, access_keys=2, active_access_keys=2, mfa_devices=["mfa/eve"]
            ),
            ["invariant 1: user eve holds console password and access key without an MFA guard"],
        ),
        (
            _user(groups=[GROUP], policies=[EXTRA]),
            [f"invariant 2: user eve has no MFA but policies ['{EXTRA}'] attached"],
        ),
        (
            _user(groups=[GROUP], inline_policies=["anything"]),
            ["invariant 2: user eve has no MFA but inline policies ['anything']"],
        ),
        (
            _user(groups=[GROUP, "Developers"], login_profile=True),
            ["invariant 2: user eve has no MFA but is a member of ['Developers']"],
        ),
        (
            # Inactive, a key is still a credential: one UpdateAccessKey makes it usable again.
            _user(access_keys=1),
            ["invariant 1: user eve holds access key without an MFA guard"],
        ),
        (
            _user(groups=[GROUP], access_keys=2, active_access_keys=1),
            ["invariant 2: user eve has no MFA but 1 active access key"],
        ),
        (
            # The current-users policy guards, but a user without MFA may not hold it yet: it is a grant too.
            _user(policies=[CURRENT], login_profile=True),
            [f"invariant 2: user eve has no MFA but policies ['{CURRENT}'] attached"],
        ),
    ],
    ids=[
        "password",
        "password-and-key",
        "policy",
        "inline-policy",
        "group",
        "inactive-key",
        "active-key",
        "current-users-before-mfa",
    ],
)
def test_every_breach_is_named(user: dict[str, t.Any], expected: list[str]) -> None:
    assert guards.violations(_account(**SAFE, eve=user)) == expected


def test_a_grant_on_the_onboarding_group_is_a_breach_for_its_members() -> None:
    account = _account(**SAFE)
    account["groups"][GROUP]["policies"].append(EXTRA)

    assert guards.violations(account) == [
        f"invariant 2: user adopted has no MFA and {GROUP} grants ['{EXTRA}']",
        f"invariant 2: user onboarding has no MFA and {GROUP} grants ['{EXTRA}']",
    ]


def test_the_check_reads_a_real_account(iam: t.Any) -> None:
    """Over `iam_state.snapshot` of an in-process moto: a password set before the guard is caught, and the guard
    clears it."""
    iam_state.bootstrap_guards(iam)
    iam.create_user(UserName="mallory")
    iam.create_login_profile(UserName="mallory", Password=PASSWORD)

    assert guards.violations(iam_state.snapshot(iam)) == [
        "invariant 1: user mallory holds console password without an MFA guard"
    ]
    iam.add_user_to_group(UserName="mallory", GroupName=GROUP)
    assert guards.violations(iam_state.snapshot(iam)) == []
