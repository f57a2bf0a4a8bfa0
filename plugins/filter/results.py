# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters that shape module results into the roles' documented results (the logic is in module_utils)."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._results import onboard_role_results
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._results import promote_role_results


def onboard_results(batches: list[dict[str, t.Any]], delivery: str | None = None) -> list[dict[str, t.Any]]:
    if not isinstance(batches, list) or not all(isinstance(b, dict) for b in batches):
        raise AnsibleFilterError(
            f"onboard_results: expects the registered results of the onboard role's module runs (a list of "
            f"dicts), got {type(batches).__name__}"
        )
    return onboard_role_results(batches, delivery)


def promote_results(run: dict[str, t.Any], users: list[t.Any]) -> list[dict[str, t.Any]]:
    if not isinstance(run, dict) or not isinstance(users, list):
        raise AnsibleFilterError(
            f"promote_results: expects the registered result of the promote role's module run (a dict) and the "
            f"role's list of users, got {type(run).__name__} and {type(users).__name__}"
        )
    return promote_role_results(run, users)


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"onboard_results": onboard_results, "promote_results": promote_results}
