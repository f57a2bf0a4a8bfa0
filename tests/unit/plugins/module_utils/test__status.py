# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where every user stands, without AWS: the kind of an MFA device, whether a policy lets a user enrol, days in
onboarding, every finding with and without its cause, the summary, the scope and the checks of the options."""

from __future__ import annotations

import datetime
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _observe_account as oa
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _status as st
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import AccessKey
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import MfaDevice
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import UserRecord
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import official_document
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import render
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import ValidationError

ACCOUNT = "123456789012"
GROUP = "NotYetLoginUsers"
CURRENT = f"arn:aws:iam::{ACCOUNT}:policy/MFARequiredForCurrentUsers"
FIRST_LOGIN = f"arn:aws:iam::{ACCOUNT}:policy/MFARequiredOnlyForTheFirstLogin"
APP = f"arn:aws:iam::{ACCOUNT}:policy/AppReadOnly"
NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
VIRTUAL = f"arn:aws:iam::{ACCOUNT}:mfa/alice"
FIRST_LOGIN_DOCUMENT = render(official_document(), "first_login")


def arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:user{path}{name}"


def user(name: str = "alice", path: str = "/", **fields: t.Any) -> UserRecord:
    """An existing user created two days ago, no password, nothing held; fields override."""
    base: dict[str, t.Any] = {
        "name": name,
        "exists": True,
        "arn": arn(name, path),
        "path": path,
        "create_date": NOW - 2 * DAY,
        "groups": (),
        "managed_policies": (),
        "inline_policies": (),
        "console_password": False,
        "mfa_devices": (),
    }
    base.update(fields)
    return UserRecord(**base)


def onboarding(name: str = "alice", path: str = "/", days: float = 2, **fields: t.Any) -> UserRecord:
    """A member of the onboarding group with a temporary password `days` old."""
    base: dict[str, t.Any] = {
        "groups": (GROUP,),
        "console_password": True,
        "password_created": NOW - datetime.timedelta(days=days),
        "create_date": NOW - datetime.timedelta(days=days),
    }
    base.update(fields)
    return user(name, path, **base)


def mfa(serial: str = VIRTUAL) -> tuple[MfaDevice, ...]:
    return (MfaDevice(serial, NOW - DAY),)


GROUPS = {
    GROUP: oa.GroupRecord(GROUP, f"arn:aws:iam::{ACCOUNT}:group/{GROUP}", "/", (FIRST_LOGIN,), {}),
    "Developers": oa.GroupRecord("Developers", f"arn:aws:iam::{ACCOUNT}:group/Developers", "/", (APP,), {}),
    "Staff": oa.GroupRecord("Staff", f"arn:aws:iam::{ACCOUNT}:group/Staff", "/", (CURRENT,), {}),
}
POLICIES = {
    FIRST_LOGIN: oa.PolicyRecord(FIRST_LOGIN, "MFARequiredOnlyForTheFirstLogin", "/", "v1", 1, FIRST_LOGIN_DOCUMENT),
    CURRENT: oa.PolicyRecord(
        CURRENT, "MFARequiredForCurrentUsers", "/", "v1", 1, render(official_document(), "current_users")
    ),
}


def account(
    users: t.Sequence[UserRecord],
    keys: dict[str, int] | None = None,
    groups: dict[str, oa.GroupRecord] | None = None,
    policies: dict[str, oa.PolicyRecord] | None = None,
    live: t.Iterable[str] = (),
    regime: oa.Regime | None = None,
    sources: dict[str, oa.Source] | None = None,
    devices: t.Sequence[oa.VirtualMfaDevice] = (),
) -> oa.AccountRecord:
    return oa.AccountRecord(
        partition="aws",
        account_id=ACCOUNT,
        regime=regime or oa.RegimeRecord(GROUP, GROUPS[GROUP].arn, True, CURRENT, True),
        users=tuple(users),
        live=frozenset(live),
        active_access_keys={u.name: (keys or {}).get(u.name, 0) for u in users if u.exists},
        groups=GROUPS if groups is None else groups,
        policies=POLICIES if policies is None else policies,
        virtual_mfa_devices=tuple(devices),
        credential_report=None,
        sources=sources or {oa.AUTHORIZATION_DETAILS: oa.Source(NOW)},
    )


def status_of(record: UserRecord, keys: int = 0, stale_after_days: int = 7, **kwargs: t.Any) -> dict[str, t.Any]:
    (found,) = st.report(account([record], {record.name: keys}, **kwargs), NOW, st.ACCOUNT, None, stale_after_days)[
        "users"
    ]
    return found


# The kind of an MFA device


@pytest.mark.parametrize(
    ("serial", "kind"),
    [
        (f"arn:aws:iam::{ACCOUNT}:mfa/alice", "virtual"),
        (f"arn:aws:iam::{ACCOUNT}:mfa/alice-phone", "virtual"),
        (f"arn:aws:iam::{ACCOUNT}:mfa/division/alice", "virtual"),
        ("arn:aws-us-gov:iam::123456789012:mfa/alice", "virtual"),
        ("arn:aws-cn:iam::123456789012:mfa/alice", "virtual"),
        (f"arn:aws:iam::{ACCOUNT}:u2f/user/alice/fidosecuritykey-ABCDEFGHIJKLMNOPQRSTUVWXYZ", "fido"),
        ("arn:aws-us-gov:iam::123456789012:u2f/user/alice/yubikey-1", "fido"),
        ("GAHT12345678", "hardware"),
        ("SYNA00000001", "hardware"),
        (f"arn:aws:iam::{ACCOUNT}:sms-mfa/alice", "hardware"),
    ],
)
def test_mfa_kind(serial: str, kind: str) -> None:
    assert st.mfa_kind(serial) == kind
    assert kind in st.MFA_KINDS


# Whether the onboarding group's policies let a user enrol: the rule is lc.enrollment_problem (test__lifecycle.py);
# here, which documents it is given.

SELF_SERVICE = ("iam:ChangePassword", "iam:EnableMFADevice")


def allow(resource: t.Any, action: t.Any = None, **extra: t.Any) -> dict[str, t.Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            dict(
                {"Effect": "Allow", "Action": list(SELF_SERVICE) if action is None else action, "Resource": resource},
                **extra,
            )
        ],
    }


OWN = "arn:aws:iam::*:user/${aws:username}"
ANY_PATH = "arn:aws:iam::*:user/*/${aws:username}"


def test_enrollment_documents_are_the_onboarding_groups_own() -> None:
    inline = allow(ANY_PATH)
    groups = dict(GROUPS, **{GROUP: GROUPS[GROUP]._replace(inline_policies={"extra": inline})})
    assert st.enrollment_documents(account([], groups=groups)) == (FIRST_LOGIN_DOCUMENT, inline)
    # An attached policy whose document IAM did not return (for example an AWS-managed one) does not count.
    only_aws = {GROUP: GROUPS[GROUP]._replace(managed_policies=("arn:aws:iam::aws:policy/IAMUserChangePassword",))}
    assert st.enrollment_documents(account([], groups=only_aws)) is None
    assert st.enrollment_documents(account([], groups={})) is None


# Days in onboarding


@pytest.mark.parametrize(
    ("record", "stage", "expected"),
    [
        (onboarding(days=0.5), lc.ONBOARDING, 0),
        (onboarding(days=1), lc.ONBOARDING, 1),
        (onboarding(days=9.9), lc.READY, 9),
        # Without a password: since the user was created.
        (onboarding(console_password=False, password_created=None, create_date=NOW - 12 * DAY), lc.EXPIRED, 12),
        # The password counts, not the user: a user re-onboarded with a fresh password.
        (onboarding(days=1, create_date=NOW - 40 * DAY), lc.ONBOARDING, 1),
        (onboarding(days=3), lc.PROMOTED, None),
        (onboarding(days=3), lc.UNMANAGED, None),
        (onboarding(days=3), lc.DISABLED, None),
    ],
)
def test_days_in_onboarding(record: UserRecord, stage: str, expected: int | None) -> None:
    assert st.days_in_onboarding(record, stage, NOW) == expected


def test_naive_and_other_time_zones_count_as_what_they_are() -> None:
    cet = datetime.timezone(datetime.timedelta(hours=1))
    record = onboarding(password_created=(NOW - 3 * DAY).astimezone(cet))
    assert st.days_in_onboarding(record, lc.ONBOARDING, NOW) == 3
    naive = onboarding(password_created=(NOW - 3 * DAY).replace(tzinfo=None))
    assert st.days_in_onboarding(naive, lc.ONBOARDING, NOW) == 3
    assert st.iso((NOW - 3 * DAY).astimezone(cet)) == "2026-11-28T12:00:00+00:00"


# Stages (the core's rule, with the policies of the user's groups)


@pytest.mark.parametrize(
    ("record", "stage"),
    [
        (onboarding(), lc.ONBOARDING),
        (onboarding(mfa_devices=mfa()), lc.READY),
        (user(managed_policies=(CURRENT,), mfa_devices=mfa(), console_password=True), lc.PROMOTED),
        (user(groups=("Staff",), mfa_devices=mfa(), console_password=True), lc.PROMOTED),  # through a group
        (user(groups=("Developers",), mfa_devices=mfa()), lc.UNMANAGED),
        (onboarding(console_password=False, tags=((lc.EXPIRED_TAG, "2026-11-30"),)), lc.EXPIRED),
        (user(tags=((lc.DISABLED_TAG, "2026-11-30"),)), lc.DISABLED),
        (user(), lc.UNMANAGED),
        (UserRecord("zed", exists=False), lc.ABSENT),
    ],
)
def test_stage(record: UserRecord, stage: str) -> None:
    assert status_of(record)["stage"] == stage


# Findings: each with a case that has it and one that does not


PENDING = ((lc.HANDOVER_TAG, "pending"),)
FINDING_CASES = [
    # unguarded_console_password (CIS 1.10)
    ("unguarded_console_password", user(console_password=True), {}, True),
    ("unguarded_console_password", user(console_password=True, mfa_devices=mfa()), {}, False),
    ("unguarded_console_password", onboarding(), {}, False),  # the onboarding group guards it
    ("unguarded_console_password", user(console_password=True, groups=("Staff",)), {}, False),  # guarded via a group
    ("unguarded_console_password", user(console_password=False), {}, False),
    # access_key_before_mfa (CIS 1.11)
    ("access_key_before_mfa", onboarding(), {"keys": 1}, True),
    ("access_key_before_mfa", user(), {"keys": 2}, True),  # outside the regime too
    ("access_key_before_mfa", user(managed_policies=(CURRENT,), mfa_devices=mfa()), {"keys": 1}, False),
    ("access_key_before_mfa", onboarding(), {"keys": 0}, False),
    # stale_onboarding (CIS 1.12)
    ("stale_onboarding", onboarding(days=7.5), {}, True),
    ("stale_onboarding", onboarding(days=6.9), {}, False),
    ("stale_onboarding", onboarding(days=10, password_last_used=NOW - DAY), {}, False),  # it was used
    ("stale_onboarding", onboarding(days=10), {"stale_after_days": 14}, False),
    ("stale_onboarding", onboarding(days=10), {"stale_after_days": 9}, True),
    ("stale_onboarding", onboarding(days=10, console_password=False, password_created=None), {}, True),
    ("stale_onboarding", onboarding(days=10, mfa_devices=mfa()), {}, False),  # ready, not onboarding
    ("stale_onboarding", onboarding(days=10, console_password=False, tags=((lc.EXPIRED_TAG, "x"),)), {}, False),
    # ready_not_promoted
    ("ready_not_promoted", onboarding(mfa_devices=mfa()), {}, True),
    ("ready_not_promoted", user(managed_policies=(CURRENT,), mfa_devices=mfa()), {}, False),
    ("ready_not_promoted", onboarding(), {}, False),
    # grants_before_mfa (invariant 2)
    ("grants_before_mfa", onboarding(groups=(GROUP, "Developers")), {}, True),
    ("grants_before_mfa", onboarding(managed_policies=(APP,)), {}, True),
    ("grants_before_mfa", onboarding(inline_policies=("extra",)), {}, True),
    ("grants_before_mfa", user(managed_policies=(CURRENT,), groups=("Developers",)), {}, True),  # lost its MFA
    ("grants_before_mfa", user(groups=("Staff",)), {}, True),  # promoted through a group, no MFA
    ("grants_before_mfa", user(managed_policies=(CURRENT,)), {}, False),  # the guard alone
    ("grants_before_mfa", onboarding(managed_policies=(CURRENT,)), {}, False),  # an interrupted promotion
    ("grants_before_mfa", onboarding(), {}, False),
    ("grants_before_mfa", user(managed_policies=(CURRENT,), groups=("Developers",), mfa_devices=mfa()), {}, False),
    ("grants_before_mfa", user(groups=("Developers",)), {}, False),  # outside the regime: CIS findings only
    # pending_handover (invariant 6)
    ("pending_handover", onboarding(tags=PENDING), {}, True),
    ("pending_handover", onboarding(tags=((lc.HANDOVER_TAG, "delivered"),)), {}, False),
    ("pending_handover", onboarding(), {}, False),
    ("pending_handover", user(tags=PENDING), {}, False),  # outside the regime
    # cannot_enroll
    ("cannot_enroll", onboarding(path="/contractors/"), {}, True),
    ("cannot_enroll", onboarding(path="/"), {}, False),
    ("cannot_enroll", onboarding(path="/contractors/", mfa_devices=mfa()), {}, False),
    ("cannot_enroll", user(path="/contractors/", managed_policies=(CURRENT,)), {}, True),  # promoted, lost its MFA
    ("cannot_enroll", user(path="/contractors/", tags=((lc.DISABLED_TAG, "x"),)), {}, False),  # disabled
    ("cannot_enroll", user(path="/contractors/"), {}, False),  # outside the regime
]


@pytest.mark.parametrize(
    ("finding", "record", "options", "expected"),
    FINDING_CASES,
    ids=[f"{case[0]}-{'has' if case[3] else 'not'}-{i}" for i, case in enumerate(FINDING_CASES)],
)
def test_finding(finding: str, record: UserRecord, options: dict[str, t.Any], expected: bool) -> None:
    assert (finding in status_of(record, **options)["findings"]) is expected


def test_every_finding_has_a_case_with_it_and_one_without() -> None:
    assert {case[0] for case in FINDING_CASES if case[3]} == set(st.FINDINGS)
    assert {case[0] for case in FINDING_CASES if not case[3]} == set(st.FINDINGS)


def test_findings_are_sorted_and_from_the_one_tuple() -> None:
    found = status_of(onboarding(path="/c/", days=10, tags=PENDING, groups=(GROUP, "Developers")), keys=1)["findings"]
    assert found == sorted(found)
    assert set(found) == {
        "access_key_before_mfa",
        "cannot_enroll",
        "grants_before_mfa",
        "pending_handover",
        "stale_onboarding",
    }
    assert set(found) <= set(st.FINDINGS)
    assert len(set(st.FINDINGS)) == len(st.FINDINGS) == 7


def test_cannot_enroll_follows_the_group_policy_not_the_path() -> None:
    """A base document that names user/*/${aws:username} lets users at a path enrol; lc.path_note would not."""
    wide = allow([OWN, ANY_PATH])
    groups = dict(GROUPS, **{GROUP: GROUPS[GROUP]._replace(managed_policies=(), inline_policies={"wide": wide})})
    assert "cannot_enroll" not in status_of(onboarding(path="/contractors/"), groups=groups)["findings"]
    assert lc.path_note("/contractors/") is not None


def test_cannot_enroll_needs_both_self_service_actions_at_the_path() -> None:
    """The same rule as iam_onboard_user's refusal: a user at a path where it may register MFA but not replace its
    temporary password never gets past the console's reset screen."""
    mfa_only = allow([OWN, ANY_PATH], "iam:EnableMFADevice")
    groups = dict(GROUPS, **{GROUP: GROUPS[GROUP]._replace(managed_policies=(), inline_policies={"mfa": mfa_only})})
    assert "cannot_enroll" in status_of(onboarding(path="/contractors/"), groups=groups)["findings"]


@pytest.mark.parametrize(("path", "expected"), [("/contractors/", True), ("/", False)])
def test_cannot_enroll_falls_back_to_the_path_without_a_document(path: str, expected: bool) -> None:
    policies = dict(POLICIES, **{FIRST_LOGIN: POLICIES[FIRST_LOGIN]._replace(document=None)})
    assert ("cannot_enroll" in status_of(onboarding(path=path), policies=policies)["findings"]) is expected


# One user's entry


def test_user_entry() -> None:
    tags = ((lc.HANDOVER_TAG, "delivered"), (lc.PROFILE_TAG, "developer"), ("team", "data"))
    record = onboarding(
        days=3,
        mfa_devices=(MfaDevice(VIRTUAL, NOW - DAY), MfaDevice("GAHT12345678", None)),
        tags=tags,
        groups=(GROUP,),
        password_last_used=NOW - DAY,
        user_id="AIDA",
    )
    found = st.report(account([record], {"alice": 1}, live=["alice"]), NOW, st.REGIME)["users"]
    assert found == [
        {
            "name": "alice",
            "arn": arn("alice"),
            "path": "/",
            "stage": "ready",
            "created": "2026-11-28T12:00:00+00:00",
            "console_password": True,
            "password_created": "2026-11-28T12:00:00+00:00",
            "password_last_used": "2026-11-30T12:00:00+00:00",
            "days_in_onboarding": 3,
            "mfa_devices": [
                {"serial_number": VIRTUAL, "kind": "virtual", "enable_date": "2026-11-30T12:00:00+00:00"},
                {"serial_number": "GAHT12345678", "kind": "hardware", "enable_date": None},
            ],
            "active_access_keys": 1,
            "groups": [GROUP],
            "managed_policies": [],
            "inline_policies": [],
            "tags": {lc.HANDOVER_TAG: "delivered", lc.PROFILE_TAG: "developer", "team": "data"},
            "profile": "developer",
            "handover": "delivered",
            "findings": ["ready_not_promoted"],  # MFA makes the access key no finding
            "read_live": True,
        }
    ]


@pytest.mark.parametrize(("tag", "handover"), [("pending", "pending"), ("delivered", "delivered"), ("other", "none")])
def test_handover(tag: str, handover: str) -> None:
    assert status_of(onboarding(tags=((lc.HANDOVER_TAG, tag),)))["handover"] == handover
    assert status_of(onboarding())["handover"] == "none"


def test_with_names_users_come_in_their_order_with_access_keys_and_absent_ones() -> None:
    key = AccessKey("AKIAEXAMPLE", "Active", NOW - 3 * DAY, NOW - DAY)
    records = [
        user("zoe", access_keys=(key,)),
        UserRecord("nobody", exists=False),
        onboarding("adam", access_keys=()),
    ]
    result = st.report(
        account(records, {"zoe": 1}, live=["zoe", "nobody", "adam"]), NOW, st.REGIME, ["zoe", "nobody", "adam"]
    )
    assert [u["name"] for u in result["users"]] == ["zoe", "nobody", "adam"]  # unmanaged zoe too: she was named
    zoe, nobody, adam = result["users"]
    assert zoe["stage"] == "unmanaged"
    assert zoe["access_keys"] == [
        {
            "id": "AKIAEXAMPLE",
            "status": "Active",
            "create_date": "2026-11-28T12:00:00+00:00",
            "last_used": "2026-11-30T12:00:00+00:00",
        }
    ]
    assert adam["access_keys"] == []
    assert nobody == st.absent_status("nobody", access_keys=True)
    assert nobody["stage"] == "absent"
    assert {k: v for k, v in nobody.items() if v not in (None, [], {})} == {
        "name": "nobody",
        "stage": "absent",
        "read_live": True,
    }
    assert result["summary"]["stages"]["absent"] == 1
    # Without names, no access key details.
    assert "access_keys" not in st.report(account(records[:1]), NOW, st.ACCOUNT)["users"][0]


# The report


def test_scope_regime_leaves_out_the_unmanaged_and_account_sorts_everyone() -> None:
    records = [onboarding("adam"), user("Bea"), user("carl", managed_policies=(CURRENT,), mfa_devices=mfa())]
    regime = st.report(account(records), NOW, st.REGIME)
    everyone = st.report(account(records), NOW, st.ACCOUNT)
    assert [u["name"] for u in regime["users"]] == ["adam", "carl"]
    assert [u["name"] for u in everyone["users"]] == ["adam", "Bea", "carl"]
    assert everyone["summary"]["stages"]["unmanaged"] == 1
    assert regime["summary"]["stages"]["unmanaged"] == 0


def test_summary_has_every_key() -> None:
    result = st.report(account([]), NOW)
    assert result["summary"] == {
        "users": 0,
        "stages": dict.fromkeys(lc.STAGES, 0),
        "findings": dict.fromkeys(st.FINDINGS, 0),
    }
    assert set(result["summary"]["stages"]) == {
        "onboarding",
        "ready",
        "promoted",
        "expired",
        "disabled",
        "unmanaged",
        "absent",
    }


def test_summary_counts_users_per_stage_and_per_finding() -> None:
    records = [onboarding("a", days=10), onboarding("b", days=10), onboarding("c", mfa_devices=mfa()), user("d")]
    result = st.report(account(records, {"a": 1}), NOW, st.ACCOUNT)
    assert result["summary"]["users"] == 4
    assert result["summary"]["stages"] == dict(dict.fromkeys(lc.STAGES, 0), onboarding=2, ready=1, unmanaged=1)
    assert result["summary"]["findings"] == dict(
        dict.fromkeys(st.FINDINGS, 0), stale_onboarding=2, ready_not_promoted=1, access_key_before_mfa=1
    )


def test_regime_unassigned_devices_and_sources() -> None:
    generated = NOW - datetime.timedelta(hours=3)
    sources = {
        oa.AUTHORIZATION_DETAILS: oa.Source(NOW - datetime.timedelta(seconds=3)),
        oa.USERS: oa.Source(NOW - datetime.timedelta(seconds=2)),
        oa.CREDENTIAL_REPORT: oa.Source(NOW - datetime.timedelta(seconds=2), generated),
        oa.VIRTUAL_MFA_DEVICES: oa.Source(NOW - datetime.timedelta(seconds=1)),
        oa.LIVE_READS: oa.Source(NOW),
    }
    devices = [oa.VirtualMfaDevice(VIRTUAL, "alice", NOW), oa.VirtualMfaDevice(VIRTUAL + "-spare", None)]
    result = st.report(account([onboarding()], live=["alice"], sources=sources, devices=devices), NOW)
    assert result["unassigned_virtual_mfa_devices"] == [VIRTUAL + "-spare"]
    assert result["regime"] == {
        "onboarding_group": {
            "name": GROUP,
            "arn": GROUPS[GROUP].arn,
            "exists": True,
            "guards": True,
            "grants_beyond_the_guard": [],
        },
        "current_users_policy": {"arn": CURRENT, "exists": True, "guards": True},
    }
    assert result["sources"] == {
        "read_at": "2026-12-01T12:00:00+00:00",
        "account_authorization_details": {"read_at": "2026-12-01T11:59:57+00:00"},
        "users": {"read_at": "2026-12-01T11:59:58+00:00"},
        "credential_report": {
            "read_at": "2026-12-01T11:59:58+00:00",
            "generated_time": "2026-12-01T09:00:00+00:00",
            "age_seconds": 3 * 3600,
        },
        "virtual_mfa_devices": {"read_at": "2026-12-01T11:59:59+00:00"},
        "live_reads": {"read_at": "2026-12-01T12:00:00+00:00", "users": 1},
        "note": st.REPORT_NOTE,
    }
    assert "four hours" in st.REPORT_NOTE


def test_sources_without_the_credential_report() -> None:
    result = st.report(account([onboarding()]), NOW, names=["alice"])
    assert result["sources"]["credential_report"] is None
    assert result["sources"]["users"] is None
    assert result["sources"]["note"] == st.LIVE_NOTE


def test_a_missing_regime_is_warned_about_and_everyone_is_unmanaged() -> None:
    regime = oa.RegimeRecord(GROUP, None, False, CURRENT, False)
    records = [user("alice", groups=(), console_password=True), user("bob", managed_policies=())]
    missing = account(records, groups={}, policies={}, regime=regime)
    result = st.report(missing, NOW, st.ACCOUNT)
    assert {u["stage"] for u in result["users"]} == {"unmanaged"}
    assert st.report(missing, NOW, st.REGIME)["users"] == []
    assert result["regime"]["onboarding_group"] == {
        "name": GROUP,
        "arn": None,
        "exists": False,
        "guards": False,
        "grants_beyond_the_guard": [],
    }
    group_warning, policy_warning = st.regime_warnings(missing, GROUP, "MFARequiredForCurrentUsers")
    assert group_warning.startswith(f"onboarding_group: the group {GROUP} does not exist")
    assert policy_warning.startswith(f"current_users_policy: {CURRENT} does not exist")
    assert st.regime_warnings(account(records), GROUP, "MFARequiredForCurrentUsers") == []


# The options, before any client is built


VALID = {
    "names": None,
    "scope": "regime",
    "stale_after_days": 7,
    "onboarding_group": GROUP,
    "current_users_policy": "MFARequiredForCurrentUsers",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"names": ["alice", "bad name"]}, "names[1]: the user name 'bad name' may contain only"),
        ({"names": ["alice", ""]}, "names[1]: the user name must not be empty"),
        ({"names": ["a" * 65]}, "names[0]: the user name"),
        ({"names": ["alice", "Alice"]}, "names[1]: user Alice is listed more than once"),
        ({"names": []}, "names: the list is empty"),
        ({"stale_after_days": -1}, "stale_after_days: must be a whole number of days, 0 or more, got -1"),
        ({"stale_after_days": None}, "stale_after_days:"),
        ({"stale_after_days": True}, "stale_after_days:"),
        ({"scope": "everything"}, "scope:"),
        ({"onboarding_group": "bad group!"}, "onboarding_group:"),
        ({"current_users_policy": "arn:aws:iam::1:policy/x"}, "current_users_policy:"),
    ],
)
def test_bad_options_are_refused_naming_the_option(change: dict[str, t.Any], message: str) -> None:
    with pytest.raises(ValidationError) as error:
        st.validate_params(dict(VALID, **change))
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"names": ["alice", "bob+x@example.com"]},
        {"stale_after_days": 0},
        {"scope": "account"},
        {"current_users_policy": CURRENT},
    ],
)
def test_good_options_pass(change: dict[str, t.Any]) -> None:
    st.validate_params(dict(VALID, **change))


# Guards verified, not trusted by name (invariant 7): a group or policy without the deny-unless-MFA statement
# guards nobody, whatever it is called.

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
PLAIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}


def test_the_bootstrapped_guards_are_verified() -> None:
    assert st.check_guards(account([])) == st.GuardCheck(True, (), True)
    assert st.regime_warnings(account([]), GROUP, "MFARequiredForCurrentUsers") == []


def test_a_group_named_as_the_onboarding_group_without_the_mfa_deny_guards_nobody() -> None:
    """Another group's name given as the guard (here: a Developers-like group holding an allow-all policy)."""
    impostor = {GROUP: GROUPS[GROUP]._replace(managed_policies=(APP,), inline_policies={})}
    policies = dict(POLICIES, **{APP: oa.PolicyRecord(APP, "AppReadOnly", "/", "v1", 1, PLAIN)})
    fake = account([onboarding()], groups=impostor, policies=policies)
    assert st.check_guards(fake) == st.GuardCheck(False, (APP,), True)
    (alice,) = st.report(fake, NOW, st.ACCOUNT)["users"]
    assert "unguarded_console_password" in alice["findings"]
    warnings = st.regime_warnings(fake, GROUP, "MFARequiredForCurrentUsers")
    assert any("holds no policy with the deny-unless-MFA statement" in w for w in warnings)
    assert any(f"also holds {APP}" in w for w in warnings)


def test_a_guard_group_that_also_grants_more_is_reported() -> None:
    wider = {GROUP: GROUPS[GROUP]._replace(managed_policies=(FIRST_LOGIN, ADMIN), inline_policies={"extra": PLAIN})}
    check = st.check_guards(account([], groups=wider))
    assert check == st.GuardCheck(True, (ADMIN, "inline policy extra"), True)
    result = st.report(account([onboarding()], groups=wider), NOW, st.ACCOUNT)
    assert result["regime"]["onboarding_group"]["grants_beyond_the_guard"] == [ADMIN, "inline policy extra"]
    assert "unguarded_console_password" not in result["users"][0]["findings"]


def test_a_current_users_policy_without_the_mfa_deny_guards_nobody() -> None:
    weak = dict(POLICIES, **{CURRENT: POLICIES[CURRENT]._replace(document=PLAIN)})
    promoted = user(console_password=True, managed_policies=(CURRENT,))
    fake = account([promoted], policies=weak)
    assert st.check_guards(fake).current_users_policy is False
    (alice,) = st.report(fake, NOW, st.ACCOUNT)["users"]
    assert alice["stage"] == "promoted"
    assert "unguarded_console_password" in alice["findings"]
    assert any("guards nobody" in w for w in st.regime_warnings(fake, GROUP, "MFARequiredForCurrentUsers"))
    # With the real document the same user is guarded.
    (guarded,) = st.report(account([promoted]), NOW, st.ACCOUNT)["users"]
    assert "unguarded_console_password" not in guarded["findings"]


@pytest.mark.parametrize("scope", ["any", "own"])
def test_guarded_policies_are_guards_and_still_let_a_user_enrol(scope: str) -> None:
    """self_enrollment=guarded adds a conditioned Deny: the guards are still verified, nothing is beyond them, and
    a user at / can still enrol (from the console; the condition only takes the long-term key's way away)."""
    first = render(official_document(), "first_login", scope, "guarded")
    current = render(official_document(), "current_users", scope, "guarded")
    guarded = {
        FIRST_LOGIN: POLICIES[FIRST_LOGIN]._replace(document=first),
        CURRENT: POLICIES[CURRENT]._replace(document=current),
    }
    assert st.check_guards(account([], policies=guarded)) == st.GuardCheck(True, (), True)
    assert lc.enrollment_problem([first], arn("alice"), "alice") is None
    assert "/team/" in lc.enrollment_problem([first], arn("carol", "/team/"), "carol")
    (alice,) = st.report(account([onboarding()], policies=guarded), NOW, st.ACCOUNT)["users"]
    assert "cannot_enroll" not in alice["findings"]
    assert "unguarded_console_password" not in alice["findings"]
