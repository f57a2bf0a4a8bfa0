# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import json
import pathlib
import re
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _policy_document as pd
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import MAX_DOCUMENT_CHARS
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import PolicyDocumentError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import dump
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import is_mfa_deny
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import official_document
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import parse_document
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import render
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import same_document

# The seed's first-login policy, verbatim from shared/seed/SEED-EN.md.
SEED_FIRST_LOGIN = json.loads((pathlib.Path(__file__).parent / "fixtures" / "seed_first_login.json").read_text())

OFFICIAL_DENY_NOT_ACTION = [
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetUser",
    "iam:GetMFADevice",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
    "iam:ResyncMFADevice",
    "sts:GetSessionToken",
]
FIRST_LOGIN_NOT_ACTION = [*OFFICIAL_DENY_NOT_ACTION, "iam:ChangePassword", "iam:GetAccountPasswordPolicy"]
MFA_CONDITION = {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
ANY_MFA = "arn:aws:iam::*:mfa/*"
OWN_MFA = "arn:aws:iam::*:mfa/${aws:username}"


def statement(document: dict[str, t.Any], sid: str) -> dict[str, t.Any]:
    (found,) = [s for s in document["Statement"] if s.get("Sid") == sid]
    return found


def deny_of(document: dict[str, t.Any]) -> dict[str, t.Any]:
    (found,) = [s for s in document["Statement"] if s.get("Effect") == "Deny"]
    return found


def edited_deny(**changes: t.Any) -> dict[str, t.Any]:
    """The official document with fields of its deny statement replaced (or removed, for None)."""
    document = official_document()
    deny = deny_of(document)
    for key, value in changes.items():
        if value is None:
            del deny[key]
        else:
            deny[key] = value
    return document


def with_deny(not_action: t.Any, **changes: t.Any) -> dict[str, t.Any]:
    """The official document whose deny statement has the given NotAction (and other changes)."""
    return edited_deny(NotAction=not_action, **changes)


def first_login_official() -> dict[str, t.Any]:
    """The expected first-login document, built by hand from the official one."""
    document = official_document()
    deny_of(document)["NotAction"] = list(FIRST_LOGIN_NOT_ACTION)
    return document


# The bundled official document


def test_official_document_statement_sids() -> None:
    assert [s["Sid"] for s in official_document()["Statement"]] == [
        "AllowViewAccountInfo",
        "AllowManageOwnPasswords",
        "AllowManageOwnAccessKeys",
        "AllowManageOwnSigningCertificates",
        "AllowManageOwnSSHPublicKeys",
        "AllowManageOwnGitCredentials",
        "AllowManageOwnVirtualMFADevice",
        "AllowManageOwnUserMFA",
        "DenyAllExceptListedIfNoMFA",
    ]


def test_official_document_has_the_2023_additions() -> None:
    document = official_document()
    assert "iam:GetAccessKeyLastUsed" in statement(document, "AllowManageOwnAccessKeys")["Action"]
    assert "iam:GetMFADevice" in statement(document, "DenyAllExceptListedIfNoMFA")["NotAction"]


def test_official_deny_statement_is_the_official_text() -> None:
    deny = statement(official_document(), "DenyAllExceptListedIfNoMFA")
    assert deny == {
        "Sid": "DenyAllExceptListedIfNoMFA",
        "Effect": "Deny",
        "NotAction": OFFICIAL_DENY_NOT_ACTION,
        "Resource": "*",
        "Condition": MFA_CONDITION,
    }
    assert statement(official_document(), "AllowManageOwnVirtualMFADevice")["Resource"] == ANY_MFA


def test_official_document_is_a_fresh_copy_each_time() -> None:
    first = official_document()
    deny_of(first)["NotAction"].append("s3:*")
    first["Statement"].pop(0)
    assert deny_of(official_document())["NotAction"] == OFFICIAL_DENY_NOT_ACTION
    assert len(official_document()["Statement"]) == 9


def test_seed_copy_is_the_official_document_plus_the_first_login_edit() -> None:
    # Guards the fixture itself: if it drifted, the seed tests below would prove nothing.
    assert first_login_official() == SEED_FIRST_LOGIN


# Stage edits


def test_first_login_on_official_adds_exactly_the_two_actions() -> None:
    assert render(official_document(), "first_login") == first_login_official()


def test_first_login_on_seed_copy_changes_nothing() -> None:
    assert render(SEED_FIRST_LOGIN, "first_login") == SEED_FIRST_LOGIN


def test_current_users_on_official_changes_nothing() -> None:
    assert render(official_document(), "current_users") == official_document()


def test_current_users_on_seed_copy_gives_the_official_document() -> None:
    assert render(SEED_FIRST_LOGIN, "current_users") == official_document()


def test_render_leaves_its_input_untouched() -> None:
    base = official_document()
    render(base, "first_login", "own")
    assert base == official_document()
    seed = copy.deepcopy(SEED_FIRST_LOGIN)
    render(seed, "current_users")
    assert seed == SEED_FIRST_LOGIN


@pytest.mark.parametrize("scope", ["any", "own"])
@pytest.mark.parametrize("stage", ["first_login", "current_users"])
@pytest.mark.parametrize(
    "base",
    [
        pytest.param(official_document(), id="official"),
        pytest.param(SEED_FIRST_LOGIN, id="seed"),
        pytest.param(first_login_official(), id="already-edited"),
        pytest.param(with_deny("sts:GetSessionToken", Sid=None), id="string-not-action-no-sid"),
    ],
)
def test_render_is_idempotent(base: dict[str, t.Any], stage: str, scope: str) -> None:
    once = render(base, stage, scope)
    assert render(once, stage, scope) == once
    assert render(json.dumps(once), stage, scope) == once


@pytest.mark.parametrize(
    ("extra", "added"),
    [
        pytest.param(["IAM:changepassword"], ["iam:GetAccountPasswordPolicy"], id="other-case"),
        pytest.param(["iam:changePassword", "IAM:GETACCOUNTPASSWORDPOLICY"], [], id="both-present-in-other-case"),
        pytest.param(["iam:Change*"], ["iam:GetAccountPasswordPolicy"], id="wildcard-change"),
        pytest.param(["iam:GetAccount*"], ["iam:ChangePassword"], id="wildcard-get-account"),
        pytest.param(["iam:ChangePasswor?"], ["iam:GetAccountPasswordPolicy"], id="question-mark"),
        pytest.param(["iam:*"], [], id="iam-star"),
        pytest.param(["*"], [], id="star"),
        pytest.param(
            ["iam:ChangePasswordX", "iam:Changepass"],
            ["iam:ChangePassword", "iam:GetAccountPasswordPolicy"],
            id="near-misses-do-not-count",
        ),
    ],
)
def test_first_login_never_duplicates(extra: list[str], added: list[str]) -> None:
    base_not_action = OFFICIAL_DENY_NOT_ACTION + extra
    rendered = render(with_deny(list(base_not_action)), "first_login")
    assert deny_of(rendered)["NotAction"] == base_not_action + added


def test_first_login_with_not_action_as_string() -> None:
    rendered = render(with_deny("sts:GetSessionToken"), "first_login")
    assert deny_of(rendered)["NotAction"] == [
        "sts:GetSessionToken",
        "iam:ChangePassword",
        "iam:GetAccountPasswordPolicy",
    ]


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param(["iam:ChangePassword", "iam:GetAccountPasswordPolicy"], id="exact"),
        pytest.param(["IAM:changepassword", "iam:GETACCOUNTPASSWORDPOLICY"], id="other-case"),
        pytest.param(["iam:ChangePassword", "iam:ChangePassword", "iam:GetAccountPasswordPolicy"], id="duplicated"),
        pytest.param(["iam:ChangePassword"], id="one-only"),
    ],
)
def test_current_users_removes_the_first_login_actions(extra: list[str]) -> None:
    rendered = render(with_deny(OFFICIAL_DENY_NOT_ACTION[:4] + extra + OFFICIAL_DENY_NOT_ACTION[4:]), "current_users")
    assert deny_of(rendered)["NotAction"] == OFFICIAL_DENY_NOT_ACTION


@pytest.mark.parametrize(
    ("entry", "action"),
    [
        ("iam:Change*", "iam:ChangePassword"),
        ("iam:*", "iam:ChangePassword"),
        ("*", "iam:ChangePassword"),
        ("IAM:CHANGEPASS*", "iam:ChangePassword"),
        ("iam:GetAccount*", "iam:GetAccountPasswordPolicy"),
    ],
)
def test_current_users_refuses_a_wildcard_exempting_a_first_login_action(entry: str, action: str) -> None:
    with pytest.raises(PolicyDocumentError) as error:
        render(with_deny([*OFFICIAL_DENY_NOT_ACTION, entry]), "current_users")
    message = str(error.value)
    assert repr(entry) in message
    assert action in message
    assert "'DenyAllExceptListedIfNoMFA'" in message


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"Sid": "SomeOtherName"}, id="other-sid"),
        pytest.param({"Sid": None}, id="no-sid"),
        pytest.param({"NotAction": "sts:GetSessionToken"}, id="not-action-string"),
        pytest.param({"Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": False}}}, id="bool-false"),
        pytest.param({"Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": ["false"]}}}, id="list-false"),
        pytest.param({"Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "False"}}}, id="capital-false"),
        pytest.param({"Resource": ["*"]}, id="resource-list"),
    ],
)
def test_deny_statement_is_found_by_shape(changes: dict[str, t.Any]) -> None:
    base = edited_deny(**changes)
    assert is_mfa_deny(deny_of(base)) is True
    not_action = deny_of(base)["NotAction"]
    base_not_action = not_action if isinstance(not_action, list) else [not_action]
    rendered = render(base, "first_login")
    deny = deny_of(rendered)
    assert deny["NotAction"] == [*base_not_action, "iam:ChangePassword", "iam:GetAccountPasswordPolicy"]
    assert deny.get("Sid") == deny_of(base).get("Sid")
    assert deny["Condition"] == deny_of(base)["Condition"]
    assert deny["Resource"] == deny_of(base)["Resource"]


def test_every_deny_unless_mfa_statement_gets_the_edit() -> None:
    base = official_document()
    second = {"Effect": "Deny", "NotAction": ["sts:GetSessionToken"], "Resource": "*", "Condition": MFA_CONDITION}
    base["Statement"].append(second)
    rendered = render(base, "first_login")
    assert deny_of({"Statement": rendered["Statement"][:-1]})["NotAction"] == FIRST_LOGIN_NOT_ACTION
    assert rendered["Statement"][-1]["NotAction"] == [
        "sts:GetSessionToken",
        "iam:ChangePassword",
        "iam:GetAccountPasswordPolicy",
    ]


_ONLY_ALLOW = {
    "Version": "2012-10-17",
    "Statement": [s for s in official_document()["Statement"] if s["Effect"] == "Allow"],
}


@pytest.mark.parametrize(
    "base",
    [
        pytest.param(_ONLY_ALLOW, id="only-allow"),
        pytest.param(edited_deny(Action=OFFICIAL_DENY_NOT_ACTION, NotAction=None), id="action-not-not-action"),
        pytest.param(
            edited_deny(Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}), id="bool-if-exists-true"
        ),
        pytest.param(
            edited_deny(Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": [True]}}), id="bool-true-list"
        ),
        pytest.param(edited_deny(Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}}), id="bool-not-ifexists"),
        pytest.param(edited_deny(Condition={"BoolIfExists": {"aws:SecureTransport": "false"}}), id="other-key"),
        pytest.param(edited_deny(Condition=None), id="no-condition"),
        pytest.param(edited_deny(Effect="Allow"), id="allow-effect"),
        pytest.param(
            {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}},
            id="single-statement-object",
        ),
    ],
)
@pytest.mark.parametrize("stage", ["first_login", "current_users"])
def test_document_without_deny_unless_mfa_is_refused(base: dict[str, t.Any], stage: str) -> None:
    with pytest.raises(PolicyDocumentError, match="no deny-unless-MFA statement"):
        render(base, stage)


# mfa_device_scope


@pytest.mark.parametrize("stage", ["first_login", "current_users"])
def test_scope_own_rewrites_only_the_virtual_mfa_resource(stage: str) -> None:
    any_scope = render(official_document(), stage, "any")
    own_scope = render(official_document(), stage, "own")
    assert statement(own_scope, "AllowManageOwnVirtualMFADevice")["Resource"] == OWN_MFA
    statement(own_scope, "AllowManageOwnVirtualMFADevice")["Resource"] = ANY_MFA
    assert own_scope == any_scope


def test_scope_any_rewrites_own_back() -> None:
    own = render(official_document(), "first_login", "own")
    assert render(own, "first_login", "any") == first_login_official()
    assert render(own, "first_login", "own") == own


@pytest.mark.parametrize(
    ("resource", "scope", "expected"),
    [
        (ANY_MFA, "own", OWN_MFA),
        (OWN_MFA, "any", ANY_MFA),
        (ANY_MFA, "any", ANY_MFA),
        (OWN_MFA, "own", OWN_MFA),
        ("arn:aws:iam::123456789012:mfa/*", "own", "arn:aws:iam::123456789012:mfa/${aws:username}"),
        ("arn:aws-cn:iam::*:mfa/${aws:username}", "any", "arn:aws-cn:iam::*:mfa/*"),
        ([ANY_MFA, "arn:aws:iam::*:user/${aws:username}"], "own", [OWN_MFA, "arn:aws:iam::*:user/${aws:username}"]),
        ("arn:aws:iam::*:mfa/alice", "own", "arn:aws:iam::*:mfa/alice"),
        ("arn:aws:iam::*:mfa/alice", "any", "arn:aws:iam::*:mfa/alice"),
        ("arn:aws:iam::*:user/${aws:username}", "own", "arn:aws:iam::*:user/${aws:username}"),
    ],
)
def test_scope_table(resource: t.Any, scope: str, expected: t.Any) -> None:
    base = official_document()
    statement(base, "AllowManageOwnVirtualMFADevice")["Resource"] = resource
    rendered = render(base, "current_users", scope)
    assert statement(rendered, "AllowManageOwnVirtualMFADevice")["Resource"] == expected


def test_scope_does_not_touch_deny_statements() -> None:
    base = official_document()
    deny_of(base)["Resource"] = ANY_MFA
    rendered = render(base, "current_users", "own")
    assert deny_of(rendered)["Resource"] == ANY_MFA


# Refused arguments and documents


@pytest.mark.parametrize(
    ("stage", "scope", "named"),
    [
        ("promoted", "any", "stage must be one of first_login, current_users, got 'promoted'"),
        ("First_Login", "any", "got 'First_Login'"),
        ("first_login", "mine", "mfa_device_scope must be one of any, own, got 'mine'"),
        ("current_users", "", "mfa_device_scope must be one of any, own, got ''"),
    ],
)
def test_unknown_stage_or_scope_is_named(stage: str, scope: str, named: str) -> None:
    with pytest.raises(PolicyDocumentError, match=re.escape(named)):
        render(official_document(), stage, scope)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "document is not valid JSON"),
        ("", "document is not valid JSON"),
        (b"\xff", "document is not valid JSON"),
        ("[1, 2]", "document must be a JSON object, got list"),
        ('"text"', "document must be a JSON object, got str"),
        ("42", "document must be a JSON object, got int"),
        (None, "document must be a JSON object, got NoneType"),
        ([official_document()], "document must be a JSON object, got list"),
        ({"Version": "2012-10-17"}, "document has no Statement list"),
        ('{"Version": "2012-10-17", "Statement": []}', "document has no Statement list"),
        ({"Version": "2012-10-17", "Statement": "Allow"}, "document has no Statement list"),
        ({"Version": "2012-10-17", "Statement": [official_document()["Statement"][0], "x"]}, r"Statement[1]"),
    ],
)
def test_unusable_documents_are_refused_clearly(value: t.Any, message: str) -> None:
    with pytest.raises(PolicyDocumentError, match=re.escape(message)):
        parse_document(value)
    with pytest.raises(PolicyDocumentError, match=re.escape(message)):
        render(value, "first_login")


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(json.dumps(official_document()), id="json-text"),
        pytest.param(json.dumps(official_document()).encode(), id="json-bytes"),
        pytest.param(official_document(), id="dict"),
    ],
)
def test_parse_document_accepts_dict_text_and_bytes(value: t.Any) -> None:
    assert parse_document(value) == official_document()


def test_parse_document_wraps_a_single_statement_object() -> None:
    only = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}
    assert parse_document({"Version": "2012-10-17", "Statement": only}) == {
        "Version": "2012-10-17",
        "Statement": [only],
    }


def _padded(pad: int) -> dict[str, t.Any]:
    """The official document plus one statement whose Sid holds pad extra characters."""
    document = official_document()
    document["Statement"].append(
        {"Sid": "Pad" + "x" * pad, "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}
    )
    return document


def _size_without_white_space(document: dict[str, t.Any]) -> int:
    return len(re.sub(r"\s", "", json.dumps(document, separators=(",", ":"))))


@pytest.mark.parametrize("stage", ["first_login", "current_users"])
def test_document_size_limit(stage: str) -> None:
    base_size = _size_without_white_space(render(_padded(0), stage))
    at_limit = _padded(MAX_DOCUMENT_CHARS - base_size)
    assert _size_without_white_space(render(at_limit, stage)) == MAX_DOCUMENT_CHARS
    with pytest.raises(PolicyDocumentError, match=r"document has 6145 characters without white space.*6144"):
        render(_padded(MAX_DOCUMENT_CHARS - base_size + 1), stage)


def test_white_space_does_not_count_towards_the_size() -> None:
    text = json.dumps(official_document(), indent=120)
    assert len(text) > MAX_DOCUMENT_CHARS
    assert render(text, "current_users") == official_document()


# Comparison


def _shuffled(document: dict[str, t.Any]) -> dict[str, t.Any]:
    shuffled = copy.deepcopy(document)
    shuffled["Statement"].reverse()
    for item in shuffled["Statement"]:
        for key in ("Action", "NotAction"):
            if isinstance(item.get(key), list):
                item[key].reverse()
    return shuffled


def test_same_document_ignores_statement_and_list_order() -> None:
    desired = render(official_document(), "first_login")
    shuffled = _shuffled(desired)
    assert shuffled["Statement"][0]["Sid"] == "DenyAllExceptListedIfNoMFA"
    assert same_document(shuffled, desired) is True
    assert same_document(desired, shuffled) is True


def test_same_document_treats_a_string_as_a_one_item_list() -> None:
    desired = official_document()
    current = official_document()
    statement(current, "AllowManageOwnVirtualMFADevice")["Action"] = "iam:CreateVirtualMFADevice"
    statement(current, "AllowViewAccountInfo")["Resource"] = ["*"]
    assert same_document(current, desired) is True


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: deny_of(d)["NotAction"].remove("iam:ChangePassword"), id="one-action-less"),
        pytest.param(lambda d: statement(d, "AllowManageOwnVirtualMFADevice").update(Resource=OWN_MFA), id="scope"),
        pytest.param(lambda d: d["Statement"].pop(0), id="one-statement-less"),
        pytest.param(lambda d: deny_of(d).update(Effect="Allow"), id="effect"),
    ],
)
def test_same_document_detects_a_real_difference(change: t.Callable[[dict[str, t.Any]], t.Any]) -> None:
    desired = render(official_document(), "first_login")
    current = _shuffled(desired)
    change(current)
    assert same_document(current, desired) is False


def test_same_document_with_no_current_document() -> None:
    assert same_document(None, official_document()) is False


def test_seed_copy_and_rendered_official_compare_equal() -> None:
    assert same_document(SEED_FIRST_LOGIN, render(official_document(), "first_login")) is True
    assert same_document(SEED_FIRST_LOGIN, official_document()) is False


def test_dump_is_compact_and_keeps_key_order() -> None:
    assert dump({"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow"}]}) == (
        '{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow"}]}'
    )
    assert json.loads(dump(render(official_document(), "first_login"))) == first_login_official()


# grants_beyond_the_guard (invariant 7: a guard grants nothing a user may not do for itself before MFA)


@pytest.mark.parametrize("kind", pd.POLICY_KINDS)
@pytest.mark.parametrize("scope", sorted(pd.MFA_DEVICE_SCOPES))
def test_the_policy_modules_own_renderings_grant_nothing_beyond_the_guard(kind: str, scope: str) -> None:
    assert pd.grants_beyond_the_guard(pd.render(pd.official_document(), kind, scope)) == []


OWN = "arn:aws:iam::*:user/${aws:username}"


@pytest.mark.parametrize(
    ("statement", "found"),
    [
        ({"Action": "iam:*", "Resource": "*"}, "allows iam:* (a wildcard) on *"),
        ({"Action": "iam:AttachUserPolicy", "Resource": OWN}, f"allows iam:AttachUserPolicy on {OWN}"),
        ({"Action": "iam:EnableMFADevice", "Resource": "arn:aws:iam::*:user/*"}, "allows iam:EnableMFADevice on"),
        ({"Action": "iam:ListMFADevices", "Resource": "*"}, "allows iam:ListMFADevices on *"),
        ({"Action": "s3:GetObject", "Resource": OWN}, "allows s3:GetObject on"),
        ({"NotAction": "iam:*", "Resource": "*"}, "allows everything but what it names"),
        ({"Action": "iam:ChangePassword", "NotResource": "x"}, "allows everything but what it names"),
    ],
)
def test_grants_beyond_the_guard_names_each_grant_that_is_more(statement: dict[str, t.Any], found: str) -> None:
    document = pd.render(pd.official_document(), "first_login")
    document["Statement"].append(dict(statement, Sid="Extra", Effect="Allow"))
    (beyond,) = pd.grants_beyond_the_guard(document)
    assert beyond.startswith("statement Extra ") and found in beyond


def test_an_allow_for_ones_own_user_at_a_path_is_not_more() -> None:
    own = {"Effect": "Allow", "Action": ["iam:ChangePassword"], "Resource": "arn:aws:iam::*:user/staff/${aws:username}"}
    document = {"Statement": [own]}
    assert pd.grants_beyond_the_guard(document) == []


# self_enrollment

# The statements guarded adds, written out by hand (an oracle independent of the module's constants).
_DEVICE_CHANGES = [
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:ResyncMFADevice",
    "iam:DeactivateMFADevice",
    "iam:DeleteVirtualMFADevice",
]
GUARDED_STATEMENTS = {
    "first_login": {
        "Sid": "DenyMFADeviceChangesWithLongTermKey",
        "Effect": "Deny",
        "Action": _DEVICE_CHANGES,
        "Resource": "*",
        "Condition": {"Null": {"aws:MultiFactorAuthPresent": "true"}},
    },
    "current_users": {
        "Sid": "DenyMFADeviceChangesWithoutMFA",
        "Effect": "Deny",
        "Action": _DEVICE_CHANGES,
        "Resource": "*",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    },
}
SCOPES = sorted(pd.MFA_DEVICE_SCOPES)


def _sids(document: dict[str, t.Any]) -> list[t.Any]:
    return [s.get("Sid") for s in document["Statement"]]


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("stage", pd.POLICY_KINDS)
def test_guarded_is_official_plus_one_statement(stage: str, scope: str) -> None:
    official = render(official_document(), stage, scope)
    guarded = render(official_document(), stage, scope, "guarded")
    assert guarded["Statement"][:-1] == official["Statement"]
    assert guarded["Statement"][-1] == GUARDED_STATEMENTS[stage]
    assert render(official_document(), stage, scope, "official") == official


def _with_other_stages_statement() -> dict[str, t.Any]:
    document = official_document()
    document["Statement"].append(copy.deepcopy(GUARDED_STATEMENTS["current_users"]))
    return document


def _with_our_sid(content: dict[str, t.Any], sid: str = "DenyMFADeviceChangesWithLongTermKey") -> dict[str, t.Any]:
    document = official_document()
    document["Statement"].insert(0, dict(content, Sid=sid))
    return document


_GUARDED_BASES = [
    pytest.param(official_document(), id="official"),
    pytest.param(SEED_FIRST_LOGIN, id="seed"),
    pytest.param(with_deny("sts:GetSessionToken", Sid=None), id="string-not-action-no-sid"),
    pytest.param(with_deny([*OFFICIAL_DENY_NOT_ACTION, "iam:*MFADevice"]), id="wildcard-not-action"),
    pytest.param(_with_other_stages_statement(), id="other-stages-guarded-statement"),
    pytest.param(
        _with_our_sid({"Effect": "Deny", "Action": "iam:EnableMFADevice", "Resource": "*"}), id="our-sid-narrower"
    ),
    pytest.param(
        _with_our_sid({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}), id="our-sid-on-an-allow-of-more"
    ),
    pytest.param(
        _with_our_sid(GUARDED_STATEMENTS["first_login"], sid="denymfadevicechangeswithlongtermkey"),
        id="our-sid-other-case",
    ),
    pytest.param(
        _with_our_sid(
            {"Effect": "Deny", "Action": "iam:EnableMFADevice", "Resource": "*"}, "DenyMFADeviceChangesWithoutMFA"
        ),
        id="other-stages-sid-other-content",
    ),
]


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("stage", pd.POLICY_KINDS)
@pytest.mark.parametrize("base", _GUARDED_BASES)
def test_guarded_is_idempotent_and_switches_back(base: dict[str, t.Any], stage: str, scope: str) -> None:
    official = render(base, stage, scope)
    guarded = render(base, stage, scope, "guarded")
    # Exactly one statement with a guarded Sid, this stage's, in its canonical form; the rest is the official render.
    ours = [s for s in guarded["Statement"] if str(s.get("Sid", "")).lower().startswith("denymfadevicechanges")]
    assert ours == [GUARDED_STATEMENTS[stage]]
    assert [s for s in guarded["Statement"] if s not in ours] == official["Statement"]
    assert not [s for s in official["Statement"] if str(s.get("Sid", "")).lower().startswith("denymfadevicechanges")]
    # Idempotent, also from the JSON text; and back and forth.
    assert render(guarded, stage, scope, "guarded") == guarded
    assert render(json.dumps(guarded), stage, scope, "guarded") == guarded
    assert render(guarded, stage, scope, "official") == official
    assert render(json.dumps(guarded), stage, scope, "official") == official
    again = official
    for _round in range(3):
        again = render(render(again, stage, scope, "guarded"), stage, scope, "official")
    assert again == official
    # The guarded document is still a guard, and its new statement grants nothing.
    assert pd.carries_mfa_deny(guarded) is True
    assert len([s for s in guarded["Statement"] if is_mfa_deny(s)]) == len(
        [s for s in official["Statement"] if is_mfa_deny(s)]
    )
    assert pd.grants_beyond_the_guard(guarded) == pd.grants_beyond_the_guard(official)


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("stage", pd.POLICY_KINDS)
def test_the_policy_modules_guarded_renderings_grant_nothing_beyond_the_guard(stage: str, scope: str) -> None:
    guarded = render(official_document(), stage, scope, "guarded")
    assert pd.carries_mfa_deny(guarded) is True
    assert pd.grants_beyond_the_guard(guarded) == []


def test_switching_stage_takes_the_other_stages_statement_out() -> None:
    current = render(official_document(), "current_users", "any", "guarded")
    first = render(current, "first_login", "any", "guarded")
    assert "DenyMFADeviceChangesWithoutMFA" not in _sids(first)
    assert _sids(first).count("DenyMFADeviceChangesWithLongTermKey") == 1
    assert first == render(official_document(), "first_login", "any", "guarded")


def test_the_scope_does_not_touch_the_guarded_statement() -> None:
    own = render(official_document(), "first_login", "own", "guarded")
    assert statement(own, "DenyMFADeviceChangesWithLongTermKey")["Resource"] == "*"
    assert statement(own, "AllowManageOwnVirtualMFADevice")["Resource"] == OWN_MFA


def test_the_deny_unless_mfa_under_a_reserved_sid_is_refused() -> None:
    base = edited_deny(Sid="DenyMFADeviceChangesWithoutMFA")
    for value in pd.SELF_ENROLLMENT:
        with pytest.raises(PolicyDocumentError, match="reserved for the statements that self_enrollment=guarded"):
            render(base, "first_login", "any", value)


def test_a_base_of_only_the_guarded_statement_is_refused() -> None:
    base = {"Version": "2012-10-17", "Statement": [GUARDED_STATEMENTS["first_login"]]}
    with pytest.raises(PolicyDocumentError, match="no deny-unless-MFA statement"):
        render(base, "first_login", "any", "guarded")


@pytest.mark.parametrize("value", ["strict", "Guarded", "", "on"])
def test_unknown_self_enrollment_is_named(value: str) -> None:
    with pytest.raises(
        PolicyDocumentError, match=re.escape(f"self_enrollment must be one of official, guarded, got {value!r}")
    ):
        render(official_document(), "first_login", "any", value)


def test_guarded_leaves_its_input_untouched() -> None:
    base = _with_other_stages_statement()
    before = copy.deepcopy(base)
    render(base, "first_login", "own", "guarded")
    assert base == before
