# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Promotion profiles (invariant 8): the operator's definitions checked before any call, and a user's recorded tag
that can select one of them by its exact name and nothing else."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._profiles import Choice
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._profiles import Profile
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._profiles import all_references
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._profiles import choose
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._profiles import name_problem
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._profiles import recorded_problem
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._profiles import validate_profiles
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import ValidationError

PROFILES = {
    "developer": Profile(("Developers",), ()),
    "analyst": Profile((), ("arn:aws:iam::aws:policy/ReadOnlyAccess",)),
}
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.mark.parametrize("name", ["developer", "team a", "data:reader", "ops/on-call", "é+=@_.-", "x" * 256])
def test_a_profile_name_is_a_tag_value(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "must be a non-empty text"),
        (None, "must be a non-empty text"),
        (7, "must be a non-empty text"),
        ("x" * 257, "has 257 characters; a tag value holds at most 256"),
        ("Admins,PowerUsers", "holds ','; IAM allows in tag values only"),
        ("dev;ops", "holds ';'"),
        ("dev*", "holds '*'"),
        (" dev", "begins or ends with white space"),
        ("dev\t", "holds '\\t'"),
        (ADMIN_ARN, "is an ARN"),
        ("ARN:aws:iam::aws:policy/x", "is an ARN"),
    ],
)
def test_a_profile_name_that_a_tag_cannot_hold_is_refused(name: t.Any, why: str) -> None:
    problem = name_problem(name)
    assert problem is not None and why in problem


def test_profiles_are_checked_and_returned_as_plain_values() -> None:
    given = {"developer": {"groups": ["Developers"]}, "analyst": {"managed_policies": ["ReadOnlyAccess"]}, "base": None}
    assert validate_profiles(given, "base", "NotYetLoginUsers") == {
        "developer": Profile(("Developers",), ()),
        "analyst": Profile((), ("ReadOnlyAccess",)),
        "base": Profile(),
    }
    assert validate_profiles(None, None, "NotYetLoginUsers") == {}


@pytest.mark.parametrize(
    ("profiles", "default", "message"),
    [
        (["developer"], None, "profiles: must be a mapping from profile name to {groups, managed_policies}, got list"),
        ("developer", None, "profiles: must be a mapping from profile name to {groups, managed_policies}, got str"),
        ({"developer": ["Developers"]}, None, "profiles.developer: must be a mapping with groups and managed_policies"),
        ({"developer": {"group": ["Developers"]}}, None, "profiles.developer: unknown key group; a profile has only"),
        ({"developer": {"groups": "Developers"}}, None, "profiles.developer.groups: must be a list of names"),
        ({"developer": {"groups": ["NotYetLoginUsers"]}}, None, "profiles.developer.groups: NotYetLoginUsers is the"),
        ({"developer": {"groups": ["notyetloginusers"]}}, None, "is the onboarding group"),
        ({"developer": {"groups": ["Dev elopers"]}}, None, "profiles.developer.groups: the group name 'Dev elopers'"),
        (
            {"d": {"managed_policies": ["arn:aws:iam::aws:nope"]}},
            None,
            "profiles.d.managed_policies: 'arn:aws:iam::aws",
        ),
        ({"Admins,Ops": {}}, None, "profiles: the profile name 'Admins,Ops' holds ','"),
        ({ADMIN_ARN: {}}, None, "is an ARN"),
        ({"dev": {}, "Dev": {}}, None, "profiles: the profiles dev and Dev differ only in case"),
        ({"dev": {}}, "developer", "default_profile: developer is not one of the profiles (dev)"),
        ({}, "developer", "default_profile: developer is not one of the profiles (none is defined)"),
    ],
)
def test_bad_profiles_are_refused_naming_the_input(profiles: t.Any, default: t.Any, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        validate_profiles(profiles, default, "NotYetLoginUsers")
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("value", "what"),
    [
        (ADMIN_ARN, f"holds the ARN '{ADMIN_ARN}'"),
        (" arn:aws:iam::123456789012:group/Admins", "holds the ARN"),
        ("Admins,PowerUsers", "holds a list ('Admins,PowerUsers')"),
        ("developer;admin", "holds a list"),
        ("", "is empty"),
        ("Admins", "names the profile 'Admins', which is not defined"),
        ("Developer", "which is not defined (profile names are compared exactly; developer is)"),
    ],
)
def test_a_recorded_value_that_is_no_profile_is_named_for_what_it_looks_like(value: str, what: str) -> None:
    problem = recorded_problem(value, PROFILES)
    assert problem is not None
    assert what in problem
    assert problem.endswith("(analyst, developer), never name a group or policy itself")


def test_a_recorded_value_that_names_a_profile_exactly_has_no_problem() -> None:
    assert recorded_problem("developer", PROFILES) is None


def test_a_long_tampered_value_is_shown_cut() -> None:
    problem = recorded_problem("a" * 256, PROFILES)
    assert problem is not None and "a" * 60 + "..." in problem and "a" * 61 not in problem


@pytest.mark.parametrize(
    ("requested", "recorded", "profiles", "default", "found_ready", "expected"),
    [
        # the listed profile wins
        ("analyst", "developer", PROFILES, None, False, Choice("analyst", None, "was promoted by the listed profile")),
        ("analyst", None, PROFILES, None, True, Choice("analyst")),
        # the recorded one, exactly
        (None, "developer", PROFILES, "analyst", True, Choice("developer")),
        # the default, without a recorded one
        (None, None, PROFILES, "analyst", True, Choice("analyst", None, "promoted by the default profile analyst")),
        # given, without any: only its own grants
        (None, None, PROFILES, None, False, Choice()),
        (None, None, {}, None, False, Choice()),
        # a run without profiles does not apply a recorded one
        (None, "developer", {}, None, False, Choice(None, None, "this run defines no profiles")),
    ],
)
def test_choose(
    requested: str | None,
    recorded: str | None,
    profiles: dict[str, Profile],
    default: str | None,
    found_ready: bool,
    expected: Choice,
) -> None:
    choice = choose(requested, recorded, profiles, default, found_ready)
    assert (choice.profile, choice.refusal) == (expected.profile, expected.refusal)
    if expected.note is None:
        assert choice.note is None
    else:
        assert choice.note is not None and expected.note in choice.note


@pytest.mark.parametrize("recorded", [ADMIN_ARN, "Admins", "Admins,PowerUsers", "", "Developer"])
@pytest.mark.parametrize("found_ready", [True, False])
def test_a_recorded_value_that_is_no_profile_refuses_even_with_a_default(recorded: str, found_ready: bool) -> None:
    """Invariant 8: a tampered tag is never replaced by the default profile (that would still grant)."""
    choice = choose(None, recorded, PROFILES, "analyst", found_ready)
    assert choice.profile is None
    assert choice.refusal is not None and choice.refusal.startswith("is not promoted: its profile tag")


def test_a_user_found_ready_without_a_profile_or_default_is_refused() -> None:
    choice = choose(None, None, PROFILES, None, True)
    assert choice.profile is None
    assert choice.refusal is not None and "has no profile recorded" in choice.refusal


def test_all_references_lists_every_profile_grant() -> None:
    assert all_references(PROFILES) == (["Developers"], ["arn:aws:iam::aws:policy/ReadOnlyAccess"])


def test_a_profile_key_in_another_case_is_refused_as_written_by_hand() -> None:
    from ansible_collections.mfa_onboarding.iam.plugins.module_utils._profiles import recorded

    key = "mfa-onboarding:profile"
    assert recorded({key: "developer", "team": "x"}, key) == ("developer", None)
    assert recorded({"team": "x"}, key) == (None, None)
    value, problem = recorded({"MFA-Onboarding:Profile": "developer"}, key)
    assert value is None
    assert (
        problem is not None and "its tag 'MFA-Onboarding:Profile' differs from mfa-onboarding:profile only" in problem
    )
    # moto keeps both spellings apart: the hand-written one still refuses
    assert recorded({key: "analyst", "MFA-ONBOARDING:PROFILE": "developer"}, key)[1] is not None
