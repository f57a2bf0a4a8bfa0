# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""iam_onboard_user's requests, checked before any client is built: the inputs that IAM would reject part-way
through a run (names that differ only in case, tags), refused as a whole."""

from __future__ import annotations

import re
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._requests import PER_USER_OPTIONS
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._requests import tag_marks
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._requests import user_requests
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._requests import validate_requests
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import ValidationError


def params(**given: t.Any) -> dict[str, t.Any]:
    """The module's parameters as the argument spec leaves them, with given overriding."""
    base: dict[str, t.Any] = {k: None for k in PER_USER_OPTIONS}
    base.update(
        name=None,
        users=None,
        state="onboarding",
        concurrency=4,
        onboarding_group="NotYetLoginUsers",
        current_users_policy="MFARequiredForCurrentUsers",
        password_reset_required=True,
        reset_password=False,
        purge_tags=False,
        handover="none",
    )
    base.update(given)
    return base


def check(**given: t.Any) -> None:
    module_params = params(**given)
    validate_requests(user_requests(module_params), module_params)


def refused(message: str, **given: t.Any) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        check(**given)


def test_names_that_differ_only_in_case_are_one_user() -> None:
    users = [{"name": "Alice"}, {"name": "bob"}, {"name": "carol"}, {"name": "alice"}]
    refused(
        "users[3].name: user alice is user Alice of users[0].name: IAM user names are case-insensitive, so the two "
        "spellings name one user; list it once",
        users=users,
    )


def test_the_same_spelling_twice_keeps_its_message() -> None:
    refused("users[2].name: user bob is listed more than once", users=[{"name": "bob"}, {"name": "x"}, {"name": "bob"}])


def test_distinct_names_pass() -> None:
    check(users=[{"name": "alice"}, {"name": "alice2"}, {"name": "bob"}])


def test_module_level_tags_are_checked_for_every_user() -> None:
    refused(
        "tags of user alice: key 'aws:owner' starts with aws:",
        users=[{"name": "alice"}, {"name": "bob", "tags": {"team": "ops"}}],
        tags={"aws:owner": "me"},
    )


def test_a_users_own_tags_are_checked() -> None:
    refused(
        "tags of user bob: 51 tags; IAM allows at most 50 per user",
        users=[{"name": "alice"}, {"name": "bob", "tags": {f"k{i}": "v" for i in range(51)}}],
    )


@pytest.mark.parametrize(
    ("state", "handover", "marks"),
    [("onboarding", "none", 0), ("onboarding", "file", 1), ("onboarding", "mail", 1), ("promoted", "none", 0)],
)
def test_tag_marks(state: str, handover: str, marks: int) -> None:
    assert tag_marks(params(state=state, handover=handover)) == marks


def test_fifty_tags_and_the_handover_mark_are_too_many() -> None:
    fifty = {f"k{i}": "v" for i in range(50)}
    check(name="alice", tags=fifty)
    refused("tags of user alice: 50 tags; IAM allows at most 49 per user", name="alice", tags=fifty, handover="file")


@pytest.mark.parametrize("spelling", ["notyetloginusers", "NOTYETLOGINUSERS"])
def test_the_onboarding_group_in_another_case_is_not_a_promotion_target(spelling: str) -> None:
    refused(
        f"groups of user rita: {spelling} is the onboarding group (NotYetLoginUsers: IAM group names are "
        "case-insensitive)",
        name="rita",
        state="promoted",
        groups=[spelling],
    )
