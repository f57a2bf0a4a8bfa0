# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Validation of IAM identifiers before any client is built (pure)."""

from __future__ import annotations

import re

# IAM's own patterns; \w there means ASCII letters, digits and underscore only.
_NAME = re.compile(r"[\w+=,.@-]+", re.ASCII)
_PATH = re.compile(r"/|/[\x21-\x7e]+/")
# IAM descriptions: tab, newline, carriage return and U+0020..U+00A1.
_DESCRIPTION = re.compile(r"[\t\n\r\x20-\xa1]*")

MAX_NAME = {"user": 64, "group": 128, "policy": 128}
MAX_PATH = 512
MAX_DESCRIPTION = 1000
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
