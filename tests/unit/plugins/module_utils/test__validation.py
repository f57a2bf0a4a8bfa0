# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import re

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import MAX_CONCURRENCY
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import ValidationError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_concurrency
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_description
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_name
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_path
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_tags


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("user", "a"),
        ("user", "alice"),
        ("user", "x" * 64),
        ("user", "Alice.Smith+ops=1,team@example.com_x-y"),
        ("user", "+=,.@_-"),
        ("user", "0123456789"),
        ("group", "NotYetLoginUsers"),
        ("group", "g" * 128),
        ("policy", "MFARequiredOnlyForTheFirstLogin"),
        ("policy", "p" * 128),
    ],
)
def test_valid_names(kind: str, name: str) -> None:
    validate_name(kind, name)


@pytest.mark.parametrize(
    ("kind", "name", "message"),
    [
        ("user", "", "name: the user name must not be empty"),
        ("user", None, "name: the user name must not be empty"),
        ("policy", "", "name: the policy name must not be empty"),
        ("user", "x" * 65, "has 65 characters; IAM allows 1 to 64"),
        ("group", "g" * 129, "has 129 characters; IAM allows 1 to 128"),
        ("policy", "p" * 129, "has 129 characters; IAM allows 1 to 128"),
        ("user", "bad name", "name: the user name 'bad name' may contain only ASCII letters, digits and"),
        (
            "policy",
            "bad name",
            "the policy name 'bad name' may contain only ASCII letters, digits and the characters +=,.@_-",
        ),
        ("user", " alice", "may contain only ASCII"),
        ("user", "alice\t", "may contain only ASCII"),
        ("user", "team/alice", "may contain only ASCII"),
        ("user", "ユーザー", "may contain only ASCII"),
        ("user", "é", "may contain only ASCII"),
        ("user", "José", "may contain only ASCII"),
        ("user", "alice\u00a0", "may contain only ASCII"),
        ("user", "\uff11\uff12\uff13", "may contain only ASCII"),  # full-width digits
        ("user", "a:b", "may contain only ASCII"),
        ("user", "a*", "may contain only ASCII"),
        ("policy", "p#1", "may contain only ASCII"),
    ],
    ids=lambda value: value.encode("unicode_escape").decode() if isinstance(value, str) else str(value),
)
def test_invalid_names(kind: str, name: str | None, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        validate_name(kind, name)


def test_name_message_names_the_option() -> None:
    with pytest.raises(ValidationError, match=re.escape("users[2].name: the user name 'a b'")):
        validate_name("user", "a b", option="users[2].name")


@pytest.mark.parametrize(
    "path",
    [
        None,
        "/",
        "/mfa/",
        "/division_abc/subdivision_xyz/",
        "/a-b.c@d+e=f,g/",
        "/" + "a" * 510 + "/",
    ],
)
def test_valid_paths(path: str | None) -> None:
    validate_path(path)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "path: '' must begin and end with '/'"),
        ("no-slash", "path: 'no-slash' must begin and end with '/' and contain only printable ASCII characters"),
        ("/no-trailing", "path: '/no-trailing' must begin and end with '/'"),
        ("no-leading/", "must begin and end with '/'"),
        ("//", "must begin and end with '/'"),
        ("/with space/", "contain only printable ASCII characters"),
        ("/tab\t/", "contain only printable ASCII characters"),
        ("/ユーザー/", "contain only printable ASCII characters"),
        ("/é/", "contain only printable ASCII characters"),
        ("/" + "a" * 511 + "/", "has 513 characters; IAM allows at most 512"),
    ],
)
def test_invalid_paths(path: str, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        validate_path(path)


def test_path_message_names_the_option() -> None:
    with pytest.raises(ValidationError, match=re.escape("user_path: 'x' must begin")):
        validate_path("x", option="user_path")


@pytest.mark.parametrize(
    "description",
    [
        None,
        "",
        "Created 2026-11-28 - Copied from the official document",
        "tab\tnewline\ncarriage return\r",
        "~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./",
        "\u00a0\u00a1",  # the top of IAM's range
        "\x7f",
        "d" * 1000,
    ],
)
def test_valid_descriptions(description: str | None) -> None:
    validate_description(description)


@pytest.mark.parametrize(
    ("description", "bad"),
    [
        ("Politique créée pour MFA", "é"),
        ("多要素認証が必要", "多要素認証が必"),
        ("Требуется MFA", "Требуется"),
        ("¿MFA?", "¿"),
        ("Created \u2013 today", "\u2013"),  # en dash
        ("MFA \U0001f510", "\U0001f510"),
        ("nul\x00", "\x00"),
        ("bell\x07", "\x07"),
    ],
    ids=["french", "japanese", "russian", "inverted-question-mark", "en-dash", "emoji", "nul", "bell"],
)
def test_descriptions_with_characters_iam_refuses(description: str, bad: str) -> None:
    listed = "".join(sorted(set(bad)))
    with pytest.raises(ValidationError) as error:
        validate_description(description)
    assert str(error.value) == f"description: IAM does not accept the characters {listed!r} in a description"


def test_too_long_description() -> None:
    with pytest.raises(ValidationError, match=re.escape("description: 1001 characters; IAM allows at most 1000")):
        validate_description("d" * 1001)


@pytest.mark.parametrize("value", [1, 4, MAX_CONCURRENCY])
def test_valid_concurrency(value: int) -> None:
    validate_concurrency(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "concurrency: must be from 1 to 10, got 0"),
        (-3, "concurrency: must be from 1 to 10, got -3"),
        (MAX_CONCURRENCY + 1, "concurrency: must be from 1 to 10, got 11"),
        (None, "concurrency: must be a whole number from 1 to 10, got None"),
        (True, "concurrency: must be a whole number from 1 to 10, got True"),
        ("4", "concurrency: must be a whole number from 1 to 10, got '4'"),
    ],
)
def test_invalid_concurrency(value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=f"^{re.escape(message)}$"):
        validate_concurrency(value)  # type: ignore[arg-type]


# Tags: IAM's limits for the tags of one user


@pytest.mark.parametrize(
    "tags",
    [
        None,
        {},
        {"team": "data"},
        {"k" * 128: "v" * 256},
        {"a": ""},  # values may be empty
        {"cost center": "42"},  # white space
        {"Abteilung": "Größe", "部署": "データ", "ключ": "значение", "٣": "٤"},  # Unicode letters and digits
        {"a_b.c:d/e=f+g-h@i": "_.:/=+-@"},  # every symbol IAM allows
        {"nbsp\u00a0key": "ideographic\u3000space"},  # Unicode separators are white space
        {"awsome": "ok", "aws": "ok", "my-aws:key": "ok"},  # only the prefix aws: is AWS's
        {f"k{i}": "v" for i in range(50)},
    ],
)
def test_valid_tags(tags: dict[str, str] | None) -> None:
    validate_tags(tags, "tags of user alice")


LONG_KEY = "k" * 129


@pytest.mark.parametrize(
    ("tags", "reserved", "message"),
    [
        ({f"k{i}": "v" for i in range(51)}, 0, "tags of user alice: 51 tags; IAM allows at most 50 per user"),
        (
            {f"k{i}": "v" for i in range(50)},
            1,
            "tags of user alice: 50 tags; IAM allows at most 49 per user (the handover's mark takes 1 of IAM's 50)",
        ),
        (
            {"aws:team": "x"},
            0,
            "tags of user alice: key 'aws:team' starts with aws:, a prefix that AWS reserves for its own tags",
        ),
        ({"AWS:team": "x"}, 0, "key 'AWS:team' starts with aws:"),
        ({"Aws:": "x"}, 0, "key 'Aws:' starts with aws:"),
        ({"": "x"}, 0, "tags of user alice: a tag key must not be empty (IAM allows keys of 1 to 128)"),
        (
            {LONG_KEY: "x"},
            0,
            f"tags of user alice: key '{'k' * 40}...' has 129 characters; IAM allows keys of 1 to 128",
        ),
        (
            {"team": "v" * 257},
            0,
            "tags of user alice: the value of key 'team' has 257 characters; IAM allows values of 0 to 256",
        ),
        (
            {"team#1": "x"},
            0,
            "tags of user alice: key 'team#1' holds '#'; IAM allows in tag keys only letters, digits, white space "
            "and _ . : / = + - @",
        ),
        ({"team": "a,b;c"}, 0, "the value of key 'team' holds ',;'; IAM allows in tag values only letters"),
        ({"line\nbreak": "x"}, 0, "key 'line\\nbreak' holds '\\n'"),  # escaped: no line break in a message
        ({"tab": "a\tb"}, 0, "the value of key 'tab' holds '\\t'"),  # a tab is not a separator (Z) in Unicode
        ({"emoji": "\U0001f600"}, 0, "the value of key 'emoji' holds"),
        (
            {"Team": "a", "team": "b"},
            0,
            "tags of user alice: keys 'Team' and 'team' differ only in case; IAM's user tag keys are case-insensitive",
        ),
    ],
)
def test_invalid_tags(tags: dict[str, str], reserved: int, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        validate_tags(tags, "tags of user alice", reserved)


def test_a_long_key_is_shown_cut_in_the_message() -> None:
    key = "x" * 1000 + "#"
    with pytest.raises(ValidationError) as error:
        validate_tags({key: "v"}, "tags of user alice")
    assert len(str(error.value)) < 200
    assert "has 1001 characters" in str(error.value)
