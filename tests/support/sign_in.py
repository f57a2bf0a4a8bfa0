# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a new IAM user does at the first sign-in, simulated with boto3 for the demo, the scenarios and the tests.

moto has no ChangePassword, so UpdateLoginProfile stands in for it; the virtual MFA device is enabled with two
consecutive TOTP codes computed with pyotp from the device's seed (moto accepts any codes; AWS would not).
"""

from __future__ import annotations

import time
import typing as t

import pyotp


def register_mfa(iam: t.Any, user: str, device: str | None = None) -> str:
    """Create and enable a virtual MFA device for user; returns its serial number (ARN)."""
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName=device or user)["VirtualMFADevice"]
    seed = created["Base32StringSeed"]
    totp = pyotp.TOTP(seed.decode() if isinstance(seed, bytes) else seed)
    now = time.time()
    iam.enable_mfa_device(
        UserName=user,
        SerialNumber=created["SerialNumber"],
        AuthenticationCode1=totp.at(now - totp.interval),
        AuthenticationCode2=totp.at(now),
    )
    return str(created["SerialNumber"])


def first_sign_in(iam: t.Any, user: str, new_password: str) -> str:
    """The owner replaces the temporary password and registers an MFA device; returns the device's serial."""
    iam.update_login_profile(UserName=user, Password=new_password, PasswordResetRequired=False)
    return register_mfa(iam, user)
