# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The functional core of the lifecycle, without AWS: stages, plans, and the security invariants enumerated
over every prefix of every plan (a run killed after any call)."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._lifecycle import Observed
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._lifecycle import Plan
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._lifecycle import Regime
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import grants_beyond_the_guard
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import official_document
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import render
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import CREATE_USER
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import TAG_USER
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import UNTAG_USER
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import Step
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import apply_steps
from ansible_collections.mfa_onboarding.iam.tests.support.iam_state import at_any_path

ACCOUNT = "123456789012"
GROUP = "NotYetLoginUsers"
CURRENT = f"arn:aws:iam::{ACCOUNT}:policy/MFARequiredForCurrentUsers"
APP = f"arn:aws:iam::{ACCOUNT}:policy/AppReadOnly"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
REGIME = Regime(GROUP, CURRENT)
MFA = (f"arn:aws:iam::{ACCOUNT}:mfa/alice",)
FIRST_LOGIN_DOCUMENT = render(official_document(), "first_login")

# Starting states of one user.
ABSENT = Observed(exists=False)
UNMANAGED = Observed(exists=True)
UNMANAGED_PASSWORD = Observed(exists=True, has_login_profile=True)
UNMANAGED_PERMISSIONS = Observed(exists=True, groups=("Admins",), policies=(ADMIN,), has_login_profile=True)
ONBOARDING = Observed(exists=True, groups=(GROUP,), has_login_profile=True)
ONBOARDING_NO_PASSWORD = Observed(exists=True, groups=(GROUP,))
READY = Observed(exists=True, groups=(GROUP,), has_login_profile=True, mfa_devices=MFA)
# Promotion killed after AttachUserPolicy(current users), before RemoveUserFromGroup.
INTERRUPTED = Observed(exists=True, groups=(GROUP,), policies=(CURRENT,), has_login_profile=True, mfa_devices=MFA)
INTERRUPTED_NO_MFA = Observed(exists=True, groups=(GROUP,), policies=(CURRENT,), has_login_profile=True)
PROMOTED = Observed(exists=True, groups=("Developers",), policies=(CURRENT,), has_login_profile=True, mfa_devices=MFA)
UNMANAGED_MFA = Observed(exists=True, has_login_profile=True, mfa_devices=MFA)

STATES = {
    "absent": ABSENT,
    "unmanaged": UNMANAGED,
    "unmanaged_password": UNMANAGED_PASSWORD,
    "unmanaged_permissions": UNMANAGED_PERMISSIONS,
    "unmanaged_mfa": UNMANAGED_MFA,
    "onboarding": ONBOARDING,
    "onboarding_no_password": ONBOARDING_NO_PASSWORD,
    "ready": READY,
    "interrupted": INTERRUPTED,
    "interrupted_no_mfa": INTERRUPTED_NO_MFA,
    "promoted": PROMOTED,
}
# States the collection already manages (guarded before any call); the others are adopted by the first call.
MANAGED = {"absent", "onboarding", "onboarding_no_password", "ready", "interrupted", "interrupted_no_mfa", "promoted"}
NO_MFA = [name for name, state in STATES.items() if not state.mfa_devices]

PROMOTION_REQUEST = {"groups": ["Developers", "Ops"], "policies": [APP, READ_ONLY]}


def covered(observed: Observed) -> bool:
    """Invariant 1, written out independently of lc.guarded()."""
    return GROUP in observed.groups or CURRENT in observed.policies


def violations(start: Observed, steps: t.Sequence[Step], from_prefix: int = 0) -> list[int]:
    """The prefix lengths after which the user holds a console password or an active access key without an MFA
    guard."""
    found = []
    for length in range(from_prefix, len(steps) + 1):
        state = apply_steps(start, steps[:length])
        if (state.has_login_profile or state.active_keys) and not (lc.guarded(state, REGIME) and covered(state)):
            found.append(length)
    return found


def plans(name: str) -> list[tuple[str, list[Step]]]:
    """Every plan the core makes for a starting state: onboarding (plain, and with tags to change) and
    promotion (when it is not refused)."""
    start = STATES[name]
    found = [
        ("onboarding", lc.plan_onboarding(start, REGIME)[0]),
        ("onboarding+tags", lc.plan_onboarding(start, REGIME, {"team": "data"}, purge_tags=True)[0]),
    ]
    promotion = lc.plan_promotion("alice", start, REGIME, **PROMOTION_REQUEST)
    if promotion.refusal is None:
        found.append(("promotion", promotion.steps))
    return found


# stage()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("absent", "absent"),
        ("unmanaged", "unmanaged"),
        ("unmanaged_password", "unmanaged"),
        ("unmanaged_permissions", "unmanaged"),
        ("unmanaged_mfa", "unmanaged"),
        ("onboarding", "onboarding"),
        ("onboarding_no_password", "onboarding"),
        ("ready", "ready"),
        ("interrupted", "ready"),
        ("interrupted_no_mfa", "onboarding"),
        ("promoted", "promoted"),
    ],
)
def test_stage(name: str, expected: str) -> None:
    assert lc.stage(STATES[name], REGIME) == expected


def test_stage_promoted_needs_the_current_users_policy_of_this_regime() -> None:
    other = Regime(GROUP, f"arn:aws:iam::{ACCOUNT}:policy/SomethingElse")
    assert lc.stage(PROMOTED, other) == "unmanaged"
    assert lc.stage(PROMOTED, REGIME) == "promoted"


def test_stage_promoted_through_a_group() -> None:
    through_group = Observed(
        exists=True, groups=("Staff",), mfa_devices=("mfa",), group_policies=(REGIME.current_users_policy,)
    )
    assert lc.stage(through_group, REGIME) == "promoted"
    assert lc.plan_onboarding(through_group, REGIME)[0] == []
    assert lc.stage(through_group._replace(group_policies=("arn:aws:iam::aws:policy/Other",)), REGIME) == "unmanaged"


def test_stage_onboarding_group_is_the_regimes() -> None:
    assert lc.stage(ONBOARDING, Regime("Newcomers", CURRENT)) == "unmanaged"


# plan_onboarding()


def test_plan_onboarding_absent_creates_guards_then_password() -> None:
    steps, warnings, _refusal = lc.plan_onboarding(ABSENT, REGIME, {"team": "data"})
    assert steps == [
        Step("CreateUser", {"team": "data"}),
        Step("AddUserToGroup", GROUP),
        Step("CreateLoginProfile"),
    ]
    assert warnings == []


def test_plan_onboarding_absent_without_tags_creates_an_untagged_user() -> None:
    steps, _warnings, _refusal = lc.plan_onboarding(ABSENT, REGIME)
    assert steps == [Step("CreateUser", {}), Step("AddUserToGroup", GROUP), Step("CreateLoginProfile")]


@pytest.mark.parametrize("name", ["onboarding", "ready", "interrupted"])
def test_plan_onboarding_is_a_no_op_in_the_onboarding_group(name: str) -> None:
    assert lc.plan_onboarding(STATES[name], REGIME) == Plan([], [])


def test_plan_onboarding_without_mfa_detaches_the_current_users_policy_of_an_interrupted_promotion() -> None:
    """Before MFA the user holds the onboarding group only; under self_enrollment guarded the current-users policy
    would even forbid it to register its first device."""
    steps, notes, refusal = lc.plan_onboarding(INTERRUPTED_NO_MFA, REGIME)
    assert (steps, refusal) == ([Step("DetachUserPolicy", CURRENT)], None)
    assert "is onboarding without an MFA device" in notes[0]


def test_plan_onboarding_in_group_without_password_adds_only_the_password() -> None:
    assert lc.plan_onboarding(ONBOARDING_NO_PASSWORD, REGIME) == Plan([Step("CreateLoginProfile")], [])


def test_plan_onboarding_adopts_unmanaged_user_without_password_guard_first() -> None:
    steps, warnings, _refusal = lc.plan_onboarding(UNMANAGED, REGIME)
    assert steps == [Step("AddUserToGroup", GROUP), Step("CreateLoginProfile")]
    assert warnings == []


def test_plan_onboarding_adopts_unmanaged_user_with_password_and_keeps_it() -> None:
    steps, warnings, _refusal = lc.plan_onboarding(UNMANAGED_PASSWORD, REGIME)
    assert steps == [Step("AddUserToGroup", GROUP)]
    assert warnings == ["keeps its existing console password; it was not reset (reset_password issues a new one)"]


def test_plan_onboarding_adopting_a_user_with_permissions_removes_them_after_the_guard() -> None:
    steps, warnings, _refusal = lc.plan_onboarding(UNMANAGED_PERMISSIONS, REGIME)
    assert steps == [
        Step("AddUserToGroup", GROUP),
        Step("DetachUserPolicy", ADMIN),
        Step("RemoveUserFromGroup", "Admins"),
    ]
    removed, kept = warnings
    assert "existed outside the onboarding regime without an MFA device" in removed
    assert "groups Admins; policies " + ADMIN in removed
    assert "keeps its existing console password" in kept


def test_plan_onboarding_never_demotes_a_promoted_user() -> None:
    steps, warnings, _refusal = lc.plan_onboarding(PROMOTED, REGIME, {"team": "data"}, purge_tags=True)
    assert steps == []
    assert len(warnings) == 1
    assert "promoted" in warnings[0]
    assert "demotion" in warnings[0]


def test_plan_onboarding_adds_and_changes_tags_without_purging() -> None:
    start = ONBOARDING._replace(tags=(("a", "1"), ("b", "2"), ("keep", "x")))
    steps, _warnings, _refusal = lc.plan_onboarding(start, REGIME, {"a": "1", "b": "3", "c": "4"})
    assert steps == [Step("TagUser", {"b": "3", "c": "4"})]
    assert dict(apply_steps(start, steps).tags) == {"a": "1", "b": "3", "c": "4", "keep": "x"}


def test_plan_onboarding_purges_tags_only_when_asked() -> None:
    start = ONBOARDING._replace(tags=(("a", "1"), ("b", "2"), ("c", "3")))
    assert lc.plan_onboarding(start, REGIME, {"a": "1"})[0] == []
    steps, _warnings, _refusal = lc.plan_onboarding(start, REGIME, {"a": "1"}, purge_tags=True)
    assert steps == [Step("UntagUser", ["b", "c"])]
    assert dict(apply_steps(start, steps).tags) == {"a": "1"}


def test_plan_onboarding_without_tags_option_leaves_tags_even_with_purge() -> None:
    start = ONBOARDING._replace(tags=(("a", "1"),))
    assert lc.plan_onboarding(start, REGIME, None, purge_tags=True)[0] == []


def test_plan_onboarding_adoption_orders_guard_tags_password() -> None:
    start = UNMANAGED._replace(tags=(("old", "1"),))
    steps, _warnings, _refusal = lc.plan_onboarding(start, REGIME, {"team": "data"}, purge_tags=True)
    assert steps == [
        Step("AddUserToGroup", GROUP),
        Step("TagUser", {"team": "data"}),
        Step("UntagUser", ["old"]),
        Step("CreateLoginProfile"),
    ]


@pytest.mark.parametrize("name", sorted(STATES))
@pytest.mark.parametrize("tags", [None, {"team": "data"}, {"new": "tag"}])
@pytest.mark.parametrize("purge", [False, True])
def test_plan_onboarding_creates_the_password_last(name: str, tags: dict[str, str] | None, purge: bool) -> None:
    start = STATES[name]._replace(tags=(("old", "1"), ("team", "ops")))
    steps, _warnings, _refusal = lc.plan_onboarding(start, REGIME, tags, purge)
    if start.has_login_profile or lc.stage(start, REGIME) == "promoted":
        assert Step("CreateLoginProfile") not in steps
    else:
        assert steps[-1] == Step("CreateLoginProfile")
        assert steps.count(Step("CreateLoginProfile")) == 1


# plan_promotion()


def test_plan_promotion_refuses_a_user_without_mfa_naming_user_and_mfa() -> None:
    plan = lc.plan_promotion("alice", ONBOARDING, REGIME, **PROMOTION_REQUEST)
    assert plan.steps == []
    assert "alice" in str(plan.refusal)
    assert "MFA" in str(plan.refusal)


def test_plan_promotion_refuses_an_absent_user() -> None:
    plan = lc.plan_promotion("alice", ABSENT, REGIME, **PROMOTION_REQUEST)
    assert plan.steps == []
    assert "alice" in str(plan.refusal)
    assert "does not exist" in str(plan.refusal)


def test_plan_promotion_of_a_ready_user_guards_grants_then_leaves_the_group() -> None:
    steps = lc.plan_promotion("alice", READY, REGIME, **PROMOTION_REQUEST).steps
    assert steps == [
        Step("AttachUserPolicy", CURRENT),
        Step("AttachUserPolicy", APP),
        Step("AttachUserPolicy", READ_ONLY),
        Step("AddUserToGroup", "Developers"),
        Step("AddUserToGroup", "Ops"),
        Step("RemoveUserFromGroup", GROUP),
    ]
    after = apply_steps(READY, steps)
    assert lc.stage(after, REGIME) == "promoted"
    assert after.groups == ("Developers", "Ops")
    assert after.policies == (CURRENT, APP, READ_ONLY)


def test_plan_promotion_without_requests_still_guards_before_leaving() -> None:
    assert lc.plan_promotion("alice", READY, REGIME).steps == [
        Step("AttachUserPolicy", CURRENT),
        Step("RemoveUserFromGroup", GROUP),
    ]


def test_plan_promotion_of_a_promoted_user_is_a_no_op() -> None:
    assert lc.plan_promotion("alice", PROMOTED, REGIME, groups=["Developers"], policies=[CURRENT]).steps == []


def test_plan_promotion_of_a_promoted_user_only_adds() -> None:
    steps = lc.plan_promotion("alice", PROMOTED, REGIME, groups=["Developers", "Ops"], policies=[APP]).steps
    assert steps == [Step("AttachUserPolicy", APP), Step("AddUserToGroup", "Ops")]


def test_plan_promotion_resumes_an_interrupted_promotion() -> None:
    half = INTERRUPTED._replace(policies=(CURRENT, APP))
    steps = lc.plan_promotion("alice", half, REGIME, **PROMOTION_REQUEST).steps
    assert steps == [
        Step("AttachUserPolicy", READ_ONLY),
        Step("AddUserToGroup", "Developers"),
        Step("AddUserToGroup", "Ops"),
        Step("RemoveUserFromGroup", GROUP),
    ]


def test_plan_promotion_does_not_double_duplicates() -> None:
    steps = lc.plan_promotion(
        "alice", READY, REGIME, groups=["Developers", "Developers"], policies=[APP, CURRENT, APP]
    ).steps
    assert steps == [
        Step("AttachUserPolicy", CURRENT),
        Step("AttachUserPolicy", APP),
        Step("AddUserToGroup", "Developers"),
        Step("RemoveUserFromGroup", GROUP),
    ]


def test_plan_promotion_of_an_mfa_user_outside_the_regime_attaches_the_guard_first() -> None:
    steps = lc.plan_promotion("alice", UNMANAGED_MFA, REGIME, groups=["Developers"], policies=[APP]).steps
    assert steps == [
        Step("AttachUserPolicy", CURRENT),
        Step("AttachUserPolicy", APP),
        Step("AddUserToGroup", "Developers"),
    ]


# Invariant 1: no unguarded credential, after any call of any plan.


@pytest.mark.parametrize("name", sorted(STATES))
def test_invariant_1_every_prefix_of_every_plan_is_guarded(name: str) -> None:
    start = STATES[name]
    # An adopted user may hold an unguarded password before the collection's first call; from then on never.
    from_prefix = 0 if name in MANAGED else 1
    checked = 0
    for label, steps in plans(name):
        assert violations(start, steps, from_prefix) == [], (name, label, steps)
        checked += len(steps)
    assert checked > 0


def test_invariant_1_enumeration_covers_the_four_required_starting_states() -> None:
    # absent, unmanaged with a password, onboarding, ready: each has a non-empty plan that the check walks.
    assert [len(s) for _label, s in plans("absent")] == [3, 3]
    assert [len(s) for _label, s in plans("unmanaged_password")] == [1, 2]
    assert [len(s) for _label, s in plans("ready")] == [0, 1, 6]
    assert [len(s) for _label, s in plans("onboarding_no_password")] == [1, 2]


def test_invariant_1_check_catches_a_password_before_the_guard() -> None:
    wrong = [Step("CreateUser", {}), Step("CreateLoginProfile"), Step("AddUserToGroup", GROUP)]
    assert violations(ABSENT, wrong) == [2]


def test_invariant_1_check_catches_leaving_the_group_before_the_guard_policy() -> None:
    wrong = [Step("RemoveUserFromGroup", GROUP), Step("AttachUserPolicy", CURRENT)]
    assert violations(READY, wrong) == [1]


def test_invariant_1_check_catches_an_unguarded_adoption() -> None:
    assert violations(UNMANAGED_PASSWORD, [Step("TagUser", {"a": "b"})], from_prefix=1) == [1]


@pytest.mark.parametrize("name", sorted(STATES))
def test_a_run_killed_after_any_call_converges_on_rerun(name: str) -> None:
    start = STATES[name]
    for label, steps in plans(name):
        complete = apply_steps(start, steps)
        for length in range(len(steps) + 1):
            killed = apply_steps(start, steps[:length])
            if label == "promotion":
                rest = lc.plan_promotion("alice", killed, REGIME, **PROMOTION_REQUEST).steps
            else:
                tags = {"team": "data"} if label == "onboarding+tags" else None
                rest = lc.plan_onboarding(killed, REGIME, tags, purge_tags=tags is not None)[0]
            assert rest == steps[length:], (name, label, length)
            resumed = apply_steps(killed, rest)
            assert (set(resumed.groups), set(resumed.policies)) == (set(complete.groups), set(complete.policies))
            assert (resumed.has_login_profile, dict(resumed.tags)) == (complete.has_login_profile, dict(complete.tags))


# Invariant 2: no permission before MFA.


@pytest.mark.parametrize("name", NO_MFA)
def test_invariant_2_promotion_refuses_every_user_without_mfa(name: str) -> None:
    plan = lc.plan_promotion("alice", STATES[name], REGIME, **PROMOTION_REQUEST)
    assert plan.refusal
    assert plan.steps == []


@pytest.mark.parametrize("name", NO_MFA)
def test_invariant_2_onboarding_grants_nothing_and_ends_holding_the_guard_only(name: str) -> None:
    start = STATES[name]._replace(inline_policies=("legacy",), active_keys=("AKIA1",)) if name != "absent" else ABSENT
    for tags, purge in [(None, False), ({"team": "data"}, True)]:
        steps = lc.plan_onboarding(start, REGIME, tags, purge)[0]
        for length in range(len(steps) + 1):
            state = apply_steps(start, steps[:length])
            assert set(state.groups) - set(start.groups) <= {GROUP}
            assert set(state.policies) <= set(start.policies)
            assert "Developers" not in state.groups
            assert APP not in state.policies
        end = apply_steps(start, steps)
        assert (end.groups, end.policies, end.inline_policies, end.active_keys) == ((GROUP,), (), (), ()), name


@pytest.mark.parametrize("name", [n for n in NO_MFA if n != "absent"])
def test_invariant_2_order_guard_then_keys_then_grants(name: str) -> None:
    start = STATES[name]._replace(
        groups=tuple(sorted({*STATES[name].groups, "Admins"})),
        policies=(ADMIN,),
        inline_policies=("legacy",),
        active_keys=("K",),
    )
    actions = [s.action for s in lc.plan_onboarding(start, REGIME)[0]]
    taking = ["UpdateAccessKey", "DetachUserPolicy", "DeleteUserPolicy", "RemoveUserFromGroup"]
    order = [a for a in actions if a in ("AddUserToGroup", *taking)]
    expected_guard = [] if GROUP in start.groups else ["AddUserToGroup"]
    assert order == [*expected_guard, *taking], name


@pytest.mark.parametrize("name", [n for n in NO_MFA if n != "absent"])
def test_adopt_detach_off_refuses_a_user_that_holds_anything_and_plans_nothing(name: str) -> None:
    start = STATES[name]._replace(active_keys=("AKIA1",))
    plan = lc.plan_onboarding(start, REGIME, {"team": "data"}, purge_tags=True, name="legacy", detach=False)
    assert plan.steps == []
    assert plan.refusal.startswith("user legacy has no MFA device and holds ")
    assert "1 active access key (AKIA1)" in plan.refusal
    assert "adopt_detach off" in plan.refusal


def test_adopt_detach_off_still_guards_a_user_that_holds_nothing() -> None:
    assert lc.plan_onboarding(UNMANAGED_PASSWORD, REGIME, detach=False).steps == [Step("AddUserToGroup", GROUP)]


def test_adopt_only_refuses_an_absent_user_and_never_sets_a_password() -> None:
    assert (
        "does not exist; adoption takes existing users only"
        in lc.plan_onboarding(ABSENT, REGIME, name="ghost", adopt_only=True).refusal
    )
    for name in sorted(STATES):
        for reset in (False, True):
            plan = lc.plan_onboarding(STATES[name], REGIME, reset_password=reset, adopt_only=True, handover="by file")
            assert not lc.sets_password(plan.steps), name
            assert Step("Handover", "by file") not in plan.steps
    notes = lc.plan_onboarding(UNMANAGED._replace(active_keys=("K",)), REGIME, adopt_only=True).notes
    assert "has no console password; onboard it to issue a temporary password" in notes


def test_re_enrolment_of_a_promoted_user_that_lost_its_last_device() -> None:
    """Guard first, then the current-users policy and the grants go; the password is kept; promote again later."""
    lost = PROMOTED._replace(mfa_devices=(), policies=(CURRENT, APP), active_keys=("K",))
    steps, notes, refusal = lc.plan_onboarding(lost, REGIME, name="alice")
    assert refusal is None
    assert steps == [
        Step("AddUserToGroup", GROUP),
        Step("UpdateAccessKey", "K"),
        Step("DetachUserPolicy", APP),
        Step("DetachUserPolicy", CURRENT),
        Step("RemoveUserFromGroup", "Developers"),
    ]
    assert lc.stage(apply_steps(lost, steps), REGIME) == "onboarding"
    assert "re-enrolment" in notes[0]
    assert any("register a new MFA device; promote it again" in n for n in notes)
    assert violations(lost, steps) == []
    refused = lc.plan_onboarding(lost, REGIME, name="alice", detach=False)
    assert refused.refusal and refused.steps == []


# guarded()


@pytest.mark.parametrize(
    ("observed", "group_policies", "expected"),
    [
        (Observed(True, groups=(GROUP,)), None, True),
        (Observed(True, policies=(CURRENT,)), None, True),
        (Observed(True, groups=("Developers",)), None, False),
        (Observed(True, groups=("Developers",)), {"Developers": [APP]}, False),
        (Observed(True, groups=("Developers",)), {"Developers": [APP, CURRENT]}, True),
        (Observed(True, groups=("Ops",)), {"Developers": [CURRENT]}, False),
        (Observed(True, policies=(APP,)), None, False),
    ],
)
def test_guarded(observed: Observed, group_policies: dict[str, list[str]] | None, expected: bool) -> None:
    assert lc.guarded(observed, REGIME, group_policies) is expected


# apply_steps()


def test_apply_steps_follows_each_action() -> None:
    start = Observed(True, groups=("A",), policies=(APP,), tags=(("k", "v"), ("x", "1")))
    after = apply_steps(
        start,
        [
            Step("AddUserToGroup", "B"),
            Step("AddUserToGroup", "A"),
            Step("RemoveUserFromGroup", "A"),
            Step("AttachUserPolicy", CURRENT),
            Step("AttachUserPolicy", APP),
            Step("CreateLoginProfile"),
            Step("TagUser", {"k": "w"}),
            Step("UntagUser", ["x", "missing"]),
        ],
    )
    assert after == Observed(True, groups=("B",), policies=(APP, CURRENT), has_login_profile=True, tags=(("k", "w"),))
    assert start.groups == ("A",)  # the input is not modified


def test_apply_steps_create_user() -> None:
    after = apply_steps(ABSENT, [Step("CreateUser", {"team": "data"})])
    assert after == Observed(True, tags=(("team", "data"),))


# ARNs and URLs


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (f"arn:aws:iam::{ACCOUNT}:group/NotYetLoginUsers", ("aws", ACCOUNT)),
        ("arn:aws-cn:iam::210987654321:group/team/NotYetLoginUsers", ("aws-cn", "210987654321")),
        ("arn:aws-us-gov:iam::111122223333:user/alice", ("aws-us-gov", "111122223333")),
    ],
)
def test_account_of(arn: str, expected: tuple[str, str]) -> None:
    assert lc.account_of(arn) == expected


@pytest.mark.parametrize(
    ("partition", "expected"),
    [
        ("aws", f"https://{ACCOUNT}.signin.aws.amazon.com/console"),
        ("aws-cn", f"https://{ACCOUNT}.signin.amazonaws.cn/console"),
        ("aws-us-gov", f"https://{ACCOUNT}.signin.amazonaws-us-gov.com/console"),
    ],
)
def test_console_url(partition: str, expected: str) -> None:
    assert lc.console_url(partition, ACCOUNT) == expected


@pytest.mark.parametrize(
    ("reference", "partition", "expected"),
    [
        (APP, "aws", [APP]),
        (READ_ONLY, "aws", [READ_ONLY]),
        (
            "ReadOnlyAccess",
            "aws",
            [f"arn:aws:iam::{ACCOUNT}:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"],
        ),
        (
            "job-function/ViewOnlyAccess",
            "aws",
            [
                f"arn:aws:iam::{ACCOUNT}:policy/job-function/ViewOnlyAccess",
                "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
            ],
        ),
        (
            "/job-function/ViewOnlyAccess",
            "aws",
            [
                f"arn:aws:iam::{ACCOUNT}:policy/job-function/ViewOnlyAccess",
                "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
            ],
        ),
        (
            "AppReadOnly",
            "aws-cn",
            [f"arn:aws-cn:iam::{ACCOUNT}:policy/AppReadOnly", "arn:aws-cn:iam::aws:policy/AppReadOnly"],
        ),
    ],
)
def test_policy_arn_candidates_customer_managed_first(reference: str, partition: str, expected: list[str]) -> None:
    assert lc.policy_arn_candidates(reference, partition, ACCOUNT) == expected


# resolve_grants(): one user's groups and policy references against what the run read, once, for every user

OWN_READ_ONLY = f"arn:aws:iam::{ACCOUNT}:policy/ReadOnlyAccess"
OWN_VIEW = f"arn:aws:iam::{ACCOUNT}:policy/job-function/ViewOnlyAccess"
AWS_VIEW = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"


def reads(groups: dict[str, str | None], existing: t.Iterable[str], references: t.Iterable[str]) -> lc.GrantReads:
    """GrantReads as the shell builds it: each reference's candidates, found when in `existing`."""
    held = set(existing)
    return lc.GrantReads(
        groups,
        {
            r: tuple((arn, arn if arn in held else None) for arn in lc.policy_arn_candidates(r, "aws", ACCOUNT))
            for r in references
        },
    )


@pytest.mark.parametrize(
    ("reference", "existing", "arn", "problem"),
    [
        # A name that exists in one place resolves there.
        ("AppReadOnly", [APP], APP, None),
        ("ReadOnlyAccess", [READ_ONLY], READ_ONLY, None),
        ("job-function/ViewOnlyAccess", [AWS_VIEW], AWS_VIEW, None),
        ("job-function/ViewOnlyAccess", [OWN_VIEW], OWN_VIEW, None),
        # In both: ambiguous, both ARNs named, customer-managed first.
        ("ReadOnlyAccess", [OWN_READ_ONLY, READ_ONLY], None, f"both the account's customer-managed {OWN_READ_ONLY} "),
        ("/job-function/ViewOnlyAccess", [OWN_VIEW, AWS_VIEW], None, f"and the AWS-managed {AWS_VIEW} exist"),
        # An ARN is never ambiguous, even when the other place holds the same name.
        (READ_ONLY, [OWN_READ_ONLY, READ_ONLY], READ_ONLY, None),
        (OWN_READ_ONLY, [OWN_READ_ONLY, READ_ONLY], OWN_READ_ONLY, None),
        # Nowhere: not found (no problem of its own: resolve_grants names it among the missing).
        ("AppReadOnyl", [APP], None, None),
        (f"arn:aws:iam::{ACCOUNT}:policy/Missing", [], None, None),
    ],
)
def test_resolve_policy(reference: str, existing: list[str], arn: str | None, problem: str | None) -> None:
    found, why = lc.resolve_policy(reference, reads({}, existing, [reference]).policies[reference])
    assert found == arn
    if problem is None:
        assert why is None
    else:
        assert why is not None and problem in why
        assert why.startswith(f"managed policy {reference} is ambiguous: ")
        assert why.endswith("; give the ARN of the one to attach")


def test_resolve_grants_names_every_reference_of_the_user_that_does_not_resolve() -> None:
    run = reads(
        {"Developers": "Developers", "Devs": None, "Ops": None},
        [APP, OWN_READ_ONLY, READ_ONLY],
        ["AppReadOnly", "AppReadOnyl", "ReadOnlyAccess", f"arn:aws:iam::{ACCOUNT}:policy/Gone"],
    )
    grants = lc.resolve_grants(
        ["Developers", "Devs", "Ops"],
        ["AppReadOnly", "AppReadOnyl", "ReadOnlyAccess", f"arn:aws:iam::{ACCOUNT}:policy/Gone"],
        run,
    )
    assert grants.groups == ["Developers"]
    assert grants.policies == [APP]
    assert grants.problems[0] == "groups not found: Devs, Ops"
    assert grants.problems[1].startswith(
        f"managed policies not found: AppReadOnyl, arn:aws:iam::{ACCOUNT}:policy/Gone (a name is looked up as"
    )
    assert grants.problems[2].startswith("managed policy ReadOnlyAccess is ambiguous: ")
    assert len(grants.problems) == 3


def test_resolve_grants_of_a_user_whose_grants_all_resolve() -> None:
    run = reads(
        {"Developers": "Developers", "developers": "Developers"}, [APP, READ_ONLY], ["AppReadOnly", READ_ONLY, APP]
    )
    # IAM's names (a group named in another case is the same group), each once, in request order.
    grants = lc.resolve_grants(["developers", "Developers"], [READ_ONLY, "AppReadOnly", APP], run)
    assert grants == lc.Grants(["Developers"], [READ_ONLY, APP], [])
    assert lc.resolve_grants([], [], lc.GrantReads()) == lc.Grants([], [], [])


def test_resolve_grants_not_found_by_arn_gives_no_name_hint() -> None:
    missing = f"arn:aws:iam::{ACCOUNT}:policy/Missing"
    grants = lc.resolve_grants([], [missing], reads({}, [], [missing]))
    assert grants.problems == [f"managed policies not found: {missing}"]


def test_plan_promotion_refuses_a_user_whose_grants_do_not_resolve_with_no_step() -> None:
    plan = lc.plan_promotion("bob", READY, REGIME, ["Developers"], [APP], unresolved=["groups not found: Devs"])
    assert plan == Plan([], [], "user bob: groups not found: Devs; nothing was changed for this user")
    # An absent user is still told so first; a user whose grants resolve is planned as ever.
    assert (
        lc.plan_promotion("bob", ABSENT, REGIME, unresolved=["x"]).refusal
        == "user bob does not exist; onboard it first"
    )
    assert (
        lc.plan_promotion("bob", READY, REGIME, ["Developers"], [APP], unresolved=[]).steps
        == lc.plan_promotion("bob", READY, REGIME, ["Developers"], [APP]).steps
    )


@pytest.mark.parametrize(
    ("partition", "path", "expected"),
    [
        ("aws", "/", f"arn:aws:iam::{ACCOUNT}:user/alice"),
        ("aws", "/contractors/", f"arn:aws:iam::{ACCOUNT}:user/contractors/alice"),
        ("aws-cn", "/", f"arn:aws-cn:iam::{ACCOUNT}:user/alice"),
    ],
)
def test_user_arn(partition: str, path: str, expected: str) -> None:
    assert lc.user_arn(partition, ACCOUNT, path, "alice") == expected


# plan_onboarding(reset_password=True): a fresh temporary password for a user that has not signed in yet

UPDATE = Step("UpdateLoginProfile")
SIGNED_IN = "has registered an MFA device, so it has signed in already; its password was not reset"
# Starting states whose user holds a console password and no MFA device, outside the promoted stage.
RESETTABLE = ["interrupted_no_mfa", "onboarding", "unmanaged_password", "unmanaged_permissions"]


def reset_plans(name: str) -> list[tuple[str, list[Step]]]:
    """Every onboarding plan with reset_password=True for a starting state: plain, and with tags to change."""
    start = STATES[name]._replace(tags=(("old", "1"),))
    return [
        ("reset", lc.plan_onboarding(start, REGIME, reset_password=True)[0]),
        ("reset+tags", lc.plan_onboarding(start, REGIME, {"team": "data"}, purge_tags=True, reset_password=True)[0]),
    ]


def unguarded_resets(start: Observed, steps: t.Sequence[Step]) -> list[int]:
    """The indexes of UpdateLoginProfile steps that would be issued while the user is not covered by a guard."""
    found = []
    for index, step in enumerate(steps):
        state = apply_steps(start, steps[:index])
        if step == UPDATE and not (lc.guarded(state, REGIME) and covered(state)):
            found.append(index)
    return found


def test_reset_password_on_an_onboarding_user_updates_the_login_profile() -> None:
    assert lc.plan_onboarding(ONBOARDING, REGIME, reset_password=True) == Plan([UPDATE], [])


def test_reset_password_is_off_by_default() -> None:
    assert lc.plan_onboarding(ONBOARDING, REGIME) == Plan([], [])
    assert lc.plan_onboarding(ONBOARDING, REGIME, reset_password=False) == Plan([], [])


def test_reset_password_comes_after_the_tag_steps() -> None:
    start = ONBOARDING._replace(tags=(("old", "1"), ("team", "ops")))
    steps, warnings, _refusal = lc.plan_onboarding(
        start, REGIME, {"team": "data"}, purge_tags=True, reset_password=True
    )
    assert steps == [Step("TagUser", {"team": "data"}), Step("UntagUser", ["old"]), UPDATE]
    assert warnings == []


def test_reset_password_on_an_interrupted_promotion_without_mfa_updates_the_login_profile() -> None:
    steps = lc.plan_onboarding(INTERRUPTED_NO_MFA, REGIME, reset_password=True).steps
    assert steps == [Step("DetachUserPolicy", CURRENT), UPDATE]


@pytest.mark.parametrize("name", ["ready", "interrupted"])
def test_reset_password_of_a_user_with_mfa_changes_nothing_and_warns(name: str) -> None:
    steps, warnings, _refusal = lc.plan_onboarding(STATES[name], REGIME, reset_password=True)
    assert steps == []
    assert warnings == [SIGNED_IN]
    assert "signed in already" in warnings[0]


def test_reset_password_of_a_ready_user_still_applies_tags_but_not_the_reset() -> None:
    start = READY._replace(tags=(("team", "ops"),))
    steps, warnings, _refusal = lc.plan_onboarding(start, REGIME, {"team": "data"}, reset_password=True)
    assert steps == [Step("TagUser", {"team": "data"})]
    assert warnings == [SIGNED_IN]


def test_reset_password_of_an_absent_user_is_the_usual_onboarding() -> None:
    steps, warnings, _refusal = lc.plan_onboarding(ABSENT, REGIME, {"team": "data"}, reset_password=True)
    assert steps == [Step("CreateUser", {"team": "data"}), Step("AddUserToGroup", GROUP), Step("CreateLoginProfile")]
    assert UPDATE not in steps
    assert warnings == []


def test_reset_password_of_a_user_without_a_password_only_creates_one() -> None:
    assert lc.plan_onboarding(ONBOARDING_NO_PASSWORD, REGIME, reset_password=True) == Plan(
        [Step("CreateLoginProfile")], []
    )
    steps, _warnings, _refusal = lc.plan_onboarding(UNMANAGED, REGIME, reset_password=True)
    assert steps == [Step("AddUserToGroup", GROUP), Step("CreateLoginProfile")]


def test_reset_password_of_a_promoted_user_changes_nothing() -> None:
    steps, warnings, _refusal = lc.plan_onboarding(
        PROMOTED, REGIME, {"team": "data"}, purge_tags=True, reset_password=True
    )
    assert steps == []
    assert len(warnings) == 1
    assert "promoted" in warnings[0]


def test_reset_password_of_an_unmanaged_user_guards_before_the_reset() -> None:
    steps, warnings, _refusal = lc.plan_onboarding(UNMANAGED_PASSWORD, REGIME, reset_password=True)
    assert steps == [Step("AddUserToGroup", GROUP), UPDATE]
    assert warnings == []
    assert steps.index(Step("AddUserToGroup", GROUP)) < steps.index(UPDATE)


def test_reset_password_of_an_unmanaged_user_orders_guard_tags_reset() -> None:
    start = UNMANAGED_PERMISSIONS._replace(tags=(("old", "1"),))
    steps, warnings, _refusal = lc.plan_onboarding(
        start, REGIME, {"team": "data"}, purge_tags=True, reset_password=True
    )
    assert steps == [
        Step("AddUserToGroup", GROUP),
        Step("DetachUserPolicy", ADMIN),
        Step("RemoveUserFromGroup", "Admins"),
        Step("TagUser", {"team": "data"}),
        Step("UntagUser", ["old"]),
        UPDATE,
    ]
    (warning,) = warnings
    assert "Admins" in warning
    assert ADMIN in warning


def test_reset_password_of_an_unmanaged_user_with_mfa_adopts_it_as_promoted_and_keeps_the_password() -> None:
    steps, warnings, _refusal = lc.plan_onboarding(UNMANAGED_MFA, REGIME, {"team": "data"}, reset_password=True)
    assert steps == [Step("AttachUserPolicy", CURRENT)]
    assert "adopted as promoted" in warnings[0]
    assert "its password and its tags were kept" in warnings[0]


@pytest.mark.parametrize("name", sorted(STATES))
def test_reset_password_is_planned_exactly_for_a_password_without_mfa(name: str) -> None:
    for label, steps in reset_plans(name):
        if name in RESETTABLE:
            assert steps[-1] == UPDATE, (name, label, steps)
            assert steps.count(UPDATE) == 1
            assert Step("CreateLoginProfile") not in steps
        else:
            assert UPDATE not in steps, (name, label, steps)


@pytest.mark.parametrize("name", sorted(STATES))
def test_no_plan_without_reset_password_updates_the_login_profile(name: str) -> None:
    for label, steps in plans(name):
        assert UPDATE not in steps, (name, label, steps)


# Invariant 1 for the plans with reset_password: every prefix guarded, and no reset ever issued unguarded.


@pytest.mark.parametrize("name", sorted(STATES))
def test_invariant_1_every_prefix_of_every_reset_plan_is_guarded(name: str) -> None:
    start = STATES[name]._replace(tags=(("old", "1"),))
    from_prefix = 0 if name in MANAGED else 1
    for label, steps in reset_plans(name):
        assert violations(start, steps, from_prefix) == [], (name, label, steps)
        assert unguarded_resets(start, steps) == [], (name, label, steps)


def test_invariant_1_reset_enumeration_walks_the_resets() -> None:
    walked = {name: [len(s) for _label, s in reset_plans(name)] for name in RESETTABLE}
    assert walked == {
        "interrupted_no_mfa": [2, 4],
        "onboarding": [1, 3],
        "unmanaged_password": [2, 4],
        "unmanaged_permissions": [4, 6],
    }
    for name in RESETTABLE:
        assert all(UPDATE in steps for _label, steps in reset_plans(name))


def test_invariant_1_check_catches_a_reset_before_the_guard() -> None:
    wrong = [UPDATE, Step("AddUserToGroup", GROUP)]
    assert violations(UNMANAGED_PASSWORD, wrong, from_prefix=1) == [1]
    assert unguarded_resets(UNMANAGED_PASSWORD, wrong) == [0]
    assert unguarded_resets(UNMANAGED_PASSWORD, list(reversed(wrong))) == []


# The rules about meaning, as functions of plain values.


EXPIRED_USER = ONBOARDING_NO_PASSWORD._replace(tags=((lc.EXPIRED_TAG, "2026-11-30"),))
DISABLED_USER = PROMOTED._replace(has_login_profile=False, tags=((lc.DISABLED_TAG, "2026-11-30"),))


def test_stage_expired_needs_the_mark_and_no_password() -> None:
    assert lc.stage(EXPIRED_USER, REGIME) == "expired"
    # A new temporary password (onboarding again) makes it onboarding, whatever the old mark says.
    assert lc.stage(EXPIRED_USER._replace(has_login_profile=True), REGIME) == "onboarding"
    # An MFA device makes it ready: the owner signed in after all.
    assert lc.stage(EXPIRED_USER._replace(mfa_devices=MFA), REGIME) == "ready"
    # Without the mark, a member without a password is an interrupted onboarding.
    assert lc.stage(ONBOARDING_NO_PASSWORD, REGIME) == "onboarding"


def test_stage_disabled_by_its_mark_whatever_else_it_holds() -> None:
    assert lc.stage(DISABLED_USER, REGIME) == "disabled"
    assert lc.stage(ONBOARDING._replace(tags=((lc.DISABLED_TAG, "x"),)), REGIME) == "disabled"


def test_a_disabled_user_is_not_promoted_nor_adopted() -> None:
    promotion = lc.plan_promotion("dora", DISABLED_USER, REGIME, ["Developers"], [APP])
    adoption = lc.plan_onboarding(DISABLED_USER, REGIME, name="dora", adopt_only=True)
    for plan, hint in ((promotion, "onboard it again first"), (adoption, "onboard it to bring it back")):
        assert plan.steps == []
        assert plan.refusal is not None
        assert "user dora" in plan.refusal and "2026-11-30" in plan.refusal and hint in plan.refusal


# A disabled user keeps its groups and policies for audit; offboarded later, or onboarded again.
DISABLED_NO_MFA = Observed(
    exists=True,
    groups=("Developers", "Ops"),
    policies=(APP, CURRENT),
    inline_policies=("legacy",),
    tags=((lc.DISABLED_TAG, "2026-11-30"), (lc.HANDOVER_TAG, "delivered")),
)


@pytest.mark.parametrize(
    ("start", "handover"),
    [(DISABLED_USER, None), (DISABLED_NO_MFA, None), (DISABLED_NO_MFA, "by file to /notes/dora.txt")],
    ids=["mfa", "no-mfa", "no-mfa-by-file"],
)
def test_a_disabled_user_onboarded_again_is_guarded_first_holds_nothing_else_and_gets_a_fresh_password(
    start: Observed, handover: str | None
) -> None:
    plan = lc.plan_onboarding(start, REGIME, name="dora", handover=handover)
    assert plan.refusal is None
    actions = [s.action for s in plan.steps]
    assert plan.steps[0] == Step("AddUserToGroup", GROUP)
    # Everything it kept is taken away before the mark goes, and the password comes last (with its handover).
    untag = actions.index("UntagUser")
    assert plan.steps[untag] == Step("UntagUser", [lc.DISABLED_TAG])
    assert set(actions[1:untag]) <= {"DetachUserPolicy", "DeleteUserPolicy", "RemoveUserFromGroup"}
    assert "CreateLoginProfile" in actions[untag:]
    if handover:
        assert actions[-3:] == ["CreateLoginProfile", "Handover", "TagUser"]
    else:
        assert actions[-1] == "CreateLoginProfile"
    end = apply_steps(start, plan.steps)
    assert end.groups == (GROUP,) and end.policies == () and end.inline_policies == ()
    assert end.has_login_profile and lc.DISABLED_TAG not in dict(end.tags)
    assert lc.stage(end, REGIME) == ("ready" if start.mfa_devices else "onboarding")
    assert any("was disabled (mfa-onboarding:disabled: 2026-11-30)" in note for note in plan.notes)
    # Killed after any call: invariants 1 and 2 hold, and the rerun plans exactly what is left.
    assert violations(start, plan.steps) == []
    for length in range(len(plan.steps) + 1):
        reached = apply_steps(start, plan.steps[:length])
        if not reached.mfa_devices and lc.DISABLED_TAG not in dict(reached.tags):
            assert not lc.held_description(reached, REGIME), length
        again = lc.plan_onboarding(reached, REGIME, name="dora", handover=handover)
        if handover and lc.handover_mark(reached) == lc.PENDING and reached.has_login_profile:
            # Killed between the password and its handover: the password was never handed over, so the rerun
            # issues a fresh one and hands it over (invariant 6).
            assert [s.action for s in again.steps] == ["UpdateLoginProfile", "Handover", "TagUser"], length
        else:
            assert again.steps == plan.steps[length:], length


def test_a_disabled_user_with_adopt_detach_off_is_refused_untouched() -> None:
    plan = lc.plan_onboarding(DISABLED_NO_MFA, REGIME, name="dora", detach=False)
    assert plan.steps == [] and "user dora was disabled and holds" in plan.refusal


def test_an_expired_user_onboarded_again_gets_a_fresh_password_and_loses_its_mark() -> None:
    plan = lc.plan_onboarding(EXPIRED_USER, REGIME)
    assert plan.steps == [Step("UntagUser", [lc.EXPIRED_TAG]), Step("CreateLoginProfile")]
    assert lc.stage(apply_steps(EXPIRED_USER, plan.steps), REGIME) == "onboarding"
    assert lc.plan_onboarding(apply_steps(EXPIRED_USER, plan.steps[:1]), REGIME).steps == plan.steps[1:]
    by_file = lc.plan_onboarding(EXPIRED_USER, REGIME, handover="by file to /notes/a.txt").steps
    assert [s.action for s in by_file] == ["UntagUser", "TagUser", "CreateLoginProfile", "Handover", "TagUser"]


@pytest.mark.parametrize(
    ("observed", "expected"),
    [
        (UNMANAGED, False),  # no groups: nothing to read
        (UNMANAGED_PERMISSIONS, True),  # outside the regime, in a group: the group may carry the guard
        (ONBOARDING, False),  # decided by the onboarding group
        (PROMOTED, False),  # decided by the policy attached to the user
        (ABSENT, False),
    ],
)
def test_needs_group_policies(observed: Observed, expected: bool) -> None:
    assert lc.needs_group_policies(observed, REGIME) is expected


def test_account_reads_by_requested_state() -> None:
    assert lc.account_reads("onboarding") == {lc.PASSWORD_POLICY}
    assert lc.account_reads("promoted") == {lc.GRANTS}


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([Step("CreateUser", {}), Step("AddUserToGroup", GROUP), Step("CreateLoginProfile")], True),
        ([Step("UpdateLoginProfile")], True),
        ([Step("AddUserToGroup", GROUP), Step("TagUser", {"a": "b"})], False),
        ([], False),
    ],
)
def test_sets_password(steps: list[Step], expected: bool) -> None:
    assert lc.sets_password(steps) is expected


def test_path_note() -> None:
    assert lc.path_note("/") is None
    note = lc.path_note("/contractors/")
    assert note is not None
    assert note.startswith("is at path /contractors/: ")
    assert "user/${aws:username}" in note
    assert "cannot register an MFA device" in note


def test_promotion_target_problem() -> None:
    assert lc.promotion_target_problem("Developers", GROUP) is None
    problem = lc.promotion_target_problem(GROUP, GROUP)
    assert problem == f"{GROUP} is the onboarding group; promotion removes the user from it"
    # IAM group names are case-insensitive: the onboarding group in another case is the onboarding group.
    assert lc.promotion_target_problem(GROUP.lower(), GROUP) is not None


@pytest.mark.parametrize("spelling", ["notyetloginusers", "NOTYETLOGINUSERS", "NotYetLoginusers"])
def test_promotion_target_problem_ignores_case(spelling: str) -> None:
    """IAM group names are case-insensitive: on AWS, AddUserToGroup(notyetloginusers) is the onboarding group."""
    problem = lc.promotion_target_problem(spelling, GROUP)
    assert problem == (
        f"{spelling} is the onboarding group ({GROUP}: IAM group names are case-insensitive); promotion removes the "
        "user from it"
    )
    assert lc.promotion_target_problem(GROUP, spelling) is not None


def test_spelling_refusal_names_both_spellings() -> None:
    assert lc.spelling_refusal("alice", "Alice") == (
        "user alice: IAM holds this user as Alice (IAM user names are case-insensitive, so alice and Alice are one "
        "user); list it as Alice; nothing was changed"
    )


# Invariant 6: no lost handover. The mark is pending before a password exists, delivered only after the handover.

VIA = "by file to /notes/alice.txt"
MARK = "mfa-onboarding:handover"
PENDING = Observed(exists=True, groups=(GROUP,), has_login_profile=True, tags=((MARK, "pending"),))
DELIVERED = Observed(exists=True, groups=(GROUP,), has_login_profile=True, tags=((MARK, "delivered"),))
HANDED_OVER = [Step("Handover", VIA), Step("TagUser", {MARK: "delivered"})]


def test_plan_onboarding_with_a_channel_marks_before_the_password_and_clears_after_the_handover() -> None:
    plan = lc.plan_onboarding(ABSENT, REGIME, {"team": "data"}, handover=VIA)
    assert plan.steps == [
        Step("CreateUser", {"team": "data", MARK: "pending"}),
        Step("AddUserToGroup", GROUP),
        Step("CreateLoginProfile"),
        *HANDED_OVER,
    ]


def test_plan_onboarding_without_a_channel_marks_nothing() -> None:
    assert lc.plan_onboarding(ABSENT, REGIME, handover=None).steps == [
        Step("CreateUser", {}),
        Step("AddUserToGroup", GROUP),
        Step("CreateLoginProfile"),
    ]


def test_a_pending_user_gets_a_fresh_password_and_its_handover() -> None:
    assert lc.plan_onboarding(PENDING, REGIME, handover=VIA).steps == [Step("UpdateLoginProfile"), *HANDED_OVER]


def test_a_delivered_user_gets_nothing() -> None:
    assert lc.plan_onboarding(DELIVERED, REGIME, handover=VIA) == Plan([], [])


def test_a_delivered_user_reset_on_request_is_marked_pending_first() -> None:
    assert lc.plan_onboarding(DELIVERED, REGIME, reset_password=True, handover=VIA).steps == [
        Step("TagUser", {MARK: "pending"}),
        Step("UpdateLoginProfile"),
        *HANDED_OVER,
    ]


def test_an_adopted_user_without_a_password_is_guarded_marked_then_given_one() -> None:
    assert lc.plan_onboarding(UNMANAGED, REGIME, handover=VIA).steps == [
        Step("AddUserToGroup", GROUP),
        Step("TagUser", {MARK: "pending"}),
        Step("CreateLoginProfile"),
        *HANDED_OVER,
    ]


@pytest.mark.parametrize(
    ("start", "why"),
    [
        (PENDING._replace(mfa_devices=MFA), "has registered an MFA device"),
        (PENDING._replace(signed_in=True), "has signed in already"),
    ],
)
def test_a_pending_user_that_signed_in_or_has_mfa_keeps_its_password(start: Observed, why: str) -> None:
    plan = lc.plan_onboarding(start, REGIME, handover=VIA)
    assert plan.steps == []
    assert why in plan.notes[0]


def test_a_pending_user_is_left_to_a_channel_when_the_caller_takes_the_password() -> None:
    plan = lc.plan_onboarding(PENDING, REGIME, handover=None)
    assert plan.steps == []
    assert "never handed over" in plan.notes[0]


def test_purging_tags_never_removes_the_collections_marks() -> None:
    start = DELIVERED._replace(tags=((MARK, "delivered"), ("mfa-onboarding:profile", "dev"), ("old", "1")))
    assert lc.plan_onboarding(start, REGIME, {"team": "data"}, purge_tags=True, handover=VIA).steps == [
        Step("TagUser", {"team": "data"}),
        Step("UntagUser", ["old"]),
    ]


def test_a_run_killed_after_any_step_of_a_handover_reissues_exactly_when_it_was_not_confirmed() -> None:
    """After every prefix of the new-user plan: a password in IAM is marked (pending or delivered); the rerun
    issues a fresh one exactly when the mark is still pending, and converges to the same end state."""
    steps = lc.plan_onboarding(ABSENT, REGIME, handover=VIA).steps
    end = apply_steps(ABSENT, steps)
    reissued = []
    for length in range(len(steps) + 1):
        killed = apply_steps(ABSENT, steps[:length])
        if killed.has_login_profile:
            assert lc.handover_mark(killed) in ("pending", "delivered"), length
        rerun = lc.plan_onboarding(killed, REGIME, handover=VIA).steps
        if Step("UpdateLoginProfile") in rerun:
            reissued.append(length)
        assert apply_steps(killed, rerun) == end, length
    # Killed after CreateLoginProfile or after the handover but before the mark: the password is not confirmed.
    assert reissued == [3, 4]


# Invariant 7: guards verified by their documents, not trusted by name.

MFA_FALSE = {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
GUARD = {
    "Statement": [{"Effect": "Deny", "NotAction": ["iam:ChangePassword"], "Resource": "*", "Condition": MFA_FALSE}]
}
POWER = {"Statement": [{"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"}]}
FIRST_LOGIN = f"arn:aws:iam::{ACCOUNT}:policy/MFARequiredOnlyForTheFirstLogin"
POWER_USER = "arn:aws:iam::aws:policy/PowerUserAccess"


def test_guard_problems_none_for_the_bootstrapped_guards() -> None:
    assert lc.guard_problems(GROUP, {FIRST_LOGIN: GUARD}, CURRENT, GUARD) == []


@pytest.mark.parametrize(
    ("documents", "policy_document", "fragments"),
    [
        ({POWER_USER: POWER}, GUARD, ["group Developers holds no policy with the MFA deny statement"]),
        ({}, GUARD, ["group Developers holds no policy with the MFA deny statement"]),
        ({FIRST_LOGIN: GUARD, POWER_USER: POWER}, GUARD, [f"also holds {POWER_USER}"]),
        ({FIRST_LOGIN: GUARD, "inline policy extra": POWER}, GUARD, ["also holds inline policy extra"]),
        ({FIRST_LOGIN: GUARD, POWER_USER: None}, GUARD, [f"also holds {POWER_USER}"]),
        ({FIRST_LOGIN: GUARD}, POWER, [f"current_users_policy: {CURRENT} does not carry the MFA deny"]),
        ({POWER_USER: POWER}, None, ["onboarding_group:", "current_users_policy:"]),
    ],
)
def test_guard_problems_name_what_does_not_guard(
    documents: dict[str, t.Any], policy_document: t.Any, fragments: list[str]
) -> None:
    problems = lc.guard_problems("Developers", documents, CURRENT, policy_document)
    assert len(problems) == len(fragments)
    for problem, fragment in zip(problems, fragments):
        assert fragment in problem


def test_a_guard_that_also_grants_more_is_refused_naming_what_it_grants() -> None:
    extra = {"Sid": "Extra", "Effect": "Allow", "Action": "iam:EnableMFADevice", "Resource": "arn:aws:iam::*:user/*"}
    greedy = {"Statement": [*GUARD["Statement"], extra]}
    (problem,) = lc.guard_problems(GROUP, {FIRST_LOGIN: greedy}, CURRENT, GUARD)
    assert problem.startswith(f"onboarding_group: the group {GROUP} holds {FIRST_LOGIN}, which has the MFA deny")
    assert "statement Extra allows iam:EnableMFADevice on arn:aws:iam::*:user/*" in problem


@pytest.mark.parametrize("scope", ["any", "own"])
@pytest.mark.parametrize("self_enrollment", ["official", "guarded"])
def test_guard_problems_none_for_the_policy_modules_renderings(self_enrollment: str, scope: str) -> None:
    first = render(official_document(), "first_login", scope, self_enrollment)
    current = render(official_document(), "current_users", scope, self_enrollment)
    assert lc.guard_problems(GROUP, {FIRST_LOGIN: first}, CURRENT, current) == []


def user_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:user{path}{name}"


# Whether the onboarding group's policies let a user act on itself: allows_on_self, one action (from test__status)


def allow(resource: t.Any, action: t.Any = lc.ENABLE_MFA, **extra: t.Any) -> dict[str, t.Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [dict({"Effect": "Allow", "Action": action, "Resource": resource}, **extra)],
    }


OWN = "arn:aws:iam::*:user/${aws:username}"
ANY_PATH = "arn:aws:iam::*:user/*/${aws:username}"
DENY_ENROLLING = {"Statement": [{"Effect": "Deny", "Action": "iam:EnableMFADevice", "Resource": "*"}]}
DENY_WITHOUT_MFA = {
    "Statement": [
        {
            "Effect": "Deny",
            "Action": "iam:*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
        }
    ]
}


@pytest.mark.parametrize(
    ("documents", "name", "path", "expected"),
    [
        ([FIRST_LOGIN_DOCUMENT], "alice", "/", True),
        ([FIRST_LOGIN_DOCUMENT], "alice", "/contractors/", False),
        ([FIRST_LOGIN_DOCUMENT], "alice", "/a/b/", False),
        ([allow([OWN, ANY_PATH])], "alice", "/contractors/", True),
        ([allow([OWN, ANY_PATH])], "alice", "/a/b/", True),
        ([allow(ANY_PATH)], "alice", "/", False),  # user/*/alice needs a path segment
        ([allow("*")], "alice", "/contractors/", True),
        ([allow(f"arn:aws:iam::{ACCOUNT}:user/contractors/*")], "alice", "/contractors/", True),
        ([allow("arn:aws:iam::999999999999:user/${aws:username}")], "alice", "/", False),  # another account
        ([allow("arn:aws:iam::*:user/bob")], "alice", "/", False),
        ([allow("arn:aws:iam::*:user/${aws:userid}")], "alice", "/", False),  # a variable it cannot know
        ([allow("arn:aws:iam::*:user/${*}")], "alice", "/", False),  # ${*} is a literal *
        ([allow("arn:aws:iam::*:user/${aws:username}${?}")], "alice", "/", False),  # ${?} is a literal ?
        ([allow("arn:aws:iam::*:user/${AWS:UserName}")], "alice", "/", True),  # variable names: any case
        ([allow("arn:aws:iam::*:user/ALICE")], "alice", "/", False),  # resources: case-sensitive
        ([allow("arn:*")], "alice", "/contractors/", True),  # a * that ends a segment expands beyond it
        ([allow("arn:aws:iam::*")], "alice", "/contractors/", True),
        ([allow(f"arn:aws:iam::{ACCOUNT}:user/*")], "alice", "/contractors/", True),
        ([allow("arn:aws:iam::1*2:user/${aws:username}")], "alice", "/", True),  # within the account segment
        ([allow("arn:aws:iam::12345678901?:user/${aws:username}")], "alice", "/", True),
        ([allow("arn:aws:iam::1*:user/alice")], "alice", "/", True),
        ([allow("arn:aws:ia*m::*:user/${aws:username}")], "alice", "/", True),
        ([allow("arn:aws:iam*user/${aws:username}")], "alice", "/", False),  # a * inside a segment stops at :
        ([allow(OWN, "iam:*")], "alice", "/", True),
        ([allow(OWN, "iam:enablemfadevice")], "alice", "/", True),  # actions are case-insensitive
        ([allow(OWN, "IAM:Enable*")], "alice", "/", True),
        ([allow(OWN, "iam:ListMFADevices")], "alice", "/", False),
        ([allow(OWN, "s3:*")], "alice", "/", False),
        (
            [{"Statement": {"Effect": "Allow", "NotAction": "iam:EnableMFADevice", "Resource": "*"}}],
            "alice",
            "/",
            False,
        ),
        ([{"Statement": {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}}], "alice", "/", True),
        ([{"Statement": {"Effect": "Allow", "Action": "iam:*", "NotResource": ANY_PATH}}], "alice", "/c/", False),
        ([{"Statement": {"Effect": "Allow", "Action": "iam:*", "NotResource": ANY_PATH}}], "alice", "/", True),
        ([allow(OWN), DENY_ENROLLING], "alice", "/", False),
        ([allow(OWN), DENY_WITHOUT_MFA], "alice", "/", True),  # a condition: not decided here
        ([DENY_ENROLLING], "alice", "/", False),
        ([], "alice", "/", False),
        (["not a document", {"Statement": ["not a statement"]}], "alice", "/", False),
    ],
)
def test_allows_on_self(documents: list[t.Any], name: str, path: str, expected: bool) -> None:
    assert lc.allows_on_self(documents, lc.ENABLE_MFA, user_arn(name, path), name) is expected


def test_the_self_service_statement_is_the_one_that_decides() -> None:
    """The official document allows EnableMFADevice only through AllowManageOwnUserMFA: without it, nobody enrols."""
    document = render(official_document(), "first_login")
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "AllowManageOwnUserMFA"]
    assert lc.allows_on_self([document], lc.ENABLE_MFA, user_arn("alice"), "alice") is False
    assert lc.allows_on_self([FIRST_LOGIN_DOCUMENT], lc.ENABLE_MFA, user_arn("alice"), "alice") is True


# enrollment_problem: the rule an onboarding is refused by (both self-service actions on the user's own ARN)

FIRST_LOGIN_AT_ANY_PATH = render(at_any_path(official_document()), "first_login")
CHANGE_PASSWORD_ONLY = {"Statement": [{"Effect": "Allow", "Action": lc.CHANGE_PASSWORD, "Resource": OWN}]}
AT_CONTRACTORS = "arn:aws:iam::*:user/contractors/${aws:username}"


@pytest.mark.parametrize(
    ("documents", "path", "expected"),
    [
        ([FIRST_LOGIN_DOCUMENT], "/", True),
        ([FIRST_LOGIN_DOCUMENT], "/contractors/", False),
        ([FIRST_LOGIN_DOCUMENT], "/a/b/", False),
        ([FIRST_LOGIN_AT_ANY_PATH], "/", True),
        ([FIRST_LOGIN_AT_ANY_PATH], "/contractors/", True),
        ([FIRST_LOGIN_AT_ANY_PATH], "/a/b/", True),
        ([allow(ANY_PATH, [lc.CHANGE_PASSWORD, lc.ENABLE_MFA])], "/", False),  # user/*/alice needs a path
        ([allow(AT_CONTRACTORS, "iam:*")], "/contractors/", True),
        ([allow(AT_CONTRACTORS, "iam:*")], "/staff/", False),
        ([allow(OWN, lc.ENABLE_MFA)], "/", False),  # may register MFA, but never replace the temporary password
        ([CHANGE_PASSWORD_ONLY], "/", False),
        ([CHANGE_PASSWORD_ONLY, allow(OWN, lc.ENABLE_MFA)], "/", True),  # two documents of the group together
        ([FIRST_LOGIN_DOCUMENT, DENY_ENROLLING], "/", False),
        ([FIRST_LOGIN_DOCUMENT, DENY_WITHOUT_MFA], "/", True),  # a conditional deny: not decided here
        ([], "/", False),
    ],
)
def test_enrollment_problem(documents: list[t.Any], path: str, expected: bool) -> None:
    assert (lc.enrollment_problem(documents, user_arn("alice", path), "alice") is None) is expected


def test_enrollment_problem_says_what_the_statements_name_and_why_the_path_does_not_match() -> None:
    arn = user_arn("bob", "/contractors/")
    problem = lc.enrollment_problem([FIRST_LOGIN_DOCUMENT], arn, "bob")
    assert problem == (
        "is at path /contractors/, where it could never change its temporary password or register an MFA device: in "
        "the onboarding group's policies iam:ChangePassword is allowed only on arn:aws:iam::*:user/${aws:username} "
        "(statement AllowManageOwnPasswords); iam:EnableMFADevice is allowed only on "
        "arn:aws:iam::*:user/${aws:username} (statement AllowManageOwnUserMFA), which with ${aws:username} = bob "
        f"does not match its ARN {arn} (user/${{aws:username}} matches only users at path /); leave the path out, "
        "or give the policies a base document whose self-service statements also name "
        "arn:aws:iam::*:user/*/${aws:username}"
    )


def test_enrollment_problem_names_a_missing_action_and_a_deny() -> None:
    problem = lc.enrollment_problem([allow(OWN, lc.ENABLE_MFA)], user_arn("bob"), "bob")
    assert problem is not None and problem.startswith("is at path /, where it could never change")
    assert "no statement allows iam:ChangePassword" in problem
    assert "iam:EnableMFADevice" not in problem  # allowed: not a reason
    denied = lc.enrollment_problem([FIRST_LOGIN_DOCUMENT, DENY_ENROLLING], user_arn("bob"), "bob")
    assert denied is not None and "statement 0 denies iam:EnableMFADevice without a condition" in denied


@pytest.mark.parametrize("path", ["/", "/contractors/", "/a/b/", "/division_abc/subdivision_xyz/"])
def test_enrollment_problem_agrees_with_path_note_under_the_official_policies(path: str) -> None:
    """Under the bundled document, the rule refuses exactly the paths path_note warns about."""
    problem = lc.enrollment_problem([FIRST_LOGIN_DOCUMENT], user_arn("alice", path), "alice")
    assert (problem is None) is (lc.path_note(path) is None)


def test_the_any_path_document_grants_nothing_beyond_the_guard() -> None:
    """user/*/${aws:username} is the caller's own user at any path (invariant 7 accepts it as a guard); without
    the / before the name it would match other users too, and the guard check refuses it."""
    assert grants_beyond_the_guard(FIRST_LOGIN_AT_ANY_PATH) == []
    loose = render(official_document(), "first_login")
    resource = "arn:aws:iam::*:user/*${aws:username}"
    loose["Statement"].append({"Sid": "Loose", "Effect": "Allow", "Action": lc.ENABLE_MFA, "Resource": resource})
    assert grants_beyond_the_guard(loose) == [f"statement Loose allows iam:EnableMFADevice on {resource}"]


# tag_limit_problem: IAM counts a user's existing tags and the new keys of each tag call


def numbered_tags(count: int, prefix: str = "k") -> dict[str, str]:
    return {f"{prefix}{i}": "v" for i in range(count)}


@pytest.mark.parametrize(
    ("existing", "steps", "expected"),
    [
        ({}, [Step(CREATE_USER, numbered_tags(50))], None),
        ({}, [Step(CREATE_USER, numbered_tags(51))], "holds 0 tags and CreateUser would add 51 new keys: 51 in all"),
        (numbered_tags(45), [Step(TAG_USER, numbered_tags(5, "n"))], None),
        (
            numbered_tags(45),
            [Step(TAG_USER, numbered_tags(6, "n"))],
            "holds 45 tags and TagUser would add 6 new keys: 51 in all",
        ),
        (numbered_tags(50), [Step(TAG_USER, numbered_tags(50))], None),  # the same keys, new values: no new key
        (numbered_tags(50), [Step(TAG_USER, {"K0": "x"})], None),  # keys are case-insensitive: K0 is k0
        (
            numbered_tags(50),
            [Step(TAG_USER, {lc.HANDOVER_TAG: lc.PENDING})],
            "holds 50 tags and TagUser would add 1 new keys: 51 in all",
        ),
        # purge_tags removes after it adds (UntagUser after TagUser): the TagUser already holds too many
        (numbered_tags(40), [Step(TAG_USER, numbered_tags(20, "n")), Step(UNTAG_USER, list(numbered_tags(40)))], "60"),
        # a later TagUser (the delivered mark) on a key the first one set adds no key
        (
            numbered_tags(49),
            [Step(TAG_USER, {lc.HANDOVER_TAG: lc.PENDING}), Step(TAG_USER, {lc.HANDOVER_TAG: lc.DELIVERED})],
            None,
        ),
        (numbered_tags(30), [Step(UNTAG_USER, list(numbered_tags(10))), Step(TAG_USER, numbered_tags(30, "n"))], None),
    ],
)
def test_tag_limit_problem(existing: dict[str, str], steps: list[Step], expected: str | None) -> None:
    problem = lc.tag_limit_problem(tuple(sorted(existing.items())), steps)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None and expected in problem, problem
        assert problem.endswith("and IAM allows at most 50 per user")
