# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Validation of IAM identifiers before any client is built (pure)."""

from __future__ import annotations

import re
import typing as t
import unicodedata

# IAM's own patterns; \w there means ASCII letters, digits and underscore only.
_NAME = re.compile(r"[\w+=,.@-]+", re.ASCII)
_PATH = re.compile(r"/|/[\x21-\x7e]+/")
# IAM descriptions: tab, newline, carriage return and U+0020..U+00A1.
_DESCRIPTION = re.compile(r"[\t\n\r\x20-\xa1]*")

MAX_NAME = {"user": 64, "group": 128, "policy": 128, "role": 64}
MAX_PATH = 512
MAX_DESCRIPTION = 1000
# IAM's limits for the tags of one user: keys 1-128 and values 0-256 characters of Unicode letters, digits, white
# space (Unicode separators) and _ . : / = + - @; at most 50 per user; the prefix aws: (any case) is AWS's own.
MAX_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
TAG_SYMBOLS = "_.:/=+-@"
RESERVED_TAG_PREFIX = "aws:"
# How much of a long key a message shows.
_SHOWN_KEY = 40
# botocore keeps 10 connections per client; more threads would wait for one (and IAM throttles the account).
MAX_CONCURRENCY = 10


class ValidationError(ValueError):
    """An input is not acceptable; the message names the input and what is wrong."""


def validate_name(kind: str, name: str | None, option: str = "name") -> None:
    if name is None or name == "":
        raise ValidationError(f"{option}: the {kind} name must not be empty")
    limit = MAX_NAME[kind]
    if len(name) > limit:
        raise ValidationError(f"{option}: the {kind} name {name!r} has {len(name)} characters; IAM allows 1 to {limit}")
    if not _NAME.fullmatch(name):
        raise ValidationError(
            f"{option}: the {kind} name {name!r} may contain only ASCII letters, digits and the characters +=,.@_-"
        )


def validate_path(path: str | None, option: str = "path") -> None:
    if path is None:
        return
    if len(path) > MAX_PATH:
        raise ValidationError(f"{option}: {path!r} has {len(path)} characters; IAM allows at most {MAX_PATH}")
    if not _PATH.fullmatch(path):
        raise ValidationError(
            f"{option}: {path!r} must begin and end with '/' and contain only printable ASCII characters"
        )


def validate_description(description: str | None, option: str = "description") -> None:
    if description is None:
        return
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(f"{option}: {len(description)} characters; IAM allows at most {MAX_DESCRIPTION}")
    if not _DESCRIPTION.fullmatch(description):
        bad = sorted({c for c in description if not _DESCRIPTION.fullmatch(c)})
        raise ValidationError(f"{option}: IAM does not accept the characters {''.join(bad)!r} in a description")


_POLICY_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}|aws):policy/([\x21-\x7e]+/)*[\w+=,.@-]+", re.ASCII)


def validate_policy_reference(reference: str | None, option: str) -> None:
    """A managed policy given by ARN, by name, or by path/name (job-function/ViewOnlyAccess)."""
    if not reference:
        raise ValidationError(f"{option}: a policy name or ARN must not be empty")
    if reference.startswith("arn:"):
        if not _POLICY_ARN.fullmatch(reference):
            raise ValidationError(f"{option}: {reference!r} is not an IAM managed policy ARN")
        return
    *path, name = reference.strip("/").split("/")
    validate_name("policy", name, option)
    if path:
        validate_path("/" + "/".join(path) + "/", option)


def validate_concurrency(value: int | None, option: str = "concurrency") -> None:
    """How many users one run handles at the same time."""
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{option}: must be a whole number from 1 to {MAX_CONCURRENCY}, got {value!r}")
    if not 1 <= value <= MAX_CONCURRENCY:
        raise ValidationError(f"{option}: must be from 1 to {MAX_CONCURRENCY}, got {value}")


def _shown(key: str) -> str:
    """A tag key for a message: quoted (control characters escaped) and cut after _SHOWN_KEY characters."""
    return repr(key if len(key) <= _SHOWN_KEY else key[:_SHOWN_KEY] + "...")


def _tag_character_ok(char: str) -> bool:
    # IAM's pattern is [\p{L}\p{Z}\p{N}_.:/=+\-@]; isalnum() is Unicode's letters and numbers.
    return char.isalnum() or unicodedata.category(char).startswith("Z") or char in TAG_SYMBOLS


def bad_tag_characters(text: str) -> str:
    """The characters of text that IAM does not allow in a tag key or value, sorted ('' when there are none)."""
    return "".join(sorted({c for c in text if not _tag_character_ok(c)}))


def validate_tags(
    tags: t.Mapping[str, t.Any] | None, owner: str, reserved: int = 0, reserved_for: str = "the handover's mark"
) -> None:
    """IAM's rules for the tags of one user (owner names it in messages, e.g. `tags of user alice`): at most
    MAX_TAGS, of which `reserved` are taken by the collection's own marks; no key that starts with aws: in any case;
    keys 1-128 and values 0-256 characters from IAM's set; no two keys that differ only in case (IAM's user tag
    keys are case-insensitive)."""
    if not tags:
        return
    allowed = MAX_TAGS - reserved
    if len(tags) > allowed:
        marks = (
            f" ({reserved_for} take{'s' if reserved == 1 else ''} {reserved} of IAM's {MAX_TAGS})" if reserved else ""
        )
        raise ValidationError(f"{owner}: {len(tags)} tags; IAM allows at most {allowed} per user{marks}")
    seen: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not key:
            raise ValidationError(f"{owner}: a tag key must not be empty (IAM allows keys of 1 to {MAX_TAG_KEY})")
        if key.lower().startswith(RESERVED_TAG_PREFIX):
            raise ValidationError(
                f"{owner}: key {_shown(key)} starts with {RESERVED_TAG_PREFIX}, a prefix that AWS reserves for its own "
                "tags (in any case)"
            )
        if len(key) > MAX_TAG_KEY:
            raise ValidationError(
                f"{owner}: key {_shown(key)} has {len(key)} characters; IAM allows keys of 1 to {MAX_TAG_KEY}"
            )
        bad = bad_tag_characters(key)
        if bad:
            raise ValidationError(
                f"{owner}: key {_shown(key)} holds {bad!r}; IAM allows in tag keys only letters, digits, white space "
                f"and {' '.join(TAG_SYMBOLS)}"
            )
        if key.lower() in seen:
            raise ValidationError(
                f"{owner}: keys {_shown(seen[key.lower()])} and {_shown(key)} differ only in case; IAM's user tag keys "
                "are case-insensitive, so they are one tag"
            )
        seen[key.lower()] = key
        text = "" if value is None else str(value)
        if len(text) > MAX_TAG_VALUE:
            raise ValidationError(
                f"{owner}: the value of key {_shown(key)} has {len(text)} characters; IAM allows values of 0 to "
                f"{MAX_TAG_VALUE}"
            )
        bad = bad_tag_characters(text)
        if bad:
            raise ValidationError(
                f"{owner}: the value of key {_shown(key)} holds {bad!r}; IAM allows in tag values only letters, "
                f"digits, white space and {' '.join(TAG_SYMBOLS)}"
            )
