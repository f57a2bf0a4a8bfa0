# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""iam_onboard_user's return values: one user's result and diff, a failed user's result, and the module's two
output shapes (one user with `name`, a list with `users`). Pure: plain values in, plain values out."""

from __future__ import annotations

import datetime
import typing as t

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _steps


def iso(value: t.Any) -> t.Any:
    return value.isoformat() if isinstance(value, datetime.datetime) else value


def user_result(
    record: t.Any,
    request: dict[str, t.Any],
    account: t.Any,
    outcome: t.Any,
    after: lc.Observed,
    password_reset: bool,
) -> dict[str, t.Any]:
    """The per-user return value, from the record read before the run, what the run's calls produced (outcome),
    and the state the plan leads to (after).

    A console password created (or, in check mode, to be created) in this run reports the reset flag that was
    requested: moto, unlike AWS, does not store it. A reset sets the flag afresh, so it reports the requested one
    too."""
    created = outcome.user or {}
    name = request["name"]
    path = created.get("Path") or record.path or request["path"] or "/"
    if password_reset or record.console_password is None or not record.console_password:
        reset_required = bool(after.has_login_profile and request["password_reset_required"])
    else:
        reset_required = bool(record.password_reset_required)
    profile_created = record.password_created if record.console_password else None
    if profile_created is None and outcome.login_profile:
        profile_created = outcome.login_profile.get("CreateDate")
    return {
        "user": {
            "name": name,
            "arn": created.get("Arn") or record.arn or lc.user_arn(account.partition, account.account_id, path, name),
            "user_id": created.get("UserId") or record.user_id,
            "path": path,
            "create_date": iso(created.get("CreateDate") or record.create_date),
            "tags": dict(after.tags),
        },
        "mfa_devices": [
            {"serial_number": d.serial_number, "enable_date": iso(d.enable_date)} for d in record.mfa_devices or ()
        ],
        "login_profile": {
            "exists": after.has_login_profile,
            "password_reset_required": reset_required,
            "create_date": iso(profile_created),
        },
        "console_url": account.console_url,
    }


def diff_view(observed: lc.Observed, regime: lc.Regime, credentials: bool = False) -> dict[str, t.Any]:
    """A user's state for diff mode; with credentials, also its inline policies and active access keys (shown for
    a user whose plan deactivates or removes them)."""
    if not observed.exists:
        return {}
    view = {
        "stage": lc.stage(observed, regime),
        "groups": sorted(observed.groups),
        "policies": sorted(observed.policies),
        "console_password": observed.has_login_profile,
        "tags": dict(observed.tags),
    }
    if credentials:
        view.update(inline_policies=sorted(observed.inline_policies), active_access_keys=sorted(observed.active_keys))
    return view


def console_password(observed: lc.Observed, issued: bool, after: lc.Observed | None = None) -> str:
    """issued (a new temporary password in this run), kept (the existing one, unchanged), deleted (by this run: expired,
    disabled, offboarded) or none."""
    if issued:
        return "issued"
    if observed.has_login_profile and after is not None and not after.has_login_profile:
        return "deleted"
    return "kept" if observed.has_login_profile else "none"


def detached(steps: t.Sequence[t.Any], inline_documents: dict[str, t.Any]) -> dict[str, t.Any] | None:
    """What the steps take away from a user without MFA (invariant 2), for its result: the access keys
    deactivated, the policies detached, the inline policies deleted (name: document, to restore one from), the
    groups left; None when they take nothing away."""
    by_action: dict[str, list[t.Any]] = {}
    for step in steps:
        by_action.setdefault(step.action, []).append(step.target)
    taken = {
        "access_keys": by_action.get(_steps.DEACTIVATE_ACCESS_KEY, []),
        "policies": by_action.get(_steps.DETACH_POLICY, []),
        "inline_policies": {
            name: inline_documents.get(name) for name in by_action.get(_steps.DELETE_INLINE_POLICY, [])
        },
        "groups": by_action.get(_steps.REMOVE_FROM_GROUP, []),
    }
    return taken if any(taken.values()) else None


def describe_via(via: dict[str, t.Any] | None) -> str | None:
    """`by file to /n/alice.txt` for a handover_via result."""
    return f"by {via['channel']} to {via['to']}" if via else None


def summary_line(result: dict[str, t.Any], check_mode: bool = False) -> str:
    """One line for the roles' per-user summary, e.g. `alice: onboarding, new temporary password, changed`, or
    `alice: onboarding, a new temporary password would be issued and handed over by file to /n/alice.txt, changed;
    planned: CreateUser mfa-onboarding:handover, ...` in check mode (every planned step)."""
    if result["failed"]:
        text = f"{'refused' if result.get('refused') else 'failed'}: {result['msg']}"
    else:
        text = str(result["stage"])
        if result.get("profile") and result["stage"] == lc.PROMOTED and result.get("changed"):
            text += f" by profile {result['profile']}"
        via = describe_via(result.get("handover_via"))
        if check_mode and result.get("password_issued"):
            text += ", a new temporary password would be issued" + (f" and handed over {via}" if via else "")
        elif via and result.get("password_issued"):
            text += f", new temporary password handed over {via}"
        elif "temporary_password" in result:
            text += ", new temporary password"
        taken = result.get("detached")
        if taken:
            text += ", " + ("would take" if check_mode else "took") + " away before MFA: " + _taken(taken)
    line = f"{result['name']}: {text}" + (", changed" if result["changed"] else "")
    if result.get("found_ready"):
        line += " (found ready, not listed)"
    elif result.get("listed") is False:
        line += " (not listed: it waited for its handover since an earlier run)"
    if check_mode and result.get("actions") and not result["failed"]:
        line += "; planned: " + ", ".join(result["actions"])
    return line


def _taken(detached: dict[str, t.Any]) -> str:
    """`1 access key deactivated, policies A, inline policies b, groups C`."""
    parts = []
    if detached["access_keys"]:
        parts.append(f"{len(detached['access_keys'])} access key{'s' if len(detached['access_keys']) > 1 else ''}")
    for key, label in (("policies", "policies"), ("inline_policies", "inline policies"), ("groups", "groups")):
        if detached[key]:
            parts.append(f"{label} {', '.join(sorted(detached[key]))}")
    return "; ".join(parts)


def failure(
    name: str,
    message: str,
    actions: t.Sequence[str],
    stage: str | None,
    refused: bool,
    handover: str | None = None,
    detached: dict[str, t.Any] | None = None,
) -> dict[str, t.Any]:
    """A user that failed: the writes made before the failure, the stage it is in (None when it could not be
    read), whether the lifecycle refused the transition (false for an error such as a failed API call), its
    handover mark when the run reached it, and what the writes took away when they took something (see
    `detached`: an inline policy deleted before the failure has its only copy there)."""
    result = {
        "name": name,
        "changed": bool(actions),
        "actions": list(actions),
        "stage": stage,
        "failed": True,
        "refused": refused,
        "msg": message,
    }
    if handover is not None:
        result["handover"] = handover
    if detached is not None:
        result["detached"] = detached
    return result


def module_output(
    results: list[dict[str, t.Any]], single: bool, diff: bool, check_mode: bool = False
) -> tuple[str | None, list[str], dict[str, t.Any]]:
    """(failure message or None, warnings, keyword arguments of exit_json/fail_json) for the module's two shapes.

    With `name` (single), the user's result is the module's result; with `users`, the results are a list in input
    order, each with a `summary` line, and the module fails naming every user that failed."""
    warnings = [w for r in results for w in r.pop("warnings", [])]
    diffs = [dict(r.pop("diff"), before_header=r["name"], after_header=r["name"]) for r in results if "diff" in r]
    failed = [r for r in results if r["failed"]]
    if single:
        result = results[0]
        extra = {"diff": diffs[0]} if diff and diffs else {}
        if failed:
            details = {k: result[k] for k in ("changed", "actions", "stage", "refused", "detached") if k in result}
            return result["msg"], warnings, dict(details, **extra)
        kept = {k: v for k, v in result.items() if k not in ("name", "failed", "refused", "msg")}
        return None, warnings, dict(kept, **extra)
    for result in results:
        result["summary"] = summary_line(result, check_mode)
    output: dict[str, t.Any] = {"changed": any(r["changed"] for r in results), "users": results}
    if diff:
        output["diff"] = diffs
    if failed:
        message = f"{len(failed)} of {len(results)} users failed: " + "; ".join(r["msg"] for r in failed)
        return message, warnings, output
    return None, warnings, output


def onboard_role_results(batches: list[dict[str, t.Any]], delivery: str | None = None) -> list[dict[str, t.Any]]:
    """The onboard role's `onboard_results`, from the registered results of its module runs (one per batch of
    users; each one's `item` is the batch): one item per user, in input order, never a password. A batch whose
    run failed as a whole (a guard refused, a template that does not render) gives each of its users that error.
    delivery is the role's channel (file, mail), reported for every user.
    """
    out = []
    for batch in batches:
        users = batch.get("users")
        if not isinstance(users, list):
            error = batch.get("msg") or "iam_onboard_user failed"
            for item in batch.get("item") or []:
                name = item.get("name") if isinstance(item, dict) else str(item)
                out.append(_role_result({"name": name, "changed": False, "failed": True, "msg": error}, delivery))
            continue
        out.extend(_role_result(user, delivery) for user in users)
    return out


def promote_role_results(
    run: dict[str, t.Any], users: t.Sequence[t.Any], promotion: bool = True
) -> list[dict[str, t.Any]]:
    """The promote role's `promote_results`, from the registered result of its module run and the role's list of
    users: one item per user, in input order (name, stage, changed, failed, refused, reason). A user whose own
    grants do not resolve, or that has no MFA device, is refused; the others are promoted. A run that failed as a
    whole (a guard that does not exist or does not guard, an input refused before any call) changed nobody: each
    listed user gets that error, as failed and not refused (the lifecycle did not refuse it; the run could not
    start). promotion adds each user's profile and whether the run found it ready rather than being given it
    (the offboard role's results have the same shape without them)."""
    items = _role_items(run, users)
    if not promotion:
        for item in items:
            del item["profile"], item["found_ready"]
    return items


def promote_summary(results: t.Sequence[dict[str, t.Any]]) -> dict[str, t.Any]:
    """The promote role's summary for AWX (set_stats), from its promote_results: who was promoted by this run (with
    the profile its grants came from), who was refused and who failed, and why; counts of each."""
    promoted = [
        {"name": r["name"], "profile": r.get("profile"), "found_ready": bool(r.get("found_ready"))}
        for r in results
        if not r["failed"] and r["changed"] and r["stage"] == lc.PROMOTED
    ]
    refused = [{"name": r["name"], "reason": r["reason"]} for r in results if r["failed"] and r.get("refused")]
    failed = [{"name": r["name"], "reason": r["reason"]} for r in results if r["failed"] and not r.get("refused")]
    unchanged = [r["name"] for r in results if not r["failed"] and not r["changed"]]
    return {
        "promoted": promoted,
        "refused": refused,
        "failed": failed,
        "unchanged": unchanged,
        "counts": {
            "promoted": len(promoted),
            "refused": len(refused),
            "failed": len(failed),
            "unchanged": len(unchanged),
        },
    }


def _role_items(run: dict[str, t.Any], users: t.Sequence[t.Any]) -> list[dict[str, t.Any]]:
    results = run.get("users")
    if not isinstance(results, list):
        error = run.get("msg") or "iam_onboard_user failed"
        return [
            {
                "name": _name_of(item),
                "stage": None,
                "changed": False,
                "failed": True,
                "refused": False,
                "reason": error,
                "profile": None,
                "found_ready": False,
            }
            for item in users or []
        ]
    return [
        {
            "name": user["name"],
            "stage": user.get("stage"),
            "changed": bool(user.get("changed")),
            "failed": bool(user.get("failed")),
            "refused": bool(user.get("refused")),
            "reason": user.get("msg") if user.get("failed") else None,
            "profile": user.get("profile"),
            "found_ready": bool(user.get("found_ready")),
        }
        for user in results
    ]


def _name_of(item: t.Any) -> t.Any:
    return item.get("name") if isinstance(item, dict) else item


def _role_result(user: dict[str, t.Any], delivery: str | None) -> dict[str, t.Any]:
    via = user.get("handover_via") or {}
    handover = user.get("handover") or "none"
    summary = user.get("summary") or f"{user['name']}: failed: {user.get('msg')}"
    return {
        "name": user["name"],
        "stage": user.get("stage"),
        "changed": bool(user.get("changed")),
        "password_issued": bool(user.get("password_issued")),
        "handover": handover,
        "delivery": delivery or via.get("channel"),
        "delivered": bool(via) and handover == "delivered" and not user.get("failed"),
        "note": via.get("to") if via.get("channel") == "file" and handover == "delivered" else None,
        "error": user.get("msg") if user.get("failed") else None,
        "summary": summary,
    }
