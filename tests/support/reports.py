# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where a suite leaves a small table of its figures for the operator to quote (`make` runs pytest without -s and
with xdist, so printed output may not be shown): build/reports/ of the checkout, also when the tests run from the
collection copy that `make layout` puts below build/ (or the directory named by MFA_ONBOARDING_REPORTS)."""

from __future__ import annotations

import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]  # the collection: tests/support/reports.py


def directory() -> pathlib.Path:
    """build/reports of the checkout (created if missing)."""
    named = os.environ.get("MFA_ONBOARDING_REPORTS")
    if named:
        path = pathlib.Path(named)
    else:
        # The copy is build/collections/ansible_collections/mfa_onboarding/iam.
        in_copy = len(ROOT.parents) > 3 and ROOT.parents[3].name == "build" and ROOT.parents[2].name == "collections"
        path = (ROOT.parents[3] if in_copy else ROOT / "build") / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write(name: str, text: str) -> pathlib.Path:
    """Write one report (replacing an older one of the same name); its path."""
    path = directory() / name
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return path
