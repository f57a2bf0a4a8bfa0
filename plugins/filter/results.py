# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters that shape module results into the roles' documented results (the logic is in module_utils)."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._results import onboard_role_results


def onboard_results(
    users: list[dict[str, t.Any]], deliveries: list[dict[str, t.Any]] | None, delivery: str, handover_dir: str
) -> list[dict[str, t.Any]]:
    if not isinstance(users, list):
        raise AnsibleFilterError(f"onboard_results: expects the list of iam_onboard_user's users, got {type(users)}")
    return onboard_role_results(users, list(deliveries or []), delivery, handover_dir or "")


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"onboard_results": onboard_results}
