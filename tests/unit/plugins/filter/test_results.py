# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""onboard_results: the onboard role's per-user results, joined with the handover loop's, without passwords."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mfa_onboarding.iam.plugins.filter.results import onboard_results

SECRET = "Temp-Passw0rd-never-shown!"
USERS = [
    {"name": "alice", "stage": "onboarding", "changed": True, "failed": False, "temporary_password": SECRET},
    {"name": "bob", "stage": "onboarding", "changed": True, "failed": False, "temporary_password": SECRET + "b"},
    {"name": "carol", "stage": "onboarding", "changed": False, "failed": False},
    {"name": "dave", "stage": None, "changed": False, "failed": True, "msg": "user dave: Failed to get user"},
]
DELIVERIES = [
    {"item": USERS[0], "failed": False, "changed": True},
    {"item": USERS[1], "failed": True, "msg": "Authentication failed"},
]


def test_each_user_with_its_handover() -> None:
    results = onboard_results(USERS, DELIVERIES, "file", "/srv/notes")
    assert [r["name"] for r in results] == ["alice", "bob", "carol", "dave"]
    alice, bob, carol, dave = results
    assert alice == {
        "name": "alice",
        "stage": "onboarding",
        "changed": True,
        "password_issued": True,
        "delivery": "file",
        "delivered": True,
        "note": "/srv/notes/alice.txt",
        "error": None,
    }
    assert (bob["delivered"], bob["note"], bob["error"]) == (False, None, "delivery failed: Authentication failed")
    assert (carol["password_issued"], carol["delivered"], carol["error"]) == (False, False, None)
    assert (dave["stage"], dave["error"]) == (None, "user dave: Failed to get user")


def test_no_password_in_the_results() -> None:
    assert SECRET not in json.dumps(onboard_results(USERS, DELIVERIES, "mail", ""))


def test_mail_delivery_has_no_note_and_no_deliveries_means_none_delivered() -> None:
    assert onboard_results(USERS, DELIVERIES, "mail", "")[0]["note"] is None
    assert [r["delivered"] for r in onboard_results(USERS, None, "none", "")] == [False] * 4


def test_refuses_what_is_not_the_module_users() -> None:
    with pytest.raises(AnsibleFilterError):
        onboard_results({"users": USERS}, [], "file", "/x")  # type: ignore[arg-type]
