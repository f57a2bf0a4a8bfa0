# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Simulate each named owner's first sign-in, as the handover note tells them to do it.

For each user: read the note, check that its temporary password is the console password IAM holds (moto
reveals it), replace the password (UpdateLoginProfile: moto has no ChangePassword), check that IAM now holds the
new one, then create a virtual MFA device and enable it with two consecutive TOTP codes (pyotp). Prints a JSON
summary without any password; exits 1 naming what went wrong.

    python first_sign_in.py --state-file MOTO_STATE --handover-dir DIR USER...
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import typing as t

from ansible_collections.mfa_onboarding.iam.tests.support import scenario as lib
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import iam_client
from ansible_collections.mfa_onboarding.iam.tests.support.sign_in import register_mfa


def new_password() -> str:
    # Upper, lower, digit and symbol, long enough for any password policy the scenario sets.
    return "N3w-" + secrets.token_urlsafe(18) + "!a"


def sign_in(iam: t.Any, url: str, handover_dir: str, name: str) -> dict[str, object]:
    with open(os.path.join(handover_dir, f"{name}.txt"), encoding="utf-8") as handle:
        note = lib.handover_fields(handle.read())
    if note["password"] is None:
        raise RuntimeError(f"{name}: the note states no temporary password")
    if lib.stored_passwords(url).get(name) != note["password"]:
        raise RuntimeError(f"{name}: the note's temporary password is not the console password IAM holds")

    password = new_password()
    iam.update_login_profile(UserName=name, Password=password, PasswordResetRequired=False)
    if lib.stored_passwords(url).get(name) != password:
        raise RuntimeError(f"{name}: IAM does not hold the new password")

    serial = register_mfa(iam, name)
    return {"name": name, "password_changed": True, "mfa_device": serial}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-file", required=True, help="the moto server's state file")
    parser.add_argument("--handover-dir", required=True)
    parser.add_argument("users", nargs="+")
    args = parser.parse_args()
    url = lib.moto_url(args.state_file)
    iam = iam_client(url)
    done = []
    for name in args.users:
        try:
            done.append(sign_in(iam, url, args.handover_dir, name))
        except (OSError, RuntimeError) as error:
            print(f"first sign-in failed: {error}", file=sys.stderr)
            return 1
    print(json.dumps(done))
    return 0


if __name__ == "__main__":
    sys.exit(main())
