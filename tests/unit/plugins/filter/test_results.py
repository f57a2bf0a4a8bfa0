# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""onboard_results: the onboard role's per-user results, flattened from its batches of module runs; promote_results:
the promote role's, from its module run."""

from __future__ import annotations

import json
import re
import typing as t

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mfa_onboarding.iam.plugins.filter.results import adopt_results
from ansible_collections.mfa_onboarding.iam.plugins.filter.results import adopt_selection
from ansible_collections.mfa_onboarding.iam.plugins.filter.results import onboard_results
from ansible_collections.mfa_onboarding.iam.plugins.filter.results import promote_results
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _adopt

SECRET = "Temp-Passw0rd-never-shown!"
NOTE = {"channel": "file", "to": "/srv/notes/alice.txt"}
FIRST = [
    {
        "name": "alice",
        "stage": "onboarding",
        "changed": True,
        "failed": False,
        "handover": "delivered",
        "password_issued": True,
        "handover_via": NOTE,
        "summary": "alice: onboarding, new temporary password handed over by file to /srv/notes/alice.txt, changed",
    },
    {
        "name": "bob",
        "stage": "onboarding",
        "changed": True,
        "failed": True,
        "handover": "pending",
        "msg": "user bob: the handover by file to /srv/notes/bob.txt failed: disk full",
        "summary": "bob: failed: user bob: the handover ... failed",
    },
    {
        "name": "carol",
        "stage": "onboarding",
        "changed": False,
        "failed": False,
        "handover": "delivered",
        "password_issued": False,
        "handover_via": None,
        "summary": "carol: onboarding",
    },
]
BATCHES = [
    {"item": [{"name": "alice"}, {"name": "bob"}, {"name": "carol"}], "users": FIRST, "changed": True},
    # A second batch that failed as a whole (for example a guard that does not guard): no per-user results.
    {"item": [{"name": "dave"}, {"name": "erin"}], "failed": True, "msg": "onboarding_group: the group X ..."},
]


def test_each_user_of_every_batch_in_input_order() -> None:
    results = onboard_results(BATCHES, "file")
    assert [r["name"] for r in results] == ["alice", "bob", "carol", "dave", "erin"]
    alice, bob, carol, dave, erin = results
    assert alice == {
        "name": "alice",
        "stage": "onboarding",
        "changed": True,
        "password_issued": True,
        "handover": "delivered",
        "delivery": "file",
        "delivered": True,
        "note": "/srv/notes/alice.txt",
        "error": None,
        "summary": FIRST[0]["summary"],
    }
    assert (bob["handover"], bob["delivered"], bob["note"]) == ("pending", False, None)
    assert bob["error"].startswith("user bob: the handover")
    # Already delivered by an earlier run: nothing issued, nothing delivered now.
    assert (carol["password_issued"], carol["delivered"], carol["delivery"], carol["error"]) == (
        False,
        False,
        "file",
        None,
    )
    for user in (dave, erin):
        assert user["error"] == "onboarding_group: the group X ..."
        assert user["changed"] is False and user["delivered"] is False
        assert user["summary"] == f"{user['name']}: failed: onboarding_group: the group X ..."


def test_without_the_roles_channel_the_channel_of_the_password_issued() -> None:
    assert [r["delivery"] for r in onboard_results(BATCHES)] == ["file", None, None, None, None]


def test_mail_delivery_has_no_note() -> None:
    mailed = dict(FIRST[0], handover_via={"channel": "mail", "to": "alice@example.org"})
    (alice,) = onboard_results([{"item": [{"name": "alice"}], "users": [mailed]}])
    assert (alice["delivery"], alice["delivered"], alice["note"]) == ("mail", True, None)


def test_no_password_even_if_a_result_held_one() -> None:
    leaky = [dict(FIRST[0], temporary_password=SECRET)]
    assert SECRET not in json.dumps(onboard_results([{"item": [], "users": leaky}]))


@pytest.mark.parametrize("value", [{"users": FIRST}, [FIRST], "results"])
def test_refuses_what_is_not_the_registered_loop_results(value: object) -> None:
    with pytest.raises(AnsibleFilterError, match="registered results"):
        onboard_results(value)  # type: ignore[arg-type]


# adopt_selection, adopt_results: the adopt role's filters (the decisions are _adopt's).


def test_adopt_selection_gives_module_users_and_the_skipped() -> None:
    users = [{"name": "a", "stage": "unmanaged", "console_password": True}, {"name": "s", "stage": "unmanaged"}]
    selection = adopt_selection(users, [], True, [])
    assert selection["users"] == [{"name": "a"}]
    assert [(s["name"], s["reason"]) for s in selection["skipped"]] == [("s", _adopt.SERVICE_USER)]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("not a list",), "expects iam_onboard_user_info's users"),
        (([{"stage": "unmanaged"}],), "expects iam_onboard_user_info's users"),
        (([], "alice"), "adopt_users: expects a list of user names, got 'alice'"),
        (([], [], False, [1]), "adopt_exclude: expects a list of user names, got [1]"),
    ],
)
def test_adopt_selection_names_a_bad_input(args: tuple[t.Any, ...], fragment: str) -> None:
    with pytest.raises(AnsibleFilterError, match=re.escape(fragment)):
        adopt_selection(*args)


def test_adopt_results_of_a_run_failed_as_a_whole_names_each_given_user() -> None:
    run = {"changed": False, "failed": False, "msg": "current_users_policy: requires no MFA"}
    results = adopt_results(run, [], [{"name": "a"}, {"name": "b"}])
    assert [(r["name"], r["failed"], r["reason"]) for r in results] == [
        ("a", True, "current_users_policy: requires no MFA"),
        ("b", True, "current_users_policy: requires no MFA"),
    ]
    with pytest.raises(AnsibleFilterError, match="adopt_results: expects the registered module result"):
        adopt_results(["x"])


# promote_results: the promote role's per-user results, also when the module failed for the whole run.

PROMOTED = [
    {
        "name": "p1",
        "stage": "promoted",
        "changed": True,
        "failed": False,
        "refused": False,
        "msg": None,
        "profile": "developer",
    },
    {
        "name": "p2",
        "stage": "ready",
        "changed": False,
        "failed": True,
        "refused": True,
        "msg": "user p2: groups not found: Devlopers; nothing was changed for this user",
        "summary": "p2: refused: ...",
        "actions": [],
        "listed": False,
        "found_ready": True,
    },
]


def test_promote_results_one_item_per_user_in_input_order() -> None:
    run = {"changed": True, "failed": True, "msg": "1 of 2 users failed: ...", "users": PROMOTED}
    assert promote_results(run, [{"name": "p1"}]) == [
        {
            "name": "p1",
            "stage": "promoted",
            "changed": True,
            "failed": False,
            "refused": False,
            "reason": None,
            "profile": "developer",
            "found_ready": False,
        },
        {
            "name": "p2",
            "stage": "ready",
            "changed": False,
            "failed": True,
            "refused": True,
            "reason": "user p2: groups not found: Devlopers; nothing was changed for this user",
            "profile": None,
            "found_ready": True,
        },
    ]


def test_offboard_results_have_no_promotion_keys() -> None:
    from ansible_collections.mfa_onboarding.iam.plugins.filter.results import offboard_results

    run = {"changed": True, "failed": False, "users": [dict(PROMOTED[0], stage="absent", profile=None)]}
    assert offboard_results(run, [{"name": "p1"}]) == [
        {"name": "p1", "stage": "absent", "changed": True, "failed": False, "refused": False, "reason": None}
    ]


def test_promote_results_of_a_run_that_failed_as_a_whole_fail_every_listed_user() -> None:
    message = "onboarding_group: the group NotYetLoginUsers does not exist; run the mfa_onboarding.iam.bootstrap role"
    run = {"failed": True, "changed": False, "msg": message}
    results = promote_results(run, [{"name": "p1", "groups": ["Developers"]}, {"name": "p2"}])
    assert results == [
        {
            "name": name,
            "stage": None,
            "changed": False,
            "failed": True,
            "refused": False,
            "reason": message,
            "profile": None,
            "found_ready": False,
        }
        for name in ("p1", "p2")
    ]


@pytest.mark.parametrize(("run", "users"), [([], []), ({}, "p1"), (None, [])])
def test_promote_results_refuses_what_is_not_a_registered_result(run: object, users: object) -> None:
    with pytest.raises(AnsibleFilterError, match="promote_results: expects the registered result"):
        promote_results(run, users)  # type: ignore[arg-type]


def test_expire_candidates_filter_names_a_bad_input() -> None:
    from ansible_collections.mfa_onboarding.iam.plugins.filter.results import expire_candidates

    users = [{"name": "a", "stage": "onboarding", "console_password": True, "days_in_onboarding": 8}]
    assert expire_candidates(users, 7) == [{"name": "a"}]
    with pytest.raises(AnsibleFilterError, match="expire_after_days: must be a whole number of days, at least 1"):
        expire_candidates(users, 0)
    with pytest.raises(AnsibleFilterError, match="expects iam_onboard_user_info's users"):
        expire_candidates("a", 7)


def test_promote_summary_names_who_was_promoted_refused_and_failed() -> None:
    from ansible_collections.mfa_onboarding.iam.plugins.filter.results import promote_summary

    base = {"changed": False, "failed": False, "refused": False, "reason": None, "profile": None, "found_ready": False}
    results = [
        dict(base, name="dev", stage="promoted", changed=True, profile="developer", found_ready=True),
        dict(base, name="old", stage="promoted"),
        dict(base, name="arn", stage="ready", failed=True, refused=True, reason="user arn is not promoted: ..."),
        dict(base, name="err", stage="ready", failed=True, reason="user err: An error occurred (Throttling)"),
    ]
    assert promote_summary(results) == {
        "promoted": [{"name": "dev", "profile": "developer", "found_ready": True}],
        "refused": [{"name": "arn", "reason": "user arn is not promoted: ..."}],
        "failed": [{"name": "err", "reason": "user err: An error occurred (Throttling)"}],
        "unchanged": ["old"],
        "counts": {"promoted": 1, "refused": 1, "failed": 1, "unchanged": 1},
    }
    assert promote_summary([])["counts"] == {"promoted": 0, "refused": 0, "failed": 0, "unchanged": 0}
    with pytest.raises(AnsibleFilterError, match="promote_summary: expects the promote role's promote_results"):
        promote_summary([{"name": "x"}])
