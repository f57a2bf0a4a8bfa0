# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The adopt role's decisions, over plain values (pure): which users a run adopts, which it skips and why, and
its per-user results (DESIGN section 1, Adopt).

- A user named in adopt_users is adopted, unless adopt_exclude names it too (an exclusion always wins: it is how
  break-glass users are kept out).
- With adopt_all, every user outside the regime that has a console password is adopted; users without one
  (automation users with access keys only) are skipped and reported, since the guard would cut their long-term
  keys off; users of the regime without MFA that hold more than the guard (invariant 2) are brought back to the
  guard, except promoted users that lost their last device, which are re-enrolled only when named.
"""

from __future__ import annotations

import typing as t

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc

GRANTS_BEFORE_MFA = "grants_before_mfa"
ACCESS_KEY_BEFORE_MFA = "access_key_before_mfa"

EXCLUDED = "excluded by adopt_exclude"
SERVICE_USER = (
    "has no console password (an automation user?): the guard would deny its access keys without MFA, so it is not "
    "adopted implicitly; name it in adopt_users to adopt it"
)
RE_ENROL = "is promoted but has no MFA device left: name it in adopt_users to re-enrol it"


class Selection(t.NamedTuple):
    adopt: list[str]
    skipped: list[dict[str, t.Any]]


def _repair(user: dict[str, t.Any]) -> bool:
    """A user of the regime without MFA that holds more than the guard, or an active access key."""
    return bool({GRANTS_BEFORE_MFA, ACCESS_KEY_BEFORE_MFA} & set(user.get("findings") or ()))


def select(
    users: t.Sequence[dict[str, t.Any]], names: t.Sequence[str], adopt_all: bool, exclude: t.Sequence[str]
) -> Selection:
    """users: iam_onboard_user_info's users (scope account for adopt_all). Names compare case-insensitively,
    as IAM's do; the adopted keep the order they are named in, then the account's order."""
    excluded = {n.lower() for n in exclude}
    chosen: list[str] = []
    skipped: list[dict[str, t.Any]] = []
    seen: set[str] = set()

    def skip(user: dict[str, t.Any] | None, name: str, reason: str) -> None:
        skipped.append({"name": name, "stage": (user or {}).get("stage"), "reason": reason})

    by_name = {u["name"].lower(): u for u in users}
    for name in names:
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        if name.lower() in excluded:
            skip(by_name.get(name.lower()), name, EXCLUDED)
        else:
            chosen.append(name)
    if adopt_all:
        for user in users:
            name = user["name"]
            if name.lower() in seen:
                continue
            seen.add(name.lower())
            stage = user.get("stage")
            candidate = stage == lc.UNMANAGED or (_repair(user) and not user.get("mfa_devices"))
            if not candidate:
                continue
            if name.lower() in excluded:
                skip(user, name, EXCLUDED)
            elif stage == lc.UNMANAGED and not user.get("console_password"):
                skip(user, name, SERVICE_USER)
            elif stage == lc.PROMOTED:
                skip(user, name, RE_ENROL)
            else:
                chosen.append(name)
    return Selection(chosen, skipped)


def role_results(
    run: dict[str, t.Any] | None, skipped: t.Sequence[dict[str, t.Any]], given: t.Sequence[str] = ()
) -> list[dict[str, t.Any]]:
    """The adopt role's adopt_results: one item per adopted user (from the module's per-user results, in order),
    then one per skipped user. A module run that failed as a whole (a guard that does not guard) gives its message
    to each user it was given; a run that did not happen (nobody to adopt) gives none."""
    out = []
    run = run or {}
    users = run.get("users")
    if isinstance(users, list):
        for user in users:
            out.append(
                {
                    "name": user["name"],
                    "stage": user.get("stage"),
                    "changed": bool(user.get("changed")),
                    "adopted": not user.get("failed"),
                    "detached": user.get("detached"),
                    "console_password": user.get("console_password"),
                    "skipped": False,
                    "failed": bool(user.get("failed")),
                    "refused": bool(user.get("refused")),
                    "reason": user.get("msg") if user.get("failed") else None,
                    "summary": user.get("summary"),
                }
            )
    elif run and not run.get("skipped"):
        # The module failed for the whole run (its failure is not the task's: the role reports it).
        for name in given:
            out.append(_plain(name, None, failed=True, reason=run.get("msg") or "iam_onboard_user failed"))
    for item in skipped:
        out.append(_plain(item["name"], item.get("stage"), reason=item["reason"], skipped=True))
    return out


def _plain(name: str, stage: str | None, reason: str, failed: bool = False, skipped: bool = False) -> dict[str, t.Any]:
    summary = f"{name}: {'skipped' if skipped else 'failed'}: {reason}"
    return {
        "name": name,
        "stage": stage,
        "changed": False,
        "adopted": False,
        "detached": None,
        "console_password": None,
        "skipped": skipped,
        "failed": failed,
        "refused": False,
        "reason": reason,
        "summary": summary,
    }
