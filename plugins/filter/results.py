# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters that shape module results into the roles' documented results (the logic is in module_utils)."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _adopt
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _leaving
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._results import onboard_role_results
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._results import promote_role_results
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._results import promote_summary as _promote_summary


def onboard_results(batches: list[dict[str, t.Any]], delivery: str | None = None) -> list[dict[str, t.Any]]:
    if not isinstance(batches, list) or not all(isinstance(b, dict) for b in batches):
        raise AnsibleFilterError(
            f"onboard_results: expects the registered results of the onboard role's module runs (a list of "
            f"dicts), got {type(batches).__name__}"
        )
    return onboard_role_results(batches, delivery)


def adopt_selection(
    users: list[dict[str, t.Any]],
    names: list[str] | None = None,
    adopt_all: bool = False,
    exclude: list[str] | None = None,
) -> dict[str, t.Any]:
    if not isinstance(users, list) or not all(isinstance(u, dict) and "name" in u for u in users):
        raise AnsibleFilterError("adopt_selection: expects iam_onboard_user_info's users (a list of dicts with name)")
    for option, value in (("adopt_users", names), ("adopt_exclude", exclude)):
        if value is not None and (not isinstance(value, list) or not all(isinstance(n, str) for n in value)):
            raise AnsibleFilterError(f"{option}: expects a list of user names, got {value!r}")
    selection = _adopt.select(users, names or [], bool(adopt_all), exclude or [])
    return {"users": [{"name": n} for n in selection.adopt], "skipped": selection.skipped}


def adopt_results(
    run: dict[str, t.Any] | None,
    skipped: list[dict[str, t.Any]] | None = None,
    given: list[dict[str, t.Any]] | None = None,
) -> list[dict[str, t.Any]]:
    if run is not None and not isinstance(run, dict):
        raise AnsibleFilterError(f"adopt_results: expects the registered module result, got {type(run).__name__}")
    return _adopt.role_results(run, skipped or [], [u["name"] for u in given or []])


def promote_results(run: dict[str, t.Any], users: list[t.Any]) -> list[dict[str, t.Any]]:
    if not isinstance(run, dict) or not isinstance(users, list):
        raise AnsibleFilterError(
            f"promote_results: expects the registered result of the promote role's module run (a dict) and the "
            f"role's list of users, got {type(run).__name__} and {type(users).__name__}"
        )
    return promote_role_results(run, users)


def promote_summary(results: list[dict[str, t.Any]]) -> dict[str, t.Any]:
    keys = ("name", "stage", "changed", "failed")
    if not isinstance(results, list) or not all(isinstance(r, dict) and all(k in r for k in keys) for r in results):
        raise AnsibleFilterError("promote_summary: expects the promote role's promote_results (a list of dicts)")
    return _promote_summary(results)


def offboard_results(run: dict[str, t.Any], users: list[t.Any]) -> list[dict[str, t.Any]]:
    """The offboard role's results have the promote role's shape (one module run, one item per listed user)."""
    if not isinstance(run, dict) or not isinstance(users, list):
        raise AnsibleFilterError(
            f"offboard_results: expects the registered result of the offboard role's module run (a dict) and the "
            f"role's list of users, got {type(run).__name__} and {type(users).__name__}"
        )
    return promote_role_results(run, users, promotion=False)


def expire_candidates(
    users: list[dict[str, t.Any]],
    days: int,
    unassigned: list[str] | None = None,
    unassigned_mfa: bool = False,
    delete_users: bool = False,
) -> list[dict[str, str]]:
    if not isinstance(users, list) or not all(isinstance(u, dict) and "name" in u for u in users):
        raise AnsibleFilterError("expire_candidates: expects iam_onboard_user_info's users (a list of dicts with name)")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise AnsibleFilterError(f"expire_after_days: must be a whole number of days, at least 1, got {days!r}")
    if unassigned is not None and (not isinstance(unassigned, list) or not all(isinstance(s, str) for s in unassigned)):
        raise AnsibleFilterError(
            f"expire_candidates: expects the unassigned devices' serial numbers, got {unassigned!r}"
        )
    names = _leaving.expire_candidates(users, days, unassigned or [], bool(unassigned_mfa), bool(delete_users))
    return [{"name": name} for name in names]


def expire_unassigned_report(
    unassigned: list[str], run: dict[str, t.Any] | None, unassigned_mfa: bool = True
) -> list[dict[str, t.Any]]:
    """Each unassigned virtual MFA device the expire role saw: deleted by its run, or kept and why."""
    if not isinstance(unassigned, list) or (run is not None and not isinstance(run, dict)):
        raise AnsibleFilterError(
            "expire_unassigned_report: expects iam_onboard_user_info's unassigned_virtual_mfa_devices (a list) and "
            "the registered result of the expire role's module run (a dict, or none)"
        )
    return _leaving.unassigned_report(unassigned, (run or {}).get("users") or [], bool(unassigned_mfa))


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "onboard_results": onboard_results,
            "promote_results": promote_results,
            "promote_summary": promote_summary,
            "offboard_results": offboard_results,
            "expire_candidates": expire_candidates,
            "expire_unassigned_report": expire_unassigned_report,
            "adopt_selection": adopt_selection,
            "adopt_results": adopt_results,
        }
