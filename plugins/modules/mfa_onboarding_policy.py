#!/usr/bin/python

# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mfa_onboarding_policy
short_description: Manage one of the two customer-managed policies that make MFA mandatory
version_added: 0.1.0
description:
  - Creates, updates or deletes one of the two policies of the MFA onboarding procedure.
  - V(first_login) is the policy of the C(NotYetLoginUsers) group. It is the official AWS policy
    I(AWS Allows MFA-Authenticated IAM Users to Manage Their Own Credentials on the Security Credentials Page)
    with C(iam:ChangePassword) and C(iam:GetAccountPasswordPolicy) exempted from its deny-unless-MFA statement,
    so that a new user can replace the temporary password before an MFA device exists.
  - V(current_users) is the official policy unchanged. It is attached to users once they have registered MFA.
  - With O(self_enrollment=guarded), each policy gets one more deny statement, so that nobody can register an MFA
    device for a user with that user's long-term access key (see the option).
  - The edits are applied to whatever base document is given and never duplicated. The deny-unless-MFA statement
    is found by its shape (C(Effect=Deny), a C(NotAction) list and the condition C(BoolIfExists)
    C(aws:MultiFactorAuthPresent=false)), not by its C(Sid). A base document without such a statement is refused.
  - The document is compared with the policy's default version regardless of statement and list order. A
    different document becomes a new default version; when the policy already has five versions, the oldest
    version that is not the default is deleted first.
  - The bundled base document is the official text published on 2022-12-16 in the AWS IAM User Guide
    (C(reference_policies_examples_aws_my-sec-creds-self-manage)), plus C(iam:GetAccessKeyLastUsed) and
    C(iam:GetMFADevice), which AWS added to the page in 2023.
author:
  - mfa_onboarding.iam developers (@mfa-onboarding)
options:
  stage:
    description:
      - Which of the two policies, and so which edits apply.
      - V(first_login) exempts C(iam:ChangePassword) and C(iam:GetAccountPasswordPolicy) from the MFA requirement.
      - V(current_users) makes sure they are not exempt; a wildcard C(NotAction) entry that exempts them is refused.
    type: str
    required: true
    choices: [first_login, current_users]
    version_added: 0.1.0
  name:
    description:
      - Name of the policy.
      - When not set, V(MFARequiredOnlyForTheFirstLogin) for O(stage=first_login) and
        V(MFARequiredForCurrentUsers) for O(stage=current_users).
    type: str
    version_added: 0.1.0
  description:
    description:
      - Description of a new policy. IAM descriptions cannot be changed, so on an existing policy a different
        description gives a warning and changes nothing.
      - When not set, a new policy is described as the seed does,
        C(Created YYYY-MM-DD - ... - AWS Allows MFA-Authenticated IAM Users to Manage Their Own Credentials on the
        My Security Credentials Page), and an existing policy's description is not checked.
    type: str
    version_added: 0.1.0
  path:
    description:
      - Path of a new policy. When not set, V(/).
      - IAM cannot move a policy to another path, so on an existing policy a different path gives a warning and
        changes nothing.
    type: str
    version_added: 0.1.0
  document:
    description:
      - The base policy document, as a dictionary or a JSON string, for example the text copied from the official
        AWS page. The stage's edits are applied to it.
      - When not set, the copy bundled with the collection (see the description above for its source and date).
    type: json
    version_added: 0.1.0
  mfa_device_scope:
    description:
      - Which virtual MFA devices a user may create, in the C(Resource) of the statement that allows
        C(iam:CreateVirtualMFADevice).
      - V(any) is C(arn:aws:iam::*:mfa/*), as AWS requires since a user may own several MFA devices with names
        of their choosing.
      - V(own) is C(arn:aws:iam::*:mfa/${aws:username}), the seed's stricter option; users must then name their
        device after themselves.
    type: str
    choices: [any, own]
    default: any
    version_added: 0.1.0
  self_enrollment:
    description:
      - Who may register an MFA device for a user who has none, and how.
      - V(official) keeps the official text. Its deny-unless-MFA statement exempts the MFA setup actions and uses
        C(BoolIfExists), which holds when the condition key is absent. A long-term access key sends no
        C(aws:MultiFactorAuthPresent) key at all. So whoever holds a user's access key may, without MFA, call
        C(iam:CreateVirtualMFADevice) and C(iam:EnableMFADevice) on that user and then mint an MFA session with
        C(sts:GetSessionToken), which no policy can deny.
      - V(guarded) closes that gap with one more statement, which the module owns and which has a stable C(Sid).
        For O(stage=first_login), C(DenyMFADeviceChangesWithLongTermKey) denies creating, enabling, resyncing,
        deactivating and deleting MFA devices when C(aws:MultiFactorAuthPresent) is absent (condition C(Null)).
        A user still registers the first device from a console session, which carries the key.
        For O(stage=current_users), C(DenyMFADeviceChangesWithoutMFA) denies the same actions unless the request
        is authenticated with MFA (C(BoolIfExists) C(aws:MultiFactorAuthPresent=false)).
      - The trade-off of V(guarded) is that a promoted user who lost its last MFA device cannot register a new one
        itself, because it has no MFA. An operator re-enrols it by onboarding it again.
      - Statements that carry one of these two C(Sid) values in a base document belong to the module.
        V(guarded) replaces them, and V(official) removes them, so switching back restores the official text.
        A deny-unless-MFA statement that carries one of them is refused.
      - Changing the value on an existing policy makes a new default version, like any other change of the document.
    type: str
    choices: [official, guarded]
    default: official
    version_added: 0.3.0
  state:
    description:
      - V(present) creates or updates the policy.
      - V(absent) deletes it and all its versions; a policy that is still attached is refused with an error that
        names the groups, users and roles it is attached to.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
notes:
  - In check mode the module reads the policy and predicts the change without writing. For a policy that does
    not exist yet, the returned RV(policy.arn) is the ARN it would get (from C(sts:GetCallerIdentity)), and
    RV(policy.policy_id) and the dates are V(null).
seealso:
  - module: mfa_onboarding.iam.account_password_policy
  - module: amazon.aws.iam_managed_policy
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
- name: Create the first-login policy from the bundled official document
  mfa_onboarding.iam.mfa_onboarding_policy:
    stage: first_login

- name: Create the current-users policy
  mfa_onboarding.iam.mfa_onboarding_policy:
    stage: current_users

- name: Build the first-login policy from a document copied from the AWS page, own MFA devices only
  mfa_onboarding.iam.mfa_onboarding_policy:
    stage: first_login
    name: MFARequiredOnlyForTheFirstLogin
    document: "{{ lookup('ansible.builtin.file', 'my-sec-creds-self-manage.json') }}"
    mfa_device_scope: own

- name: Both policies with self-enrollment guarded (no device registration with a long-term access key)
  mfa_onboarding.iam.mfa_onboarding_policy:
    stage: "{{ item }}"
    self_enrollment: guarded
  loop:
    - first_login
    - current_users

- name: Delete the current-users policy (fails while it is attached)
  mfa_onboarding.iam.mfa_onboarding_policy:
    stage: current_users
    state: absent
"""

RETURN = r"""
policy:
  description: The policy after the run (before it, for O(state=absent)); empty when there is no policy.
  returned: always
  type: dict
  contains:
    arn:
      description: The policy's ARN.
      type: str
      sample: arn:aws:iam::123456789012:policy/MFARequiredOnlyForTheFirstLogin
    name:
      description: The policy's name.
      type: str
      sample: MFARequiredOnlyForTheFirstLogin
    policy_id:
      description: The policy's stable id.
      type: str
      sample: ANPAEXAMPLEEXAMPLE123
    path:
      description: The policy's path.
      type: str
      sample: /
    description:
      description: The policy's description, where known (it is read only when O(description) is set).
      type: str
      sample: Created 2026-11-28 - Copied from the official document - AWS Allows MFA-Authenticated ...
    default_version_id:
      description: The id of the default version.
      type: str
      sample: v2
    attachment_count:
      description: How many groups, users and roles the policy is attached to.
      type: int
      sample: 1
    create_date:
      description: When the policy was created (ISO 8601).
      type: str
      sample: "2026-11-28T08:00:00+00:00"
    update_date:
      description: When the policy was last updated (ISO 8601).
      type: str
      sample: "2026-11-28T08:00:00+00:00"
    document:
      description: The default version's policy document.
      type: dict
      sample: {"Version": "2012-10-17", "Statement": []}
"""

import datetime

from ansible.module_utils.common.warnings import warn
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.iam import get_aws_account_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _iam
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._managed_policy import DEFAULT_NAMES
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._managed_policy import PolicyInUseError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._managed_policy import attachment_summary
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._managed_policy import default_description
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._managed_policy import policy_result
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._managed_policy import version_to_prune
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import PolicyDocumentError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import dump
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import official_document
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import render
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._policy_document import same_document
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import ValidationError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_description
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_name
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_path


def find_policy(client, name):
    for policy in _iam.list_local_policies(client):
        if policy["PolicyName"] == name:
            return policy
    return None


def ensure_present(client, name, path, description, new_description, desired, check_mode, predict_arn):
    """Create the policy or give it a new default version. Returns (changed, policy, diff, warnings).

    path and description are None when the operator did not set them; only set ones are checked against an
    existing policy. A new policy gets path or /, and new_description. predict_arn() gives the ARN a new policy
    would get; it is called in check mode only.
    """
    warnings = []
    policy = find_policy(client, name)
    if policy is None:
        new = {
            "PolicyName": name,
            "Path": path or "/",
            "Description": new_description,
            "DefaultVersionId": "v1",
            "AttachmentCount": 0,
        }
        diff = {"before": {}, "after": {"name": name, "path": new["Path"], "document": desired}}
        if check_mode:
            new["Arn"] = predict_arn()
        else:
            new = _iam.create_policy(client, name, new["Path"], dump(desired), new_description)
        return True, policy_result(new, desired), diff, warnings

    arn = policy["Arn"]
    if path is not None and path != policy["Path"]:
        warnings.append(
            f"policy {name} exists at path {policy['Path']}; IAM cannot move a policy, so path {path} was not applied"
        )
    if description is not None:
        policy = _iam.get_policy(client, arn) or policy
        if policy.get("Description", "") != description:
            warnings.append(
                f"policy {name} has the description {policy.get('Description', '')!r}; IAM descriptions are immutable, "
                "so the requested description was not applied"
            )
    current = _iam.get_policy_document(client, arn, policy["DefaultVersionId"])
    before = {"name": name, "path": policy["Path"], "document": current}
    if same_document(current, desired):
        return False, policy_result(policy, current), {"before": before, "after": before}, warnings

    diff = {"before": before, "after": dict(before, document=desired)}
    if check_mode:
        return True, policy_result(policy, desired), diff, warnings
    stale = version_to_prune(_iam.list_policy_versions(client, arn))
    if stale is not None:
        _iam.delete_policy_version(client, arn, stale)
    _iam.create_policy_version(client, arn, dump(desired))
    policy = _iam.get_policy(client, arn) or policy
    return True, policy_result(policy, desired), diff, warnings


def ensure_absent(client, name, check_mode):
    """Delete the policy and its versions unless it is attached. Returns (changed, policy, diff, warnings)."""
    policy = find_policy(client, name)
    if policy is None:
        return False, {}, {"before": {}, "after": {}}, []
    arn = policy["Arn"]
    if policy.get("AttachmentCount") or policy.get("PermissionsBoundaryUsageCount"):
        where = attachment_summary(_iam.list_entities_for_policy(client, arn)) or "as a permissions boundary"
        raise PolicyInUseError(f"policy {name} is still attached ({where}); detach it before deleting it")
    current = _iam.get_policy_document(client, arn, policy["DefaultVersionId"])
    diff = {"before": {"name": name, "path": policy["Path"], "document": current}, "after": {}}
    if not check_mode:
        for version in _iam.list_policy_versions(client, arn):
            if not version.get("IsDefaultVersion"):
                _iam.delete_policy_version(client, arn, version["VersionId"])
        _iam.delete_policy(client, arn)
    return True, policy_result(policy, current), diff, []


def predicted_arn(module, name, path):
    account_id, partition = get_aws_account_info(module)
    return f"arn:{partition}:iam::{account_id}:policy{path or '/'}{name}"


def main():
    argument_spec = dict(
        stage=dict(type="str", required=True, choices=["first_login", "current_users"]),
        name=dict(type="str"),
        description=dict(type="str"),
        path=dict(type="str"),
        document=dict(type="json"),
        mfa_device_scope=dict(type="str", default="any", choices=["any", "own"]),
        self_enrollment=dict(type="str", default="official", choices=["official", "guarded"]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    stage = params["stage"]
    name = params["name"] if params["name"] is not None else DEFAULT_NAMES[stage]

    try:
        validate_name("policy", name)
        validate_path(params["path"])
        validate_description(params["description"])
        if params["state"] == "present":
            base = params["document"] if params["document"] is not None else official_document()
            desired = render(base, stage, params["mfa_device_scope"], params["self_enrollment"])
    except (ValidationError, PolicyDocumentError) as e:
        module.fail_json(msg=str(e))

    client = module.client("iam")
    try:
        if params["state"] == "present":
            today = datetime.datetime.now(datetime.timezone.utc).date()
            changed, policy, diff, warnings = ensure_present(
                client,
                name,
                params["path"],
                params["description"],
                params["description"] or default_description(stage, today),
                desired,
                module.check_mode,
                lambda: predicted_arn(module, name, params["path"]),
            )
        else:
            changed, policy, diff, warnings = ensure_absent(client, name, module.check_mode)
    except PolicyInUseError as e:
        module.fail_json(msg=str(e))
    except AnsibleIAMError as e:
        module.fail_json_aws_error(e)

    for warning in warnings:
        # Not module.warn(): amazon.aws 10's wrapper passes the warnings to exit_json a second time, which
        # ansible-core 2.19 reports as deprecated; core returns the recorded warnings by itself.
        warn(warning)
    result = {"changed": changed, "policy": policy}
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
