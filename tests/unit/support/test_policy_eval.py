# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The evaluator itself, rule by rule, on small hand-written statements (the policy matrix relies on it)."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.tests.support.policy_eval import Decision
from ansible_collections.mfa_onboarding.iam.tests.support.policy_eval import Request
from ansible_collections.mfa_onboarding.iam.tests.support.policy_eval import UnsupportedPolicy
from ansible_collections.mfa_onboarding.iam.tests.support.policy_eval import action_matches
from ansible_collections.mfa_onboarding.iam.tests.support.policy_eval import evaluate
from ansible_collections.mfa_onboarding.iam.tests.support.policy_eval import resource_matches

ALLOW = Decision.ALLOW
EXPLICIT = Decision.EXPLICIT_DENY
IMPLICIT = Decision.IMPLICIT_DENY

USER = "arn:aws:iam::123456789012:user/alice"
MFA_TRUE = {"aws:MultiFactorAuthPresent": "true"}
MFA_FALSE = {"aws:MultiFactorAuthPresent": "false"}
NO_KEY: dict[str, str] = {}


def _allow(**elements: t.Any) -> dict[str, t.Any]:
    return {"Effect": "Allow", **elements}


def _deny(**elements: t.Any) -> dict[str, t.Any]:
    return {"Effect": "Deny", **elements}


def _doc(*statements: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# (statements, action, resource, context, expected decision)
EVALUATOR_TABLE = [
    # --- decision order -----------------------------------------------------------------------------------------
    pytest.param([], "iam:GetUser", USER, NO_KEY, IMPLICIT, id="no-statement-is-implicit-deny"),
    pytest.param([_allow(Action="iam:GetUser", Resource="*")], "iam:GetUser", USER, NO_KEY, ALLOW, id="allow"),
    pytest.param(
        [_allow(Action="*", Resource="*"), _deny(Action="iam:GetUser", Resource="*")],
        "iam:GetUser",
        USER,
        NO_KEY,
        EXPLICIT,
        id="explicit-deny-wins-over-allow",
    ),
    pytest.param(
        [_deny(Action="iam:GetUser", Resource="*")], "iam:GetUser", USER, NO_KEY, EXPLICIT, id="deny-without-allow"
    ),
    pytest.param(
        [_deny(Action="iam:ListUsers", Resource="*"), _allow(Action="iam:GetUser", Resource="*")],
        "iam:GetUser",
        USER,
        NO_KEY,
        ALLOW,
        id="non-matching-deny-does-not-block",
    ),
    pytest.param(
        [_allow(Action="iam:GetUser", Resource="*")], "iam:ListUsers", "*", NO_KEY, IMPLICIT, id="other-action"
    ),
    # --- Action / NotAction ------------------------------------------------------------------------------------
    pytest.param(
        [_allow(Action="IAM:getuser", Resource="*")], "iam:GetUser", USER, NO_KEY, ALLOW, id="action-case-insensitive"
    ),
    pytest.param(
        [_allow(Action="iam:Get*", Resource="*")], "iam:GetUser", USER, NO_KEY, ALLOW, id="action-star-wildcard"
    ),
    pytest.param(
        [_allow(Action="iam:Get*", Resource="*")], "iam:ListUsers", "*", NO_KEY, IMPLICIT, id="action-star-no-match"
    ),
    pytest.param(
        [_allow(Action="iam:GetUse?", Resource="*")], "iam:GetUser", USER, NO_KEY, ALLOW, id="action-question-mark"
    ),
    pytest.param(
        [_allow(Action="iam:GetUse?", Resource="*")],
        "iam:GetUsers",
        USER,
        NO_KEY,
        IMPLICIT,
        id="action-question-mark-is-one-char",
    ),
    pytest.param(
        [_allow(Action="iam:GetUser", Resource="*")],
        "iam:GetUserPolicy",
        USER,
        NO_KEY,
        IMPLICIT,
        id="action-is-whole-match-not-prefix",
    ),
    pytest.param(
        [_allow(Action="iam:Get.ser", Resource="*")], "iam:GetUser", USER, NO_KEY, IMPLICIT, id="action-dot-is-literal"
    ),
    pytest.param(
        [_allow(Action=["s3:ListAllMyBuckets", "iam:GetUser"], Resource="*")],
        "iam:GetUser",
        USER,
        NO_KEY,
        ALLOW,
        id="action-list",
    ),
    pytest.param(
        [_allow(Action="*", Resource="*"), _deny(NotAction=["iam:GetUser"], Resource="*")],
        "iam:GetUser",
        USER,
        NO_KEY,
        ALLOW,
        id="notaction-listed-is-not-denied",
    ),
    pytest.param(
        [_allow(Action="*", Resource="*"), _deny(NotAction=["iam:GetUser"], Resource="*")],
        "s3:ListAllMyBuckets",
        "*",
        NO_KEY,
        EXPLICIT,
        id="notaction-unlisted-is-denied",
    ),
    pytest.param(
        [_allow(Action="*", Resource="*"), _deny(NotAction="IAM:GETUSER", Resource="*")],
        "iam:GetUser",
        USER,
        NO_KEY,
        ALLOW,
        id="notaction-string-case-insensitive",
    ),
    pytest.param(
        [_allow(NotAction="iam:*", Resource="*")], "iam:GetUser", USER, NO_KEY, IMPLICIT, id="notaction-in-allow"
    ),
    pytest.param(
        [_allow(NotAction="iam:*", Resource="*")], "s3:GetObject", "*", NO_KEY, ALLOW, id="notaction-allow-others"
    ),
    # --- Resource / NotResource and ${aws:username} -------------------------------------------------------------
    pytest.param(
        [_allow(Action="iam:GetUser", Resource="arn:aws:iam::*:user/${aws:username}")],
        "iam:GetUser",
        USER,
        NO_KEY,
        ALLOW,
        id="username-variable-own-user",
    ),
    pytest.param(
        [_allow(Action="iam:GetUser", Resource="arn:aws:iam::*:user/${aws:username}")],
        "iam:GetUser",
        "arn:aws:iam::123456789012:user/bob",
        NO_KEY,
        IMPLICIT,
        id="username-variable-other-user",
    ),
    pytest.param(
        [_allow(Action="iam:GetUser", Resource="arn:aws:iam::*:user/${aws:username}")],
        "iam:GetUser",
        "arn:aws:iam::123456789012:user/alice2",
        NO_KEY,
        IMPLICIT,
        id="username-variable-is-whole-match",
    ),
    pytest.param(
        [_allow(Action="iam:GetUser", Resource="arn:aws:iam::*:user/${aws:username}")],
        "iam:GetUser",
        "arn:aws:iam::123456789012:user/ALICE",
        NO_KEY,
        IMPLICIT,
        id="resource-case-sensitive",
    ),
    pytest.param(
        [_allow(Action="iam:GetUser", Resource="arn:aws:iam::*:user/${aws:username}")],
        "iam:GetUser",
        "arn:aws:iam::123456789012:user/team/alice",
        NO_KEY,
        IMPLICIT,
        id="username-variable-user-with-path",
    ),
    pytest.param(
        [_allow(Action="iam:GetUser", Resource="arn:aws:iam::*:user/${aws:userid}")],
        "iam:GetUser",
        USER,
        NO_KEY,
        IMPLICIT,
        id="variable-without-value-matches-nothing",
    ),
    pytest.param(
        [_allow(Action="iam:GetUser", Resource="arn:aws:iam::*:user/${*}")],
        "iam:GetUser",
        USER,
        NO_KEY,
        IMPLICIT,
        id="escaped-star-is-literal",
    ),
    pytest.param(
        [_allow(Action="iam:GetUser", Resource="arn:aws:iam::*:user/${*}")],
        "iam:GetUser",
        "arn:aws:iam::123456789012:user/*",
        NO_KEY,
        ALLOW,
        id="escaped-star-matches-star",
    ),
    pytest.param(
        [_allow(Action="iam:GetUser", Resource="arn:aws:iam::12345678901?:user/*")],
        "iam:GetUser",
        USER,
        NO_KEY,
        ALLOW,
        id="resource-question-mark",
    ),
    pytest.param(
        [_allow(Action="iam:GetUser", Resource="arn:aws:iam::*:user/*")],
        "iam:GetUser",
        "arn:aws:iam::123456789012:group/admins",
        NO_KEY,
        IMPLICIT,
        id="resource-wildcard-no-match",
    ),
    pytest.param(
        [_allow(Action="iam:GetAccountPasswordPolicy", Resource=USER)],
        "iam:GetAccountPasswordPolicy",
        "*",
        NO_KEY,
        IMPLICIT,
        id="arn-does-not-match-star-resource",
    ),
    pytest.param(
        [_allow(Action="*", NotResource="arn:aws:iam::*:user/${aws:username}")],
        "iam:GetUser",
        USER,
        NO_KEY,
        IMPLICIT,
        id="notresource-own-excluded",
    ),
    pytest.param(
        [_allow(Action="*", NotResource=["arn:aws:iam::*:user/${aws:username}"])],
        "iam:GetUser",
        "arn:aws:iam::123456789012:user/bob",
        NO_KEY,
        ALLOW,
        id="notresource-other-included",
    ),
    # --- Bool / BoolIfExists -------------------------------------------------------------------------------------
    pytest.param(
        [_allow(Action="*", Resource="*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})],
        "s3:GetObject",
        "*",
        MFA_TRUE,
        ALLOW,
        id="bool-true-matches",
    ),
    pytest.param(
        [_allow(Action="*", Resource="*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})],
        "s3:GetObject",
        "*",
        MFA_FALSE,
        IMPLICIT,
        id="bool-false-does-not-match-true",
    ),
    pytest.param(
        [_allow(Action="*", Resource="*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})],
        "s3:GetObject",
        "*",
        {"aws:MultiFactorAuthPresent": "TRUE"},
        ALLOW,
        id="bool-value-case-insensitive",
    ),
    pytest.param(
        [_allow(Action="*", Resource="*", Condition={"Bool": {"AWS:multifactorauthpresent": True}})],
        "s3:GetObject",
        "*",
        MFA_TRUE,
        ALLOW,
        id="bool-key-case-insensitive-json-bool",
    ),
    pytest.param(
        [_allow(Action="*", Resource="*", Condition={"Bool": {"aws:MultiFactorAuthPresent": ["false", "true"]}})],
        "s3:GetObject",
        "*",
        MFA_TRUE,
        ALLOW,
        id="bool-values-are-or",
    ),
    pytest.param(
        [
            _allow(
                Action="*",
                Resource="*",
                Condition={"Bool": {"aws:MultiFactorAuthPresent": "true", "aws:SecureTransport": "true"}},
            )
        ],
        "s3:GetObject",
        "*",
        MFA_TRUE,
        IMPLICIT,
        id="condition-keys-are-and",
    ),
    pytest.param(
        [_allow(Action="*", Resource="*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})],
        "s3:GetObject",
        "*",
        NO_KEY,
        IMPLICIT,
        id="bool-missing-key-is-false",
    ),
    pytest.param(
        [_allow(Action="*", Resource="*", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})],
        "s3:GetObject",
        "*",
        NO_KEY,
        ALLOW,
        id="boolifexists-missing-key-is-true",
    ),
    pytest.param(
        [_allow(Action="*", Resource="*", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})],
        "s3:GetObject",
        "*",
        MFA_TRUE,
        IMPLICIT,
        id="boolifexists-present-key-compared",
    ),
    pytest.param(
        [
            _allow(Action="*", Resource="*"),
            _deny(Action="*", Resource="*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}}),
        ],
        "s3:GetObject",
        "*",
        NO_KEY,
        ALLOW,
        id="deny-with-bool-misses-long-term-key",
    ),
    pytest.param(
        [
            _allow(Action="*", Resource="*"),
            _deny(Action="*", Resource="*", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}),
        ],
        "s3:GetObject",
        "*",
        NO_KEY,
        EXPLICIT,
        id="deny-with-boolifexists-catches-long-term-key",
    ),
    pytest.param(
        [
            _allow(Action="*", Resource="*"),
            _deny(Action="*", Resource="*", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}),
        ],
        "s3:GetObject",
        "*",
        MFA_FALSE,
        EXPLICIT,
        id="deny-with-boolifexists-catches-no-mfa-console",
    ),
    pytest.param(
        [
            _allow(Action="*", Resource="*"),
            _deny(Action="*", Resource="*", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}),
        ],
        "s3:GetObject",
        "*",
        MFA_TRUE,
        ALLOW,
        id="deny-with-boolifexists-spares-mfa-session",
    ),
    pytest.param(
        [
            _allow(Action="*", Resource="*"),
            _deny(
                Action="*",
                Resource="*",
                Condition={
                    "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"},
                    "Bool": {"aws:SecureTransport": "false"},
                },
            ),
        ],
        "s3:GetObject",
        "*",
        NO_KEY,
        ALLOW,
        id="condition-operators-are-and",
    ),
    # --- Null: presence of the key, not its value -----------------------------------------------------------------
    pytest.param(
        [_deny(Action="*", Resource="*", Condition={"Null": {"aws:MultiFactorAuthPresent": "true"}})],
        "iam:EnableMFADevice",
        USER,
        NO_KEY,
        EXPLICIT,
        id="null-true-holds-for-an-absent-key",
    ),
    pytest.param(
        [
            _allow(Action="*", Resource="*"),
            _deny(Action="*", Resource="*", Condition={"Null": {"aws:MultiFactorAuthPresent": "true"}}),
        ],
        "iam:EnableMFADevice",
        USER,
        MFA_FALSE,
        ALLOW,
        id="null-true-misses-a-present-false-key",
    ),
    pytest.param(
        [
            _allow(Action="*", Resource="*"),
            _deny(Action="*", Resource="*", Condition={"Null": {"aws:MultiFactorAuthPresent": "true"}}),
        ],
        "iam:EnableMFADevice",
        USER,
        MFA_TRUE,
        ALLOW,
        id="null-true-misses-a-present-true-key",
    ),
    pytest.param(
        [_allow(Action="*", Resource="*", Condition={"Null": {"aws:MultiFactorAuthPresent": "false"}})],
        "s3:GetObject",
        "*",
        MFA_FALSE,
        ALLOW,
        id="null-false-holds-for-a-present-key",
    ),
    pytest.param(
        [_allow(Action="*", Resource="*", Condition={"Null": {"aws:MultiFactorAuthPresent": "false"}})],
        "s3:GetObject",
        "*",
        NO_KEY,
        IMPLICIT,
        id="null-false-misses-an-absent-key",
    ),
    pytest.param(
        [_allow(Action="*", Resource="*", Condition={"Null": {"AWS:multifactorauthpresent": True}})],
        "s3:GetObject",
        "*",
        NO_KEY,
        ALLOW,
        id="null-key-name-case-and-json-bool",
    ),
    pytest.param(
        [_allow(Action="*", Resource="*", Condition={"Null": {"aws:username": "true"}})],
        "s3:GetObject",
        "*",
        NO_KEY,
        IMPLICIT,
        id="null-username-is-always-present",
    ),
]


@pytest.mark.parametrize(("statements", "action", "resource", "context", "expected"), EVALUATOR_TABLE)
def test_rule(
    statements: list[dict[str, t.Any]], action: str, resource: str, context: dict[str, str], expected: Decision
) -> None:
    result = evaluate([_doc(*statements)], Request("alice", action, resource, context))
    assert result.decision is expected, result


def test_statements_from_several_documents_combine() -> None:
    request = Request("alice", "s3:GetObject", "*", NO_KEY)
    allow = _doc(_allow(Action="*", Resource="*"))
    deny = _doc(_deny(Sid="Guard", NotAction="iam:GetUser", Resource="*"))
    assert evaluate([allow], request).decision is ALLOW
    result = evaluate([allow, deny], request)
    assert result.decision is EXPLICIT
    assert result.denied_by == ("Guard",)
    assert result.allowed_by == ("Statement[0]",)


@pytest.mark.parametrize("context", [NO_KEY, MFA_FALSE, MFA_TRUE], ids=["key-absent", "false", "true"])
def test_ifexists_differs_from_the_plain_operator_only_when_the_key_is_absent(context: dict[str, str]) -> None:
    def decide(operator: str) -> Decision:
        statement = _allow(Action="*", Resource="*", Condition={operator: {"aws:MultiFactorAuthPresent": "false"}})
        return evaluate([_doc(statement)], Request("alice", "s3:GetObject", "*", context)).decision

    if context:
        assert decide("Bool") is decide("BoolIfExists")
    else:
        assert (decide("Bool"), decide("BoolIfExists")) == (IMPLICIT, ALLOW)


def test_a_single_statement_object_is_accepted() -> None:
    document = {"Version": "2012-10-17", "Statement": _allow(Action="iam:GetUser", Resource="*")}
    assert evaluate([document], Request("alice", "iam:GetUser", USER)).decision is ALLOW


def test_matchers_directly() -> None:
    request = Request("alice", "iam:GetUser", USER)
    assert action_matches("iam:*", "IAM:GetUser")
    assert not action_matches("iam:*", "sts:GetSessionToken")
    assert resource_matches("arn:aws:iam::*:mfa/${aws:username}", "arn:aws:iam::1:mfa/alice", request)
    assert not resource_matches("arn:aws:iam::*:mfa/${aws:username}", "arn:aws:iam::1:mfa/bob", request)
    # A user name is substituted literally: regex metacharacters in it are no wildcards.
    dotted = Request("a.b", "iam:GetUser", "")
    assert resource_matches("arn:aws:iam::*:user/${aws:username}", "arn:aws:iam::1:user/a.b", dotted)
    assert not resource_matches("arn:aws:iam::*:user/${aws:username}", "arn:aws:iam::1:user/axb", dotted)


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(_allow(Action="*", Resource="*", Condition={"StringEquals": {"aws:username": "a"}}), id="op"),
        pytest.param(_allow(Action="*", Resource="*", Condition={"Bool": {"aws:SecureTransport": "yes"}}), id="val"),
        pytest.param(_allow(Action="*", Resource="*", Condition={"Null": {"aws:TokenIssueTime": "x"}}), id="null-val"),
        pytest.param(_allow(Action="*", Resource="*", Condition={"NullIfExists": {"aws:Foo": "true"}}), id="null-ie"),
        pytest.param(_allow(Action="*", Resource="*", Principal="*"), id="principal"),
        pytest.param(_allow(Action="*", NotAction="*", Resource="*"), id="action-and-notaction"),
        pytest.param(_allow(Resource="*"), id="no-action"),
        pytest.param(_allow(Action="*"), id="no-resource"),
        pytest.param(_allow(Action=[], Resource="*"), id="empty-action-list"),
        pytest.param(_allow(Action="*", Resource="arn:aws:iam::*:user/${aws:username, 'x'}"), id="var-default"),
        pytest.param({"Effect": "allow", "Action": "*", "Resource": "*"}, id="effect-case"),
    ],
)
def test_anything_outside_the_subset_is_refused(statement: dict[str, t.Any]) -> None:
    with pytest.raises(UnsupportedPolicy):
        evaluate([_doc(statement)], Request("alice", "iam:GetUser", USER, MFA_TRUE))
