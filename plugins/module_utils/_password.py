# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure logic for the temporary console password: generate one, or check an explicit one, against the policy.

The settings are the snake_case dict of ``_password_policy.from_api()``, or None when the account has no password
policy (AWS's default then applies: at least 8 characters and three of the four character classes).

No message built here ever contains the password or any part of it: messages end up in logs and task output.
"""

from __future__ import annotations

import secrets
import string
import typing as t

# The non-alphanumeric characters that IAM's password policy counts as symbols (RequireSymbols).
SYMBOLS = "!@#$%^&*()_+-=[]{}|'"

MIN_GENERATED_LENGTH = 20
MAX_LENGTH = 128

# AWS's default password policy, which applies when the account has none.
DEFAULT_MIN_LENGTH = 8
DEFAULT_MIN_CLASSES = 3

# (setting that requires the class, the class's characters, how a message names one character of it)
CLASSES: tuple[tuple[str, str, str], ...] = (
    ("require_uppercase_characters", string.ascii_uppercase, "uppercase letter"),
    ("require_lowercase_characters", string.ascii_lowercase, "lowercase letter"),
    ("require_numbers", string.digits, "digit"),
    ("require_symbols", SYMBOLS, f"symbol (one of {SYMBOLS})"),
)

ALPHABET = "".join(characters for _setting, characters, _noun in CLASSES)

_PRINTABLE_ASCII = frozenset(chr(code) for code in range(0x20, 0x7F))


class PasswordError(ValueError):
    """An explicit password does not satisfy the password policy; the message never contains the password."""


def _min_length(settings: dict[str, t.Any] | None) -> int:
    if settings is None:
        return DEFAULT_MIN_LENGTH
    return settings.get("min_password_length") or DEFAULT_MIN_LENGTH


def generate(settings: dict[str, t.Any] | None) -> str:
    """A random password that satisfies every possible password policy, at least 20 characters long.

    It always holds at least one character of each of the four classes, whatever the policy requires.
    """
    length = min(MAX_LENGTH, max(MIN_GENERATED_LENGTH, _min_length(settings)))
    characters = [secrets.choice(alphabet) for _setting, alphabet, _noun in CLASSES]
    characters.extend(secrets.choice(ALPHABET) for _position in range(length - len(characters)))
    secrets.SystemRandom().shuffle(characters)
    return "".join(characters)


def problems(password: str, settings: dict[str, t.Any] | None) -> list[str]:
    """What is wrong with an explicit password under the settings (None: AWS's default); empty when it is fine."""
    if settings is None:
        who = "without an account password policy, AWS's default policy"
    else:
        who = "the account password policy"
    found = []

    minimum = _min_length(settings)
    if len(password) < minimum:
        found.append(f"password has {len(password)} characters; {who} requires at least {minimum}")
    elif len(password) > MAX_LENGTH:
        found.append(f"password has {len(password)} characters; IAM allows at most {MAX_LENGTH}")

    outside = sum(1 for character in password if character not in _PRINTABLE_ASCII)
    if outside:
        found.append(
            f"password contains characters outside printable ASCII ({outside} of them); "
            "IAM accepts only U+0020 to U+007E"
        )

    present = [(setting, noun, any(c in alphabet for c in password)) for setting, alphabet, noun in CLASSES]
    if settings is None:
        count = sum(1 for _setting, _noun, has in present if has)
        if count < DEFAULT_MIN_CLASSES:
            missing = ", no ".join(noun for _setting, noun, has in present if not has)
            found.append(
                f"password has {count} of the 4 character classes: no {missing}; {who} requires at least "
                f"{DEFAULT_MIN_CLASSES} of them"
            )
    else:
        for setting, noun, has in present:
            if settings.get(setting) and not has:
                found.append(f"password has no {noun}; {who} requires one")
    return found


def check(password: str, settings: dict[str, t.Any] | None) -> None:
    """Raise PasswordError naming every problem when the password does not satisfy the settings."""
    found = problems(password, settings)
    if found:
        raise PasswordError("password does not satisfy the account password policy: " + "; ".join(found))
