# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the status role: the report of iam_onboard_user_info's result, and the compliance gate."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _report


def _result(value: t.Any, name: str) -> dict[str, t.Any]:
    if not isinstance(value, dict) or not isinstance(value.get("users"), list):
        raise AnsibleFilterError(f"{name}: expects the result of mfa_onboarding.iam.iam_onboard_user_info")
    return value


def status_report(result: t.Any, format_or_path: str = "lines") -> str | list[str]:
    try:
        return _report.render(_result(result, "status_report"), format_or_path)
    except _report.ReportError as e:
        raise AnsibleFilterError(str(e)) from None


def status_violations(result: t.Any, fail_on: t.Sequence[str]) -> list[str]:
    return _report.violations(_result(result, "status_violations"), fail_on or [])


def report_format(path: str, option: str = "report path") -> str:
    try:
        return _report.report_format(path, option)
    except _report.ReportError as e:
        raise AnsibleFilterError(str(e)) from None


def report_path_problem(path: str, option: str = "report path") -> str:
    """What is wrong with a report file's name (its extension), or an empty text: for a fail task's message."""
    try:
        _report.report_format(path, option)
    except _report.ReportError as e:
        return str(e)
    return ""


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "status_report": status_report,
            "status_violations": status_violations,
            "report_format": report_format,
            "report_path_problem": report_path_problem,
        }
