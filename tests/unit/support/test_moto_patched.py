# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""moto's IAM with service-specific credentials (tests/support/moto_patched.py), as AWS answers them: in-process
(the `iam` fixture applies the patch), per account, under moto's IAM enforcement, and over a moto server."""

from __future__ import annotations

import datetime
import json
import re
import typing as t

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core.authorization import enable_iam_authentication
from moto.iam import responses as moto_iam_responses

from ansible_collections.mfa_onboarding.iam.tests.support import moto_patched
from ansible_collections.mfa_onboarding.iam.tests.support import moto_server

NAME = "alice"
CODECOMMIT = "codecommit.amazonaws.com"
KEYSPACES = "cassandra.amazonaws.com"
ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
UNKNOWN_ID = "ACCAEXAMPLE0000000000"  # 21 characters, as the real ones (botocore wants 20 at least)
LISTED = {"UserName", "Status", "ServiceUserName", "CreateDate", "ServiceSpecificCredentialId", "ServiceName"}


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = raised.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def create(iam: t.Any, name: str = NAME, service: str = CODECOMMIT) -> dict[str, t.Any]:
    return t.cast("dict[str, t.Any]", iam.create_service_specific_credential(UserName=name, ServiceName=service))[
        "ServiceSpecificCredential"
    ]


def listed(iam: t.Any, name: str = NAME, **params: t.Any) -> list[dict[str, t.Any]]:
    return list(iam.list_service_specific_credentials(UserName=name, **params)["ServiceSpecificCredentials"])


@pytest.fixture
def alice(iam: t.Any) -> str:
    iam.create_user(UserName=NAME)
    return NAME


# CreateServiceSpecificCredential


def test_create_answers_the_credential_once_with_its_password(iam: t.Any, alice: str) -> None:
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

    made = create(iam)

    assert set(made) == LISTED | {"ServicePassword"}
    assert made["UserName"] == NAME and made["ServiceName"] == CODECOMMIT and made["Status"] == "Active"
    assert made["ServiceUserName"] == f"{NAME}-at-{ACCOUNT}"
    assert re.fullmatch(r"ACCA[A-Z0-9]{17}", made["ServiceSpecificCredentialId"]), made
    assert len(made["ServicePassword"]) == 44
    assert before <= made["CreateDate"] <= datetime.datetime.now(datetime.timezone.utc)
    # The listing never shows the password again.
    assert listed(iam) == [{k: v for k, v in made.items() if k != "ServicePassword"}]


def test_create_allows_two_per_user_and_service_then_limit_exceeded(iam: t.Any, alice: str) -> None:
    iam.create_user(UserName="bob")
    first = [create(iam)["ServiceSpecificCredentialId"], create(iam)["ServiceSpecificCredentialId"]]

    with pytest.raises(ClientError) as raised:
        create(iam)

    assert error_of(raised) == (
        "LimitExceeded",
        "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2",
        409,
    )
    assert raised.value.__class__ is iam.exceptions.LimitExceededException
    # Per service and per user: Keyspaces and another user still get theirs.
    keyspaces = create(iam, service=KEYSPACES)["ServiceSpecificCredentialId"]
    create(iam, name="bob")
    assert len(set(first)) == 2
    assert sorted(c["ServiceSpecificCredentialId"] for c in listed(iam)) == sorted([*first, keyspaces])


def test_create_refuses_a_service_without_such_credentials(iam: t.Any, alice: str) -> None:
    with pytest.raises(ClientError) as raised:
        create(iam, service="s3.amazonaws.com")

    assert error_of(raised) == (
        "NotSupportedService",
        "No such service s3.amazonaws.com is supported for Service-Specific Credentials",
        404,
    )
    assert raised.value.__class__ is iam.exceptions.ServiceNotSupportedException
    assert listed(iam) == []


# NoSuchEntity


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("create_service_specific_credential", {"ServiceName": CODECOMMIT}),
        ("list_service_specific_credentials", {}),
        ("update_service_specific_credential", {"ServiceSpecificCredentialId": UNKNOWN_ID, "Status": "Inactive"}),
        ("reset_service_specific_credential", {"ServiceSpecificCredentialId": UNKNOWN_ID}),
        ("delete_service_specific_credential", {"ServiceSpecificCredentialId": UNKNOWN_ID}),
    ],
)
def test_an_unknown_user_is_no_such_entity(iam: t.Any, operation: str, params: dict[str, t.Any]) -> None:
    with pytest.raises(ClientError) as raised:
        getattr(iam, operation)(UserName="nobody", **params)

    assert error_of(raised) == ("NoSuchEntity", "The user with name nobody cannot be found.", 404)
    assert raised.value.__class__ is iam.exceptions.NoSuchEntityException


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("update_service_specific_credential", {"Status": "Inactive"}),
        ("reset_service_specific_credential", {}),
        ("delete_service_specific_credential", {}),
    ],
)
def test_an_unknown_or_foreign_credential_is_no_such_entity(
    iam: t.Any, alice: str, operation: str, params: dict[str, t.Any]
) -> None:
    iam.create_user(UserName="bob")
    bobs = create(iam, name="bob")["ServiceSpecificCredentialId"]

    for wanted in (UNKNOWN_ID, bobs):  # bob's credential is not alice's
        with pytest.raises(ClientError) as raised:
            getattr(iam, operation)(UserName=NAME, ServiceSpecificCredentialId=wanted, **params)
        assert error_of(raised)[0::2] == ("NoSuchEntity", 404)
        assert wanted in error_of(raised)[1]
    assert [c["Status"] for c in listed(iam, "bob")] == ["Active"]


# List, Update, Reset, Delete


def test_list_of_one_service(iam: t.Any, alice: str) -> None:
    git = create(iam)["ServiceSpecificCredentialId"]
    keyspaces = create(iam, service=KEYSPACES)["ServiceSpecificCredentialId"]

    assert [c["ServiceSpecificCredentialId"] for c in listed(iam, ServiceName=CODECOMMIT)] == [git]
    assert [c["ServiceSpecificCredentialId"] for c in listed(iam, ServiceName=KEYSPACES)] == [keyspaces]
    assert listed(iam, ServiceName="cassandra.amazonaws.com.evil") == []


def test_list_of_all_users_in_pages(iam: t.Any, alice: str) -> None:
    iam.create_user(UserName="bob")
    made = [create(iam)["ServiceSpecificCredentialId"], create(iam, name="bob")["ServiceSpecificCredentialId"]]

    first = iam.list_service_specific_credentials(AllUsers=True, MaxItems=1)
    second = iam.list_service_specific_credentials(AllUsers=True, MaxItems=1, Marker=first["Marker"])

    assert first["IsTruncated"] is True and second["IsTruncated"] is False and "Marker" not in second
    pages = first["ServiceSpecificCredentials"] + second["ServiceSpecificCredentials"]
    assert [c["ServiceSpecificCredentialId"] for c in pages] == made
    assert [c["UserName"] for c in pages] == [NAME, "bob"]


def test_update_deactivates_and_reactivates(iam: t.Any, alice: str) -> None:
    credential = create(iam)["ServiceSpecificCredentialId"]
    other = create(iam)["ServiceSpecificCredentialId"]

    iam.update_service_specific_credential(UserName=NAME, ServiceSpecificCredentialId=credential, Status="Inactive")
    statuses = {c["ServiceSpecificCredentialId"]: c["Status"] for c in listed(iam)}
    assert statuses == {credential: "Inactive", other: "Active"}

    iam.update_service_specific_credential(UserName=NAME, ServiceSpecificCredentialId=credential, Status="Active")
    assert {c["Status"] for c in listed(iam)} == {"Active"}


def test_update_to_another_status_is_a_validation_error(iam: t.Any, alice: str) -> None:
    credential = create(iam)["ServiceSpecificCredentialId"]

    with pytest.raises(ClientError) as raised:
        iam.update_service_specific_credential(UserName=NAME, ServiceSpecificCredentialId=credential, Status="Off")

    code, message, status = error_of(raised)
    assert (code, status) == ("ValidationError", 400) and "'Off' at 'status'" in message
    assert [c["Status"] for c in listed(iam)] == ["Active"]


def test_reset_gives_a_new_password_and_keeps_the_rest(iam: t.Any, alice: str) -> None:
    made = create(iam)
    iam.update_service_specific_credential(
        UserName=NAME, ServiceSpecificCredentialId=made["ServiceSpecificCredentialId"], Status="Inactive"
    )

    reset = iam.reset_service_specific_credential(
        UserName=NAME, ServiceSpecificCredentialId=made["ServiceSpecificCredentialId"]
    )["ServiceSpecificCredential"]

    assert reset["ServicePassword"] != made["ServicePassword"] and len(reset["ServicePassword"]) == 44
    assert {k: v for k, v in reset.items() if k != "ServicePassword"} == dict(
        {k: v for k, v in made.items() if k != "ServicePassword"}, Status="Inactive"
    )


def test_delete_removes_it_and_a_second_delete_is_no_such_entity(iam: t.Any, alice: str) -> None:
    gone = create(iam)["ServiceSpecificCredentialId"]
    kept = create(iam)["ServiceSpecificCredentialId"]

    iam.delete_service_specific_credential(UserName=NAME, ServiceSpecificCredentialId=gone)

    assert [c["ServiceSpecificCredentialId"] for c in listed(iam)] == [kept]
    with pytest.raises(ClientError) as raised:
        iam.delete_service_specific_credential(UserName=NAME, ServiceSpecificCredentialId=gone)
    assert error_of(raised)[0::2] == ("NoSuchEntity", 404)
    create(iam)  # the deleted one no longer counts against the quota


# Without UserName: the caller's own user


def test_without_user_name_the_caller_s_own_credentials(iam: t.Any, alice: str) -> None:
    key = iam.create_access_key(UserName=NAME)["AccessKey"]
    own = boto3.client(
        "iam",
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )
    # (botocore's model requires UserName for the create; the others default to the caller)
    credential_id = create(iam)["ServiceSpecificCredentialId"]
    own.update_service_specific_credential(ServiceSpecificCredentialId=credential_id, Status="Inactive")

    assert [(c["ServiceSpecificCredentialId"], c["Status"]) for c in listed(iam)] == [(credential_id, "Inactive")]
    assert own.list_service_specific_credentials()["ServiceSpecificCredentials"] == listed(iam)
    own.delete_service_specific_credential(ServiceSpecificCredentialId=credential_id)
    assert listed(iam) == []


def test_without_user_name_a_caller_that_is_no_user_is_a_validation_error(iam: t.Any) -> None:
    with pytest.raises(ClientError) as raised:
        iam.list_service_specific_credentials()

    assert error_of(raised) == ("ValidationError", "Must specify userName when calling with non-User credentials", 400)


# moto's DeleteUser: as permissive as before, and the credentials go with the user


def test_delete_user_is_as_permissive_as_before_and_drops_the_credentials(iam: t.Any, alice: str) -> None:
    create(iam)
    create(iam, service=KEYSPACES)

    iam.delete_user(UserName=NAME)  # AWS: DeleteConflict (tests/support/strict_iam.py answers it)

    with pytest.raises(ClientError):
        iam.get_user(UserName=NAME)
    iam.create_user(UserName=NAME)
    assert listed(iam) == []  # a new user of the same name holds nothing of the old one
    assert iam.list_service_specific_credentials(AllUsers=True)["ServiceSpecificCredentials"] == []


# Several accounts: each account's users hold their own


def test_credentials_are_kept_per_account(iam: t.Any, alice: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ours = create(iam)["ServiceSpecificCredentialId"]

    monkeypatch.setenv("MOTO_ACCOUNT_ID", OTHER_ACCOUNT)
    with pytest.raises(ClientError) as raised:
        listed(iam)
    assert error_of(raised)[0] == "NoSuchEntity"  # alice is a user of the first account only
    iam.create_user(UserName=NAME)
    theirs = create(iam)
    assert theirs["ServiceUserName"] == f"{NAME}-at-{OTHER_ACCOUNT}"
    assert [c["ServiceSpecificCredentialId"] for c in listed(iam)] == [theirs["ServiceSpecificCredentialId"]]

    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    assert [c["ServiceSpecificCredentialId"] for c in listed(iam)] == [ours]


# moto's IAM enforcement authorises the new actions as it does the others

ACTIONS = {
    "CreateServiceSpecificCredential": lambda iam, cid: iam.create_service_specific_credential(
        UserName=NAME, ServiceName=CODECOMMIT
    ),
    "ListServiceSpecificCredentials": lambda iam, cid: iam.list_service_specific_credentials(UserName=NAME),
    "UpdateServiceSpecificCredential": lambda iam, cid: iam.update_service_specific_credential(
        UserName=NAME, ServiceSpecificCredentialId=cid, Status="Inactive"
    ),
    "ResetServiceSpecificCredential": lambda iam, cid: iam.reset_service_specific_credential(
        UserName=NAME, ServiceSpecificCredentialId=cid
    ),
    "DeleteServiceSpecificCredential": lambda iam, cid: iam.delete_service_specific_credential(
        UserName=NAME, ServiceSpecificCredentialId=cid
    ),
}


@pytest.mark.parametrize("denied", list(ACTIONS))
def test_enforcement_names_each_action(iam: t.Any, alice: str, denied: str) -> None:
    credential = create(iam)["ServiceSpecificCredentialId"]
    allowed = [f"iam:{action}" for action in ACTIONS if action != denied]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": allowed, "Resource": "*"}]}
    iam.create_user(UserName="operator")
    key = iam.create_access_key(UserName="operator")["AccessKey"]
    iam.put_user_policy(UserName="operator", PolicyName="p", PolicyDocument=json.dumps(policy))
    operator = boto3.client(
        "iam",
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )

    with enable_iam_authentication():
        for action, call in ACTIONS.items():
            if action == denied:
                with pytest.raises(ClientError) as raised:
                    call(operator, credential)
                assert error_of(raised)[0] == "AccessDenied"
                assert f"is not authorized to perform: iam:{denied}" in error_of(raised)[1]
            elif action != "DeleteServiceSpecificCredential":  # it would leave nothing for a denied one after it
                call(operator, credential)
    assert credential in {c["ServiceSpecificCredentialId"] for c in listed(iam)}


# Over a moto server started through moto_patched: the same answers


def test_over_a_moto_server_the_same_answers() -> None:
    with moto_server.MotoServer(record=False) as server:
        iam = server.iam_client()
        iam.create_user(UserName=NAME)
        made = create(iam)
        create(iam)
        with pytest.raises(ClientError) as limit:
            create(iam)
        with pytest.raises(ClientError) as nobody:
            listed(iam, "nobody")
        credential = made["ServiceSpecificCredentialId"]
        iam.update_service_specific_credential(UserName=NAME, ServiceSpecificCredentialId=credential, Status="Inactive")
        statuses = {c["ServiceSpecificCredentialId"]: c["Status"] for c in listed(iam)}
        iam.delete_service_specific_credential(UserName=NAME, ServiceSpecificCredentialId=credential)
        left = [c["ServiceSpecificCredentialId"] for c in listed(iam)]

    assert made["ServiceUserName"] == f"{NAME}-at-{ACCOUNT}" and len(made["ServicePassword"]) == 44
    assert error_of(limit)[0::2] == ("LimitExceeded", 409)
    assert error_of(nobody)[0::2] == ("NoSuchEntity", 404)
    assert statuses[credential] == "Inactive" and len(statuses) == 2
    assert left == [c for c in statuses if c != credential]


# apply()


def test_apply_is_idempotent_and_leaves_moto_s_own_implementation_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    moto_patched.apply()
    moto_patched.apply()
    for name in moto_patched.ACTIONS:
        assert getattr(moto_iam_responses.IamResponse, name) is getattr(moto_patched, name)

    def native(self: t.Any) -> t.Any:  # as if a later moto implemented the listing
        return moto_iam_responses.ActionResult({"ServiceSpecificCredentials": []})

    monkeypatch.setattr(moto_iam_responses.IamResponse, "list_service_specific_credentials", native)
    moto_patched.apply()
    assert moto_iam_responses.IamResponse.list_service_specific_credentials is native


# Ageing a user: moto's login-profile date is the user's creation date


def test_age_user_moves_the_password_s_date_back_in_process_and_over_a_server(iam: t.Any, alice: str) -> None:
    iam.create_login_profile(UserName=NAME, Password="Temporary-Passw0rd!")
    moto_patched.age_user(NAME, 8)
    in_process = iam.get_login_profile(UserName=NAME)["LoginProfile"]["CreateDate"]
    with moto_server.MotoServer(record=False) as server:
        remote = server.iam_client()
        remote.create_user(UserName=NAME)
        remote.create_login_profile(UserName=NAME, Password="Temporary-Passw0rd!")
        moto_patched.age_user_at(server.url, NAME, 8)
        over_server = remote.get_login_profile(UserName=NAME)["LoginProfile"]["CreateDate"]

    now = datetime.datetime.now(datetime.timezone.utc)
    for created in (in_process, over_server):
        assert datetime.timedelta(days=8) <= now - created < datetime.timedelta(days=8, minutes=5), created
