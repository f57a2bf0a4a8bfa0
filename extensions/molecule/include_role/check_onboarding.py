# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Check with boto3 that each named user is only onboarding: the onboarding group, nothing attached, a console
password, no MFA device.

    python check_onboarding.py --state-file MOTO_STATE USER...

Prints every failed check and a count; exits 1 when a check failed.
"""

from __future__ import annotations

import argparse
import sys

from ansible_collections.mfa_onboarding.iam.tests.support import scenario as lib
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import iam_client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-file", required=True)
    parser.add_argument("users", nargs="+")
    args = parser.parse_args()
    checks = lib.Checks("onboarding")
    iam = iam_client(lib.moto_url(args.state_file))
    for name in args.users:
        lib.check_onboarding(checks, iam, name)
    return checks.done()


if __name__ == "__main__":
    sys.exit(main())
