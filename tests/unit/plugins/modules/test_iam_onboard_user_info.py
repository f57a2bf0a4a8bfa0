# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""iam_onboard_user_info against an in-process moto IAM: every stage, every finding with and without its cause,
the kinds of MFA device, names (with an absent user), scope, options refused before any call, a missing regime, the
call budget for several account sizes, the sources' ages, and errors that name the denied action.

moto never sets PasswordLastUsed and dates GetLoginProfile's CreateDate with the user's: a test that needs an old or
a used password sets them in moto's backend (in-process)."""

from __future__ import annotations

import collections
import datetime
import json
import typing as t

import botocore.client
import pytest
from botocore.exceptions import ClientError

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _observe_account
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _status
from ansible_collections.mfa_onboarding.iam.plugins.modules import iam_onboard_user_info

Run = t.Callable[..., dict[str, t.Any]]

ACCOUNT = "123456789012"  # moto's default account
GROUP = "NotYetLoginUsers"
FIRST_LOGIN = f"arn:aws:iam::{ACCOUNT}:policy/MFARequiredOnlyForTheFirstLogin"
CURRENT = f"arn:aws:iam::{ACCOUNT}:policy/MFARequiredForCurrentUsers"
APP = f"arn:aws:iam::{ACCOUNT}:policy/AppReadOnly"
PASSWORD = "Existing-Passw0rd!x"
DOCUMENT = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:List*", "Resource": "*"}]}
)
UTC = datetime.timezone.utc
TOP_LEVEL = {"changed", "users", "summary", "unassigned_virtual_mfa_devices", "regime", "sources"}
USER_KEYS = {
    "name",
    "arn",
    "path",
    "stage",
    "created",
    "console_password",
    "password_created",
    "password_last_used",
    "days_in_onboarding",
    "mfa_devices",
    "active_access_keys",
    "groups",
    "managed_policies",
    "inline_policies",
    "tags",
    "profile",
    "handover",
    "findings",
    "read_live",
}
# The account-wide calls of a first run on moto (its first GenerateCredentialReport says STARTED).
ACCOUNT_WIDE = {
    "GetAccountAuthorizationDetails": 1,
    "ListUsers": 1,
    "GenerateCredentialReport": 2,
    "GetCredentialReport": 1,
    "ListVirtualMFADevices": 1,
}


@pytest.fixture(autouse=True)
def no_pause_for_the_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's first GenerateCredentialReport says STARTED, its second COMPLETE; the pause between them (tested with
    the reader) would only slow these tests down."""
    monkeypatch.setattr(_observe_account, "REPORT_FIRST_DELAY", 0.0)


# Helpers


def backend_user(name: str) -> t.Any:
    from moto.iam.models import iam_backends

    return iam_backends[ACCOUNT]["global"].users[name]


def age(name: str, days: float) -> None:
    """Backdate a user (moto's GetLoginProfile CreateDate and the credential report follow the user's date)."""
    backend_user(name).create_date = datetime.datetime.now(UTC).replace(tzinfo=None) - datetime.timedelta(days=days)


def signed_in(name: str, days_ago: float = 1) -> None:
    backend_user(name).password_last_used = datetime.datetime.now(UTC) - datetime.timedelta(days=days_ago)


def make(
    iam: t.Any,
    name: str,
    stage: str,
    enable_mfa: t.Callable[..., str] | None = None,
    path: str = "/",
    tags: dict[str, str] | None = None,
) -> None:
    """A user in a stage, built with the tests' own client as the collection's modules would leave it."""
    iam.create_user(UserName=name, Path=path, Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])
    if stage == "unmanaged":
        return
    if stage == "disabled":
        iam.tag_user(UserName=name, Tags=[{"Key": lc.DISABLED_TAG, "Value": "2026-11-30"}])
        return
    iam.add_user_to_group(UserName=name, GroupName=GROUP)
    if stage == "expired":
        iam.tag_user(UserName=name, Tags=[{"Key": lc.EXPIRED_TAG, "Value": "2026-11-30"}])
        return
    iam.create_login_profile(UserName=name, Password=PASSWORD, PasswordResetRequired=True)
    if stage == "onboarding":
        return
    if stage in ("ready", "promoted"):
        assert enable_mfa is not None
        enable_mfa(name)
    if stage == "ready":
        return
    iam.attach_user_policy(UserName=name, PolicyArn=CURRENT)
    iam.add_user_to_group(UserName=name, GroupName="Developers")
    iam.remove_user_from_group(UserName=name, GroupName=GROUP)
    assert stage in ("promoted", "promoted_without_mfa")


def writes(api_calls: t.Any) -> list[str]:
    """The calls that change IAM. GenerateCredentialReport is not one (IAM's access level for it is Read), though
    the recorder counts every call whose name does not start with Get, List or Describe."""
    return [name for name in api_calls.writes if name != "GenerateCredentialReport"]


def by_name(result: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    return {u["name"]: u for u in result["users"]}


@pytest.fixture
def staff(iam: t.Any, bootstrapped: t.Any) -> str:
    """A group that carries the current-users policy: its members are promoted through it."""
    iam.create_group(GroupName="Staff")
    iam.attach_group_policy(GroupName="Staff", PolicyArn=CURRENT)
    return "Staff"


# Stages


@pytest.fixture
def stages(iam: t.Any, bootstrapped: t.Any, staff: str, enable_mfa: t.Callable[..., str]) -> None:
    make(iam, "alice", "onboarding")
    make(iam, "bob", "ready", enable_mfa)
    make(iam, "carol", "promoted", enable_mfa)
    iam.create_user(UserName="dan")  # promoted through a group
    iam.add_user_to_group(UserName="dan", GroupName=staff)
    enable_mfa("dan")
    make(iam, "erin", "expired")
    make(iam, "fay", "disabled")
    make(iam, "gus", "unmanaged")


def test_every_stage_of_the_regime(stages: None, run_module: Run, api_calls: t.Any) -> None:
    api_calls.clear()
    result = run_module(iam_onboard_user_info, {})

    assert result["changed"] is False
    assert writes(api_calls) == []
    assert {u["name"]: u["stage"] for u in result["users"]} == {
        "alice": "onboarding",
        "bob": "ready",
        "carol": "promoted",
        "dan": "promoted",
        "erin": "expired",
        "fay": "disabled",
    }
    assert [u["name"] for u in result["users"]] == ["alice", "bob", "carol", "dan", "erin", "fay"]
    assert result["summary"]["stages"] == {
        "onboarding": 1,
        "ready": 1,
        "promoted": 2,
        "expired": 1,
        "disabled": 1,
        "unmanaged": 0,
        "absent": 0,
    }
    assert result["summary"]["users"] == 6


def test_scope_account_adds_everyone_else_as_unmanaged(stages: None, run_module: Run) -> None:
    result = run_module(iam_onboard_user_info, {"scope": "account"})
    users = by_name(result)
    assert users["gus"]["stage"] == "unmanaged"
    assert len(users) == 7
    assert result["summary"]["stages"]["unmanaged"] == 1


def test_a_group_attached_current_users_policy_makes_a_user_promoted(
    iam: t.Any, bootstrapped: t.Any, staff: str, run_module: Run, enable_mfa: t.Callable[..., str]
) -> None:
    iam.create_user(UserName="dan")
    iam.add_user_to_group(UserName="dan", GroupName=staff)
    enable_mfa("dan")
    iam.create_user(UserName="eve")
    iam.add_user_to_group(UserName="eve", GroupName="Developers")  # no guard on Developers
    enable_mfa("eve")

    users = by_name(run_module(iam_onboard_user_info, {"scope": "account"}))

    assert users["dan"]["stage"] == "promoted"
    assert users["dan"]["managed_policies"] == []
    assert users["dan"]["groups"] == [staff]
    assert users["eve"]["stage"] == "unmanaged"


def test_the_result_shape(stages: None, run_module: Run, iam: t.Any) -> None:
    iam.create_virtual_mfa_device(VirtualMFADeviceName="spare")
    result = run_module(iam_onboard_user_info, {})

    assert set(result) - {"invocation", "warnings"} == TOP_LEVEL
    for user in result["users"]:
        assert set(user) == USER_KEYS  # no access_keys without names
    alice = by_name(result)["alice"]
    assert alice["arn"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert alice["path"] == "/"
    assert alice["console_password"] is True
    assert alice["read_live"] is True
    assert alice["password_last_used"] is None
    assert alice["days_in_onboarding"] == 0
    assert alice["groups"] == [GROUP]
    assert alice["handover"] == "none"
    assert alice["findings"] == []
    for key in ("created", "password_created"):
        assert datetime.datetime.fromisoformat(alice[key]).utcoffset() == datetime.timedelta(0)
    carol = by_name(result)["carol"]
    assert carol["read_live"] is False  # from the credential report and the virtual MFA devices
    assert carol["managed_policies"] == [CURRENT]
    assert carol["groups"] == ["Developers"]
    (device,) = carol["mfa_devices"]
    assert (device["serial_number"], device["kind"]) == (f"arn:aws:iam::{ACCOUNT}:mfa/carol", "virtual")
    assert device["enable_date"]
    assert result["unassigned_virtual_mfa_devices"] == [f"arn:aws:iam::{ACCOUNT}:mfa/spare"]
    assert result["regime"] == {
        "onboarding_group": {
            "name": GROUP,
            "arn": f"arn:aws:iam::{ACCOUNT}:group/{GROUP}",
            "exists": True,
            "guards": True,
            "grants_beyond_the_guard": [],
        },
        "current_users_policy": {"arn": CURRENT, "exists": True, "guards": True},
    }
    assert set(result["summary"]["findings"]) == set(_status.FINDINGS)


def test_check_mode_reads_the_same(stages: None, run_module: Run, api_calls: t.Any) -> None:
    normal = run_module(iam_onboard_user_info, {"scope": "account"})
    api_calls.clear()
    checked = run_module(iam_onboard_user_info, {"scope": "account"}, check_mode=True)
    assert checked["changed"] is False
    assert writes(api_calls) == []
    assert checked["users"] == normal["users"]


# Findings: one account holding, for each finding, users that have it and users that do not


@pytest.fixture
def zoo(iam: t.Any, bootstrapped: t.Any, staff: str, enable_mfa: t.Callable[..., str]) -> None:
    make(iam, "onb", "onboarding")
    make(iam, "stale", "onboarding")
    age("stale", 10)
    make(iam, "used", "onboarding")
    age("used", 10)
    signed_in("used")
    make(iam, "ready", "ready", enable_mfa)
    make(iam, "promoted", "promoted", enable_mfa)
    iam.create_user(UserName="via_group")
    iam.add_user_to_group(UserName="via_group", GroupName=staff)
    enable_mfa("via_group")
    make(iam, "lost_mfa", "promoted_without_mfa")
    make(iam, "extra_group", "onboarding")
    iam.add_user_to_group(UserName="extra_group", GroupName="Developers")
    make(iam, "extra_policy", "onboarding")
    iam.attach_user_policy(UserName="extra_policy", PolicyArn=APP)
    make(iam, "inline", "onboarding")
    iam.put_user_policy(UserName="inline", PolicyName="extra", PolicyDocument=DOCUMENT)
    make(iam, "keyed", "onboarding")
    iam.create_access_key(UserName="keyed")
    make(iam, "inactive_key", "onboarding")
    key = iam.create_access_key(UserName="inactive_key")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="inactive_key", AccessKeyId=key, Status="Inactive")
    make(iam, "pending", "onboarding", tags={lc.HANDOVER_TAG: "pending"})
    make(iam, "delivered", "onboarding", tags={lc.HANDOVER_TAG: "delivered"})
    make(iam, "contractor", "onboarding", path="/contractors/")
    make(iam, "expired", "expired")
    age("expired", 10)
    make(iam, "disabled", "disabled", path="/contractors/")
    make(iam, "outsider", "unmanaged")
    iam.create_login_profile(UserName="outsider", Password=PASSWORD)
    make(iam, "outsider_key", "unmanaged")
    iam.create_access_key(UserName="outsider_key")
    make(iam, "outsider_mfa", "unmanaged")
    iam.create_login_profile(UserName="outsider_mfa", Password=PASSWORD)
    enable_mfa("outsider_mfa")
    make(iam, "outsider_more", "unmanaged", path="/x/", tags={lc.HANDOVER_TAG: "pending"})
    iam.add_user_to_group(UserName="outsider_more", GroupName="Developers")


ZOO_FINDINGS = {
    "unguarded_console_password": {"outsider"},
    "access_key_before_mfa": {"keyed", "outsider_key"},
    "stale_onboarding": {"stale"},
    "ready_not_promoted": {"ready"},
    "grants_before_mfa": {"lost_mfa", "extra_group", "extra_policy", "inline"},
    "pending_handover": {"pending"},
    "cannot_enroll": {"contractor"},
}


@pytest.fixture
def zoo_result(zoo: None, run_module: Run) -> dict[str, t.Any]:
    return run_module(iam_onboard_user_info, {"scope": "account"})


def test_each_finding_exactly_where_its_cause_is(zoo_result: dict[str, t.Any]) -> None:
    """For every finding, the users that have it are exactly those built with its cause; the others do not."""
    having = {f: {u["name"] for u in zoo_result["users"] if f in u["findings"]} for f in _status.FINDINGS}
    assert having == ZOO_FINDINGS
    assert set(ZOO_FINDINGS) == set(_status.FINDINGS)
    assert zoo_result["summary"]["findings"] == {f: len(users) for f, users in ZOO_FINDINGS.items()}
    flagged = set().union(*ZOO_FINDINGS.values())
    clean = {u["name"]: u["findings"] for u in zoo_result["users"] if u["name"] not in flagged}
    assert clean == {name: [] for name in clean}
    assert set(clean) == {
        "onb",
        "used",
        "promoted",
        "via_group",
        "inactive_key",
        "delivered",
        "expired",
        "disabled",
        "outsider_mfa",
        "outsider_more",
    }


def test_the_zoo_stages_days_and_handover(zoo_result: dict[str, t.Any]) -> None:
    users = by_name(zoo_result)
    assert users["stale"]["days_in_onboarding"] == 10
    assert users["stale"]["password_last_used"] is None
    assert users["used"]["password_last_used"] is not None
    assert users["expired"]["stage"] == "expired"
    assert users["expired"]["days_in_onboarding"] == 10  # no password: since the user was created
    assert users["expired"]["console_password"] is False
    assert users["promoted"]["days_in_onboarding"] is None
    assert users["lost_mfa"]["stage"] == "promoted"
    assert users["outsider_more"]["stage"] == "unmanaged"
    assert users["keyed"]["active_access_keys"] == 1
    assert users["inactive_key"]["active_access_keys"] == 0
    assert users["inline"]["inline_policies"] == ["extra"]
    assert (users["pending"]["handover"], users["delivered"]["handover"], users["onb"]["handover"]) == (
        "pending",
        "delivered",
        "none",
    )


@pytest.mark.parametrize(("days", "stale"), [(14, False), (11, False), (10, True), (9, True), (0, True)])
def test_stale_after_days(iam: t.Any, bootstrapped: t.Any, run_module: Run, days: int, stale: bool) -> None:
    """Longer than stale_after_days: a password 10.5 days old is stale after 10 days, not after 11."""
    make(iam, "alice", "onboarding")
    age("alice", 10.5)
    (alice,) = run_module(iam_onboard_user_info, {"stale_after_days": days})["users"]
    assert ("stale_onboarding" in alice["findings"]) is stale
    assert alice["days_in_onboarding"] == 10


def test_a_path_that_the_first_login_policy_covers_can_enrol(iam: t.Any, bootstrapped: t.Any, run_module: Run) -> None:
    """The decision comes from the onboarding group's policy document: a base document that also names
    user/*/${aws:username} in the statements that let a user change its password and register MFA lets users at a
    path enrol (the rule iam_onboard_user refuses onboardings by); widening only one of them does not."""
    make(iam, "contractor", "onboarding", path="/contractors/")
    document = iam.get_policy_version(PolicyArn=FIRST_LOGIN, VersionId="v1")["PolicyVersion"]["Document"]
    assert "cannot_enroll" in by_name(run_module(iam_onboard_user_info, {}))["contractor"]["findings"]

    for sid in ("AllowManageOwnUserMFA", "AllowManageOwnPasswords"):
        for statement in document["Statement"]:
            if statement.get("Sid") == sid:
                statement["Resource"] = [
                    "arn:aws:iam::*:user/${aws:username}",
                    "arn:aws:iam::*:user/*/${aws:username}",
                ]
        iam.create_policy_version(PolicyArn=FIRST_LOGIN, PolicyDocument=json.dumps(document), SetAsDefault=True)
        enrols = sid == "AllowManageOwnPasswords"  # both widened now
        assert ("cannot_enroll" in by_name(run_module(iam_onboard_user_info, {}))["contractor"]["findings"]) is (
            not enrols
        )


def test_without_a_policy_document_the_path_decides(iam: t.Any, bootstrapped: t.Any, run_module: Run) -> None:
    iam.detach_group_policy(GroupName=GROUP, PolicyArn=FIRST_LOGIN)
    make(iam, "contractor", "onboarding", path="/contractors/")
    make(iam, "alice", "onboarding")
    users = by_name(run_module(iam_onboard_user_info, {}))
    assert "cannot_enroll" in users["contractor"]["findings"]
    assert "cannot_enroll" not in users["alice"]["findings"]


# MFA devices of every kind


def test_every_kind_of_mfa_device(
    iam: t.Any, bootstrapped: t.Any, run_module: Run, api_calls: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    fido = f"arn:aws:iam::{ACCOUNT}:u2f/user/erin/fidosecuritykey-ABCDEFGH"
    for name, serial in (("erin", fido), ("hal", "GAHT12345678")):
        iam.create_user(UserName=name)
        iam.attach_user_policy(UserName=name, PolicyArn=CURRENT)
        iam.enable_mfa_device(
            UserName=name, SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
        )
    make(iam, "carol", "promoted", enable_mfa)
    api_calls.clear()

    users = by_name(run_module(iam_onboard_user_info, {}))

    assert [(d["serial_number"], d["kind"]) for d in users["erin"]["mfa_devices"]] == [(fido, "fido")]
    assert [(d["serial_number"], d["kind"]) for d in users["hal"]["mfa_devices"]] == [("GAHT12345678", "hardware")]
    assert [d["kind"] for d in users["carol"]["mfa_devices"]] == ["virtual"]
    assert all(users[n]["stage"] == "promoted" for n in ("erin", "hal", "carol"))
    # The report says MFA is active, and they hold no virtual device: their devices were read live.
    assert sorted(p["UserName"] for p in api_calls.requests("ListMFADevices")) == ["erin", "hal"]


# names


def test_names_in_their_order_with_an_absent_user_and_access_keys(
    iam: t.Any, bootstrapped: t.Any, run_module: Run, api_calls: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    from moto.iam.models import AccessKeyLastUsed

    make(iam, "zoe", "unmanaged")
    make(iam, "adam", "promoted", enable_mfa)
    key = iam.create_access_key(UserName="adam")["AccessKey"]["AccessKeyId"]
    used = datetime.datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    backend_user("adam").access_keys[0].last_used = AccessKeyLastUsed(used, "s3", "us-east-1")
    iam.put_user_policy(UserName="zoe", PolicyName="extra", PolicyDocument=DOCUMENT)
    api_calls.clear()

    result = run_module(iam_onboard_user_info, {"names": ["zoe", "nobody", "adam"], "scope": "regime"})

    assert not result.get("failed")
    assert [u["name"] for u in result["users"]] == ["zoe", "nobody", "adam"]
    zoe, nobody, adam = result["users"]
    assert zoe["stage"] == "unmanaged"  # named: reported whatever the scope
    assert zoe["inline_policies"] == ["extra"]
    assert nobody["stage"] == "absent"
    assert set(nobody) == USER_KEYS | {"access_keys"}
    assert {k: v for k, v in nobody.items() if v not in (None, [], {})} == {
        "name": "nobody",
        "stage": "absent",
        "read_live": True,
    }
    (adam_key,) = adam["access_keys"]
    assert datetime.datetime.fromisoformat(adam_key.pop("create_date")).utcoffset() == datetime.timedelta(0)
    assert adam_key == {"id": key, "status": "Active", "last_used": "2026-11-30T08:00:00+00:00"}
    assert adam["active_access_keys"] == 1
    assert all(u["read_live"] for u in result["users"])
    assert result["summary"]["stages"]["absent"] == 1
    # Every named user live; the credential report is not needed at all.
    for skipped in ("GenerateCredentialReport", "GetCredentialReport", "ListUsers"):
        assert skipped not in api_calls.names
    assert sorted(p["UserName"] for p in api_calls.requests("GetUser")) == ["adam", "nobody", "zoe"]
    assert len(api_calls.requests("GetAccessKeyLastUsed")) == 1
    assert result["sources"]["credential_report"] is None
    assert result["sources"]["note"] == _status.LIVE_NOTE


# Options refused before any call


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"names": ["alice", "not a name"]}, "names[1]: the user name 'not a name' may contain only"),
        ({"names": ["alice", "ALICE"]}, "names[1]: user ALICE is listed more than once"),
        ({"names": []}, "names: the list is empty"),
        ({"stale_after_days": -1}, "stale_after_days: must be a whole number of days, 0 or more, got -1"),
        ({"onboarding_group": "no such/group"}, "onboarding_group:"),
        ({"current_users_policy": "arn:aws:iam::1:policy/x"}, "current_users_policy:"),
    ],
)
def test_bad_options_are_refused_before_any_call(
    iam: t.Any, run_module: Run, api_calls: t.Any, args: dict[str, t.Any], message: str
) -> None:
    api_calls.clear()
    result = run_module(iam_onboard_user_info, args)
    assert result["failed"] is True
    assert result["msg"].startswith(message)
    assert api_calls.calls == []


# An account without the regime


def test_an_account_without_the_regime_is_reported_not_failed(
    iam: t.Any, run_module: Run, warning_messages: t.Any
) -> None:
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password=PASSWORD)

    regime_only = run_module(iam_onboard_user_info, {})
    account = run_module(iam_onboard_user_info, {"scope": "account"})

    assert not regime_only.get("failed")
    assert regime_only["users"] == []
    assert [(u["name"], u["stage"], u["findings"]) for u in account["users"]] == [
        ("alice", "unmanaged", ["unguarded_console_password"])
    ]
    assert account["regime"] == {
        "onboarding_group": {
            "name": GROUP,
            "arn": None,
            "exists": False,
            "guards": False,
            "grants_beyond_the_guard": [],
        },
        "current_users_policy": {"arn": CURRENT, "exists": False, "guards": False},
    }
    warnings = warning_messages(account)
    assert any(w.startswith(f"onboarding_group: the group {GROUP} does not exist") for w in warnings)
    assert any(w.startswith(f"current_users_policy: {CURRENT} does not exist") for w in warnings)


def test_a_bootstrapped_account_gives_no_warning(bootstrapped: t.Any, run_module: Run, warning_messages: t.Any) -> None:
    assert warning_messages(run_module(iam_onboard_user_info, {})) == []


# Errors name the denied action


@pytest.mark.parametrize(
    ("operation", "action"),
    [
        ("GetAccountAuthorizationDetails", "get account authorization details"),
        ("GetCredentialReport", "get credential report"),
        ("ListMFADevices", "list MFA devices"),  # a live read of a member of the onboarding group
    ],
)
def test_access_denied_names_the_action(
    iam: t.Any, bootstrapped: t.Any, run_module: Run, monkeypatch: pytest.MonkeyPatch, operation: str, action: str
) -> None:
    make(iam, "alice", "onboarding")
    inner = botocore.client.BaseClient._make_api_call

    def deny(self: t.Any, name: str, params: dict[str, t.Any]) -> t.Any:
        if name == operation:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, name)
        return inner(self, name, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", deny)
    result = run_module(iam_onboard_user_info, {})

    assert result["failed"] is True
    assert result["msg"].startswith(f"Failed to {action}")
    assert f"when calling the {operation} operation" in result["msg"]
    assert "AccessDenied" in result["msg"]
    assert result["error"]["code"] == "AccessDenied"


# Sources


def test_sources_say_how_old_the_data_is(bootstrapped: t.Any, run_module: Run) -> None:
    before = datetime.datetime.now(UTC)
    sources = run_module(iam_onboard_user_info, {})["sources"]
    after = datetime.datetime.now(UTC)

    for name in ("account_authorization_details", "users", "virtual_mfa_devices", "live_reads"):
        assert before <= datetime.datetime.fromisoformat(sources[name]["read_at"]) <= after
    report = sources["credential_report"]
    assert report["generated_time"] == "2015-02-02T20:02:02+00:00"  # moto's fixed date
    assert report["age_seconds"] > 4 * 3600
    assert before <= datetime.datetime.fromisoformat(report["read_at"]) <= after
    every = ("account_authorization_details", "users", "credential_report", "virtual_mfa_devices", "live_reads")
    assert sources["read_at"] == max(sources[n]["read_at"] for n in every)
    assert "four hours" in sources["note"]


# The call budget: account-wide calls constant in the number of users, per-user calls only for onboarding members


def build(iam: t.Any, users: int, members: int, enable_mfa: t.Callable[..., str]) -> None:
    """`members` users in the onboarding group; the others: every fifth promoted with a virtual MFA device, every
    seventh unmanaged with a password, the rest unmanaged without."""
    for n in range(users):
        name = f"user{n:04d}"
        iam.create_user(UserName=name)
        if n < members:
            iam.add_user_to_group(UserName=name, GroupName=GROUP)
            iam.create_login_profile(UserName=name, Password=PASSWORD)
        elif n % 5 == 0:
            iam.attach_user_policy(UserName=name, PolicyArn=CURRENT)
            enable_mfa(name)
        elif n % 7 == 0:
            iam.create_login_profile(UserName=name, Password=PASSWORD)


@pytest.mark.parametrize(("users", "members"), [(10, 2), (120, 10), (1000, 50)])
def test_the_call_budget(
    iam: t.Any,
    bootstrapped: t.Any,
    run_module: Run,
    api_calls: t.Any,
    enable_mfa: t.Callable[..., str],
    users: int,
    members: int,
) -> None:
    build(iam, users, members, enable_mfa)
    api_calls.clear()

    result = run_module(iam_onboard_user_info, {"scope": "account"})

    assert len(result["users"]) == users
    calls = collections.Counter(api_calls.names)
    per_member = {"GetLoginProfile": members, "ListMFADevices": members}
    assert calls == collections.Counter(ACCOUNT_WIDE) + collections.Counter(per_member)
    assert sum(calls.values()) == 6 + 2 * members
    if users == 1000:
        assert sum(calls.values()) <= 150  # DESIGN section 2
    # Per-user calls only for the members of the onboarding group.
    assert {p["UserName"] for p in api_calls.requests("GetLoginProfile")} == {f"user{n:04d}" for n in range(members)}


# Guards verified, not trusted by name (invariant 7).


def test_another_groups_name_as_the_onboarding_group_guards_nobody(
    bootstrapped: t.Any, run_module: Run, iam: t.Any, warning_messages: t.Any
) -> None:
    """An operator gives Developers (holding a plain allow policy) as the onboarding group: its members hold a
    console password behind no MFA guard, and the report must say so rather than call them onboarding and safe."""
    iam.attach_group_policy(GroupName="Developers", PolicyArn=APP)
    iam.create_user(UserName="dev")
    iam.create_login_profile(UserName="dev", Password=PASSWORD)
    iam.add_user_to_group(UserName="dev", GroupName="Developers")

    result = run_module(iam_onboard_user_info, {"onboarding_group": "Developers"})

    (dev,) = result["users"]
    assert dev["stage"] == "onboarding"  # by the name it was given...
    assert "unguarded_console_password" in dev["findings"]  # ...but it is not a guard
    assert result["regime"]["onboarding_group"]["guards"] is False
    assert result["regime"]["onboarding_group"]["grants_beyond_the_guard"] == [APP]
    warnings = warning_messages(result)
    assert any("Developers holds no policy with the deny-unless-MFA statement" in w for w in warnings)


def test_a_policy_without_the_mfa_deny_as_current_users_policy_guards_nobody(
    bootstrapped: t.Any, run_module: Run, iam: t.Any, warning_messages: t.Any, enable_mfa: t.Callable[..., str]
) -> None:
    iam.create_user(UserName="pat")
    iam.create_login_profile(UserName="pat", Password=PASSWORD)
    iam.attach_user_policy(UserName="pat", PolicyArn=APP)

    result = run_module(iam_onboard_user_info, {"current_users_policy": "AppReadOnly"})

    (pat,) = result["users"]
    assert pat["stage"] == "promoted"
    assert "unguarded_console_password" in pat["findings"]
    assert result["regime"]["current_users_policy"]["guards"] is False
    assert any("AppReadOnly does not carry the deny-unless-MFA statement" in w for w in warning_messages(result))
