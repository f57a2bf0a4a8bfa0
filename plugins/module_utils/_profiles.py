# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Promotion profiles (invariant 8): the operator defines what each profile grants; a user's tag
`mfa-onboarding:profile` can only select one of them by its exact name, never name a group or policy itself, so
that permission to tag users is never permission to grant. Pure: plain values in, plain values out."""

from __future__ import annotations

import typing as t

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import MAX_TAG_VALUE
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import TAG_SYMBOLS
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import ValidationError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import bad_tag_characters
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_name
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_policy_reference

# What a profile may say; anything else is refused (a typo such as `group` would otherwise grant nothing silently).
PROFILE_KEYS = ("groups", "managed_policies")
# How much of a user's tag value a message shows (the value is the user's, up to 256 characters).
_SHOWN = 60


class Profile(t.NamedTuple):
    """What one profile grants at promotion: group names and managed policy references (names or ARNs)."""

    groups: tuple[str, ...] = ()
    managed_policies: tuple[str, ...] = ()


class Choice(t.NamedTuple):
    """The profile one user is promoted by (None: none), why the user is refused instead, and a note for the
    operator (each completes a sentence that starts with the user's name)."""

    profile: str | None = None
    refusal: str | None = None
    note: str | None = None


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")


def name_problem(name: t.Any) -> str | None:
    """Why a text cannot be a profile's name, or None. A name is what the tag holds, so it follows IAM's rules for
    tag values (1 to 256 letters, digits, white space and _ . : / = + - @), without white space around it (invisible
    in the console), and it is not an ARN (a tag that holds an ARN is refused as naming a policy)."""
    if not isinstance(name, str) or name == "":
        return f"a profile name must be a non-empty text, got {name!r}"
    if len(name) > MAX_TAG_VALUE:
        return f"the profile name {_shown(name)} has {len(name)} characters; a tag value holds at most {MAX_TAG_VALUE}"
    bad = bad_tag_characters(name)
    if bad:
        return (
            f"the profile name {_shown(name)} holds {bad!r}; IAM allows in tag values only letters, digits, white "
            f"space and {' '.join(TAG_SYMBOLS)}"
        )
    if name != name.strip():
        return f"the profile name {_shown(name)} begins or ends with white space"
    if name.lower().startswith("arn:"):
        return (
            f"the profile name {_shown(name)} is an ARN; a profile has a name of its own, and its grants say what it "
            "gives"
        )
    return None


def validate_profile_name(name: t.Any, option: str) -> None:
    problem = name_problem(name)
    if problem:
        raise ValidationError(f"{option}: {problem}")


def _references(profile: str, key: str, value: t.Any, option: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ValidationError(f"{option}.{profile}.{key}: must be a list of names, got {value!r}")
    return tuple(value)


def validate_profiles(
    profiles: t.Any,
    default: t.Any,
    onboarding_group: str,
    option: str = "profiles",
    default_option: str = "default_profile",
) -> dict[str, Profile]:
    """The operator's profiles, checked before any call: a mapping from name to a mapping with only groups and
    managed_policies (lists); names valid as tag values and not differing only in case; no profile grants the
    onboarding group; the default is one of them. Raises ValidationError naming the input."""
    if profiles is None:
        profiles = {}
    if not isinstance(profiles, dict):
        raise ValidationError(
            f"{option}: must be a mapping from profile name to {{groups, managed_policies}}, got "
            f"{type(profiles).__name__}"
        )
    checked: dict[str, Profile] = {}
    seen: dict[str, str] = {}
    for name, grants in profiles.items():
        problem = name_problem(name)
        if problem:
            raise ValidationError(f"{option}: {problem}")
        if name.lower() in seen:
            raise ValidationError(
                f"{option}: the profiles {seen[name.lower()]} and {name} differ only in case; a user's tag selects a "
                "profile by its exact name, so name them apart"
            )
        seen[name.lower()] = name
        if grants is None:
            grants = {}
        if not isinstance(grants, dict):
            raise ValidationError(
                f"{option}.{name}: must be a mapping with groups and managed_policies, got {type(grants).__name__}"
            )
        unknown = sorted(str(k) for k in grants if k not in PROFILE_KEYS)
        if unknown:
            raise ValidationError(
                f"{option}.{name}: unknown key {', '.join(unknown)}; a profile has only {' and '.join(PROFILE_KEYS)}"
            )
        groups = _references(name, "groups", grants.get("groups"), option)
        policies = _references(name, "managed_policies", grants.get("managed_policies"), option)
        for group in groups:
            validate_name("group", group, f"{option}.{name}.groups")
            if group.lower() == onboarding_group.lower():
                raise ValidationError(
                    f"{option}.{name}.groups: {group} is the onboarding group; promotion removes the user from it"
                )
        for policy in policies:
            validate_policy_reference(policy, f"{option}.{name}.managed_policies")
        checked[name] = Profile(groups, policies)
    if default is not None:
        validate_profile_name(default, default_option)
        if default not in checked:
            raise ValidationError(f"{default_option}: {default} is not one of the profiles ({_listed(checked)})")
    return checked


def _listed(profiles: t.Iterable[str]) -> str:
    names = sorted(profiles)
    return ", ".join(names) if names else "none is defined"


def recorded_problem(value: str, profiles: t.Mapping[str, Profile]) -> str | None:
    """Why a user's recorded profile (its tag's value) selects no profile, or None when it names one exactly. A
    value that looks like a grant (an ARN, a list) is named as such: the tag was written by someone who tried to
    grant through it."""
    if value in profiles:
        return None
    shown = _shown(value)
    if value.strip().lower().startswith("arn:"):
        what = f"holds the ARN {shown}"
    elif "," in value or ";" in value:
        what = f"holds a list ({shown})"
    elif value.strip() == "":
        what = "is empty"
    else:
        what = f"names the profile {shown}, which is not defined"
        near = [name for name in profiles if name.lower() == value.lower()]
        if near:
            what += f" (profile names are compared exactly; {near[0]} is)"
    return (
        f"its profile tag mfa-onboarding:profile {what}; a tag can only select one of the profiles the operator "
        f"defined ({_listed(profiles)}), never name a group or policy itself"
    )


def recorded(tags: t.Mapping[str, str], key: str) -> tuple[str | None, str | None]:
    """A user's recorded profile from its tags: (value or None, why it cannot be used). IAM treats a user's tag keys
    as one whatever their case, and the collection writes only `key`: a key that differs from it only in case was
    written by hand, so it refuses the user (moto keeps both spellings apart; AWS keeps one)."""
    variants = sorted(k for k in tags if k.lower() == key.lower() and k != key)
    if variants:
        return None, (
            f"is not promoted: its tag {_shown(variants[0])} differs from {key} only in case; the collection writes "
            f"only {key}, so this one was written by hand (remove it, and record the profile by onboarding the "
            "user with it)"
        )
    return tags.get(key), None


def choose(
    requested: str | None,
    recorded: str | None,
    profiles: t.Mapping[str, Profile],
    default: str | None,
    found_ready: bool,
) -> Choice:
    """The profile a user is promoted by; a refusal and a note complete a sentence that starts with the user's name.
    requested: the one its item names (the operator's choice, already checked
    to be defined); recorded: its tag's value (None: no tag); found_ready: the run found the user ready rather than
    being given it, so its grants can come only from a profile.

    - A listed profile wins over the recorded one.
    - A run without profiles grants only what each user's item lists; a recorded profile is then not applied.
    - A recorded profile must name a defined profile exactly; anything else refuses the user (invariant 8).
    - Without a recorded profile: the default profile, if any; a user found ready without either is refused."""
    if requested is not None:
        note = None
        if recorded is not None and recorded != requested:
            note = f"was promoted by the listed profile {requested}, not by its recorded one {_shown(recorded)}"
        return Choice(requested, None, note)
    if not profiles:
        if recorded is None:
            return Choice()
        return Choice(
            note=f"has the profile {_shown(recorded)} recorded; this run defines no profiles, so only its listed "
            "grants apply"
        )
    if recorded is not None:
        problem = recorded_problem(recorded, profiles)
        if problem:
            return Choice(refusal=f"is not promoted: {problem}")
        return Choice(recorded)
    if default is not None:
        return Choice(default, note=f"has no profile recorded: it was promoted by the default profile {default}")
    if found_ready:
        return Choice(
            refusal="has registered MFA but has no profile recorded (tag mfa-onboarding:profile) and no "
            "default_profile is set; onboard it again with a profile, or list it with its grants"
        )
    return Choice()


def all_references(profiles: t.Mapping[str, Profile]) -> tuple[list[str], list[str]]:
    """Every group and policy reference the profiles name, for the run's one read of them."""
    groups = [g for p in profiles.values() for g in p.groups]
    policies = [r for p in profiles.values() for r in p.managed_policies]
    return groups, policies
