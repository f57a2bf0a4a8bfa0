# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The status report of iam_onboard_user_info's result: lines for the screen (grouped by stage), Markdown, CSV or
JSON for a file (chosen by its extension), and the compliance gate (which users have which of the findings an
operator fails on). Pure: the module's result in, text out."""

from __future__ import annotations

import csv
import io
import json
import os
import typing as t

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc

# Report formats by file extension.
FORMATS = {".md": "markdown", ".csv": "csv", ".json": "json"}
CSV_FIELDS = (
    "name",
    "stage",
    "arn",
    "path",
    "created",
    "console_password",
    "password_created",
    "password_last_used",
    "days_in_onboarding",
    "mfa_devices",
    "active_access_keys",
    "groups",
    "managed_policies",
    "profile",
    "handover",
    "findings",
)


class ReportError(ValueError):
    """A report cannot be made as asked; the message names the input."""


def report_format(path: str, option: str = "report path") -> str:
    """The format of a report file by its extension: markdown, csv or json."""
    extension = os.path.splitext(str(path or ""))[1].lower()
    if extension not in FORMATS:
        known = ", ".join(FORMATS)
        shown = f"extension {extension!r}" if extension else "no extension"
        raise ReportError(f"{option}: {path!r} has {shown}; give a file ending in {known}")
    return FORMATS[extension]


def _stage_rank(stage: t.Any) -> int:
    return lc.STAGES.index(stage) if stage in lc.STAGES else len(lc.STAGES)


def ordered(users: t.Sequence[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """Users grouped by stage in the order of the lifecycle, by name within a stage."""
    return sorted(users, key=lambda u: (_stage_rank(u.get("stage")), str(u.get("name"))))


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def mfa_text(user: dict[str, t.Any]) -> str:
    kinds = [str(d.get("kind") or "unknown") for d in user.get("mfa_devices") or []]
    return f"MFA {', '.join(kinds)}" if kinds else "no MFA"


def details(user: dict[str, t.Any]) -> str:
    """What matters about one user, in a few words (never a secret: the result holds none)."""
    if user.get("stage") == lc.ABSENT:
        return "no such user"
    parts = [mfa_text(user)]
    if user.get("console_password"):
        used = user.get("password_last_used")
        parts.append(f"password last used {used}" if used else "password never used")
    else:
        parts.append("no console password")
    if user.get("days_in_onboarding") is not None:
        parts.append(f"{_count(int(user['days_in_onboarding']), 'day')} in onboarding")
    if user.get("active_access_keys"):
        parts.append(_count(int(user["active_access_keys"]), "active access key"))
    if user.get("handover") == "pending":
        parts.append("handover pending")
    if user.get("profile"):
        parts.append(f"profile {user['profile']}")
    return ", ".join(parts)


def summary_text(summary: dict[str, t.Any]) -> str:
    stages = ", ".join(f"{stage} {n}" for stage, n in (summary.get("stages") or {}).items() if n) or "no users"
    findings = ", ".join(f"{kind} {n}" for kind, n in (summary.get("findings") or {}).items() if n) or "none"
    return f"{stages}; findings: {findings}"


def sources_text(result: dict[str, t.Any]) -> str:
    sources = result.get("sources") or {}
    text = f"read at {sources.get('read_at')}"
    report = sources.get("credential_report")
    if report:
        age = report.get("age_seconds")
        hours = f", {age / 3600:.1f} h old" if isinstance(age, (int, float)) else ""
        text += f"; credential report generated {report.get('generated_time')}{hours}"
    return text


def lines(result: dict[str, t.Any]) -> list[str]:
    """The on-screen table: a heading, then one line per user, grouped by stage."""
    users = ordered(result.get("users") or [])
    head = f"{_count(len(users), 'user')}: {summary_text(result.get('summary') or {})} ({sources_text(result)})"
    if not users:
        return [head]
    stage_width = max(len(str(u.get("stage"))) for u in users)
    name_width = max(len(str(u.get("name"))) for u in users)
    out = [head]
    for user in users:
        findings = user.get("findings") or []
        line = f"{user.get('stage')!s:<{stage_width}}  {user.get('name')!s:<{name_width}}  {details(user)}"
        if findings:
            line += f"; findings: {', '.join(findings)}"
        out.append(line)
    return out


def _cell(value: t.Any) -> str:
    return str("" if value is None else value).replace("|", "\\|").replace("\n", " ")


def markdown(result: dict[str, t.Any]) -> str:
    summary = result.get("summary") or {}
    users = ordered(result.get("users") or [])
    out = [
        "# MFA onboarding status",
        "",
        f"{_count(len(users), 'user')}; {sources_text(result)}.",
        "",
        "| stage | users |",
        "| --- | ---: |",
        *(f"| {stage} | {n} |" for stage, n in (summary.get("stages") or {}).items()),
        "",
        "| finding | users |",
        "| --- | ---: |",
        *(f"| {kind} | {n} |" for kind, n in (summary.get("findings") or {}).items()),
        "",
        "| user | stage | MFA | console password | password last used | days in onboarding | active access keys"
        " | findings |",
        "| --- | --- | --- | --- | --- | ---: | ---: | --- |",
    ]
    for user in users:
        cells = (
            user.get("name"),
            user.get("stage"),
            mfa_text(user),
            "yes" if user.get("console_password") else "no",
            user.get("password_last_used") or ("never" if user.get("console_password") else ""),
            user.get("days_in_onboarding"),
            user.get("active_access_keys"),
            ", ".join(user.get("findings") or []),
        )
        out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    unassigned = result.get("unassigned_virtual_mfa_devices") or []
    if unassigned:
        out += ["", "Unassigned virtual MFA devices:", ""]
        out += [f"- {_cell(serial)}" for serial in unassigned]
    return "\n".join(out) + "\n"


# A spreadsheet takes a cell that starts with one of these for a formula. IAM user names may start with = + - @,
# and tag values (the profile) may hold them too: such a cell gets a leading apostrophe (OWASP's advice).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(user: dict[str, t.Any], field: str) -> t.Any:
    value = user.get(field)
    if field == "mfa_devices":
        value = " ".join(f"{d.get('serial_number')}:{d.get('kind')}" for d in value or [])
    elif isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    elif isinstance(value, bool):
        value = "true" if value else "false"
    elif value is None:
        value = ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        value = "'" + value
    return value


def csv_text(result: dict[str, t.Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for user in ordered(result.get("users") or []):
        writer.writerow([_csv_value(user, field) for field in CSV_FIELDS])
    return buffer.getvalue()


def json_text(result: dict[str, t.Any]) -> str:
    keys = ("users", "summary", "unassigned_virtual_mfa_devices", "sources", "regime")
    document = {key: result.get(key) for key in keys}
    document["users"] = ordered(document["users"] or [])
    return json.dumps(document, indent=2, sort_keys=True, default=str) + "\n"


def render(result: dict[str, t.Any], format_or_path: str) -> str | list[str]:
    """The report in a format (lines, markdown, csv, json) or in the format of a file's extension."""
    if format_or_path == "lines":
        return lines(result)
    kind = format_or_path if format_or_path in FORMATS.values() else report_format(format_or_path)
    return {"markdown": markdown, "csv": csv_text, "json": json_text}[kind](result)


def violations(result: dict[str, t.Any], fail_on: t.Iterable[str]) -> list[str]:
    """`user: finding` for every user holding a finding that the operator fails on, in report order."""
    wanted = set(fail_on)
    return [
        f"{user.get('name')}: {finding}"
        for user in ordered(result.get("users") or [])
        for finding in user.get("findings") or []
        if finding in wanted
    ]
