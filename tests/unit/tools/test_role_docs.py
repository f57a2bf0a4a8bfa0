# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The README's role reference must be what the roles' argument specs say."""

from __future__ import annotations

import os

import pytest

from ansible_collections.mfa_onboarding.iam.tools import role_docs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_readme_holds_the_current_role_reference() -> None:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    assert role_docs.replace_in(readme, role_docs.reference()) == readme, (
        "README.md's role reference is stale: run `python tools/role_docs.py --write`"
    )


@pytest.mark.parametrize("role", role_docs.ROLES)
def test_every_input_of_every_role_is_listed(role: str) -> None:
    import yaml

    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    text = role_docs.role_reference(role)
    for name in options:
        assert f"| `{name}` |" in text


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("O(onboard_delivery=mail)", "`onboard_delivery=mail`"),
        ("C(group/mfa_onboarding.iam.aws) and V(none)", "`group/mfa_onboarding.iam.aws` and `none`"),
        ("a | b", "a \\| b"),
        (["one", "two"], "one two"),
    ],
)
def test_plain(markup: object, expected: str) -> None:
    assert role_docs.plain(markup) == expected
