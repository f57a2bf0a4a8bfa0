# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The account reader against an in-process moto IAM: what it reads how (account-wide, live), every paginated
read against a stub that truncates (moto never does), the credential report (parsing, and waiting for it with
botocore's Stubber), names, live="all", and the regime as IAM spells it."""

from __future__ import annotations

import collections
import datetime
import json
import threading
import time
import typing as t

import boto3
import botocore.client
import botocore.loaders
import pytest
from botocore.stub import Stubber

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _iam
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _observe
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _observe_account as oa

ACCOUNT = "123456789012"
GROUP = "NotYetLoginUsers"
CURRENT = f"arn:aws:iam::{ACCOUNT}:policy/MFARequiredForCurrentUsers"
PASSWORD = "Existing-Passw0rd!x"
DOCUMENT = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:List*", "Resource": "*"}]}
)
# Botocore's own call, before any fixture patches it: the tests' inspections go through it unrecorded and unpaged.
_PLAIN_CALL = botocore.client.BaseClient._make_api_call
_PAGINATION = botocore.loaders.create_loader().load_service_model("iam", "paginators-1")["pagination"]


# A stub that truncates: every paginated IAM read in pages of `size`, as AWS serves a large account.


class Pages:
    """Once on(), serves every paginated IAM call in pages of `size` items per result key (Marker, IsTruncated)."""

    def __init__(self) -> None:
        self.size = 2
        self.active = False
        self.served: collections.Counter[str] = collections.Counter()

    def on(self, size: int = 2) -> None:
        self.size, self.active = size, True
        self.served.clear()


@pytest.fixture
def pages(monkeypatch: pytest.MonkeyPatch) -> Pages:
    pager = Pages()
    inner = botocore.client.BaseClient._make_api_call

    def paged(self: t.Any, operation: str, params: dict[str, t.Any]) -> t.Any:
        config = _PAGINATION.get(operation)
        if not pager.active or config is None or self.meta.service_model.service_name != "iam":
            return inner(self, operation, params)
        keys = config["result_key"] if isinstance(config["result_key"], list) else [config["result_key"]]
        params = dict(params)
        start = int(params.pop("Marker", 0))
        params.pop("MaxItems", None)
        full = inner(self, operation, params)
        end = start + pager.size
        page = {k: v for k, v in full.items() if k != "Marker"}
        for key in keys:
            page[key] = full.get(key, [])[start:end]
        page["IsTruncated"] = any(len(full.get(key, [])) > end for key in keys)
        if page["IsTruncated"]:
            page["Marker"] = str(end)
        pager.served[operation] += 1
        return page

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", paged)
    return pager


def moto_user(name: str) -> t.Any:
    from moto.iam.models import iam_backends

    return iam_backends[ACCOUNT]["global"].users[name]


def enable_device(iam: t.Any, user: str, serial: str) -> None:
    """A FIDO or hardware device: moto enables any serial (AWS registers FIDO keys only from the console)."""
    iam.enable_mfa_device(
        UserName=user, SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )


def virtual_device(iam: t.Any, user: str | None, name: str) -> str:
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]["SerialNumber"]
    if user is not None:
        enable_device(iam, user, serial)
    return str(serial)


@pytest.fixture
def rich(iam: t.Any, bootstrapped: t.Any) -> dict[str, t.Any]:
    """An account with at least three of everything that is listed: users, groups, policies, virtual devices, and
    one user (dave) with three groups, attached and inline policies and two access keys."""
    for name in ("alice", "bob"):
        iam.create_user(UserName=name)
        iam.add_user_to_group(UserName=name, GroupName=GROUP)
        iam.create_login_profile(UserName=name, Password=PASSWORD, PasswordResetRequired=True)
    bob_devices = [virtual_device(iam, "bob", f"bob-{n}") for n in range(3)]
    iam.create_user(UserName="carol", Path="/staff/")
    iam.attach_user_policy(UserName="carol", PolicyArn=CURRENT)
    carol_devices = [virtual_device(iam, "carol", f"carol-{n}") for n in range(3)]
    iam.create_user(UserName="dave")
    iam.create_login_profile(UserName="dave", Password=PASSWORD)
    for n in range(3):
        iam.create_group(GroupName=f"Team{n}")
        iam.add_user_to_group(UserName="dave", GroupName=f"Team{n}")
        arn = iam.create_policy(PolicyName=f"Extra{n}", PolicyDocument=DOCUMENT)["Policy"]["Arn"]
        iam.attach_user_policy(UserName="dave", PolicyArn=arn)
        iam.put_user_policy(UserName="dave", PolicyName=f"inline{n}", PolicyDocument=DOCUMENT)
    keys = [iam.create_access_key(UserName="dave")["AccessKey"]["AccessKeyId"] for _key in range(2)]
    iam.create_user(UserName="erin")
    iam.attach_user_policy(UserName="erin", PolicyArn=CURRENT)
    erin_devices = [f"arn:aws:iam::{ACCOUNT}:u2f/user/erin/fidosecuritykey-{n}" for n in range(2)] + ["GAHT12345678"]
    for serial in erin_devices:
        enable_device(iam, "erin", serial)
    spare = [virtual_device(iam, None, f"spare-{n}") for n in range(3)]
    return {"bob": bob_devices, "carol": carol_devices, "erin": erin_devices, "spare": spare, "keys": keys}


def comparable(account: oa.AccountRecord) -> dict[str, t.Any]:
    """Everything but the times of the reads."""
    return {k: v for k, v in account._asdict().items() if k != "sources"}


# The default read: account-wide sources, the onboarding group live


def test_the_default_read(iam: t.Any, rich: dict[str, t.Any], api_calls: t.Any) -> None:
    api_calls.clear()
    account = oa.read_account(iam, GROUP, "MFARequiredForCurrentUsers", sleep=lambda s: None)

    assert [u.name for u in account.users] == ["alice", "bob", "carol", "dave", "erin"]
    by_name = {u.name: u for u in account.users}
    # Members of the onboarding group live: GetLoginProfile and ListMFADevices; erin's FIDO and hardware devices
    # live with ListMFADevices (her report says MFA is active and she holds no virtual device).
    calls = collections.Counter(api_calls.names)
    assert calls == {
        "GetAccountAuthorizationDetails": 1,
        "ListUsers": 1,
        "GenerateCredentialReport": 2,  # moto: STARTED, then COMPLETE
        "GetCredentialReport": 1,
        "ListVirtualMFADevices": 1,
        "GetLoginProfile": 2,
        "ListMFADevices": 3,
    }
    assert sorted(p["UserName"] for p in api_calls.requests("GetLoginProfile")) == ["alice", "bob"]
    assert sorted(p["UserName"] for p in api_calls.requests("ListMFADevices")) == ["alice", "bob", "erin"]
    assert api_calls.requests("GetAccountAuthorizationDetails")[0]["Filter"] == ["User", "Group", "LocalManagedPolicy"]
    assert api_calls.requests("ListVirtualMFADevices")[0]["AssignmentStatus"] == "Any"
    assert account.live == {"alice", "bob"}

    assert by_name["alice"].console_password is True
    assert by_name["alice"].password_reset_required is False  # moto does not keep it (AWS does)
    assert by_name["alice"].groups == (GROUP,)
    assert sorted(d.serial_number for d in by_name["bob"].mfa_devices) == sorted(rich["bob"])
    assert sorted(d.serial_number for d in by_name["carol"].mfa_devices) == sorted(rich["carol"])
    assert all(d.enable_date for d in by_name["carol"].mfa_devices)
    assert sorted(d.serial_number for d in by_name["erin"].mfa_devices) == sorted(rich["erin"])
    assert by_name["carol"].path == "/staff/"
    assert by_name["carol"].arn == f"arn:aws:iam::{ACCOUNT}:user/staff/carol"
    assert by_name["carol"].console_password is False  # from the credential report
    assert by_name["dave"].console_password is True
    assert by_name["dave"].password_created is not None
    assert by_name["dave"].groups == ("Team0", "Team1", "Team2")
    assert len(by_name["dave"].managed_policies) == 3
    assert by_name["dave"].inline_policies == ("inline0", "inline1", "inline2")
    assert by_name["dave"].access_keys is None  # not read: the report counts them
    assert account.active_access_keys == {"alice": 0, "bob": 0, "carol": 0, "dave": 2, "erin": 0}

    assert set(account.groups) == {GROUP, "Developers", "Team0", "Team1", "Team2"}
    assert account.groups[GROUP].managed_policies == (bootstrapped_first_login(),)
    first_login = account.policies[bootstrapped_first_login()]
    assert first_login.document is not None
    assert any(s.get("Sid") == "AllowManageOwnUserMFA" for s in first_login.document["Statement"])
    assert first_login.default_version_id == "v1"
    assert sorted(d.serial_number for d in account.virtual_mfa_devices if d.user is None) == sorted(rich["spare"])
    assert account.regime == oa.RegimeRecord(GROUP, f"arn:aws:iam::{ACCOUNT}:group/{GROUP}", True, CURRENT, True)
    assert (account.partition, account.account_id) == ("aws", ACCOUNT)
    assert set(account.sources) == {
        oa.AUTHORIZATION_DETAILS,
        oa.USERS,
        oa.CREDENTIAL_REPORT,
        oa.VIRTUAL_MFA_DEVICES,
        oa.LIVE_READS,
    }
    # moto dates every credential report 2015-02-02.
    assert account.sources[oa.CREDENTIAL_REPORT].generated == datetime.datetime(
        2015, 2, 2, 20, 2, 2, tzinfo=datetime.timezone.utc
    )
    assert account.credential_report is not None and set(account.credential_report.rows) == set(by_name)


def bootstrapped_first_login() -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy/MFARequiredOnlyForTheFirstLogin"


def test_password_last_used_comes_from_list_users(iam: t.Any, bootstrapped: t.Any) -> None:
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password=PASSWORD)
    used = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.timezone.utc)
    moto_user("alice").password_last_used = used  # moto never sets it

    (alice,) = oa.read_account(iam, GROUP, "MFARequiredForCurrentUsers", sleep=lambda s: None).users

    assert alice.password_last_used == used


def test_a_user_the_credential_report_does_not_list_yet_is_read_live(
    iam: t.Any, bootstrapped: t.Any, api_calls: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS's report can be four hours old: a user created since then is read live, access keys included."""
    iam.create_user(UserName="old")
    iam.create_user(UserName="new")
    iam.create_login_profile(UserName="new", Password=PASSWORD)
    iam.create_access_key(UserName="new")
    inner = botocore.client.BaseClient._make_api_call

    def without_new(self: t.Any, operation: str, params: dict[str, t.Any]) -> t.Any:
        result = inner(self, operation, params)
        if operation == "GetCredentialReport":
            lines = result["Content"].decode().splitlines(keepends=True)
            result["Content"] = "".join(line for line in lines if not line.startswith("new,")).encode()
        return result

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", without_new)
    api_calls.clear()

    account = oa.read_account(iam, GROUP, "MFARequiredForCurrentUsers", sleep=lambda s: None)

    new = {u.name: u for u in account.users}["new"]
    assert new.console_password is True
    assert account.active_access_keys["new"] == 1
    assert account.live == {"new"}
    for operation in ("GetLoginProfile", "ListMFADevices", "ListAccessKeys"):
        assert [p["UserName"] for p in api_calls.requests(operation)] == ["new"]


def test_live_reads_run_four_at_a_time(iam: t.Any, bootstrapped: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(12):
        iam.create_user(UserName=f"user{n:02d}")
        iam.add_user_to_group(UserName=f"user{n:02d}", GroupName=GROUP)
    inner = botocore.client.BaseClient._make_api_call
    lock = threading.Lock()
    running = [0]
    most = [0]

    def slow(self: t.Any, operation: str, params: dict[str, t.Any]) -> t.Any:
        if operation != "GetLoginProfile":
            return inner(self, operation, params)
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        try:
            return inner(self, operation, params)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", slow)
    account = oa.read_account(iam, GROUP, "MFARequiredForCurrentUsers", sleep=lambda s: None)
    assert len(account.live) == 12
    assert 1 < most[0] <= oa.CONCURRENCY == 4


def test_no_seed_of_a_virtual_device_is_kept(iam: t.Any, rich: dict[str, t.Any]) -> None:
    """moto's ListVirtualMFADevices returns each device's seed and QR code (AWS's does not): none is kept."""
    listed = _iam.list_virtual_mfa_devices(iam)
    assert any("Base32StringSeed" in d for d in listed)  # the premise
    account = oa.read_account(iam, GROUP, "MFARequiredForCurrentUsers", sleep=lambda s: None)
    seeds = [d["Base32StringSeed"] for d in listed if "Base32StringSeed" in d]
    text = repr(account)
    assert not any(repr(seed) in text or seed.decode() in text for seed in seeds)


# With names, and live="all": one user at a time, no credential report


def test_names_are_read_live_in_their_order(iam: t.Any, rich: dict[str, t.Any], api_calls: t.Any) -> None:
    api_calls.clear()
    account = oa.read_account(iam, GROUP, "MFARequiredForCurrentUsers", names=["dave", "nobody", "alice"])

    assert [(u.name, u.exists) for u in account.users] == [("dave", True), ("nobody", False), ("alice", True)]
    assert account.credential_report is None
    for skipped in ("ListUsers", "GenerateCredentialReport", "GetCredentialReport"):
        assert skipped not in api_calls.names
    assert api_calls.requests("GetAccountAuthorizationDetails")[0]["Filter"] == ["Group", "LocalManagedPolicy"]
    dave = account.users[0]
    assert dave.inline_policies == ("inline0", "inline1", "inline2")
    assert dave.access_keys is not None
    assert sorted(k.access_key_id for k in dave.access_keys) == sorted(rich["keys"])
    assert len(api_calls.requests("GetAccessKeyLastUsed")) == 2
    assert account.active_access_keys == {"dave": 2, "alice": 0}
    assert account.live == {"dave", "nobody", "alice"}
    assert set(account.sources) == {oa.AUTHORIZATION_DETAILS, oa.LIVE_READS, oa.VIRTUAL_MFA_DEVICES}


def test_live_all_reads_every_user_as_read_user_does(iam: t.Any, rich: dict[str, t.Any], api_calls: t.Any) -> None:
    api_calls.clear()
    account = oa.read_account(iam, GROUP, "MFARequiredForCurrentUsers", live=oa.LIVE_ALL)

    names = ["alice", "bob", "carol", "dave", "erin"]
    assert [u.name for u in account.users] == names
    assert "GenerateCredentialReport" not in api_calls.names
    assert api_calls.names.count("GetUser") == 5
    assert list(account.users) == [_observe.read_user(iam, n, inline=True, access_keys=True) for n in names]
    assert account.live == set(names)
    assert account.active_access_keys["dave"] == 2


def test_live_must_be_onboarding_or_all(iam: t.Any) -> None:
    with pytest.raises(ValueError, match="live must be"):
        oa.read_account(iam, GROUP, "MFARequiredForCurrentUsers", live="everything")


# The regime, as IAM spells it


def test_the_regime_is_found_in_any_case(iam: t.Any, bootstrapped: t.Any) -> None:
    account = oa.read_account(iam, "notyetloginusers", "mfarequiredforcurrentusers", sleep=lambda s: None)
    assert account.regime == oa.RegimeRecord(GROUP, f"arn:aws:iam::{ACCOUNT}:group/{GROUP}", True, CURRENT, True)


def test_a_missing_regime_is_reported_not_raised(iam: t.Any) -> None:
    iam.create_user(UserName="alice")
    account = oa.read_account(iam, GROUP, "MFARequiredForCurrentUsers", sleep=lambda s: None)
    assert account.regime == oa.RegimeRecord(GROUP, None, False, CURRENT, False)


def test_an_empty_account_has_no_id_to_name_the_policy_by(iam: t.Any) -> None:
    account = oa.read_account(iam, GROUP, "MFARequiredForCurrentUsers", sleep=lambda s: None)
    assert account.regime == oa.RegimeRecord(GROUP, None, False, None, False)
    assert account.users == ()


def test_an_aws_managed_policy_costs_one_get_policy(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, api_calls: t.Any
) -> None:
    from moto import mock_aws

    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_group(GroupName=GROUP)
        api_calls.clear()
        arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
        account = oa.read_account(iam, GROUP, arn, sleep=lambda s: None)
        assert account.regime.current_users_policy_exists is True
        assert account.regime.current_users_policy == arn
        assert api_calls.requests("GetPolicy") == [{"PolicyArn": arn}]
        missing = oa.read_account(iam, GROUP, "arn:aws:iam::aws:policy/NoSuchPolicy", sleep=lambda s: None)
        assert missing.regime.current_users_policy_exists is False


# Pagination: every paginated read, against a stub that truncates


WRAPPERS = {
    "GetAccountAuthorizationDetails": lambda c: _iam.get_account_authorization_details(
        c, ["User", "Group", "LocalManagedPolicy"]
    ),
    "ListUsers": _iam.list_users,
    "ListVirtualMFADevices": _iam.list_virtual_mfa_devices,
    "ListMFADevices": lambda c: _iam.list_mfa_devices(c, "bob"),
    "ListGroupsForUser": lambda c: _iam.list_groups_for_user(c, "dave"),
    "ListAttachedUserPolicies": lambda c: _iam.list_attached_user_policies(c, "dave"),
    "ListUserPolicies": lambda c: _iam.list_user_policies(c, "dave"),
    "ListAccessKeys": lambda c: _iam.list_access_keys(c, "dave"),
}


@pytest.mark.parametrize("operation", sorted(WRAPPERS))
def test_every_paginated_read_reads_every_page(
    iam: t.Any, rich: dict[str, t.Any], pages: Pages, operation: str
) -> None:
    read = WRAPPERS[operation]
    whole = read(iam)
    pages.on(size=1)

    paged = read(iam)

    assert paged == whole
    items = sum(len(v) for v in whole.values()) if isinstance(whole, dict) else len(whole)
    assert items >= 2  # so that a reader of the first page only would miss something
    assert pages.served[operation] >= 2


def test_the_stub_truncates(iam: t.Any, rich: dict[str, t.Any], pages: Pages) -> None:
    """The premise of the pagination tests: a single call returns one page, and says there are more."""
    pages.on(size=2)
    first = iam.list_users()
    assert len(first["Users"]) == 2
    assert first["IsTruncated"] is True
    assert first["Marker"] == "2"
    last = iam.list_users(Marker="4")
    assert [u["UserName"] for u in last["Users"]] == ["erin"]
    assert last["IsTruncated"] is False
    details = iam.get_account_authorization_details(Filter=["User", "Group", "LocalManagedPolicy"])
    assert len(details["UserDetailList"]) == len(details["GroupDetailList"]) == len(details["Policies"]) == 2


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"names": ["dave", "bob", "nobody"]}, {"live": oa.LIVE_ALL}],
    ids=["default", "names", "live-all"],
)
def test_the_account_read_in_pages_of_two_is_the_whole_account(
    iam: t.Any, rich: dict[str, t.Any], pages: Pages, kwargs: dict[str, t.Any]
) -> None:
    whole = oa.read_account(iam, GROUP, "MFARequiredForCurrentUsers", sleep=lambda s: None, **kwargs)
    pages.on(size=2)

    paged = oa.read_account(iam, GROUP, "MFARequiredForCurrentUsers", sleep=lambda s: None, **kwargs)

    assert comparable(paged) == comparable(whole)
    assert pages.served["GetAccountAuthorizationDetails"] >= 3  # 5 groups, 6 local policies
    assert pages.served["ListVirtualMFADevices"] >= 3  # 9 virtual devices
    if "names" not in kwargs:
        assert pages.served["ListUsers"] == 3  # 5 users
    assert pages.served["ListMFADevices"] >= 2  # bob's three devices


# The credential report


REPORT = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,"
    "access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,"
    "access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"
    "<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,2026-11-01T00:00:00+00:00,"
    "not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
    "alice,arn:aws:iam::123456789012:user/alice,2026-11-20T08:00:00+00:00,true,no_information,"
    "2026-11-20T08:00:05+00:00,N/A,false,true,2026-11-21T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,"
    "false,N/A\n"
    "bob,arn:aws:iam::123456789012:user/staff/bob,2026-11-20T08:00:00+00:00,false,N/A,N/A,N/A,true,true,"
    "2026-11-21T00:00:00Z,2026-11-30T00:00:00Z,us-east-1,s3,true,2026-11-22T00:00:00+00:00,N/A,N/A,N/A,false,N/A,"
    "false,N/A\n"
    "carol,arn:aws:iam::123456789012:user/carol,2026-11-20T08:00:00+00:00,true,2026-11-29T10:00:00Z,"
    "2026-11-21T09:00:00+00:00,2027-02-19T09:00:00+00:00,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,"
    "false,N/A\n"
)
UTC = datetime.timezone.utc


@pytest.mark.parametrize("content", [REPORT.encode(), REPORT], ids=["bytes", "text"])
def test_parse_credential_report(content: bytes | str) -> None:
    rows = oa.parse_credential_report(content)
    assert rows == {
        "alice": oa.ReportRow(
            "alice",
            "arn:aws:iam::123456789012:user/alice",
            password_enabled=True,
            password_last_changed=datetime.datetime(2026, 11, 20, 8, 0, 5, tzinfo=UTC),
            password_last_used=None,
            mfa_active=False,
            active_access_keys=1,
        ),
        "bob": oa.ReportRow(
            "bob",
            "arn:aws:iam::123456789012:user/staff/bob",
            password_enabled=False,
            password_last_changed=None,
            password_last_used=None,
            mfa_active=True,
            active_access_keys=2,
        ),
        "carol": oa.ReportRow(
            "carol",
            "arn:aws:iam::123456789012:user/carol",
            password_enabled=True,
            password_last_changed=datetime.datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
            password_last_used=datetime.datetime(2026, 11, 29, 10, 0, tzinfo=UTC),
            mfa_active=False,
            active_access_keys=0,
        ),
    }


def test_parse_moto_s_credential_report(iam: t.Any) -> None:
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password=PASSWORD)
    iam.create_access_key(UserName="alice")
    iam.create_user(UserName="bob")
    iam.generate_credential_report()
    rows = oa.parse_credential_report(iam.get_credential_report()["Content"])
    assert (rows["alice"].password_enabled, rows["alice"].active_access_keys) == (True, 1)
    assert (rows["bob"].password_enabled, rows["bob"].active_access_keys, rows["bob"].mfa_active) == (False, 0, False)


GENERATED = datetime.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def stubbed(aws_env: None) -> t.Iterator[tuple[t.Any, Stubber]]:
    """A real IAM client whose answers are scripted (botocore's Stubber): no moto, no network."""
    client = boto3.client("iam", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def script(stubber: Stubber, states: t.Sequence[str], get: bool = True) -> None:
    for state in states:
        stubber.add_response("generate_credential_report", {"State": state}, {})
    if get:
        stubber.add_response(
            "get_credential_report",
            {"Content": REPORT.encode(), "ReportFormat": "text/csv", "GeneratedTime": GENERATED},
            {},
        )


def test_the_report_is_waited_for_until_complete(stubbed: tuple[t.Any, Stubber]) -> None:
    client, stubber = stubbed
    script(stubber, ["STARTED", "INPROGRESS", "INPROGRESS", "COMPLETE"])
    slept: list[float] = []

    report = oa.read_credential_report(client, sleep=slept.append)

    assert slept == [0.2, 0.4, 0.8]
    assert report.generated == GENERATED
    assert set(report.rows) == {"alice", "bob", "carol"}


def test_a_complete_report_is_read_without_waiting(stubbed: tuple[t.Any, Stubber]) -> None:
    client, stubber = stubbed
    script(stubber, ["COMPLETE"])
    slept: list[float] = []
    oa.read_credential_report(client, sleep=slept.append)
    assert slept == []


def test_the_wait_for_the_report_is_bounded(stubbed: tuple[t.Any, Stubber]) -> None:
    client, stubber = stubbed
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    # 0.2 + 0.4 + 0.8 + 1.6 + 3.2 + 5 + 5 = 16.2 s; the next pause would pass the 20 s deadline.
    script(stubber, ["STARTED"] + ["INPROGRESS"] * 7, get=False)
    with pytest.raises(oa.ReadError, match=r"credential report was not ready after 20 seconds \(state INPROGRESS\)"):
        oa.read_credential_report(client, timeout=20, sleep=sleep, monotonic=lambda: clock[0])
    assert slept == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
    assert sum(slept) <= 20


def test_moto_starts_then_completes_the_report(iam: t.Any, api_calls: t.Any) -> None:
    slept: list[float] = []
    oa.read_credential_report(iam, sleep=slept.append)
    assert api_calls.names == ["GenerateCredentialReport", "GenerateCredentialReport", "GetCredentialReport"]
    assert slept == [0.2]
    api_calls.clear()
    oa.read_credential_report(iam, sleep=slept.append)
    assert api_calls.names == ["GenerateCredentialReport", "GetCredentialReport"]  # it exists now


def test_an_empty_account_costs_the_account_wide_calls_only(iam: t.Any, api_calls: t.Any) -> None:
    api_calls.clear()
    oa.read_account(iam, GROUP, "MFARequiredForCurrentUsers", sleep=lambda s: None)
    assert api_calls.names == [
        "GetAccountAuthorizationDetails",
        "ListUsers",
        "GenerateCredentialReport",
        "GenerateCredentialReport",
        "GetCredentialReport",
        "ListVirtualMFADevices",
    ]
