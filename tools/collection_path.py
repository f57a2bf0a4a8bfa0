# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Print the folder of a collection (e.g. amazon.aws) that the `ansible` PyPI package installed."""

from __future__ import annotations

import importlib.util
import sys


def main() -> int:
    if len(sys.argv) != 2 or sys.argv[1].count(".") != 1:
        print("usage: collection_path.py NAMESPACE.NAME", file=sys.stderr)
        return 2
    spec = importlib.util.find_spec(f"ansible_collections.{sys.argv[1]}")
    if spec is None or not spec.submodule_search_locations:
        print(f"{sys.argv[1]} is not installed: install the `ansible` package (requirements/test.txt)", file=sys.stderr)
        return 1
    print(next(iter(spec.submodule_search_locations)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
