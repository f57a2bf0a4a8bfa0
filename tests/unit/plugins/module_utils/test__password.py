# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import string
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password import MAX_LENGTH
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password import MIN_GENERATED_LENGTH
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password import SYMBOLS
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password import PasswordError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password import check
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password import generate
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password import problems
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import from_api

CLASS_ALPHABETS = {
    "uppercase": string.ascii_uppercase,
    "lowercase": string.ascii_lowercase,
    "digit": string.digits,
    "symbol": SYMBOLS,
}
ALL_CHARACTERS = "".join(CLASS_ALPHABETS.values())


def policy(
    minimum: int | None, upper: bool = False, lower: bool = False, numbers: bool = False, symbols: bool = False
) -> dict[str, t.Any]:
    """Settings exactly as the module gets them: _password_policy.from_api() of a GetAccountPasswordPolicy result."""
    api: dict[str, t.Any] = {
        "RequireUppercaseCharacters": upper,
        "RequireLowercaseCharacters": lower,
        "RequireNumbers": numbers,
        "RequireSymbols": symbols,
        "AllowUsersToChangePassword": True,
        "ExpirePasswords": False,
    }
    if minimum is not None:
        api["MinimumPasswordLength"] = minimum
    settings = from_api(api)
    assert settings is not None
    if minimum is None:
        settings["min_password_length"] = None
    return settings


LAX = policy(6)
STRICT = policy(32, upper=True, lower=True, numbers=True, symbols=True)
STRICT14 = policy(14, upper=True, lower=True, numbers=True, symbols=True)
LONGEST = policy(128, upper=True, lower=True, numbers=True, symbols=True)
SYMBOLS_ONLY = policy(8, symbols=True)
MIN21 = policy(21, numbers=True)
NO_MINIMUM = policy(None, upper=True)

ACCOUNT = "the account password policy"
DEFAULT = "without an account password policy, AWS's default policy"


def test_constants():
    assert SYMBOLS == "!@#$%^&*()_+-=[]{}|'"
    assert MIN_GENERATED_LENGTH == 20
    assert MAX_LENGTH == 128


# --- generate() ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "length"),
    [
        pytest.param(None, 20, id="no-policy"),
        pytest.param(LAX, 20, id="lax-min6"),
        pytest.param(SYMBOLS_ONLY, 20, id="min8-symbols-only"),
        pytest.param(STRICT14, 20, id="strict-min14"),
        pytest.param(MIN21, 21, id="min21-numbers"),
        pytest.param(STRICT, 32, id="strict-min32"),
        pytest.param(LONGEST, 128, id="strict-min128"),
        pytest.param(NO_MINIMUM, 20, id="minimum-none"),
    ],
)
def test_generated_passwords_satisfy_the_policy(settings, length):
    passwords = [generate(settings) for _attempt in range(1000)]
    for password in passwords:
        assert isinstance(password, str)
        assert len(password) == length
        assert set(password) <= set(ALL_CHARACTERS)
        for name, alphabet in CLASS_ALPHABETS.items():
            assert any(c in alphabet for c in password), f"no {name} character"
        assert problems(password, settings) == []
        # Every class is present, so a generated password satisfies any policy of its length, and the default.
        assert problems(password, None) == []
        assert problems(password, policy(length, upper=True, lower=True, numbers=True, symbols=True)) == []
    assert len(set(passwords)) == 1000


def test_generated_length_is_capped_at_the_iam_maximum():
    # IAM itself caps the minimum at 128; a larger value must still not produce a password IAM rejects.
    assert len(generate(policy(200))) == MAX_LENGTH


def test_generated_passwords_use_the_whole_alphabet_and_shuffle_the_classes():
    passwords = [generate(None) for _attempt in range(1000)]
    assert set("".join(passwords)) == set(ALL_CHARACTERS)
    # The one-per-class characters must not stay at fixed positions.
    for position in range(4):
        classes_here = {
            name for p in passwords for name, alphabet in CLASS_ALPHABETS.items() if p[position] in alphabet
        }
        assert classes_here == set(CLASS_ALPHABETS), position


# --- problems() ---------------------------------------------------------------------------------------------------

LONG_OK = "Ab1!" * 32  # 128 characters, every class
TOO_LONG = LONG_OK + "x"  # 129


@pytest.mark.parametrize(
    ("password", "settings", "fragments"),
    [
        # length
        pytest.param("Ab1!", STRICT14, [f"password has 4 characters; {ACCOUNT} requires at least 14"], id="short"),
        pytest.param("Ab1!xyz", LAX, [], id="lax-ok-7"),
        pytest.param("Ab1!x", LAX, [f"password has 5 characters; {ACCOUNT} requires at least 6"], id="lax-short"),
        pytest.param("", LAX, [f"password has 0 characters; {ACCOUNT} requires at least 6"], id="empty"),
        pytest.param(TOO_LONG, STRICT14, ["password has 129 characters; IAM allows at most 128"], id="too-long"),
        pytest.param(TOO_LONG, LAX, ["password has 129 characters; IAM allows at most 128"], id="too-long-lax"),
        pytest.param(TOO_LONG, None, ["password has 129 characters; IAM allows at most 128"], id="too-long-default"),
        pytest.param(
            "Ab1!" * 31, LONGEST, [f"password has 124 characters; {ACCOUNT} requires at least 128"], id="min128-short"
        ),
        pytest.param("Abcdefg", NO_MINIMUM, [f"password has 7 characters; {ACCOUNT} requires at least 8"], id="none-8"),
        # each class the policy requires
        pytest.param(
            "abcdefgh1234!@", STRICT14, [f"password has no uppercase letter; {ACCOUNT} requires one"], id="no-upper"
        ),
        pytest.param(
            "ABCDEFGH1234!@", STRICT14, [f"password has no lowercase letter; {ACCOUNT} requires one"], id="no-lower"
        ),
        pytest.param("ABCDEFGHijkl!@", STRICT14, [f"password has no digit; {ACCOUNT} requires one"], id="no-digit"),
        pytest.param(
            "ABCDEFGHijkl12", STRICT14, ["password has no symbol (one of", f"; {ACCOUNT} requires one"], id="no-symbol"
        ),
        pytest.param("abcdefgh", SYMBOLS_ONLY, ["password has no symbol"], id="symbols-only-missing"),
        pytest.param("abcdefgh", MIN21, ["has 8 characters", "password has no digit"], id="min21-two-problems"),
        pytest.param("bcdefghi", NO_MINIMUM, ["password has no uppercase letter"], id="none-minimum-upper"),
        # characters IAM does not accept
        pytest.param("Abcdefgh1234!\u00e9", STRICT14, ["outside printable ASCII"], id="e-acute"),
        pytest.param("Abcdefgh1234!\u00fc", STRICT14, ["outside printable ASCII"], id="u-umlaut"),
        pytest.param("Abcdefgh\t1234!", STRICT14, ["outside printable ASCII"], id="tab"),
        pytest.param("Abcdefgh\n1234!", STRICT14, ["outside printable ASCII"], id="newline"),
        pytest.param("Abcdefgh1234!\x7f", STRICT14, ["outside printable ASCII"], id="delete"),
        pytest.param("abcdefgh\u00fc", LAX, ["outside printable ASCII"], id="lax-non-ascii"),
        pytest.param("Abcdefg1\u2014", None, ["outside printable ASCII"], id="default-em-dash"),
        # Non-ASCII look-alikes do not count for a class: fullwidth digit one and Cyrillic capital A.
        pytest.param(
            "abcdefgh!@#$\uff11\u0410",
            STRICT14,
            ["outside printable ASCII", "no uppercase letter", "no digit"],
            id="look-alikes-do-not-count",
        ),
        # several problems at once
        pytest.param(
            "ab\u00fc",
            STRICT14,
            ["has 3 characters", "outside printable ASCII", "no uppercase letter", "no digit", "no symbol"],
            id="five-problems",
        ),
        # AWS's default policy when the account has none: at least 8 characters and three of the four classes
        pytest.param(
            "abcdefgh1",
            None,
            ["password has 2 of the 4 character classes: no uppercase letter, no symbol"],
            id="default-two-classes",
        ),
        pytest.param(
            "abcdefgh",
            None,
            ["password has 1 of the 4 character classes", "requires at least 3"],
            id="default-one-class",
        ),
        pytest.param(
            "abcdefghijklmnopqrst", None, [DEFAULT + " requires at least 3 of them"], id="default-long-one-class"
        ),
        pytest.param("abcdefG1", None, [], id="default-three-classes"),
        pytest.param(
            "abcdeG1", None, [f"password has 7 characters; {DEFAULT} requires at least 8"], id="default-short"
        ),
        pytest.param("abc<>G~.", None, ["password has 2 of the 4 character classes"], id="default-foreign-symbols"),
        pytest.param("abc!@G~.", None, [], id="default-iam-symbols"),
        pytest.param("ABC1234!", None, [], id="default-no-lower"),
        pytest.param("abc1234!", None, [], id="default-no-upper"),
        pytest.param("ABCdefg!", None, [], id="default-no-digit"),
        # good passwords
        pytest.param("Abcdefgh1234!@", STRICT14, [], id="strict14-ok"),
        pytest.param("Abcd efgh 1234!", STRICT14, [], id="space-is-printable"),
        pytest.param(' ~`"\\<>?/.,:;' + "Aa1!", STRICT14, [], id="all-printable-punctuation"),
        pytest.param(LONG_OK, LONGEST, [], id="exactly-128"),
        pytest.param(LONG_OK, None, [], id="exactly-128-default"),
        pytest.param("abcdef", LAX, [], id="lax-exactly-min"),
        pytest.param("a" * 21 + "1", MIN21, [], id="min21-ok"),
        pytest.param("Bcdefghi", NO_MINIMUM, [], id="none-minimum-ok"),
    ],
)
def test_problems(password, settings, fragments):
    found = problems(password, settings)
    assert isinstance(found, list)
    if not fragments:
        assert found == []
        return
    # Every expected fragment appears, and no problem is reported that was not expected.
    for fragment in fragments:
        assert any(fragment in message for message in found), (fragment, found)
    assert all(any(fragment in message for fragment in fragments) for message in found), found


@pytest.mark.parametrize("symbol", list(SYMBOLS))
def test_every_iam_symbol_counts(symbol):
    assert problems("abcdefg" + symbol, SYMBOLS_ONLY) == []


@pytest.mark.parametrize("character", sorted(set(string.punctuation + " ") - set(SYMBOLS)))
def test_other_punctuation_is_allowed_but_is_no_symbol(character):
    found = problems("abcdefg" + character, SYMBOLS_ONLY)
    assert len(found) == 1
    assert found[0].startswith("password has no symbol")


# --- no secret in messages ----------------------------------------------------------------------------------------

DISTINCTIVE = [
    "Qz",
    "kxqzvjwy",
    "KXQZVJWY7",
    "7395846271",
    "Zq9!Kx2@Vw" * 13,
    "Jv\u00fcq7Kx!zW",
    "Wq7\tzK!xvJ",
    "Wq7\nzK!xvJ",
    "zvkq jwxy",
    "Zq9<Kx2>Vw",
    "Xj4%Kv",
]
ALL_SETTINGS = [None, LAX, STRICT, STRICT14, LONGEST, SYMBOLS_ONLY, MIN21, NO_MINIMUM]
BAD_PAIRS = [
    pytest.param(password, settings, id=f"{p}-{s}")
    for p, password in enumerate(DISTINCTIVE)
    for s, settings in enumerate(ALL_SETTINGS)
    if problems(password, settings)
]


def test_every_distinctive_password_is_bad_somewhere():
    ids = {pair.id.split("-")[0] for pair in BAD_PAIRS}
    assert ids == {str(p) for p in range(len(DISTINCTIVE))}
    assert len(BAD_PAIRS) >= 4 * len(DISTINCTIVE)


def _pieces(password: str) -> list[str]:
    return [password] + [password[i : i + 4] for i in range(len(password) - 3)]


@pytest.mark.parametrize(("password", "settings"), BAD_PAIRS)
def test_messages_never_contain_the_password(password, settings):
    found = problems(password, settings)
    assert found
    with pytest.raises(PasswordError) as caught:
        check(password, settings)
    texts = [*found, str(caught.value), repr(caught.value)]
    for text in texts:
        for piece in _pieces(password):
            assert piece not in text
            assert repr(piece)[1:-1] not in text


@pytest.mark.parametrize("character", ["\u00e9", "\u00fc", "\t", "\n", "\x7f", "\u2014", "\uff11"])
def test_messages_never_name_the_offending_character(character):
    password = "Abcdefgh1234!" + character
    found = problems(password, STRICT14)
    assert found
    for message in found:
        assert character not in message
        assert repr(character)[1:-1] not in message
        assert f"U+{ord(character):04X}" not in message


# --- check() ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "settings"),
    [
        pytest.param("ab\u00fc", STRICT14, id="many"),
        pytest.param("abcdefgh1", None, id="default"),
        pytest.param(TOO_LONG, LAX, id="too-long"),
    ],
)
def test_check_raises_with_every_problem(password, settings):
    expected = problems(password, settings)
    assert expected
    with pytest.raises(PasswordError) as caught:
        check(password, settings)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == "password does not satisfy the account password policy: " + "; ".join(expected)


@pytest.mark.parametrize(
    ("password", "settings"),
    [
        pytest.param("Abcdefgh1234!@", STRICT14, id="strict"),
        pytest.param("abcdefG1", None, id="default"),
        pytest.param("abcdef", LAX, id="lax"),
    ],
)
def test_check_accepts_a_good_password(password, settings):
    assert check(password, settings) is None


@pytest.mark.parametrize("settings", ALL_SETTINGS)
def test_check_accepts_generated_passwords(settings):
    assert check(generate(settings), settings) is None
