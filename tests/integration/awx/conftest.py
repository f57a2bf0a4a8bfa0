# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures of the AWX-side tests: the repository root, the collections root, a moto server without recording."""

from __future__ import annotations

import os
import typing as t

import pytest

from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DOCS = os.path.join(ROOT, "docs", "awx")


@pytest.fixture
def collections_root() -> str:
    """The root that holds ansible_collections/mfa_onboarding/iam, amazon/aws and community/general."""
    root = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep)[0]
    playbook = os.path.join(root, "ansible_collections", "mfa_onboarding", "iam", "playbooks", "onboard.yml")
    if not root or not os.path.isfile(playbook):
        pytest.fail(f"ANSIBLE_COLLECTIONS_PATH must name the root that holds mfa_onboarding.iam (got {root!r})")
    return root


@pytest.fixture
def moto() -> t.Iterator[MotoServer]:
    """A moto server on loopback without request recording (a recording would hold passwords), with the AWS-managed
    policies that the promote-ready template's profiles name."""
    with MotoServer(record=False, extra_env={"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}) as server:
        yield server
