#!/usr/bin/python

# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_onboard_user_info
short_description: Where every IAM user stands in the MFA onboarding lifecycle
version_added: 0.3.0
description:
  - Reports, for every user of the onboarding regime (or of the account, or for the users named), its stage
    (V(onboarding), V(ready), V(promoted), V(expired), V(disabled), and V(unmanaged) or V(absent)), its console
    password, MFA devices, access keys, groups and policies, and the findings an auditor checks.
  - The regime is the members of the onboarding group, the users that the current-users policy is attached to
    (directly or through a group), and the expired and disabled users.
  - Its API calls grow with the pages of the account, not with its users. The account is read with a few
    account-wide calls, C(GetAccountAuthorizationDetails), C(ListUsers), IAM's credential report
    (C(GenerateCredentialReport), C(GetCredentialReport)) and C(ListVirtualMFADevices); then the members of the
    onboarding group are read live (C(GetLoginProfile) and C(ListMFADevices) each), as are the MFA devices of users
    whose credential report says MFA is active but who hold no virtual MFA device (their FIDO or hardware devices),
    and users that the credential report does not list yet (with C(ListAccessKeys) too).
    For an account of 1,000 users of whom 50 are onboarding, that is about 106 calls.
  - IAM regenerates its credential report at most every four hours, so what it says (console passwords, active
    access keys and whether MFA is active, for users outside the onboarding group) can be up to four hours old.
    RV(sources) says when each source was read and when the credential report was generated.
  - With O(names), each named user is read live instead, with its inline policies, access keys and their last use,
    and the credential report is not read.
  - Nothing is ever changed.
author:
  - mfa_onboarding.iam developers (@mfa-onboarding)
options:
  names:
    description:
      - Only these users, read live, in this order. A user that does not exist is reported with stage V(absent);
        that is not a failure.
      - Each is 1 to 64 ASCII letters, digits and C(+=,.@_-); a name listed twice (in any case, as IAM compares
        them) is refused.
      - When not set, every user of the regime (or, with O(scope=account), of the account) is reported.
    type: list
    elements: str
    version_added: 0.3.0
  scope:
    description:
      - V(regime) reports the users of the regime only.
      - V(account) reports every IAM user of the account; those outside the regime have stage V(unmanaged) and get
        only the two CIS findings, V(unguarded_console_password) and V(access_key_before_mfa).
      - Does not apply with O(names).
    type: str
    choices: [regime, account]
    default: regime
    version_added: 0.3.0
  stale_after_days:
    description:
      - A user still onboarding whose temporary password is older than this many days and has never been used
        gets the finding V(stale_onboarding). Must be 0 or more.
      - The default is the lifetime of an IAM Identity Center invitation.
    type: int
    default: 7
    version_added: 0.3.0
  onboarding_group:
    description:
      - The group of users who have not registered MFA yet.
      - A group that does not exist is not a failure; it is reported in RV(regime) with a warning.
    type: str
    default: NotYetLoginUsers
    version_added: 0.3.0
  current_users_policy:
    description:
      - The policy every promoted user gets, by name or ARN. A name means the account's customer-managed policy of
        that name at path C(/).
      - A policy that does not exist is not a failure; it is reported in RV(regime) with a warning.
    type: str
    default: MFARequiredForCurrentUsers
    version_added: 0.3.0
notes:
  - "The findings: V(unguarded_console_password), a console password with neither MFA nor a guard (CIS AWS
    Foundations 1.10); V(access_key_before_mfa), an active access key on a user without MFA (CIS 1.11);
    V(stale_onboarding), onboarding longer than O(stale_after_days) with the temporary password never used (CIS
    1.12); V(ready_not_promoted), MFA registered but still in the onboarding group; V(grants_before_mfa), a user of
    the regime without MFA that holds more than the guards (another group, another attached policy, or an inline
    policy); V(pending_handover), a temporary password whose handover is marked pending (tag
    C(mfa-onboarding:handover)); V(cannot_enroll), a user of the regime without MFA (and not disabled) that the
    onboarding group's policies do not allow C(iam:ChangePassword) and C(iam:EnableMFADevice) on its own ARN (the
    rule by which M(mfa_onboarding.iam.iam_onboard_user) refuses to onboard a user), typically a user at a path
    other than C(/) under the official policies' C(user/${aws:username}), so that it can never register MFA."
  - V(cannot_enroll) is decided from the documents of the onboarding group's customer-managed and inline policies
    (their statements that allow or, without a condition, deny those two actions, with C(${aws:username})
    substituted); when the group has none, from the user's path alone.
  - The module needs read access to IAM only, C(iam:GetAccountAuthorizationDetails), C(iam:ListUsers),
    C(iam:GenerateCredentialReport), C(iam:GetCredentialReport), C(iam:ListVirtualMFADevices),
    C(iam:GetLoginProfile), C(iam:ListMFADevices) and C(iam:ListAccessKeys); with O(names) also C(iam:GetUser),
    C(iam:ListGroupsForUser), C(iam:ListAttachedUserPolicies), C(iam:ListUserPolicies) and
    C(iam:GetAccessKeyLastUsed); C(iam:GetPolicy) when O(current_users_policy) is an AWS-managed policy's ARN.
    A denied call fails the module, naming the action.
  - moto, the local AWS stand-in, never records when a password was last used and dates every credential report
    2015-02-02.
seealso:
  - module: mfa_onboarding.iam.iam_onboard_user
  - module: amazon.aws.iam_user_info
extends_documentation_fragment:
  - mfa_onboarding.iam._attributes
  - mfa_onboarding.iam._attributes.info_module
  - mfa_onboarding.iam._attributes.action_group
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Where every user of the regime stands
  mfa_onboarding.iam.iam_onboard_user_info:
    scope: regime
  register: status

- name: Fail when a temporary password has gone unused for longer than a week
  ansible.builtin.assert:
    that: status.summary.findings.stale_onboarding == 0
    fail_msg: >-
      Stale onboarding: {{ status.users | selectattr('findings', 'contains', 'stale_onboarding')
      | map(attribute='name') | join(', ') }}

- name: Every IAM user of the account, with the CIS findings of those outside the regime
  mfa_onboarding.iam.iam_onboard_user_info:
    scope: account
    stale_after_days: 14

- name: Two users, read live, with their access keys and when each was last used
  mfa_onboarding.iam.iam_onboard_user_info:
    names:
      - alice
      - bob
"""

RETURN = r"""
users:
  description:
    - One entry per user, sorted by name (case-insensitively), or with O(names) in their order.
    - Dates are ISO 8601 in UTC.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The user name.
      type: str
      sample: alice
    arn:
      description: The user's ARN (V(null) for a user that does not exist).
      type: str
      sample: arn:aws:iam::123456789012:user/alice
    path:
      description: The user's path.
      type: str
      sample: /
    stage:
      description:
        - V(onboarding) (in the onboarding group, no MFA), V(ready) (in the onboarding group, MFA registered),
          V(promoted) (out of the onboarding group, current-users policy attached to it or to one of its groups),
          V(expired) (its unused temporary password deleted), V(disabled) (its credentials removed or deactivated),
          V(unmanaged) (outside the regime, with O(scope=account)) or V(absent) (a named user that does not exist).
      type: str
      sample: onboarding
    created:
      description: When the user was created.
      type: str
      sample: "2026-11-28T08:00:00+00:00"
    console_password:
      description: Whether the user has a console password.
      type: bool
      sample: true
    password_created:
      description:
        - When the console password was created (read live), or last changed (from the credential report, for
          users read from it); V(null) without a console password.
      type: str
      sample: "2026-11-28T08:00:00+00:00"
    password_last_used:
      description: When the user last signed in with a password; V(null) if it never did.
      type: str
      sample: null
    days_in_onboarding:
      description:
        - Whole days since the temporary password was created (or, without one, since the user was created), for
          onboarding, ready and expired users; V(null) for the others.
      type: int
      sample: 3
    mfa_devices:
      description: The user's MFA devices.
      type: list
      elements: dict
      contains:
        serial_number:
          description: The device's serial number, an ARN for virtual and FIDO devices.
          type: str
          sample: arn:aws:iam::123456789012:mfa/alice
        kind:
          description:
            - V(virtual) (C(arn:...:mfa/...)), V(fido) (C(arn:...:u2f/...)) or V(hardware) (a plain serial number
              such as C(GAHT12345678), or any other device).
          type: str
          sample: virtual
        enable_date:
          description: When the device was enabled for the user.
          type: str
          sample: "2026-11-28T09:00:00+00:00"
    active_access_keys:
      description: How many active access keys the user has (V(null) for a user that does not exist).
      type: int
      sample: 0
    access_keys:
      description: Each access key of the user.
      returned: with O(names)
      type: list
      elements: dict
      contains:
        id:
          description: The access key id.
          type: str
          sample: AKIAIOSFODNN7EXAMPLE
        status:
          description: V(Active) or V(Inactive).
          type: str
          sample: Active
        create_date:
          description: When the key was created.
          type: str
          sample: "2026-11-28T08:00:00+00:00"
        last_used:
          description: When the key was last used; V(null) if never.
          type: str
          sample: null
    groups:
      description: The groups the user is a member of.
      type: list
      elements: str
      sample: ["NotYetLoginUsers"]
    managed_policies:
      description: The ARNs of the managed policies attached to the user itself.
      type: list
      elements: str
      sample: []
    inline_policies:
      description: The names of the user's inline policies.
      type: list
      elements: str
      sample: []
    tags:
      description: The user's tags.
      type: dict
      sample: {"mfa-onboarding:handover": "delivered", "team": "data"}
    profile:
      description: The promotion profile recorded at onboarding (tag C(mfa-onboarding:profile)), or V(null).
      type: str
      sample: developer
    handover:
      description:
        - V(pending) or V(delivered), as the tag C(mfa-onboarding:handover) records the handover of the temporary
          password; V(none) without that mark (V(null) for a user that does not exist).
      type: str
      sample: delivered
    findings:
      description:
        - What an auditor checks, sorted; see the notes. Empty when there is nothing to report.
      type: list
      elements: str
      sample: ["stale_onboarding"]
    read_live:
      description:
        - Whether the user's console password and MFA devices were read live, rather than from the credential
          report and the list of virtual MFA devices.
      type: bool
      sample: true
summary:
  description: How many users are reported, per stage and per finding (users with that finding); every key is present.
  returned: always
  type: dict
  contains:
    users:
      description: How many users are reported.
      type: int
      sample: 3
    stages:
      description: Users per stage, for each of V(onboarding), V(ready), V(promoted), V(expired), V(disabled),
        V(unmanaged) and V(absent).
      type: dict
      sample: {"onboarding": 1, "ready": 1, "promoted": 1, "expired": 0, "disabled": 0, "unmanaged": 0, "absent": 0}
    findings:
      description: Users per finding, for each finding.
      type: dict
      sample:
        unguarded_console_password: 0
        access_key_before_mfa: 0
        stale_onboarding: 1
        ready_not_promoted: 1
        grants_before_mfa: 0
        pending_handover: 0
        cannot_enroll: 0
unassigned_virtual_mfa_devices:
  description: The serial numbers of the account's virtual MFA devices that are not assigned to any user, sorted.
  returned: always
  type: list
  elements: str
  sample: ["arn:aws:iam::123456789012:mfa/carol"]
regime:
  description: The guards, as the account holds them.
  returned: always
  type: dict
  contains:
    onboarding_group:
      description: The onboarding group.
      type: dict
      contains:
        name:
          description: The group's name, as IAM spells it when it exists.
          type: str
          sample: NotYetLoginUsers
        arn:
          description: The group's ARN; V(null) when it does not exist.
          type: str
          sample: arn:aws:iam::123456789012:group/NotYetLoginUsers
        exists:
          description: Whether the group exists.
          type: bool
          sample: true
        guards:
          description:
            - Whether the group holds a customer-managed or inline policy with the deny-unless-MFA statement (the
              shape M(mfa_onboarding.iam.mfa_onboarding_policy) recognises). A group that does not guards nobody;
              its members' console passwords are reported as V(unguarded_console_password), and a warning says so.
          type: bool
          sample: true
        grants_beyond_the_guard:
          description: The group's policies without the deny-unless-MFA statement (ARNs, or C(inline policy NAME)); they
            grant more than the guard to every member before MFA, and a warning says so.
          type: list
          elements: str
          sample: []
    current_users_policy:
      description: The current-users policy.
      type: dict
      contains:
        arn:
          description:
            - The policy's ARN; V(null) only when a name was given and the account holds nothing that says its id.
          type: str
          sample: arn:aws:iam::123456789012:policy/MFARequiredForCurrentUsers
        exists:
          description: Whether the policy exists.
          type: bool
          sample: true
        guards:
          description:
            - Whether the policy is a customer-managed policy of the account that carries the deny-unless-MFA
              statement. One that does not guards nobody, and a warning says so.
          type: bool
          sample: true
sources:
  description:
    - How old the data is. Each source is V(null) when it was not read.
  returned: always
  type: dict
  contains:
    read_at:
      description: When the last source was read.
      type: str
      sample: "2026-12-01T10:00:01+00:00"
    account_authorization_details:
      description: C(GetAccountAuthorizationDetails), the users' groups, policies and tags and the groups' policies.
      type: dict
      contains:
        read_at:
          description: When it was read.
          type: str
          sample: "2026-12-01T10:00:00+00:00"
    users:
      description: C(ListUsers), when each password was last used; not read with O(names).
      type: dict
      contains:
        read_at:
          description: When it was read.
          type: str
          sample: "2026-12-01T10:00:00+00:00"
    credential_report:
      description:
        - IAM's credential report, for console passwords, active access keys and MFA of the users not read live.
        - IAM regenerates it at most every four hours, so it can be up to four hours old. Not read with O(names).
      type: dict
      contains:
        read_at:
          description: When it was read.
          type: str
          sample: "2026-12-01T10:00:00+00:00"
        generated_time:
          description: When IAM generated it.
          type: str
          sample: "2026-12-01T08:12:00+00:00"
        age_seconds:
          description: How old it was when the module reported, in seconds.
          type: int
          sample: 6480
    virtual_mfa_devices:
      description: C(ListVirtualMFADevices).
      type: dict
      contains:
        read_at:
          description: When it was read.
          type: str
          sample: "2026-12-01T10:00:00+00:00"
    live_reads:
      description: The users read live, one by one.
      type: dict
      contains:
        read_at:
          description: When the last of them was read.
          type: str
          sample: "2026-12-01T10:00:01+00:00"
        users:
          description: How many users were read live.
          type: int
          sample: 50
    note:
      description: What is read live and what can be up to four hours old.
      type: str
      sample: IAM regenerates its credential report at most every four hours, so it can be up to four hours old...
"""

import datetime

from ansible.module_utils.common.warnings import warn
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe_account import ReadError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe_account import read_account
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._status import regime_warnings
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._status import report
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._status import validate_params
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import ValidationError


def main():
    argument_spec = dict(
        names=dict(type="list", elements="str"),
        scope=dict(type="str", default="regime", choices=["regime", "account"]),
        stale_after_days=dict(type="int", default=7),
        onboarding_group=dict(type="str", default="NotYetLoginUsers"),
        current_users_policy=dict(type="str", default="MFARequiredForCurrentUsers"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        validate_params(params)
    except ValidationError as e:
        module.fail_json(msg=str(e))

    client = module.client("iam")
    try:
        account = read_account(
            client, params["onboarding_group"], params["current_users_policy"], names=params["names"]
        )
    except AnsibleIAMError as e:
        module.fail_json_aws_error(e)
    except ReadError as e:
        module.fail_json(msg=str(e))

    now = datetime.datetime.now(datetime.timezone.utc)
    result = report(
        account, now, scope=params["scope"], names=params["names"], stale_after_days=params["stale_after_days"]
    )
    for warning in regime_warnings(account, params["onboarding_group"], params["current_users_policy"]):
        # Not module.warn(): amazon.aws's AnsibleAWSModule.warn makes ansible-core 2.19 print a deprecation.
        warn(warning)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
