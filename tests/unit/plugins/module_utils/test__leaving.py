# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The end of the lifecycle, without AWS: expire, disable, offboard, each checked over every prefix of its plan (a
run killed after any call): invariants 1 and 2 hold, and a rerun plans exactly what is left."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _leaving as lv
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._lifecycle import Observed
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._lifecycle import Regime
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import Step
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import apply_steps

ACCOUNT = "123456789012"
GROUP = "NotYetLoginUsers"
CURRENT = f"arn:aws:iam::{ACCOUNT}:policy/MFARequiredForCurrentUsers"
APP = f"arn:aws:iam::{ACCOUNT}:policy/AppReadOnly"
REGIME = Regime(GROUP, CURRENT)
VIRTUAL = f"arn:aws:iam::{ACCOUNT}:mfa/alice"
FIDO = f"arn:aws:iam::{ACCOUNT}:u2f/user/alice/key-1"
TODAY = "2026-12-02"

# The full user: two access keys, a signing certificate, an SSH key, a service-specific credential, a
# virtual MFA device, inline and attached policies, three groups; promoted.
FULL = Observed(
    exists=True,
    groups=("Admins", "Developers", "Ops"),
    policies=(APP, CURRENT),
    has_login_profile=True,
    mfa_devices=(VIRTUAL,),
    tags=(("team", "data"),),
    signed_in=True,
    inline_policies=("legacy",),
    active_keys=("AKIA1",),
    inactive_keys=("AKIA2",),
    certificates=(("CERT1", "Active"),),
    ssh_keys=(("APKA1", "Active"),),
    service_credentials=(("ACCA1", "Active"),),
)
# Still onboarding: in the guard group, no MFA; with a hardware-free FIDO key variant below.
ONBOARDING = Observed(
    exists=True, groups=(GROUP,), has_login_profile=True, tags=(("mfa-onboarding:handover", "delivered"),)
)
STARTS = {
    "full": FULL,
    "full+fido": FULL._replace(mfa_devices=(VIRTUAL, FIDO)),
    "onboarding": ONBOARDING,
    "onboarding+key": ONBOARDING._replace(active_keys=("AKIA9",), certificates=(("CERT9", "Inactive"),)),
    "given-up-registration": ONBOARDING._replace(unassigned_virtual_mfa=(f"arn:aws:iam::{ACCOUNT}:mfa/alice",)),
    "unmanaged": Observed(exists=True, groups=("Admins",), policies=(APP,), has_login_profile=True),
}


def live(observed: Observed) -> bool:
    return observed.exists and lv.has_live_credential(observed)


def invariant_1(observed: Observed) -> bool:
    """No live credential without an MFA guard (for users that had one: an unmanaged start is its own problem)."""
    return not live(observed) or lc.guarded(observed, REGIME)


def invariant_2(observed: Observed) -> bool:
    """A user without MFA holds nothing beyond the guards."""
    if not observed.exists or observed.mfa_devices:
        return True
    beyond_groups = [g for g in observed.groups if g != GROUP]
    beyond_policies = [p for p in observed.policies if p != CURRENT]
    return not (beyond_groups or beyond_policies or observed.inline_policies)


def prefixes(start: Observed, steps: list[Step]) -> t.Iterator[tuple[int, Observed]]:
    for length in range(len(steps) + 1):
        yield length, apply_steps(start, steps[:length])


# Offboarding


def test_offboarding_a_full_user_removes_everything_in_order() -> None:
    steps = lv.plan_offboarding(FULL, REGIME).steps
    assert [(s.action, s.target) for s in steps] == [
        ("DeleteLoginProfile", None),
        ("DeleteAccessKey", "AKIA1"),
        ("DeleteAccessKey", "AKIA2"),
        ("DeleteSigningCertificate", "CERT1"),
        ("DeleteSSHPublicKey", "APKA1"),
        ("DeleteServiceSpecificCredential", "ACCA1"),
        ("DeleteUserPolicy", "legacy"),
        ("DetachUserPolicy", APP),
        ("RemoveUserFromGroup", "Admins"),
        ("RemoveUserFromGroup", "Developers"),
        ("RemoveUserFromGroup", "Ops"),
        ("DeactivateMFADevice", VIRTUAL),
        ("DeleteVirtualMFADevice", VIRTUAL),
        ("DetachUserPolicy", CURRENT),
        ("DeleteUser", None),
    ]


@pytest.mark.parametrize("name", sorted(STARTS))
def test_offboarding_keeps_the_invariants_after_every_call_and_a_rerun_finishes(name: str) -> None:
    start = STARTS[name]
    steps = lv.plan_offboarding(start, REGIME).steps
    assert steps[-1] == Step("DeleteUser")
    for length, state in prefixes(start, steps):
        if name != "unmanaged":
            assert invariant_1(state), (name, length)
        if name != "unmanaged":  # a user outside the regime held its grants before; not ours to judge
            assert invariant_2(state), (name, length)
        assert lv.plan_offboarding(state, REGIME).steps == steps[length:], (name, length)
        if length < len(steps) and steps[length] == Step("DeleteUser"):
            assert lv.delete_conflicts(state) == [], (name, length)
            assert state.unassigned_virtual_mfa == (), "a virtual device would keep the name"
    assert apply_steps(start, steps) == Observed(exists=False)


def test_offboarding_removes_no_guard_before_every_credential_is_gone() -> None:
    for name, start in STARTS.items():
        steps = lv.plan_offboarding(start, REGIME).steps
        guards = [i for i, s in enumerate(steps) if s.target in (GROUP, CURRENT) and s.action != "AttachUserPolicy"]
        credential_kinds = ("DeleteLoginProfile", "DeleteAccessKey", "DeleteSigningCertificate", "DeleteSSHPublicKey")
        last_credential = max([i for i, s in enumerate(steps) if s.action in credential_kinds], default=-1)
        assert all(g > last_credential for g in guards), name
        assert guards or name == "unmanaged", name  # the walk sees the guards go


def test_offboarding_deletes_only_virtual_devices_and_deactivates_every_device() -> None:
    steps = lv.plan_offboarding(STARTS["full+fido"], REGIME).steps
    assert Step("DeactivateMFADevice", FIDO) in steps and Step("DeactivateMFADevice", VIRTUAL) in steps
    assert Step("DeleteVirtualMFADevice", VIRTUAL) in steps
    assert Step("DeleteVirtualMFADevice", FIDO) not in steps
    assert lv.is_virtual(VIRTUAL) and not lv.is_virtual(FIDO) and not lv.is_virtual("GAHT12345678")


def test_offboarding_an_absent_user_changes_nothing() -> None:
    plan = lv.plan_offboarding(Observed(exists=False), REGIME)
    assert (plan.steps, plan.refusal) == ([], None)
    assert plan.notes == ["does not exist; nothing to offboard"]


def test_delete_conflicts_name_what_is_left() -> None:
    assert lv.delete_conflicts(FULL) == [
        "a console password",
        "access keys",
        "signing certificates",
        "SSH public keys",
        "service-specific credentials",
        "MFA devices",
        "inline policies",
        "attached policies",
        "groups",
    ]
    assert lv.delete_conflicts(Observed(exists=True)) == []


# Disabling


@pytest.mark.parametrize("name", sorted(STARTS))
def test_disabling_deactivates_every_credential_keeps_the_grants_and_converges(name: str) -> None:
    start = STARTS[name]
    steps = lv.plan_disable(start, REGIME, "alice", TODAY).steps
    assert steps[-1] == Step("TagUser", {lc.DISABLED_TAG: TODAY})
    for length, state in prefixes(start, steps):
        if name != "unmanaged":
            assert invariant_1(state), (name, length)
        assert lv.plan_disable(state, REGIME, "alice", TODAY).steps == steps[length:], (name, length)
    end = apply_steps(start, steps)
    assert not lv.has_live_credential(end)
    assert (end.groups, end.policies, end.inline_policies, end.mfa_devices) == (
        start.groups,
        start.policies,
        start.inline_policies,
        start.mfa_devices,
    )
    assert lc.stage(end, REGIME) == lc.DISABLED


def test_disabling_the_full_user_makes_one_call_per_live_credential() -> None:
    actions = [s.action for s in lv.plan_disable(FULL, REGIME, "alice", TODAY).steps]
    assert actions == [
        "DeleteLoginProfile",
        "UpdateAccessKey",
        "UpdateSigningCertificate",
        "UpdateSSHPublicKey",
        "UpdateServiceSpecificCredential",
        "TagUser",
    ]


# Expiry


def test_expiry_tags_first_then_deletes_the_password_and_keeps_the_guard() -> None:
    steps = lv.plan_expiry(ONBOARDING, REGIME, "alice", True, TODAY).steps
    assert steps == [Step("TagUser", {lc.EXPIRED_TAG: TODAY}), Step("DeleteLoginProfile")]
    for length, state in prefixes(ONBOARDING, steps):
        assert invariant_1(state) and GROUP in state.groups, length
        assert lv.plan_expiry(state, REGIME, "alice", True, TODAY).steps == steps[length:], length
    assert lc.stage(apply_steps(ONBOARDING, steps), REGIME) == lc.EXPIRED


@pytest.mark.parametrize(
    ("observed", "old_enough", "fragment"),
    [
        (ONBOARDING._replace(mfa_devices=(VIRTUAL,)), True, "has registered an MFA device"),
        (ONBOARDING._replace(signed_in=True), True, "has signed in with its password"),
        (ONBOARDING, False, "has a temporary password that is not older than the limit yet"),
        (FULL, True, "is promoted, not onboarding"),
        (STARTS["unmanaged"], True, "is unmanaged, not onboarding"),
        (ONBOARDING._replace(has_login_profile=False), True, "not onboarding with a temporary password"),
    ],
)
def test_expiry_refuses_by_name_and_plans_nothing(observed: Observed, old_enough: bool, fragment: str) -> None:
    plan = lv.plan_expiry(observed, REGIME, "alice", old_enough, TODAY)
    assert plan.steps == []
    assert plan.refusal.startswith("user alice ") and fragment in plan.refusal


def test_an_expired_user_is_left_as_it_is() -> None:
    expired = apply_steps(ONBOARDING, lv.plan_expiry(ONBOARDING, REGIME, "alice", True, TODAY).steps)
    assert lv.plan_expiry(expired, REGIME, "alice", True, TODAY) == lc.Plan([], [])


# The expire role's candidates, from iam_onboard_user_info's users


def info_user(name: str, **extra: t.Any) -> dict[str, t.Any]:
    user = {
        "name": name,
        "stage": "onboarding",
        "console_password": True,
        "password_last_used": None,
        "mfa_devices": [],
        "days_in_onboarding": 9,
    }
    return dict(user, **extra)


def test_expire_candidates_are_old_unused_passwords_without_mfa_in_input_order() -> None:
    users = [
        info_user("zoe"),
        info_user("young", days_in_onboarding=3),
        info_user("signed-in", password_last_used="2026-11-30T08:00:00+00:00"),
        info_user("enrolled", mfa_devices=[{"serial_number": VIRTUAL}]),
        info_user("ready", stage="ready"),
        info_user("no-password", console_password=False),
        info_user("expired", stage="expired", console_password=False),
        info_user("ann", days_in_onboarding=7),
    ]
    assert lv.expire_candidates(users, 7) == ["zoe", "ann"]
    assert lv.expire_candidates(users, 10) == []


# Unassigned virtual MFA devices named after expired users (expire_unassigned_mfa)

GIVEN_UP = STARTS["given-up-registration"]


def test_expiry_deletes_the_device_named_after_the_user_after_its_password_and_converges() -> None:
    plan = lv.plan_expiry(GIVEN_UP, REGIME, "alice", True, TODAY, unassigned_mfa=True)
    assert plan.steps == [
        Step("TagUser", {lc.EXPIRED_TAG: TODAY}),
        Step("DeleteLoginProfile"),
        Step("DeleteVirtualMFADevice", VIRTUAL),
    ]
    assert any(f"named after it, {VIRTUAL}; it was deleted" in note for note in plan.notes)
    for length, state in prefixes(GIVEN_UP, plan.steps):
        assert invariant_1(state) and GROUP in state.groups, length
        # A run killed after any call: the rerun (the user may be expired by then) plans exactly what is left.
        again = lv.plan_expiry(state, REGIME, "alice", True, TODAY, unassigned_mfa=True)
        assert again.steps == plan.steps[length:], length
    end = apply_steps(GIVEN_UP, plan.steps)
    assert lc.stage(end, REGIME) == lc.EXPIRED and end.unassigned_virtual_mfa == ()


def test_without_expire_unassigned_mfa_the_device_stays() -> None:
    assert lv.plan_expiry(GIVEN_UP, REGIME, "alice", True, TODAY).steps == [
        Step("TagUser", {lc.EXPIRED_TAG: TODAY}),
        Step("DeleteLoginProfile"),
    ]
    expired = apply_steps(GIVEN_UP, lv.plan_expiry(GIVEN_UP, REGIME, "alice", True, TODAY).steps)
    assert lv.plan_expiry(expired, REGIME, "alice", True, TODAY).steps == []
    assert lv.plan_expiry(expired, REGIME, "alice", True, TODAY, unassigned_mfa=True).steps == [
        Step("DeleteVirtualMFADevice", VIRTUAL)
    ]


def test_a_refused_expiry_deletes_no_device() -> None:
    # The user signed in meanwhile: it may be registering that very device.
    signed_in = GIVEN_UP._replace(signed_in=True)
    plan = lv.plan_expiry(signed_in, REGIME, "alice", True, TODAY, unassigned_mfa=True)
    assert plan.steps == [] and "has signed in" in plan.refusal


DEVICES = [VIRTUAL, f"arn:aws:iam::{ACCOUNT}:mfa/teams/Old", f"arn:aws:iam::{ACCOUNT}:mfa/stranger"]


def test_expire_candidates_add_the_expired_users_a_device_is_named_after() -> None:
    users = [
        info_user("zoe"),
        info_user("Alice", stage="expired", console_password=False),
        info_user("old", stage="expired", console_password=False),
        info_user("bob", stage="expired", console_password=False),
        info_user("stranger", stage="promoted"),
    ]
    # Names compare case-insensitively, and a path in the device's name is not part of it.
    assert lv.expire_candidates(users, 7, DEVICES, unassigned_mfa=True) == ["zoe", "Alice", "old"]
    assert lv.expire_candidates(users, 7, DEVICES) == ["zoe"]
    # Deleting users removes the earlier expired ones too, device or not.
    assert lv.expire_candidates(users, 7, [], delete_users=True) == ["zoe", "Alice", "old", "bob"]


def test_the_unassigned_report_names_what_was_deleted_and_why_the_others_were_kept() -> None:
    results = [
        {
            "name": "alice",
            "actions": ["TagUser mfa-onboarding:expired", "DeleteLoginProfile", f"DeleteVirtualMFADevice {VIRTUAL}"],
        },
        {"name": "zoe", "actions": [], "failed": True},
    ]
    report = lv.unassigned_report(DEVICES, results, True)
    assert [(r["serial_number"], r["deleted"]) for r in report] == [
        (VIRTUAL, True),
        (DEVICES[2], False),
        (DEVICES[1], False),
    ]
    assert "registration in progress" in report[1]["reason"]
    assert report[0]["summary"] == f"{VIRTUAL}: deleted, named after an expired user"
    off = lv.unassigned_report(DEVICES, [], False)
    assert {r["reason"] for r in off} == {"expire_unassigned_mfa is off"} and not any(r["deleted"] for r in off)
