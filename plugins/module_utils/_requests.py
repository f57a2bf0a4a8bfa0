# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""iam_onboard_user's parameters as one request per user, checked before any client is built (pure)."""

from __future__ import annotations

import typing as t

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _profiles
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import ValidationError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_concurrency
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_name
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_path
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_policy_reference
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_tags

# The options a user item of `users` may override.
PER_USER_OPTIONS = (
    "path",
    "tags",
    "password",
    "password_reset_required",
    "reset_password",
    "groups",
    "managed_policies",
    "email",
    "profile",
)


# A per-user option whose module-level default has another name: amazon.aws's connection options take `profile`
# (the AWS credentials profile), so the module-level promotion profile is `promotion_profile`.
MODULE_LEVEL = {"profile": "promotion_profile"}


def user_requests(params: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """One request per user: the module-level per-user options, overridden by the user's own.

    Tag values become text, as IAM stores them and as amazon.aws converts them (a YAML number or boolean would
    otherwise differ from what IAM holds on every run)."""
    items = [{"name": params["name"]}] if params["users"] is None else params["users"]
    requests = []
    for item in items:
        request = {k: params.get(MODULE_LEVEL.get(k, k)) for k in PER_USER_OPTIONS}
        request.update({k: v for k, v in item.items() if v is not None})
        request["name"] = item.get("name")
        request["purge_tags"] = params["purge_tags"]
        request["expire_after_days"] = params.get("expire_after_days", 7)
        request["expire_unassigned_mfa"] = params.get("expire_unassigned_mfa", True)
        request["adopt_detach"] = params.get("adopt_detach", True)
        request["adopt_only"] = params.get("adopt_only", False)
        if request["tags"] is not None:
            request["tags"] = {key: to_text(value) for key, value in request["tags"].items()}
        requests.append(request)
    return requests


def pending_request(name: str) -> dict[str, t.Any]:
    """The request for a user that waits for a handover but is not listed: its name and nothing else to change."""
    request: dict[str, t.Any] = {k: None for k in PER_USER_OPTIONS}
    request.update(name=name, password_reset_required=True, reset_password=False, purge_tags=False, listed=False)
    return request


def ready_request(name: str) -> dict[str, t.Any]:
    """The request for a user that all_ready found ready and that is not listed: promoted by its profile only."""
    request = pending_request(name)
    request.update(listed=False, found_ready=True)
    return request


def run_profiles(params: dict[str, t.Any]) -> dict[str, _profiles.Profile]:
    """The run's promotion profiles, checked (raises ValidationError); {} when it defines none."""
    return _profiles.validate_profiles(
        params.get("profiles"), params.get("default_profile"), params["onboarding_group"]
    )


def _validate_promotion_options(params: dict[str, t.Any]) -> dict[str, _profiles.Profile]:
    state = params.get("state", lc.ONBOARDING)
    given = [o for o in ("profiles", "default_profile") if params.get(o)] + (
        ["all_ready"] if params.get("all_ready") else []
    )
    if given and state != lc.PROMOTED:
        raise ValidationError(f"{', '.join(given)}: only with state=promoted (a promotion's grants), not {state}")
    profiles = run_profiles(params)
    if params.get("all_ready") and not profiles:
        raise ValidationError(
            "all_ready: the users it finds are promoted by their recorded profile only, and profiles is empty; "
            "define the profiles (and a default_profile for users without one)"
        )
    return profiles


def tag_marks(params: dict[str, t.Any]) -> int:
    """How many of a user's tags the collection's own marks may take in this run: the handover mark, when an
    onboarding hands passwords over through a channel."""
    onboarding = params.get("state", lc.ONBOARDING) == lc.ONBOARDING
    return 1 if onboarding and params.get("handover") not in (None, "none") else 0


def guard_named(name: str, params: dict[str, t.Any]) -> str | None:
    """What a user name given to expire, disable or offboard names instead, when it is a guard's name (a user may
    be called so, but taking it for the guard is the likelier mistake, and the cost of a wrong offboarding is high)."""
    group = params.get("onboarding_group") or ""
    policy = (params.get("current_users_policy") or "").rsplit("/", 1)[-1]
    if name.lower() == group.lower():
        return f"the onboarding group's name ({group})"
    if name.lower() in (policy.lower(), "mfarequiredonlyforthefirstlogin"):
        return "the name of an MFA guard policy"
    return None


def _validate_user_profile(
    name: str, profile: str, params: dict[str, t.Any], profiles: dict[str, _profiles.Profile]
) -> None:
    """A user's profile: recorded at onboarding (its name checked as a tag value), applied at promotion (one of the
    run's profiles); meaningless in the other states."""
    option = f"profile of user {name}"
    state = params.get("state", lc.ONBOARDING)
    _profiles.validate_profile_name(profile, option)
    if state == lc.PROMOTED and profile not in profiles:
        raise ValidationError(
            f"{option}: {profile} is not one of the profiles this run defines ({', '.join(sorted(profiles)) or 'none'})"
        )
    if state not in (lc.ONBOARDING, lc.PROMOTED):
        raise ValidationError(f"{option}: only with state=onboarding (to record it) or promoted, not {state}")


def validate_requests(requests: list[dict[str, t.Any]], params: dict[str, t.Any]) -> None:
    """Raises ValidationError naming the input and what is wrong with it."""
    validate_concurrency(params["concurrency"])
    days = params.get("expire_after_days", 7)
    if days is None or isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValidationError(f"expire_after_days: must be a whole number of days, at least 1, got {days!r}")
    profiles = _validate_promotion_options(params)
    if not requests and not params.get("all_ready"):
        raise ValidationError("users: the list is empty; give at least one user")
    # IAM user names are case-insensitive: Alice and alice are one user (moto keeps two).
    seen: dict[str, tuple[str, str]] = {}
    for index, request in enumerate(requests):
        name = request["name"]
        option = "name" if params["users"] is None else f"users[{index}].name"
        validate_name("user", name, option)
        if name.lower() in seen:
            first, first_option = seen[name.lower()]
            if first == name:
                raise ValidationError(f"{option}: user {name} is listed more than once")
            raise ValidationError(
                f"{option}: user {name} is user {first} of {first_option}: IAM user names are case-insensitive, so "
                "the two spellings name one user; list it once"
            )
        seen[name.lower()] = (name, option)
        if params.get("state") in lc.LEAVING_STATES:
            guard = guard_named(name, params)
            if guard:
                raise ValidationError(f"{option}: {name} is {guard}, not a user; nothing was changed")
        validate_path(request["path"], f"path of user {name}")
        profile = request.get("profile")
        if profile is not None:
            _validate_user_profile(name, profile, params, profiles)
        marks = ["the handover's mark"] * tag_marks(params)
        if profile is not None and params.get("state", lc.ONBOARDING) == lc.ONBOARDING:
            marks.append("the profile's mark")
        label = " and ".join(marks) if len(marks) < 2 else "the handover's and the profile's marks"
        validate_tags(request["tags"], f"tags of user {name}", len(marks), label)
        marks = sorted(k for k in request["tags"] or {} if k.lower().startswith(lc.TAG_PREFIX))
        if marks:
            raise ValidationError(
                f"tags of user {name}: {', '.join(marks)}: the {lc.TAG_PREFIX}* tags are the collection's marks "
                f"(such as {lc.HANDOVER_TAG}), set by the lifecycle, never by hand"
            )
        for group in request["groups"] or []:
            validate_name("group", group, f"groups of user {name}")
            problem = lc.promotion_target_problem(group, params["onboarding_group"])
            if problem:
                raise ValidationError(f"groups of user {name}: {problem}")
        for policy in request["managed_policies"] or []:
            validate_policy_reference(policy, f"managed_policies of user {name}")
    validate_name("group", params["onboarding_group"], "onboarding_group")
    validate_policy_reference(params["current_users_policy"], "current_users_policy")
