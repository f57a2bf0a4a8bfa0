# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The end of the lifecycle, as pure planners (DESIGN section 1, Expire and Disable / offboard): observed state in,
ordered steps out, the same Plan as _lifecycle's.

- expire:   a user still onboarding, without MFA, whose temporary password was never used and is old enough:
            tagged expired, then its login profile deleted (it stays guarded in the onboarding group);
- disable:  the console password deleted and every other credential deactivated; memberships and policies kept;
            tagged disabled once nothing is left active;
- offboard: every credential, then every grant that is not a guard, then the MFA devices (deactivated, virtual ones
            deleted so that the name can be used again), then the guards, then the user.

Each order keeps invariants 1 and 2 after every call, and each planner plans from what is left, so that a rerun
after a kill finishes the job.
"""

from __future__ import annotations

import datetime
import typing as t

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import DEACTIVATE_ACCESS_KEY
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import DEACTIVATE_CERTIFICATE
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import DEACTIVATE_MFA
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import DEACTIVATE_SERVICE_CREDENTIAL
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import DEACTIVATE_SSH_KEY
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import DELETE_ACCESS_KEY
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import DELETE_CERTIFICATE
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import DELETE_INLINE_POLICY
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import DELETE_LOGIN_PROFILE
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import DELETE_SERVICE_CREDENTIAL
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import DELETE_SSH_KEY
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import DELETE_USER
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import DELETE_VIRTUAL_MFA
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import DETACH_POLICY
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import REMOVE_FROM_GROUP
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import TAG_USER
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import Step
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import label as step_label

ACTIVE = "Active"


def is_virtual(serial_number: str) -> bool:
    """A virtual MFA device's serial number is its ARN (arn:...:mfa/NAME); FIDO keys are arn:...:u2f/..., hardware
    tokens a plain serial number."""
    return serial_number.startswith("arn:") and ":mfa/" in serial_number


def _active(pairs: t.Iterable[tuple[str, str]]) -> list[str]:
    return sorted(i for i, status in pairs if status == ACTIVE)


def _all(pairs: t.Iterable[tuple[str, str]]) -> list[str]:
    return sorted(i for i, _status in pairs)


def older_than(created: datetime.datetime | None, days: int, now: datetime.datetime) -> bool:
    """Whether a temporary password created then is more than `days` whole days old (unknown: not old)."""
    if created is None:
        return False
    if created.tzinfo is None:
        created = created.replace(tzinfo=datetime.timezone.utc)
    return now - created > datetime.timedelta(days=days)


def has_live_credential(observed: lc.Observed) -> bool:
    """A console password, or an active access key, signing certificate, SSH key or service-specific credential."""
    return bool(
        observed.has_login_profile
        or observed.active_keys
        or _active(observed.certificates)
        or _active(observed.ssh_keys)
        or _active(observed.service_credentials)
    )


def plan_expiry(
    observed: lc.Observed, regime: lc.Regime, name: str, old_enough: bool, today: str, unassigned_mfa: bool = False
) -> lc.Plan:
    """Expire a temporary password nobody used: only a user still onboarding, without MFA, never signed in, whose
    password is older than the limit (old_enough, decided by the caller from its creation date). The tag comes
    first: a run killed between the two calls leaves the password, still unused, for the rerun to delete.

    unassigned_mfa: then delete the unassigned virtual MFA devices named after the user (observed, a registration
    given up halfway, which blocks the name), once its password is gone: nobody can be registering one for it, as
    it never signed in. An expired user's devices are deleted by a later run too (a run killed before them)."""
    current = lc.stage(observed, regime)
    devices = [Step(DELETE_VIRTUAL_MFA, s) for s in sorted(observed.unassigned_virtual_mfa)] if unassigned_mfa else []
    named = ", ".join(str(s.target) for s in devices)
    notes = [f"had an unassigned virtual MFA device named after it, {named}; it was deleted"] if devices else []
    if current == lc.EXPIRED:
        return lc.Plan(devices, notes)
    if current not in (lc.ONBOARDING, lc.READY) or not observed.has_login_profile:
        return lc.refused(f"user {name} is {current}, not onboarding with a temporary password; it was not expired")
    if observed.mfa_devices:
        return lc.refused(f"user {name} has registered an MFA device; it was not expired")
    if observed.signed_in:
        return lc.refused(f"user {name} has signed in with its password; it was not expired")
    if not old_enough:
        return lc.refused(
            f"user {name} has a temporary password that is not older than the limit yet; it was not expired"
        )
    steps = []
    if lc.EXPIRED_TAG not in dict(observed.tags):
        steps.append(Step(TAG_USER, {lc.EXPIRED_TAG: today}))
    steps.append(Step(DELETE_LOGIN_PROFILE))
    return lc.Plan(
        [*steps, *devices], ["had an unused temporary password; it was deleted, and the user stays guarded", *notes]
    )


def plan_disable(observed: lc.Observed, regime: lc.Regime, name: str, today: str) -> lc.Plan:
    """Delete the console password and deactivate every other credential; memberships and policies stay (for
    audit). The disabled tag comes last, once nothing is live."""
    if not observed.exists:
        return lc.Plan([], ["does not exist; nothing to disable"])
    steps = [Step(DELETE_LOGIN_PROFILE)] if observed.has_login_profile else []
    steps += [Step(DEACTIVATE_ACCESS_KEY, key) for key in sorted(observed.active_keys)]
    steps += [Step(DEACTIVATE_CERTIFICATE, i) for i in _active(observed.certificates)]
    steps += [Step(DEACTIVATE_SSH_KEY, i) for i in _active(observed.ssh_keys)]
    steps += [Step(DEACTIVATE_SERVICE_CREDENTIAL, i) for i in _active(observed.service_credentials)]
    if lc.DISABLED_TAG not in dict(observed.tags):
        steps.append(Step(TAG_USER, {lc.DISABLED_TAG: today}))
    return lc.Plan(steps, [])


def plan_offboarding(observed: lc.Observed, regime: lc.Regime) -> lc.Plan:
    """Remove the user and everything it holds, in the order that keeps invariants 1 and 2 after every call:
    credentials, grants that are not guards, MFA devices (deactivated, virtual ones deleted), guards, the user.
    IAM refuses DeleteUser while anything is left (DeleteConflict), and a virtual device it refuses to delete
    while it is assigned."""
    if not observed.exists:
        return lc.Plan([], ["does not exist; nothing to offboard"])
    guard_group = regime.onboarding_group.lower()
    steps = [Step(DELETE_LOGIN_PROFILE)] if observed.has_login_profile else []
    steps += [Step(DELETE_ACCESS_KEY, key) for key in sorted({*observed.active_keys, *observed.inactive_keys})]
    steps += [Step(DELETE_CERTIFICATE, i) for i in _all(observed.certificates)]
    steps += [Step(DELETE_SSH_KEY, i) for i in _all(observed.ssh_keys)]
    steps += [Step(DELETE_SERVICE_CREDENTIAL, i) for i in _all(observed.service_credentials)]
    steps += [Step(DELETE_INLINE_POLICY, policy) for policy in sorted(observed.inline_policies)]
    steps += [Step(DETACH_POLICY, arn) for arn in sorted(observed.policies) if arn != regime.current_users_policy]
    steps += [Step(REMOVE_FROM_GROUP, g) for g in sorted(observed.groups) if g.lower() != guard_group]
    steps += [Step(DEACTIVATE_MFA, serial) for serial in sorted(observed.mfa_devices)]
    virtual = sorted({*(s for s in observed.mfa_devices if is_virtual(s)), *observed.unassigned_virtual_mfa})
    steps += [Step(DELETE_VIRTUAL_MFA, serial) for serial in virtual]
    steps += [Step(REMOVE_FROM_GROUP, g) for g in sorted(observed.groups) if g.lower() == guard_group]
    if regime.current_users_policy in observed.policies:
        steps.append(Step(DETACH_POLICY, regime.current_users_policy))
    steps.append(Step(DELETE_USER))
    return lc.Plan(steps, [])


def delete_conflicts(observed: lc.Observed) -> list[str]:
    """What IAM's DeleteUser would refuse the user for (DeleteConflict): anything still attached to it. A stricter
    stand-in than moto, which deletes such a user."""
    found = []
    for label, items in (
        ("a console password", [1] if observed.has_login_profile else []),
        ("access keys", [*observed.active_keys, *observed.inactive_keys]),
        ("signing certificates", observed.certificates),
        ("SSH public keys", observed.ssh_keys),
        ("service-specific credentials", observed.service_credentials),
        ("MFA devices", observed.mfa_devices),
        ("inline policies", observed.inline_policies),
        ("attached policies", observed.policies),
        ("groups", observed.groups),
    ):
        if items:
            found.append(label)
    return found


def device_owner(serial_number: str) -> str:
    """The name a virtual MFA device was created with (arn:...:mfa/PATH/NAME), in lower case: IAM names are
    case-insensitive."""
    return serial_number.rsplit("/", 1)[-1].lower()


def expire_candidates(
    users: t.Sequence[dict[str, t.Any]],
    days: int,
    unassigned: t.Sequence[str] = (),
    unassigned_mfa: bool = False,
    delete_users: bool = False,
) -> list[str]:
    """From iam_onboard_user_info's users, those the expire role hands to the module: onboarding, a console password
    never used, no MFA device, at least `days` whole days in onboarding. The module decides again at write time (a
    user may sign in or enrol in between), from IAM's dates. Also the users expired earlier: with delete_users all
    of them (they are removed), otherwise, with unassigned_mfa, those that an unassigned virtual MFA device (of
    `unassigned`) is named after (the module deletes the device)."""
    owners = {device_owner(s) for s in unassigned if is_virtual(s)} if unassigned_mfa else set()
    return [
        u["name"]
        for u in users
        if (
            u.get("stage") == lc.ONBOARDING
            and u.get("console_password")
            and not u.get("password_last_used")
            and not u.get("mfa_devices")
            and (u.get("days_in_onboarding") or 0) >= days
        )
        or (u.get("stage") == lc.EXPIRED and (delete_users or u["name"].lower() in owners))
    ]


def unassigned_report(
    unassigned: t.Sequence[str], results: t.Sequence[dict[str, t.Any]], unassigned_mfa: bool
) -> list[dict[str, t.Any]]:
    """The expire role's account of the unassigned virtual MFA devices it saw (iam_onboard_user_info's, before the
    run): each with deleted (by the run, whose per-user results list the calls made in `actions`: named after a
    user it expired, or had expired) and why. The others are kept: IAM records no owner or date for an unassigned
    device, and one may belong to a registration in progress."""
    made = {action for r in results for action in r.get("actions") or []}
    report = []
    for serial in sorted(unassigned):
        if step_label(Step(DELETE_VIRTUAL_MFA, serial)) in made:
            deleted, reason = True, "named after an expired user"
        elif not unassigned_mfa:
            deleted, reason = False, "expire_unassigned_mfa is off"
        else:
            deleted, reason = (
                False,
                (
                    "not named after an expired user (IAM records no owner or date for an unassigned device; it may "
                    "belong to a registration in progress)"
                ),
            )
        summary = f"{serial}: {'deleted' if deleted else 'kept'}, {reason}"
        report.append({"serial_number": serial, "deleted": deleted, "reason": reason, "summary": summary})
    return report
