#!/usr/bin/python

# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_onboard_user
short_description: Put an IAM user into its place in the MFA onboarding lifecycle
version_added: 0.1.0
description:
  - O(state=onboarding) creates the user, makes it a member of the onboarding group, and gives it a temporary
    console password that must be reset at the first sign-in. Until the user has registered an MFA device, the
    onboarding group's policy lets it do nothing but change that password and register the device.
  - O(state=promoted) checks that the user has registered an MFA device, attaches the current-users policy,
    grants the requested groups and managed policies, and only then removes the user from the onboarding group.
    A user without an MFA device is refused and nothing changes.
  - The calls are ordered so that no credential is ever unguarded, even if the run is killed between two calls
    (C(CreateUser), C(AddUserToGroup), C(CreateLoginProfile) for onboarding; C(AttachUserPolicy) of the
    current-users policy, the requested permissions, C(RemoveUserFromGroup) for promotion). A rerun converges.
  - Every requested group and policy is resolved before the first write, so a typo never leaves a
    half-promoted user.
  - The stage is returned on every run, V(onboarding), V(ready) (onboarding with an MFA device registered) or
    V(promoted).
  - With O(users), many users are handled in one run, account-level reads once, per-user work in a small pool
    of O(concurrency) threads; one user's failure does not stop the others, and the module fails at the end
    naming them all.
  - The group and the policies are those that the M(mfa_onboarding.iam.mfa_onboarding_policy) module and the
    C(mfa_onboarding.iam.bootstrap) role create.
author:
  - mfa_onboarding.iam developers (@mfa-onboarding)
options:
  name:
    description:
      - The IAM user name, 1 to 64 ASCII letters, digits and C(+=,.@_-).
      - Required unless O(users) is given.
    type: str
    version_added: 0.1.0
  users:
    description:
      - Several users in one run, instead of O(name). Each item takes O(name) and, to override the module-level
        value for that user, O(path), O(tags), O(password), O(password_reset_required), O(groups) and
        O(managed_policies).
      - Results are returned in RV(users), in input order.
    type: list
    elements: dict
    version_added: 0.1.0
    suboptions:
      name:
        description: The IAM user name.
        type: str
        required: true
        version_added: 0.1.0
      path:
        description: Overrides O(path) for this user.
        type: str
        version_added: 0.1.0
      tags:
        description: Overrides O(tags) for this user.
        type: dict
        version_added: 0.1.0
      password:
        description: Overrides O(password) for this user.
        type: str
        version_added: 0.1.0
      password_reset_required:
        description: Overrides O(password_reset_required) for this user.
        type: bool
        version_added: 0.1.0
      reset_password:
        description: Overrides O(reset_password) for this user.
        type: bool
        version_added: 0.1.0
      groups:
        description: Overrides O(groups) for this user.
        type: list
        elements: str
        version_added: 0.1.0
      managed_policies:
        description: Overrides O(managed_policies) for this user.
        type: list
        elements: str
        aliases: [policies]
        version_added: 0.1.0
  concurrency:
    description:
      - With O(users), how many users are handled at the same time, from 1 to 10.
      - Each thread makes one IAM call at a time. IAM limits the request rate of the whole account, and the calls
        are retried with backoff when it throttles them, so more threads help only up to a point.
    type: int
    default: 4
    version_added: 0.2.0
  state:
    description:
      - V(onboarding) creates or adopts the user into the onboarding state. An existing user outside the regime
        is put into the onboarding group first; a console password is added only if it has none (an existing
        password is never reset). A user that is already promoted is left as it is, with a warning.
      - V(promoted) promotes a user that has registered an MFA device; it fails for a user without one.
    type: str
    choices: [onboarding, promoted]
    default: onboarding
    version_added: 0.1.0
  onboarding_group:
    description: The group of users who have not registered MFA yet.
    type: str
    default: NotYetLoginUsers
    version_added: 0.1.0
  current_users_policy:
    description: The policy every promoted user gets, by name or ARN.
    type: str
    default: MFARequiredForCurrentUsers
    version_added: 0.1.0
  password:
    description:
      - The initial console password. It must satisfy the account password policy; it is checked before
        anything is created.
      - When not set, a password is generated with Python's C(secrets) module to satisfy the account password
        policy (at least 20 characters, every character class).
      - Used only when the user gets a console password in this run.
    type: str
    version_added: 0.1.0
  password_reset_required:
    description: Whether the user must choose a new password at the first sign-in. Applied when the console
      password is created, never afterwards.
    type: bool
    default: true
    version_added: 0.1.0
  reset_password:
    description:
      - With O(state=onboarding), give a user that already has a console password but no MFA device yet a fresh
        temporary password (C(UpdateLoginProfile)), returned in RV(temporary_password). For a handover that
        failed or was lost. Users that have registered MFA have signed in already and keep their password.
      - Not idempotent by design; leave it V(false) for ordinary runs.
    type: bool
    default: false
    version_added: 0.1.0
  groups:
    description: Groups to add the user to at promotion, additively.
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  managed_policies:
    description:
      - Managed policies to attach to the user at promotion, additively, by ARN or by name.
      - A name means the account's customer-managed policy of that name at path C(/), or else the AWS-managed
        policy of that name (a path may be part of it, for example C(job-function/ViewOnlyAccess)).
    type: list
    elements: str
    default: []
    aliases: [policies]
    version_added: 0.1.0
  path:
    description: The path of a new user. When not set, V(/). Not changed on an existing user.
    type: str
    version_added: 0.1.0
  tags:
    description:
      - Tags for the user, added or updated. Tags not named are kept unless O(purge_tags=true).
      - Values are stored as text, as IAM keeps them (V(1234) becomes C("1234"), V(true) becomes C("True")).
    type: dict
    version_added: 0.1.0
  purge_tags:
    description: Whether to remove the user's tags that O(tags) does not name.
    type: bool
    default: false
    version_added: 0.1.0
notes:
  - RV(temporary_password) is returned only by the run that created the console password. Use C(no_log=true) on
    the task, and hand the password over without registering it in a variable that outlives the handover.
  - moto, the local AWS stand-in, does not record C(PasswordResetRequired); AWS does.
seealso:
  - module: mfa_onboarding.iam.mfa_onboarding_policy
  - module: amazon.aws.iam_user
extends_documentation_fragment:
  - mfa_onboarding.iam.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Onboard a user with a generated temporary password
  mfa_onboarding.iam.iam_onboard_user:
    name: alice
    tags:
      team: data
  register: onboarded
  no_log: true

- name: Promote a user who has registered an MFA device
  mfa_onboarding.iam.iam_onboard_user:
    name: alice
    state: promoted
    groups:
      - Developers
    managed_policies:
      - ReadOnlyAccess

- name: Onboard several users in one run, eight at a time
  mfa_onboarding.iam.iam_onboard_user:
    concurrency: 8
    users:
      - name: bob
      - name: carol
        path: /contractors/
  no_log: true

- name: Promote several users; the module fails at the end naming those without MFA
  mfa_onboarding.iam.iam_onboard_user:
    state: promoted
    users:
      - name: bob
        managed_policies: [job-function/ViewOnlyAccess]
      - name: carol
"""

RETURN = r"""
stage:
  description: The user's stage after the run, V(onboarding), V(ready) (onboarding, MFA registered) or V(promoted).
  returned: with O(name)
  type: str
  sample: onboarding
user:
  description: The IAM user.
  returned: with O(name)
  type: dict
  contains:
    name:
      description: The user name.
      type: str
      sample: alice
    arn:
      description: The user's ARN.
      type: str
      sample: arn:aws:iam::123456789012:user/alice
    user_id:
      description: The user's stable id (V(null) in check mode for a new user).
      type: str
      sample: AIDAEXAMPLEEXAMPLE
    path:
      description: The user's path.
      type: str
      sample: /
    create_date:
      description: When the user was created (ISO 8601).
      type: str
      sample: "2026-11-28T08:00:00+00:00"
    tags:
      description: The user's tags.
      type: dict
      sample: {"team": "data"}
mfa_devices:
  description: The user's MFA devices.
  returned: with O(name)
  type: list
  elements: dict
  contains:
    serial_number:
      description: The device's serial number or ARN.
      type: str
      sample: arn:aws:iam::123456789012:mfa/alice
    enable_date:
      description: When the device was enabled (ISO 8601).
      type: str
      sample: "2026-11-28T09:00:00+00:00"
login_profile:
  description: The user's console password, without the password.
  returned: with O(name)
  type: dict
  contains:
    exists:
      description: Whether the user has a console password.
      type: bool
      sample: true
    password_reset_required:
      description: Whether the password must be changed at the next sign-in.
      type: bool
      sample: true
    create_date:
      description: When the console password was created (ISO 8601).
      type: str
      sample: "2026-11-28T08:00:00+00:00"
console_url:
  description: The account's console sign-in URL.
  returned: with O(name)
  type: str
  sample: https://123456789012.signin.aws.amazon.com/console
temporary_password:
  description:
    - The generated console password. Only in the run that set it (created it, or reset it with
      O(reset_password)), never in check mode, and never when O(password) was given (the caller knows it).
  returned: when the run set the console password to a generated one
  type: str
  sample: "(not shown)"
actions:
  description: The write calls made (or, in check mode, that would be made), in order.
  returned: with O(name)
  type: list
  elements: str
  sample: ["CreateUser", "AddUserToGroup NotYetLoginUsers", "CreateLoginProfile"]
users:
  description:
    - With O(users), one result per user in input order, each with the keys above plus C(name), C(changed),
      C(failed) and C(msg) (why it failed).
    - A failed user's result has C(name), C(changed), C(actions) (the writes made before the failure), C(failed),
      C(refused) (true when the lifecycle refused the transition, for example a promotion without MFA; false for
      an error such as a failed API call), C(msg) and C(stage), the stage the user is in (V(absent) or
      V(unmanaged) too, for a user that does not exist or is outside the regime; V(null) when the user could not
      be read).
  returned: with O(users)
  type: list
  elements: dict
  sample: [{"name": "bob", "changed": true, "failed": false, "stage": "onboarding"}]
"""

import concurrent.futures
import datetime
import threading

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.common.warnings import warn
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _iam
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _lifecycle as lc
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password import PasswordError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password import check as check_password
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password import generate as generate_password
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._password_policy import from_api
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import ValidationError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_concurrency
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_name
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_path
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import validate_policy_reference

PER_USER_OPTIONS = (
    "path",
    "tags",
    "password",
    "password_reset_required",
    "reset_password",
    "groups",
    "managed_policies",
)


class UserFailed(Exception):
    """One user could not be handled; the message names the user and the reason (never a password).

    actions lists the write calls that were made before the failure; stage is the user's stage after them, when
    the user was observed.
    """

    def __init__(self, message, actions=(), stage=None, refused=False):
        super().__init__(message)
        self.actions = list(actions)
        self.stage = stage
        self.refused = refused


def _iso(value):
    return value.isoformat() if isinstance(value, datetime.datetime) else value


def user_specs(params):
    """One spec per user: the module-level per-user options, overridden by the user's own.

    Tag values become text, as IAM stores them and as amazon.aws converts them (a YAML number or boolean would
    otherwise differ from what IAM holds on every run)."""
    items = [{"name": params["name"]}] if params["users"] is None else params["users"]
    specs = []
    for item in items:
        spec = {k: params[k] for k in PER_USER_OPTIONS}
        spec.update({k: v for k, v in item.items() if v is not None})
        spec["name"] = item.get("name")
        if spec["tags"] is not None:
            spec["tags"] = {key: to_text(value) for key, value in spec["tags"].items()}
        specs.append(spec)
    return specs


def validate_specs(specs, params):
    validate_concurrency(params["concurrency"])
    if not specs:
        raise ValidationError("users: the list is empty; give at least one user")
    seen = set()
    for index, spec in enumerate(specs):
        option = "name" if params["users"] is None else f"users[{index}].name"
        validate_name("user", spec["name"], option)
        if spec["name"] in seen:
            raise ValidationError(f"{option}: user {spec['name']} is listed more than once")
        seen.add(spec["name"])
        validate_path(spec["path"], f"path of user {spec['name']}")
        for group in spec["groups"] or []:
            validate_name("group", group, f"groups of user {spec['name']}")
            if group == params["onboarding_group"]:
                raise ValidationError(
                    f"groups of user {spec['name']}: {group} is the onboarding group; promotion removes the user "
                    "from it"
                )
        for policy in spec["managed_policies"] or []:
            validate_policy_reference(policy, f"managed_policies of user {spec['name']}")
    validate_name("group", params["onboarding_group"], "onboarding_group")
    validate_policy_reference(params["current_users_policy"], "current_users_policy")


class Account:
    """Account-level facts, read once per run."""

    def __init__(self, client, params):
        group = _iam.get_group(client, params["onboarding_group"])
        if group is None:
            raise UserFailed(
                f"onboarding_group: the group {params['onboarding_group']} does not exist; run the "
                "mfa_onboarding.iam.bootstrap role first"
            )
        self.partition, self.account_id = lc.account_of(group["Arn"])
        self.console_url = lc.console_url(self.partition, self.account_id)
        current = lc.policy_arn_candidates(params["current_users_policy"], self.partition, self.account_id)[0]
        # Needed in both states: without it a promoted user would look like one outside the regime.
        if _iam.get_policy(client, current) is None:
            raise UserFailed(
                f"current_users_policy: {current} does not exist; run the mfa_onboarding.iam.bootstrap role first, "
                "or give the policy's ARN if it has a path"
            )
        self.regime = lc.Regime(params["onboarding_group"], current)
        self._group_policies = {}
        self._lock = threading.Lock()
        self.password_settings = None
        if params["state"] == "onboarding":
            self.password_settings = from_api(_iam.get_account_password_policy(client))

    def resolve(self, client, groups, references):
        """{policy reference: ARN}, after checking that every group and policy exists; raises UserFailed naming
        all that do not, before anything is written."""
        resolved, missing_policies = {}, []
        missing_groups = [g for g in groups if _iam.get_group(client, g) is None]
        for reference in references:
            for arn in lc.policy_arn_candidates(reference, self.partition, self.account_id):
                if _iam.get_policy(client, arn) is not None:
                    resolved[reference] = arn
                    break
            else:
                missing_policies.append(reference)
        problems = []
        if missing_groups:
            problems.append(f"groups not found: {', '.join(missing_groups)}")
        if missing_policies:
            problems.append(f"managed policies not found: {', '.join(missing_policies)}")
        if problems:
            raise UserFailed("; ".join(problems) + "; nothing was changed")
        return resolved

    def group_policies(self, client, group):
        """ARNs attached to a group, read once per run (threads share the cache)."""
        with self._lock:
            if group in self._group_policies:
                return self._group_policies[group]
        arns = tuple(_iam.list_attached_group_policies(client, group))
        with self._lock:
            self._group_policies[group] = arns
        return arns


def observe(client, name, account):
    """(GetUser result or None, Observed)."""
    user = _iam.get_user(client, name)
    if user is None:
        return None, lc.Observed(exists=False)
    profile = _iam.get_login_profile(client, name)
    devices = _iam.list_mfa_devices(client, name)
    observed = lc.Observed(
        exists=True,
        groups=tuple(_iam.list_groups_for_user(client, name)),
        policies=tuple(_iam.list_attached_user_policies(client, name)),
        has_login_profile=profile is not None,
        mfa_devices=tuple(d["SerialNumber"] for d in devices),
        tags=tuple(sorted(boto3_tag_list_to_ansible_dict(user.get("Tags", [])).items())),
    )
    if lc.stage(observed, account.regime) == lc.UNMANAGED and observed.groups:
        # The current-users policy may reach the user through another group: then it is promoted, not outside.
        via_groups = {arn for group in observed.groups for arn in account.group_policies(client, group)}
        observed = observed._replace(group_policies=tuple(sorted(via_groups)))
    return {"user": user, "login_profile": profile, "mfa_devices": devices}, observed


def describe_step(step):
    if isinstance(step.target, str):
        return f"{step.action} {step.target}"
    if isinstance(step.target, list):
        return f"{step.action} {', '.join(step.target)}"
    if isinstance(step.target, dict) and step.target:
        return f"{step.action} {', '.join(sorted(step.target))}"
    return step.action


def execute(client, name, spec, steps, account, done):
    """Run the steps in order, stopping at the first failure; done collects the steps that succeeded.
    Returns (new user or None, login profile or None, temporary password or None)."""
    created_user = profile = password = None
    for step in steps:
        if step.action == lc.CREATE_USER:
            tags = ansible_dict_to_boto3_tag_list(step.target or {})
            created_user = _iam.create_user(client, name, spec["path"] or "/", tags)
        elif step.action == lc.ADD_TO_GROUP:
            _iam.add_user_to_group(client, name, step.target)
        elif step.action == lc.CREATE_LOGIN_PROFILE:
            password = spec["password"] or generate_password(account.password_settings)
            profile = _iam.create_login_profile(client, name, password, spec["password_reset_required"])
        elif step.action == lc.UPDATE_LOGIN_PROFILE:
            password = spec["password"] or generate_password(account.password_settings)
            _iam.update_login_profile(client, name, password, spec["password_reset_required"])
        elif step.action == lc.ATTACH_POLICY:
            _iam.attach_user_policy(client, name, step.target)
        elif step.action == lc.REMOVE_FROM_GROUP:
            _iam.remove_user_from_group(client, name, step.target)
        elif step.action == lc.TAG_USER:
            _iam.tag_user(client, name, ansible_dict_to_boto3_tag_list(step.target))
        elif step.action == lc.UNTAG_USER:
            _iam.untag_user(client, name, step.target)
        done.append(step)
    return created_user, profile, password


def user_result(name, spec, account, raw, created_user, after, created_profile):
    """The per-user return value. A console password created (or, in check mode, to be created) in this run
    reports the reset flag that was requested: moto, unlike AWS, does not store it."""
    raw = raw or {}
    user = created_user or raw.get("user") or {}
    path = user.get("Path") or spec["path"] or "/"
    existing_profile = raw.get("login_profile")
    if existing_profile is not None:
        reset_required = bool(existing_profile.get("PasswordResetRequired"))
    else:
        reset_required = bool(after.has_login_profile and spec["password_reset_required"])
    return {
        "user": {
            "name": name,
            "arn": user.get("Arn") or lc.user_arn(account.partition, account.account_id, path, name),
            "user_id": user.get("UserId"),
            "path": path,
            "create_date": _iso(user.get("CreateDate")),
            "tags": dict(after.tags),
        },
        "mfa_devices": [
            {"serial_number": d["SerialNumber"], "enable_date": _iso(d.get("EnableDate"))}
            for d in raw.get("mfa_devices", [])
        ],
        "login_profile": {
            "exists": after.has_login_profile,
            "password_reset_required": reset_required,
            "create_date": _iso((existing_profile or created_profile or {}).get("CreateDate")),
        },
        "console_url": account.console_url,
    }


def diff_view(observed, regime):
    if not observed.exists:
        return {}
    return {
        "stage": lc.stage(observed, regime),
        "groups": sorted(observed.groups),
        "policies": sorted(observed.policies),
        "console_password": observed.has_login_profile,
        "tags": dict(observed.tags),
    }


def handle_user(client, spec, params, account, resolved, check_mode):
    """Observe, plan and (unless check mode) execute for one user. Returns its result dict."""
    name = spec["name"]
    regime = account.regime
    try:
        raw, observed = observe(client, name, account)
    except AnsibleIAMError as e:
        # One user's failed read must not cost the others their results (and their temporary passwords).
        raise UserFailed(f"user {name}: {e.message}: {e.exception}") from None
    warnings = []
    if params["state"] == "onboarding":
        steps, notes = lc.plan_onboarding(observed, regime, spec["tags"], params["purge_tags"], spec["reset_password"])
        warnings.extend(f"user {name} {note}" for note in notes)
        sets_password = lc.Step(lc.CREATE_LOGIN_PROFILE) in steps or lc.Step(lc.UPDATE_LOGIN_PROFILE) in steps
        if spec["password"] and sets_password:
            try:
                check_password(spec["password"], account.password_settings)
            except PasswordError as e:
                raise UserFailed(f"user {name}: {e}; nothing was changed", stage=lc.stage(observed, regime)) from None
        elif spec["password"] and observed.has_login_profile:
            warnings.append(f"user {name} already has a console password; it was not changed")
        path = ((raw or {}).get("user") or {}).get("Path") or spec["path"] or "/"
        if path != "/":
            warnings.append(
                f"user {name} is at path {path}: the official MFA policies grant their self-service actions on "
                "user/${aws:username}, which matches only users at path /, so this user cannot register an MFA "
                "device unless the policies' base document also names user/*/${aws:username}"
            )
    else:
        policies = [resolved[p] for p in spec["managed_policies"] or []]
        try:
            steps = lc.plan_promotion(name, observed, regime, spec["groups"] or [], policies)
        except lc.Refused as e:
            raise UserFailed(str(e), stage=lc.stage(observed, regime), refused=True) from None
    after = lc.apply_steps(observed, steps)
    created_user = profile = password = None
    if not check_mode:
        done = []
        try:
            created_user, profile, password = execute(client, name, spec, steps, account, done)
        except AnsibleIAMError as e:
            reached = lc.stage(lc.apply_steps(observed, done), regime)
            raise UserFailed(f"user {name}: {e.message}: {e.exception}", map(describe_step, done), reached) from None
    result = user_result(name, spec, account, raw, created_user, after, profile)
    diff = {"before": diff_view(observed, regime), "after": diff_view(after, regime)}
    if lc.Step(lc.UPDATE_LOGIN_PROFILE) in steps:
        # The reset sets the flag afresh; the profile read before the run still shows the old one.
        result["login_profile"]["password_reset_required"] = bool(spec["password_reset_required"])
        diff["after"]["console_password"] = "reset to a new temporary password"
    result.update(
        name=name,
        changed=bool(steps),
        stage=lc.stage(after, regime),
        actions=[describe_step(s) for s in steps],
        warnings=warnings,
        diff=diff,
    )
    # An explicit password is not echoed: the caller knows it, and Ansible would mask it in the result anyway.
    if password is not None and not spec["password"]:
        result["temporary_password"] = password
    return result


def run(client, params, specs, check_mode):
    """Per-user results in input order; each has failed and msg."""
    account = Account(client, params)
    resolved = {}
    if params["state"] == "promoted":
        groups = sorted({g for s in specs for g in s["groups"] or []})
        resolved = account.resolve(client, groups, sorted({p for s in specs for p in s["managed_policies"] or []}))

    def one(spec):
        try:
            return dict(handle_user(client, spec, params, account, resolved, check_mode), failed=False)
        except UserFailed as e:
            failure = {"name": spec["name"], "changed": bool(e.actions), "actions": e.actions, "stage": e.stage}
            return dict(failure, failed=True, refused=e.refused, msg=str(e))

    with concurrent.futures.ThreadPoolExecutor(max_workers=min(params["concurrency"], len(specs))) as pool:
        return list(pool.map(one, specs))


def main():
    user_options = dict(
        name=dict(type="str", required=True),
        path=dict(type="str"),
        tags=dict(type="dict"),
        password=dict(type="str", no_log=True),
        password_reset_required=dict(type="bool", no_log=False),
        reset_password=dict(type="bool", no_log=False),
        groups=dict(type="list", elements="str"),
        managed_policies=dict(type="list", elements="str", aliases=["policies"]),
    )
    argument_spec = dict(
        name=dict(type="str"),
        users=dict(type="list", elements="dict", options=user_options),
        concurrency=dict(type="int", default=4),
        state=dict(type="str", default="onboarding", choices=["onboarding", "promoted"]),
        onboarding_group=dict(type="str", default="NotYetLoginUsers"),
        current_users_policy=dict(type="str", default="MFARequiredForCurrentUsers"),
        password=dict(type="str", no_log=True),
        password_reset_required=dict(type="bool", default=True, no_log=False),
        reset_password=dict(type="bool", default=False, no_log=False),
        groups=dict(type="list", elements="str", default=[]),
        managed_policies=dict(type="list", elements="str", default=[], aliases=["policies"]),
        path=dict(type="str"),
        tags=dict(type="dict"),
        purge_tags=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("name", "users")],
        required_one_of=[("name", "users")],
    )
    params = module.params
    try:
        specs = user_specs(params)
        validate_specs(specs, params)
    except ValidationError as e:
        module.fail_json(msg=str(e))

    client = module.client("iam")
    try:
        results = run(client, params, specs, module.check_mode)
    except UserFailed as e:
        module.fail_json(msg=str(e))
    except AnsibleIAMError as e:
        module.fail_json_aws_error(e)

    for result in results:
        for warning in result.pop("warnings", []):
            # Not module.warn(): see mfa_onboarding_policy.
            warn(warning)
    diffs = [dict(r.pop("diff"), before_header=r["name"], after_header=r["name"]) for r in results if "diff" in r]
    changed = any(r["changed"] for r in results)
    failed = [r for r in results if r["failed"]]

    if params["users"] is None:
        result = results[0]
        extra = {"diff": diffs[0]} if module._diff and diffs else {}
        if failed:
            details = {k: result[k] for k in ("changed", "actions", "stage", "refused")}
            module.fail_json(msg=result["msg"], **details, **extra)
        del result["name"], result["failed"]
        module.exit_json(**result, **extra)

    extra = {"diff": diffs} if module._diff else {}
    if failed:
        module.fail_json(
            msg=f"{len(failed)} of {len(results)} users failed: " + "; ".join(r["msg"] for r in failed),
            changed=changed,
            users=results,
            **extra,
        )
    module.exit_json(changed=changed, users=results, **extra)


if __name__ == "__main__":
    main()
