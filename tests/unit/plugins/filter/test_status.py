# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The status role's filters, as Jinja calls them: errors become AnsibleFilterError naming the input."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mfa_onboarding.iam.plugins.filter import status
from ansible_collections.mfa_onboarding.iam.plugins.filter.status import FilterModule

RESULT = {
    "users": [
        {"name": "bob", "stage": "onboarding", "findings": ["stale_onboarding"], "mfa_devices": []},
        {"name": "ann", "stage": "promoted", "findings": [], "mfa_devices": [{"kind": "virtual"}]},
    ],
    "summary": {"stages": {"onboarding": 1, "promoted": 1}, "findings": {"stale_onboarding": 1}},
    "sources": {"read_at": "2026-12-01T10:00:00+00:00"},
}


def test_the_plugin_offers_the_three_filters() -> None:
    assert set(FilterModule().filters()) == {
        "status_report",
        "status_violations",
        "report_format",
        "report_path_problem",
    }


def test_status_report_lines_by_default() -> None:
    lines = status.status_report(RESULT)
    assert isinstance(lines, list)
    assert [line.split()[:2] for line in lines[1:]] == [["onboarding", "bob"], ["promoted", "ann"]]


def test_status_report_to_a_file_format() -> None:
    assert str(status.status_report(RESULT, "/srv/r.csv")).startswith("name,stage,")


@pytest.mark.parametrize("value", [None, "text", {"summary": {}}, {"users": "bob"}])
def test_status_report_refuses_what_is_not_a_status_result(value: object) -> None:
    with pytest.raises(AnsibleFilterError, match="iam_onboard_user_info"):
        status.status_report(value)


def test_status_report_refuses_an_unknown_extension() -> None:
    with pytest.raises(AnsibleFilterError, match=r"'\.txt'"):
        status.status_report(RESULT, "r.txt")


def test_report_format_names_the_option() -> None:
    assert status.report_format("r.json", "status_report_path") == "json"
    with pytest.raises(AnsibleFilterError, match=r"^status_report_path: 'r\.html' has extension '\.html'"):
        status.report_format("r.html", "status_report_path")


def test_status_violations() -> None:
    assert status.status_violations(RESULT, ["stale_onboarding"]) == ["bob: stale_onboarding"]
    assert status.status_violations(RESULT, None) == []  # type: ignore[arg-type]


def test_report_path_problem() -> None:
    assert status.report_path_problem("/srv/r.md", "status_report_path") == ""
    assert status.report_path_problem("r.txt", "status_report_path") == (
        "status_report_path: 'r.txt' has extension '.txt'; give a file ending in .md, .csv, .json"
    )
