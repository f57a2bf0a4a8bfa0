# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The adopt role's decisions (pure): which users it adopts, skips and why, and its per-user results."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _adopt


def user(name: str, stage: str = "unmanaged", password: bool = True, **extra: t.Any) -> dict[str, t.Any]:
    return dict(
        {"name": name, "stage": stage, "console_password": password, "mfa_devices": [], "findings": []}, **extra
    )


ACCOUNT = [
    user("legacy"),
    user("svc", password=False),
    user("BreakGlass"),
    user("mia", mfa_devices=[{"serial_number": "arn:aws:iam::1:mfa/mia"}]),
    user("carol", "onboarding"),
    user("old-admin", "onboarding", findings=["grants_before_mfa"]),
    user("keyed", "expired", password=False, findings=["access_key_before_mfa"]),
    user("lost", "promoted", findings=["grants_before_mfa"]),
    user("fine", "promoted", mfa_devices=[{"serial_number": "x"}]),
]


def test_adopt_all_takes_users_outside_with_a_password_and_repairs_the_regime() -> None:
    selection = _adopt.select(ACCOUNT, [], True, ["breakglass"])
    assert selection.adopt == ["legacy", "mia", "old-admin", "keyed"]
    assert {s["name"]: s["reason"] for s in selection.skipped} == {
        "svc": _adopt.SERVICE_USER,
        "BreakGlass": _adopt.EXCLUDED,
        "lost": _adopt.RE_ENROL,
    }


def test_named_users_are_adopted_whatever_they_are_but_an_exclusion_wins() -> None:
    selection = _adopt.select(ACCOUNT, ["svc", "lost", "ghost", "BREAKGLASS", "Svc"], False, ["breakglass"])
    assert selection.adopt == ["svc", "lost", "ghost"]
    assert selection.skipped == [{"name": "BREAKGLASS", "stage": "unmanaged", "reason": _adopt.EXCLUDED}]


def test_named_and_all_together_list_each_user_once_in_named_order_first() -> None:
    selection = _adopt.select(ACCOUNT, ["mia", "svc"], True, [])
    assert selection.adopt == ["mia", "svc", "legacy", "BreakGlass", "old-admin", "keyed"]
    assert [s["name"] for s in selection.skipped] == ["lost"]


def test_nothing_selected_without_names_or_all() -> None:
    assert _adopt.select(ACCOUNT, [], False, []) == _adopt.Selection([], [])


MODULE_RUN = {
    "changed": True,
    "users": [
        {
            "name": "legacy",
            "stage": "onboarding",
            "changed": True,
            "failed": False,
            "detached": {"access_keys": ["AKIA1"], "policies": [], "inline_policies": {}, "groups": []},
            "console_password": "kept",
            "summary": "legacy: onboarding, took away before MFA: 1 access key, changed",
            "temporary_password": "never-copied",
        },
        {"name": "ghost", "stage": "absent", "changed": False, "failed": True, "refused": True, "msg": "no ghost"},
    ],
}


def test_role_results_one_item_per_user_then_the_skipped_never_a_password() -> None:
    results = _adopt.role_results(MODULE_RUN, [{"name": "svc", "stage": "unmanaged", "reason": "why"}], [])
    assert [r["name"] for r in results] == ["legacy", "ghost", "svc"]
    legacy, ghost, svc = results
    assert legacy["adopted"] and legacy["detached"]["access_keys"] == ["AKIA1"] and legacy["reason"] is None
    assert (ghost["failed"], ghost["refused"], ghost["adopted"], ghost["reason"]) == (True, True, False, "no ghost")
    assert (svc["skipped"], svc["failed"], svc["summary"]) == (True, False, "svc: skipped: why")
    assert "never-copied" not in repr(results)


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        (None, []),
        ({"skipped": True, "changed": False}, []),
        ({"changed": False, "failed": False, "msg": "onboarding_group: guards nobody"}, ["a", "b"]),
    ],
)
def test_role_results_of_a_run_that_did_not_happen_or_failed_as_a_whole(
    run: dict[str, t.Any] | None, expected: list[str]
) -> None:
    results = _adopt.role_results(run, [], ["a", "b"])
    assert [r["name"] for r in results] == expected
    assert all(r["failed"] and r["reason"] == "onboarding_group: guards nobody" for r in results)
