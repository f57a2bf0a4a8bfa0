# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The step table: every kind of step the planners can return has its call, its effect and its label; the calls
reach IAM through the boto3 layer; execute stops at the first failure."""

from __future__ import annotations

import inspect
import typing as t

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _iam
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _leaving
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _steps
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._lifecycle import Observed
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._steps import Step

ACCOUNT = "123456789012"
GROUP = "NotYetLoginUsers"
CURRENT = f"arn:aws:iam::{ACCOUNT}:policy/MFARequiredForCurrentUsers"
REGIME = lc.Regime(GROUP, CURRENT)

# Every action name that _steps defines as a constant (UPPER_CASE = "CamelCase").
KINDS = sorted(
    value
    for name, value in vars(_steps).items()
    if name.isupper() and isinstance(value, str) and value[:1].isupper() and value.isalpha()
)
# One target per kind, as the planners make them.
TARGETS: dict[str, t.Any] = {
    "CreateUser": {"team": "data"},
    "AddUserToGroup": "Developers",
    "RemoveUserFromGroup": GROUP,
    "AttachUserPolicy": CURRENT,
    "CreateLoginProfile": None,
    "UpdateLoginProfile": None,
    "TagUser": {"k": "v"},
    "UntagUser": ["old"],
    "Handover": "by file to /notes/alice.txt",
    "DetachUserPolicy": "arn:aws:iam::aws:policy/AdministratorAccess",
    "DeleteUserPolicy": "legacy",
    "UpdateAccessKey": "AKIAIOSFODNN7EXAMPLE",
    "DeleteLoginProfile": None,
    "DeleteAccessKey": "AKIAIOSFODNN7EXAMPLE",
    "UpdateSigningCertificate": "CERT1",
    "DeleteSigningCertificate": "CERT1",
    "UpdateSSHPublicKey": "APKA1",
    "DeleteSSHPublicKey": "APKA1",
    "UpdateServiceSpecificCredential": "ACCA1",
    "DeleteServiceSpecificCredential": "ACCA1",
    "DeactivateMFADevice": "arn:aws:iam::123456789012:mfa/alice",
    "DeleteVirtualMFADevice": "arn:aws:iam::123456789012:mfa/alice",
    "DeleteUser": None,
}
# Every state the planners start from.
STARTS = [
    Observed(False),
    Observed(True),
    Observed(True, groups=(GROUP,), has_login_profile=True, tags=(("old", "1"),)),
    Observed(True, groups=(GROUP,), has_login_profile=True, mfa_devices=("mfa",)),
    Observed(
        True, groups=("Admins",), policies=("arn:aws:iam::aws:policy/AdministratorAccess",), has_login_profile=True
    ),
    # An adopted user with an inline policy and an active access key.
    Observed(True, has_login_profile=True, inline_policies=("legacy",), active_keys=("AKIAIOSFODNN7EXAMPLE",)),
    # A leaver with every kind of credential and a virtual MFA device.
    Observed(
        True,
        groups=("Developers",),
        has_login_profile=True,
        mfa_devices=("arn:aws:iam::123456789012:mfa/alice",),
        inactive_keys=("AKIA2",),
        certificates=(("CERT1", "Active"),),
        ssh_keys=(("APKA1", "Active"),),
        service_credentials=(("ACCA1", "Active"),),
    ),
]


def test_the_table_has_a_row_for_every_kind_and_nothing_else() -> None:
    assert sorted(_steps.TABLE) == KINDS
    assert len(KINDS) == 23


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_call_an_effect_and_a_label(kind: str) -> None:
    row = _steps.TABLE[kind]
    for part in (row.call, row.effect, row.label):
        assert callable(part), (kind, part)
    assert list(inspect.signature(row.call).parameters) == ["client", "name", "target", "context", "outcome"]
    assert list(inspect.signature(row.effect).parameters)[:1] == ["observed"]
    assert _steps.label(Step(kind, TARGETS[kind])).startswith(kind)


def test_every_kind_a_planner_returns_is_in_the_table() -> None:
    """Walk the planners over their starting states and requests: every step they return has a row."""
    planned = set()
    for start in STARTS:
        for reset in (False, True):
            for handover in (None, "by mail to alice@example.org"):
                plan = lc.plan_onboarding(
                    start, REGIME, {"team": "data"}, purge_tags=True, reset_password=reset, handover=handover
                )
                planned.update(step.action for step in plan.steps)
        plan = lc.plan_promotion("alice", start, REGIME, ["Developers"], ["arn:aws:iam::aws:policy/ReadOnlyAccess"])
        planned.update(step.action for step in plan.steps)
        for leaving in (
            _leaving.plan_offboarding(start, REGIME),
            _leaving.plan_disable(start, REGIME, "alice", "2026-12-02"),
            _leaving.plan_expiry(start, REGIME, "alice", True, "2026-12-02"),
        ):
            planned.update(step.action for step in leaving.steps)
    assert planned <= set(_steps.TABLE)
    assert planned == set(KINDS)


@pytest.mark.parametrize(
    ("step", "label"),
    [
        (Step("CreateUser", {}), "CreateUser"),
        (Step("CreateUser", {"team": "data", "cost": "1"}), "CreateUser cost, team"),
        (Step("AddUserToGroup", GROUP), f"AddUserToGroup {GROUP}"),
        (Step("RemoveUserFromGroup", GROUP), f"RemoveUserFromGroup {GROUP}"),
        (Step("AttachUserPolicy", CURRENT), f"AttachUserPolicy {CURRENT}"),
        (Step("CreateLoginProfile"), "CreateLoginProfile"),
        (Step("UpdateLoginProfile"), "UpdateLoginProfile"),
        (Step("TagUser", {"b": "1", "a": "2"}), "TagUser a, b"),
        (Step("UntagUser", ["x", "a"]), "UntagUser x, a"),
        (Step("Handover", "by file to /n/a.txt"), "Handover by file to /n/a.txt"),
        (Step("DetachUserPolicy", CURRENT), f"DetachUserPolicy {CURRENT}"),
        (Step("DeleteUserPolicy", "legacy"), "DeleteUserPolicy legacy"),
        (Step("UpdateAccessKey", "AKIAEXAMPLE"), "UpdateAccessKey AKIAEXAMPLE Inactive"),
    ],
)
def test_labels(step: Step, label: str) -> None:
    assert _steps.label(step) == label


@pytest.mark.parametrize("kind", KINDS)
def test_effects_never_modify_their_input(kind: str) -> None:
    start = Observed(
        True,
        groups=(GROUP,),
        policies=(CURRENT,),
        tags=(("old", "1"),),
        inline_policies=("legacy",),
        active_keys=("AKIAIOSFODNN7EXAMPLE",),
    )
    before = start._replace()
    _steps.apply_steps(start, [Step(kind, TARGETS[kind])])
    assert start == before


def test_apply_steps_of_nothing_is_the_state_itself() -> None:
    start = Observed(True, groups=("A",), tags=(("a", "1"),))
    assert _steps.apply_steps(start, []) == start


class Client:
    """Stands in for boto3: records the wrapper calls' operations, fails the one it is told to."""

    def __init__(self, fail: str | None = None) -> None:
        self.fail = fail
        self.calls: list[str] = []


@pytest.fixture
def wrappers(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[t.Any, ...]]]:
    """Replaces the _iam write wrappers the table uses by recorders (the table must go through them)."""
    made: list[tuple[str, tuple[t.Any, ...]]] = []
    for name in (
        "create_user",
        "add_user_to_group",
        "remove_user_from_group",
        "attach_user_policy",
        "create_login_profile",
        "update_login_profile",
        "tag_user",
        "untag_user",
        "detach_user_policy",
        "delete_user_policy",
        "update_access_key",
        "delete_login_profile",
        "delete_access_key",
        "update_signing_certificate",
        "delete_signing_certificate",
        "update_ssh_public_key",
        "delete_ssh_public_key",
        "update_service_specific_credential",
        "delete_service_specific_credential",
        "deactivate_mfa_device",
        "delete_virtual_mfa_device",
        "delete_user",
    ):

        def record(client: Client, *args: t.Any, _name: str = name) -> dict[str, t.Any]:
            made.append((_name, args))
            if client.fail == _name:
                raise AnsibleIAMError(message=f"Failed to {_name}", exception=RuntimeError("injected"))
            return {"UserName": args[0]}

        monkeypatch.setattr(_iam, name, record)
    return made


def context() -> _steps.Context:
    passwords = iter(["first-Passw0rd!", "second-Passw0rd!"])
    return _steps.Context(path="/staff/", new_password=lambda: next(passwords), password_reset_required=True)


def test_execute_makes_each_call_through_the_boto3_layer_in_order(wrappers: list[t.Any]) -> None:
    steps = [Step(kind, TARGETS[kind]) for kind in ["CreateUser", "AddUserToGroup", "TagUser", "CreateLoginProfile"]]
    done: list[Step] = []
    outcome = _steps.execute(Client(), "alice", steps, context(), done)

    assert wrappers == [
        ("create_user", ("alice", "/staff/", [{"Key": "team", "Value": "data"}])),
        ("add_user_to_group", ("alice", "Developers")),
        ("tag_user", ("alice", [{"Key": "k", "Value": "v"}])),
        ("create_login_profile", ("alice", "first-Passw0rd!", True)),
    ]
    assert done == steps
    assert outcome.user == {"UserName": "alice"}
    assert outcome.login_profile == {"UserName": "alice"}
    assert outcome.password == "first-Passw0rd!"


def test_execute_takes_away_through_the_boto3_layer(wrappers: list[t.Any]) -> None:
    kinds = ["AddUserToGroup", "UpdateAccessKey", "DetachUserPolicy", "DeleteUserPolicy", "RemoveUserFromGroup"]
    steps = [Step(kind, TARGETS[kind]) for kind in kinds]
    _steps.execute(Client(), "legacy", steps, context(), [])

    assert wrappers == [
        ("add_user_to_group", ("legacy", "Developers")),
        ("update_access_key", ("legacy", "AKIAIOSFODNN7EXAMPLE", "Inactive")),
        ("detach_user_policy", ("legacy", "arn:aws:iam::aws:policy/AdministratorAccess")),
        ("delete_user_policy", ("legacy", "legacy")),
        ("remove_user_from_group", ("legacy", GROUP)),
    ]


def test_taking_away_is_seen_in_the_observed_state() -> None:
    start = Observed(
        True,
        groups=("Admins", GROUP),
        policies=(CURRENT, "arn:aws:iam::aws:policy/AdministratorAccess"),
        inline_policies=("legacy", "other"),
        active_keys=("AKIA1", "AKIA2"),
    )
    after = _steps.apply_steps(
        start,
        [
            Step("UpdateAccessKey", "AKIA1"),
            Step("DetachUserPolicy", "arn:aws:iam::aws:policy/AdministratorAccess"),
            Step("DeleteUserPolicy", "legacy"),
            Step("RemoveUserFromGroup", "Admins"),
        ],
    )
    assert (after.groups, after.policies, after.inline_policies, after.active_keys) == (
        (GROUP,),
        (CURRENT,),
        ("other",),
        ("AKIA2",),
    )


def test_execute_stops_at_the_first_failure_and_says_what_was_done(wrappers: list[t.Any]) -> None:
    steps = [
        Step("AttachUserPolicy", CURRENT),
        Step("AddUserToGroup", "Developers"),
        Step("RemoveUserFromGroup", GROUP),
    ]
    done: list[Step] = []
    with pytest.raises(AnsibleIAMError):
        _steps.execute(Client(fail="add_user_to_group"), "alice", steps, context(), done)

    assert [call for call, _args in wrappers] == ["attach_user_policy", "add_user_to_group"]
    assert done == steps[:1]


def test_the_handover_gets_the_password_just_set_and_a_failure_stops_before_the_mark(wrappers: list[t.Any]) -> None:
    handed: list[str] = []
    steps = lc.plan_onboarding(Observed(False), REGIME, handover="by file to /n/alice.txt").steps
    done: list[Step] = []
    _steps.execute(Client(), "alice", steps, context()._replace(hand_over=handed.append), done)
    assert handed == ["first-Passw0rd!"]
    assert [call for call, _args in wrappers][-1] == "tag_user"
    assert wrappers[-1][1] == ("alice", [{"Key": "mfa-onboarding:handover", "Value": "delivered"}])

    def broken(password: str) -> None:
        raise OSError("disk full")

    wrappers.clear()
    done = []
    with pytest.raises(OSError):
        _steps.execute(Client(), "bob", steps, context()._replace(hand_over=broken), done)
    # The mark written with the user stays pending: delivered is never written for a failed handover.
    assert [call for call, _args in wrappers] == ["create_user", "add_user_to_group", "create_login_profile"]
    assert wrappers[0][1][2] == [{"Key": "mfa-onboarding:handover", "Value": "pending"}]
    assert [step.action for step in done] == ["CreateUser", "AddUserToGroup", "CreateLoginProfile"]
