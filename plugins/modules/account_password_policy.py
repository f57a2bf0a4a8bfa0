#!/usr/bin/python

# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: account_password_policy
short_description: Change only the named settings of the AWS account password policy
version_added: 0.1.0
description:
  - Reads the account password policy, changes only the settings given, and writes only when something differs.
  - IAM's C(UpdateAccountPasswordPolicy) resets every setting it is not given. This module always sends the whole
    merged policy, so every setting that is not named here is kept exactly as it was.
  - The MFA onboarding procedure needs O(allow_users_to_change_password=true); without it AWS attaches
    C(IAMUserChangePassword) to users created in the console with a required password reset.
  - When the account has no password policy yet and no setting is named, nothing is created.
  - When the account has no password policy yet, the new one is never weaker than AWS's built-in default (at
    least 8 characters and three of the four character classes, which the API cannot express); every setting not
    named gets the CIS AWS Foundations value, O(min_password_length=14), O(require_symbols), O(require_numbers),
    O(require_uppercase_characters) and O(require_lowercase_characters) all V(true), and
    O(password_reuse_prevention=24); O(max_password_age), O(hard_expiry) and O(allow_users_to_change_password)
    are off unless named. The named settings keep the values given, also when they are weaker (then the module
    warns, naming them). RV(floor_settings) lists the settings that got the CIS value, and a warning names them,
    in check mode too.
  - An existing policy is never raised to those values; only the named settings change.
author:
  - mfa_onboarding.iam developers (@mfa-onboarding)
options:
  min_password_length:
    description: Minimum length of a password, 6 to 128.
      A new policy has V(14) unless this is named.
    type: int
    version_added: 0.1.0
  require_symbols:
    description: Whether a password must contain at least one of the non-alphanumeric characters IAM accepts.
      V(true) in a new policy unless named.
    type: bool
    version_added: 0.1.0
  require_numbers:
    description: Whether a password must contain at least one digit.
      V(true) in a new policy unless named.
    type: bool
    version_added: 0.1.0
  require_uppercase_characters:
    description: Whether a password must contain at least one uppercase letter (A to Z).
      V(true) in a new policy unless named.
    type: bool
    version_added: 0.1.0
  require_lowercase_characters:
    description: Whether a password must contain at least one lowercase letter (a to z).
      V(true) in a new policy unless named.
    type: bool
    version_added: 0.1.0
  allow_users_to_change_password:
    description: Whether IAM users may change their own password.
    type: bool
    version_added: 0.1.0
  max_password_age:
    description: Days a password stays valid, 1 to 1095; V(0) means passwords never expire.
    type: int
    version_added: 0.1.0
  password_reuse_prevention:
    description: How many previous passwords a user may not reuse, 1 to 24; V(0) means no restriction.
      A new policy has V(24) unless this is named.
    type: int
    version_added: 0.1.0
  hard_expiry:
    description: Whether users whose password expired must ask an administrator to reset it.
    type: bool
    version_added: 0.1.0
  state:
    description:
      - V(present) merges the named settings into the policy.
      - V(absent) deletes the account password policy; the setting options must then not be given.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
seealso:
  - module: mfa_onboarding.iam.mfa_onboarding_policy
  - module: amazon.aws.iam_password_policy
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
extends_documentation_fragment:
  - mfa_onboarding.iam._attributes
  - mfa_onboarding.iam._attributes.action_group
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Let users change their own password, keeping every other setting
  mfa_onboarding.iam.account_password_policy:
    allow_users_to_change_password: true

- name: Require long passwords with digits and symbols
  mfa_onboarding.iam.account_password_policy:
    min_password_length: 16
    require_numbers: true
    require_symbols: true

- name: On an account without a password policy, create one with the CIS values, but 16 characters
  mfa_onboarding.iam.account_password_policy:
    allow_users_to_change_password: true
    min_password_length: 16
  register: password_policy

- name: Show which settings got the CIS AWS Foundations value (none when the account had a policy)
  ansible.builtin.debug:
    var: password_policy.floor_settings

- name: Remove the account password policy
  mfa_onboarding.iam.account_password_policy:
    state: absent
"""

RETURN = r"""
password_policy:
  description: The account password policy after the run; empty when the account has none.
  returned: always
  type: dict
  contains:
    min_password_length:
      description: Minimum password length.
      type: int
      sample: 14
    require_symbols:
      description: Whether a symbol is required.
      type: bool
      sample: true
    require_numbers:
      description: Whether a digit is required.
      type: bool
      sample: true
    require_uppercase_characters:
      description: Whether an uppercase letter is required.
      type: bool
      sample: true
    require_lowercase_characters:
      description: Whether a lowercase letter is required.
      type: bool
      sample: true
    allow_users_to_change_password:
      description: Whether users may change their own password.
      type: bool
      sample: true
    max_password_age:
      description: Days a password stays valid; V(0) for never.
      type: int
      sample: 90
    password_reuse_prevention:
      description: How many previous passwords cannot be reused; V(0) for no restriction.
      type: int
      sample: 5
    hard_expiry:
      description: Whether an expired password needs an administrator.
      type: bool
      sample: false
floor_settings:
  description:
    - The settings that got the CIS AWS Foundations value (or would, in check mode) because the account had no
      password policy and they were not named, in the order of the options.
    - Empty when the account had a policy (its settings are kept), when every such setting was named, or when
      nothing was named and no policy was created.
  returned: always
  type: list
  elements: str
  sample: [require_symbols, require_numbers, require_uppercase_characters, require_lowercase_characters,
    password_reuse_prevention]
  version_added: 0.3.0
below_floor:
  description:
    - The named settings of a policy created on an account without one (or that would be, in check mode) whose
      value is weaker than the CIS AWS Foundations value. They are kept, and a warning names them.
    - Empty when the account had a policy.
  returned: always
  type: list
  elements: str
  sample: [min_password_length]
  version_added: 0.3.0
"""

from ansible.module_utils.common.warnings import warn
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _iam
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import FIELDS
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import PasswordPolicyError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import below_floor
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import floor_messages
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import floor_settings
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import from_api
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import merge
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import update_request
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import validate


def ensure_present(client, requested, check_mode):
    """Merge the named settings. Returns (changed, settings after, diff, floor report)."""
    current = from_api(_iam.get_account_password_policy(client))
    if current is None and all(value is None for value in requested.values()):
        # Nothing named: AWS's built-in default stays, which is stronger than no policy at all.
        return False, {}, {"before": {}, "after": {}}, ([], [])
    merged = merge(current, requested)
    floor = (floor_settings(current, requested), below_floor(current, requested))
    diff = {"before": current or {}, "after": merged}
    if merged == current:
        return False, current, diff, floor
    if not check_mode:
        _iam.update_account_password_policy(client, update_request(merged))
    return True, merged, diff, floor


def ensure_absent(client, check_mode):
    current = from_api(_iam.get_account_password_policy(client))
    diff = {"before": current or {}, "after": {}}
    if current is None:
        return False, {}, diff, ([], [])
    if not check_mode:
        _iam.delete_account_password_policy(client)
    return True, {}, diff, ([], [])


def main():
    argument_spec = dict(
        min_password_length=dict(type="int", no_log=False),
        require_symbols=dict(type="bool"),
        require_numbers=dict(type="bool"),
        require_uppercase_characters=dict(type="bool"),
        require_lowercase_characters=dict(type="bool"),
        allow_users_to_change_password=dict(type="bool", no_log=False),
        max_password_age=dict(type="int", no_log=False),
        password_reuse_prevention=dict(type="int", no_log=False),
        hard_expiry=dict(type="bool"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    requested = {option: module.params[option] for option in FIELDS}
    try:
        validate(requested, module.params["state"])
    except PasswordPolicyError as e:
        module.fail_json(msg=str(e))

    client = module.client("iam")
    try:
        if module.params["state"] == "present":
            changed, settings, diff, (floored, weaker) = ensure_present(client, requested, module.check_mode)
        else:
            changed, settings, diff, (floored, weaker) = ensure_absent(client, module.check_mode)
    except AnsibleIAMError as e:
        module.fail_json_aws_error(e)

    for warning in floor_messages(floored, weaker, requested, module.check_mode):
        # Not module.warn(): amazon.aws 10's wrapper passes the warnings to exit_json a second time, which
        # ansible-core 2.19 reports as deprecated; core returns the recorded warnings by itself.
        warn(warning)
    result = {
        "changed": changed,
        "password_policy": settings or {},
        "floor_settings": floored,
        "below_floor": weaker,
    }
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
