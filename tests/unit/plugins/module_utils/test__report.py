# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The status report: formats by extension, lines grouped by stage, Markdown, CSV and JSON, and the gate."""

from __future__ import annotations

import csv
import io
import json
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _report


def user(name: str, stage: str, **fields: t.Any) -> dict[str, t.Any]:
    base: dict[str, t.Any] = {
        "name": name,
        "arn": f"arn:aws:iam::123456789012:user/{name}",
        "path": "/",
        "stage": stage,
        "created": "2026-11-20T08:00:00+00:00",
        "console_password": True,
        "password_created": "2026-11-20T08:00:00+00:00",
        "password_last_used": None,
        "days_in_onboarding": None,
        "mfa_devices": [],
        "active_access_keys": 0,
        "groups": [],
        "managed_policies": [],
        "inline_policies": [],
        "tags": {},
        "profile": None,
        "handover": "none",
        "findings": [],
        "read_live": True,
    }
    base.update(fields)
    return base


VIRTUAL = {"serial_number": "arn:aws:iam::123456789012:mfa/alice", "kind": "virtual", "enable_date": "2026-11-21"}
RESULT: dict[str, t.Any] = {
    "users": [
        user("alice", "promoted", mfa_devices=[VIRTUAL], password_last_used="2026-11-30T09:00:00+00:00"),
        user("zed", "onboarding", days_in_onboarding=11, findings=["stale_onboarding"], groups=["NotYetLoginUsers"]),
        user(
            "carol",
            "ready",
            mfa_devices=[dict(VIRTUAL, kind="fido")],
            days_in_onboarding=1,
            findings=["ready_not_promoted"],
        ),
        user(
            "bob",
            "onboarding",
            days_in_onboarding=0,
            handover="pending",
            profile="developer",
            findings=["pending_handover"],
        ),
        user(
            "mallory",
            "unmanaged",
            active_access_keys=2,
            findings=["access_key_before_mfa", "unguarded_console_password"],
        ),
    ],
    "summary": {
        "users": 5,
        "stages": {"onboarding": 2, "ready": 1, "promoted": 1, "expired": 0, "disabled": 0, "unmanaged": 1},
        "findings": {
            "unguarded_console_password": 1,
            "access_key_before_mfa": 1,
            "stale_onboarding": 1,
            "ready_not_promoted": 1,
            "grants_before_mfa": 0,
            "pending_handover": 1,
            "cannot_enroll": 0,
        },
    },
    "unassigned_virtual_mfa_devices": ["arn:aws:iam::123456789012:mfa/spare"],
    "sources": {
        "read_at": "2026-12-01T10:00:00+00:00",
        "credential_report": {
            "read_at": "2026-12-01T10:00:00+00:00",
            "generated_time": "2026-12-01T08:00:00+00:00",
            "age_seconds": 7200,
        },
    },
    "regime": {"onboarding_group": "NotYetLoginUsers"},
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [("r.md", "markdown"), ("/tmp/x/R.CSV", "csv"), ("out.json", "json"), ("a.b/report.md", "markdown")],
)
def test_report_format_by_extension(path: str, expected: str) -> None:
    assert _report.report_format(path) == expected


@pytest.mark.parametrize(
    ("path", "shown"),
    [("report.txt", "extension '.txt'"), ("report", "no extension"), ("", "no extension"), ("x.md.bak", "'.bak'")],
)
def test_report_format_refuses_other_extensions_naming_the_option(path: str, shown: str) -> None:
    with pytest.raises(_report.ReportError) as error:
        _report.report_format(path, "status_report_path")
    message = str(error.value)
    assert message.startswith("status_report_path: ")
    assert shown in message
    assert ".md, .csv, .json" in message


def test_lines_group_users_by_stage_in_lifecycle_order_then_by_name() -> None:
    lines = _report.lines(RESULT)
    assert lines[0].startswith("5 users: onboarding 2, ready 1, promoted 1, unmanaged 1; findings: ")
    assert "credential report generated 2026-12-01T08:00:00+00:00, 2.0 h old)" in lines[0]
    assert [line.split()[:2] for line in lines[1:]] == [
        ["onboarding", "bob"],
        ["onboarding", "zed"],
        ["ready", "carol"],
        ["promoted", "alice"],
        ["unmanaged", "mallory"],
    ]


def test_lines_say_what_matters_per_user() -> None:
    by_name = {line.split()[1]: line for line in _report.lines(RESULT)[1:]}
    assert "no MFA, password never used, 11 days in onboarding; findings: stale_onboarding" in by_name["zed"]
    assert "0 days in onboarding, handover pending, profile developer; findings: pending_handover" in by_name["bob"]
    assert "MFA fido" in by_name["carol"]
    assert "1 day in onboarding" in by_name["carol"]
    assert "MFA virtual, password last used 2026-11-30T09:00:00+00:00" in by_name["alice"]
    assert "2 active access keys; findings: access_key_before_mfa, unguarded_console_password" in by_name["mallory"]


def test_lines_of_an_empty_account() -> None:
    empty = {"users": [], "summary": {"stages": {"onboarding": 0}, "findings": {}}, "sources": {"read_at": "now"}}
    assert _report.lines(empty) == ["0 users: no users; findings: none (read at now)"]


def test_markdown_report() -> None:
    text = _report.render(RESULT, "weekly.md")
    assert isinstance(text, str)
    assert text.startswith("# MFA onboarding status\n")
    assert "| onboarding | 2 |" in text
    assert "| stale_onboarding | 1 |" in text
    assert "| zed | onboarding | no MFA | yes | never | 11 | 0 | stale_onboarding |" in text
    assert "- arn:aws:iam::123456789012:mfa/spare" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and line.count("|") == 9]
    assert [row.split("|")[1].strip() for row in rows[2:]] == ["bob", "zed", "carol", "alice", "mallory"]


def test_csv_report_is_one_row_per_user_with_every_field() -> None:
    rows = list(csv.DictReader(io.StringIO(str(_report.render(RESULT, "r.csv")))))
    assert [row["name"] for row in rows] == ["bob", "zed", "carol", "alice", "mallory"]
    assert list(rows[0]) == list(_report.CSV_FIELDS)
    carol = rows[2]
    assert carol["mfa_devices"] == "arn:aws:iam::123456789012:mfa/alice:fido"
    assert carol["console_password"] == "true"
    assert carol["password_last_used"] == ""
    assert rows[4]["findings"] == "access_key_before_mfa unguarded_console_password"


def test_json_report_keeps_the_whole_result() -> None:
    document = json.loads(str(_report.render(RESULT, "r.json")))
    assert set(document) == {"users", "summary", "unassigned_virtual_mfa_devices", "sources", "regime"}
    assert document["summary"] == RESULT["summary"]
    assert [u["name"] for u in document["users"]] == ["bob", "zed", "carol", "alice", "mallory"]


def test_render_by_format_name_and_unknown_extension() -> None:
    assert _report.render(RESULT, "markdown") == _report.render(RESULT, "x.md")
    assert _report.render(RESULT, "lines") == _report.lines(RESULT)
    with pytest.raises(_report.ReportError):
        _report.render(RESULT, "x.html")


def test_violations_name_each_user_and_finding_asked_for() -> None:
    assert _report.violations(RESULT, ["unguarded_console_password", "stale_onboarding"]) == [
        "zed: stale_onboarding",
        "mallory: unguarded_console_password",
    ]
    assert _report.violations(RESULT, []) == []
    assert _report.violations(RESULT, ["grants_before_mfa"]) == []


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_defused() -> None:
    """IAM user names may start with = + - @ (and tag values may too): someone allowed to create users must not
    plant a formula in the auditor's spreadsheet."""
    hostile = {
        "users": [
            user("=1+2", "unmanaged", profile="@SUM", groups=["-x"]),
            user("+bob", "unmanaged"),
            user("plain", "unmanaged", profile="a=b"),
        ]
    }
    rows = list(csv.DictReader(io.StringIO(str(_report.render(hostile, "r.csv")))))
    assert [(r["name"], r["profile"], r["groups"]) for r in rows] == [
        ("'+bob", "", ""),
        ("'=1+2", "'@SUM", "'-x"),
        ("plain", "a=b", ""),
    ]
