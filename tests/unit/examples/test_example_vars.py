# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The README runs the playbooks with examples/<role>[-<variant>]-vars.yml: each file must pass its role's
argument spec (roles/<role>/meta/argument_specs.yml), as the role's entry point checks it before any task."""

from __future__ import annotations

import pathlib
import typing as t

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

ROOT = pathlib.Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples").glob("*-vars.yml"))


def role_of(path: pathlib.Path) -> str:
    return path.name.split("-", 1)[0]


def test_every_role_with_inputs_has_an_example() -> None:
    assert {role_of(p) for p in EXAMPLES} >= {"bootstrap", "onboard", "promote", "status", "adopt"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_an_example_passes_its_roles_argument_spec(path: pathlib.Path) -> None:
    spec_file = ROOT / "roles" / role_of(path) / "meta" / "argument_specs.yml"
    options: dict[str, t.Any] = yaml.safe_load(spec_file.read_text())["argument_specs"]["main"]["options"]
    given = yaml.safe_load(path.read_text())

    result = ArgumentSpecValidator(options).validate(given)

    assert result.error_messages == []
    assert set(given) <= set(options), f"{path.name} sets inputs its role does not declare"
