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
  - Every requested group and policy is resolved before the first write, once per run, so a typo never leaves a
    half-promoted user. A user that names a group or policy that does not exist, or a policy name that is
    ambiguous, is refused by name, with what it named, and gets no write at all; the other users are promoted.
  - Hands-off promotion (invariant 8) - O(profiles) are the operator's named sets of groups and policies; onboarding
    records a user's profile by name (O(promotion_profile), tag C(mfa-onboarding:profile)); O(all_ready) promotes
    every ready user by its profile. A tag only selects a defined profile by its exact name and never grants by
    itself, so permission to tag users is never permission to grant.
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
      - IAM user names are case-insensitive (C(Alice) and C(alice) are one user). A user that IAM holds under
        another spelling (the run names C(alice), IAM holds C(Alice)) is refused before any write of that user,
        naming the spelling IAM holds; list it under that spelling.
      - Required unless O(users) is given.
    type: str
    version_added: 0.1.0
  users:
    description:
      - Several users in one run, instead of O(name). Each item takes O(name) and, to override the module-level
        value for that user, O(path), O(tags), O(password), O(password_reset_required), O(groups) and
        O(managed_policies) and C(profile) (O(promotion_profile)).
      - Results are returned in RV(users), in input order.
      - Two items whose names differ only in case are one IAM user; the list is refused before any API call, naming
        both spellings and their positions.
    type: list
    elements: dict
    version_added: 0.1.0
    suboptions:
      name:
        description: The IAM user name (see O(name)).
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
      email:
        description: Overrides O(email) for this user.
        type: str
        version_added: 0.3.0
      profile:
        description: Overrides O(promotion_profile) for this user.
        type: str
        version_added: 0.3.0
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
      - V(onboarding) creates or adopts the user into the onboarding state. An existing user without an MFA
        device (outside the regime, or promoted with its last device gone) is put into the onboarding group
        first, then its active access keys are deactivated and what else it holds (groups, attached and inline
        policies) is removed, all of it reported in RV(detached) (see O(adopt_detach)); a console password is
        added only if it has none (an existing password is kept, never reset silently). An existing user outside
        the regime with an MFA device is adopted as promoted (the current-users policy attached, nothing else
        touched). A user that is already promoted, with an MFA device, is left as it is, with a warning.
      - V(promoted) promotes a user that has registered an MFA device; it fails for a user without one.
      - V(expired) deletes the unused temporary password of a user still onboarding, without an MFA device, that
        never signed in and whose password is older than O(expire_after_days); it stays in the onboarding group,
        tagged C(mfa-onboarding:expired). Any other user is refused by name and left as it was.
      - V(disabled) deletes the console password and deactivates every access key, signing certificate, SSH public
        key and service-specific credential; memberships and policies stay (for audit); tagged
        C(mfa-onboarding:disabled).
      - V(absent) removes every credential, then every grant that is not a guard, then the MFA devices
        (deactivated, virtual ones deleted so that the name can be used again), then the guards, then the user. A
        user that does not exist is reported V(absent), unchanged.
      - The identity the run uses is never disabled or removed (it would cut the run off).
    type: str
    choices: [onboarding, promoted, expired, disabled, absent]
    default: onboarding
    version_added: 0.1.0
  onboarding_group:
    description:
      - The group of users who have not registered MFA yet.
      - IAM group names are case-insensitive; the run uses the name as IAM holds it.
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
    description:
      - Groups to add the user to at promotion, additively.
      - Each is looked up (C(GetGroup)) once per run, before the first write, and granted under the name IAM
        holds it by (IAM names are case-insensitive). A user that names a group that does not exist is refused,
        naming the group, and nothing is changed for it; the other users of the run are not concerned.
      - The onboarding group, in any case (IAM group names are case-insensitive), is refused before any API call.
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  managed_policies:
    description:
      - Managed policies to attach to the user at promotion, additively, by ARN or by name.
      - A name means the account's customer-managed policy of that name at path C(/), or the AWS-managed policy
        of that name (a path may be part of it, for example C(job-function/ViewOnlyAccess)). Both are looked up
        (C(GetPolicy)), once per run for each distinct name, before the first write.
      - A name that exists B(both) as a customer-managed policy of the account and as an AWS-managed policy is
        refused as ambiguous, giving both ARNs (a customer-managed C(ReadOnlyAccess) that allows everything must
        not pass for AWS's). Give the ARN of the one to attach; an ARN is never ambiguous, and the safe habit for
        AWS-managed policies (for example C(arn:aws:iam::aws:policy/ReadOnlyAccess)).
      - A user that names a policy that does not exist, or an ambiguous name, is refused, naming it, and nothing
        is changed for it; the other users of the run are not concerned.
    type: list
    elements: str
    default: []
    aliases: [policies]
    version_added: 0.1.0
  promotion_profile:
    description:
      - The user's promotion profile, by name (see O(profiles)); in O(users), each item's C(profile).
      - (Not C(profile), which is amazon.aws's option for the AWS credentials profile, O(profile).)
      - With O(state=onboarding), recorded on the user as its tag C(mfa-onboarding:profile) (in C(CreateUser)'s tags
        for a new user, before any password step for an existing one). Not given, a recorded profile is left as
        it is; given, it replaces the recorded one of a user that is not promoted yet (an explicit change, never a
        side effect). A user that is promoted already keeps its tags, with a warning.
      - With O(state=promoted), the profile whose grants the user gets, whatever its tag says; it must be one of
        O(profiles).
      - A profile's name follows IAM's rules for tag values (1 to 256 letters, digits, white space and
        C(_.:/=+-@)), with no white space around it, and is not an ARN; checked before any API call.
      - Not with the other states.
    type: str
    version_added: 0.3.0
  profiles:
    description:
      - With O(state=promoted), the operator's promotion profiles, a mapping from a profile's name to what it
        grants, C(groups) (names) and C(managed_policies) (names or ARNs, as in O(managed_policies)), for example
        a profile C(developer) with C(groups=[Developers]) (see the examples).
      - A user is promoted with its own O(groups) and O(managed_policies) B(and) those of its profile. Its profile is
        the one its item names (O(users[].profile), or O(promotion_profile)), else the one recorded on it at
        onboarding, else O(default_profile).
      - B(A tag never grants) (invariant 8). The recorded profile must name one of these profiles exactly; a tag
        that names any other profile, or holds an ARN or a list, refuses the user by name with nothing granted.
        Anyone allowed C(iam:TagUser) can still choose B(among) these profiles for a user, so define a profile
        that grants more than the others only where that is acceptable, or deny C(iam:TagUser) on the key
        C(mfa-onboarding:profile) (condition C(aws:TagKeys)) to everyone but the operators.
      - Checked before any API call (a mapping, each with only C(groups) and C(managed_policies), names valid as
        tag values and not differing only in case, no profile that grants the onboarding group); then every
        group and policy of every profile is looked up before the first write, and one that does not exist (or an
        ambiguous policy name) refuses the whole run, nothing changed.
      - Without profiles, users get only their own grants; a recorded profile is not applied (a warning says so).
    type: dict
    version_added: 0.3.0
  default_profile:
    description:
      - With O(state=promoted), the profile (one of O(profiles)) of a user that has none recorded.
    type: str
    version_added: 0.3.0
  all_ready:
    description:
      - With O(state=promoted), also promote every user of the account that is ready (a member of the onboarding
        group with an MFA device registered, not disabled) and not listed in O(users), each B(by its profile
        only) (recorded, else O(default_profile)). Such a user without either is refused by name. Its result says
        C(found_ready=true).
      - Requires O(profiles). O(users) may then be empty.
      - Finding them costs one C(GetAccountAuthorizationDetails) listing of the users (about one call per 1,000
        users) and one C(ListMFADevices) per member of the onboarding group. Each user found is read again
        right before its writes, so one whose device was removed in between is refused.
      - A run that finds nobody ready changes nothing and succeeds.
    type: bool
    default: false
    version_added: 0.3.0
  path:
    description:
      - The path of a new user. When not set, V(/). Not changed on an existing user.
      - A user without MFA must be able to replace its temporary password and register an MFA device, so the
        onboarding group's policies must allow C(iam:ChangePassword) and C(iam:EnableMFADevice) on the user's own
        ARN (C(${aws:username}) substituted). The official policies name C(arn:aws:iam::*:user/${aws:username}),
        which matches only users at path V(/). With O(state=onboarding), a path they do not match is refused before
        the run's first write, whatever IAM holds, giving what the statements name; an existing user at such a path
        that has no MFA device is refused too, before its first write.
      - To onboard users at paths, bootstrap the policies from a base document whose self-service statements also
        name C(arn:aws:iam::*:user/*/${aws:username}) (any path) or, for example,
        C(arn:aws:iam::*:user/contractors/${aws:username}).
    type: str
    version_added: 0.1.0
  tags:
    description:
      - Tags for the user, added or updated. Tags not named are kept unless O(purge_tags=true).
      - Values are stored as text, as IAM keeps them (V(1234) becomes C("1234"), V(true) becomes C("True")).
      - "Checked before any API call, as IAM would check them: at most 50 per user (49 with O(handover=file) or
        O(handover=mail), whose mark C(mfa-onboarding:handover) is a tag too); no key that starts with C(aws:) in
        any case; keys of 1 to 128 and values of 0 to 256 characters, of Unicode letters, digits, white space and
        C(_ . : / = + - @); no two keys that differ only in case (IAM's user tag keys are case-insensitive)."
      - An existing user's tags count towards the 50 too; that is checked when the user is read, before its first
        write, and a user that would hold more is refused (the others go on).
    type: dict
    version_added: 0.1.0
  purge_tags:
    description: Whether to remove the user's tags that O(tags) does not name.
    type: bool
    default: false
    version_added: 0.1.0
  email:
    description:
      - The user's e-mail address, for O(handover=mail). Exactly one plain address C(local-part@domain.tld); a
        second recipient, a display name, a line break or a missing domain is refused before any write.
    type: str
    version_added: 0.3.0
  handover:
    description:
      - How a new temporary password reaches its owner, inside this module run (the password never enters an
        Ansible result or variable).
      - V(file) writes a note per user into O(handover_dir). V(mail) sends one mail per user to its O(email).
      - With V(file) or V(mail), the user is marked with the tag C(mfa-onboarding:handover=pending) before its
        password exists, and the mark becomes V(delivered) only once the handover succeeded. Every run gives a
        fresh password to exactly the users still marked pending that have no MFA device and have never signed
        in, so a killed run, a broken mail server or a full disk loses nobody's access.
      - V(none) returns the password to the caller in RV(temporary_password); the caller must then use
        C(no_log=true) and hand it over itself. Users are not marked, and a user marked pending is left as it is.
    type: str
    choices: [none, file, mail]
    default: none
    version_added: 0.3.0
  handover_dir:
    description:
      - For O(handover=file), the directory of the notes, on the host that runs the module. Created with mode 0700
        if it is missing (its parent must exist).
      - An existing directory is used only if it is a real directory (not a symbolic link), owned by the user
        running the module, and closed to group and others; its mode is never changed.
      - Each note is C(<name>.txt), mode 0600, written to a temporary file and renamed into place once the user's
        mark says delivered; a note it replaces is kept beside it as C(<name>.txt.<timestamp>~).
      - A note that a killed run wrote for a user already marked delivered, but did not put in place yet, is put
        in place by the next run; that run reports the user changed (check mode predicts it) and warns.
    type: path
    version_added: 0.3.0
  message_template:
    description:
      - The Jinja2 template of the note or the mail body, rendered in a sandbox. It sees C(item.name),
        C(item.console_url) and C(item.temporary_password); any other name is an error.
      - A relative path is searched like M(ansible.builtin.template) does (the role's or playbook's C(templates)
        directory). When not set, the collection's own message is used.
      - Before any write it is rendered for every user with a dummy password; a template that fails, or whose
        message does not show the password, refuses the run.
    type: path
    version_added: 0.3.0
  mail_host:
    description: For O(handover=mail), the SMTP server.
    type: str
    default: localhost
    version_added: 0.3.0
  mail_port:
    description: The SMTP port (587 for STARTTLS, 465 for implicit TLS).
    type: int
    default: 587
    version_added: 0.3.0
  mail_from:
    description: The sender address, one plain address. Required with O(handover=mail).
    type: str
    version_added: 0.3.0
  mail_username:
    description: The SMTP login; no login when not set.
    type: str
    version_added: 0.3.0
  mail_password:
    description: The SMTP password.
    type: str
    version_added: 0.3.0
  mail_starttls:
    description:
      - V(true) connects in plain text and requires STARTTLS before anything else is said; a server that does not
        offer it is refused. V(false) uses TLS from the first byte (implicit TLS, usually port 465).
      - Either way the server's certificate and host name are verified, against the system's trust store or
        O(mail_ca_file).
    type: bool
    default: true
    version_added: 0.3.0
  mail_plaintext:
    description:
      - Send without any TLS. Anyone on the network path can read the passwords; only for a relay on the same
        host. A warning says so on every run.
    type: bool
    default: false
    version_added: 0.3.0
  mail_ca_file:
    description:
      - A PEM file of the certificate authorities to trust for the SMTP server, instead of the system's store
        (for a private CA).
    type: path
    version_added: 0.3.0
  mail_subject:
    description: The subject of the mails.
    type: str
    default: Your AWS account is ready
    version_added: 0.3.0
  expire_after_days:
    description:
      - With O(state=expired), how many whole days a temporary password must be older than to expire (at least 1).
    type: int
    default: 7
    version_added: 0.3.0
  expire_unassigned_mfa:
    description:
      - With O(state=expired), also delete the unassigned virtual MFA devices named after the user (the last part
        of the device's name, compared case-insensitively), after its password. A registration given up halfway
        leaves such a device, and it blocks the name when the user registers again. They are deleted for a user
        expired by an earlier run too.
      - Nobody can be registering one of them, as the user never signed in. Other unassigned devices are never
        touched (IAM records no owner or date for them).
    type: bool
    default: true
    version_added: 0.3.0
  adopt_detach:
    description:
      - With O(state=onboarding), what to do with an existing user without an MFA device that holds more than the
        guard (other groups, attached or inline policies, active access keys).
      - V(true) puts it behind the onboarding group first, then deactivates its access keys (under the official
        policy a long-term key could otherwise register an MFA device without MFA), then detaches its policies,
        deletes its inline policies (their documents are returned in RV(detached)) and removes it from its
        other groups, so that before MFA it holds nothing beyond the guard. Nothing of it comes back on
        promotion; grant what it needs there.
      - V(false) refuses such a user by name and leaves it untouched.
    type: bool
    default: true
    version_added: 0.3.0
  adopt_only:
    description:
      - With O(state=onboarding), only bring existing users into the regime (the C(mfa_onboarding.iam.adopt)
        role sets it) - a user that does not exist is refused instead of created, and no console password is
        created or reset (users keep what they have; a user without one is named in a warning, to be onboarded).
    type: bool
    default: false
    version_added: 0.3.0
  all_pending:
    description:
      - With O(handover=file) or O(handover=mail), also handle every user of the account that waits for its
        handover (marked C(mfa-onboarding:handover=pending), in the onboarding group) but is not listed, so that
        a run killed yesterday is repaired by today's run for other users. Such a user gets a fresh password
        under the usual conditions (no MFA device, never signed in), and its result says it was not listed.
      - It costs one C(GetAccountAuthorizationDetails) listing of the users per run (about one call per 1,000
        users). By mail, an unlisted user's address is unknown, so it is only named in a warning.
    type: bool
    default: false
    version_added: 0.3.0
  batch_of:
    description:
      - When O(users) is one batch of a longer list (the onboard role runs the module once per batch), the whole
        list, with the same suboptions as O(users). It is checked as a whole before the first call (names,
        duplicates, paths, tags, addresses, the message for every user), so that a bad item in a later batch
        refuses the run before an earlier batch writes anything; and O(all_pending) leaves its users to the batch
        that lists them. Only the users of O(users) are handled.
    type: list
    elements: dict
    version_added: 0.3.0
    suboptions:
      name:
        description: The IAM user name.
        type: str
        required: true
        version_added: 0.3.0
      path:
        description: As in O(users).
        type: str
        version_added: 0.3.0
      tags:
        description: As in O(users).
        type: dict
        version_added: 0.3.0
      password:
        description: As in O(users).
        type: str
        version_added: 0.3.0
      password_reset_required:
        description: As in O(users).
        type: bool
        version_added: 0.3.0
      reset_password:
        description: As in O(users).
        type: bool
        version_added: 0.3.0
      groups:
        description: As in O(users).
        type: list
        elements: str
        version_added: 0.3.0
      managed_policies:
        description: As in O(users).
        type: list
        elements: str
        aliases: [policies]
        version_added: 0.3.0
      email:
        description: As in O(users).
        type: str
        version_added: 0.3.0
      profile:
        description: As in O(users).
        type: str
        version_added: 0.3.0
notes:
  - With O(handover=none), RV(temporary_password) is returned only by the run that created the console password.
    Use C(no_log=true) on the task, and hand the password over without registering it in a variable that outlives
    the handover. With V(file) or V(mail) it is never returned.
  - With O(handover=mail), one SMTP session is opened before any write (so a certificate that is not trusted or a
    login that fails refuses the run), and each worker thread then uses one session for all its users.
  - "The handover of a user is confirmed by its mark: a mail accepted by the server just before a run is killed,
    with the mark still pending, is followed by a fresh password on the next run (the first one no longer works)."
  - The guards are verified before the first write, for both states (a few reads per run). The onboarding group
    must hold a policy whose default version has the deny-unless-MFA statement that
    M(mfa_onboarding.iam.mfa_onboarding_policy) writes, and only such policies; the current-users policy's default
    version must have it too. Anything else is refused by name, whatever its name.
  - moto, the local AWS stand-in, does not record C(PasswordResetRequired); AWS does.
seealso:
  - module: mfa_onboarding.iam.mfa_onboarding_policy
  - module: amazon.aws.iam_user
attributes:
  check_mode:
    support: full
    details: Predicts every step per user, including that a new temporary password would be issued and where it
      would be handed over. Nothing is written, no note and no mail; the directory and the SMTP server are checked.
  diff_mode:
    support: full
    details: Before and after per user (stage, groups, policies, console password, tags), without secrets.
  idempotent:
    support: partial
    details: A rerun with the same arguments changes nothing, except with O(reset_password=true), which issues a
      fresh temporary password on every run by design, and for users whose handover is still pending.
extends_documentation_fragment:
  - mfa_onboarding.iam._attributes
  - mfa_onboarding.iam._attributes.action_group
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
    # AWS-managed policies by ARN: a bare name that the account also holds as a customer-managed policy is refused
    managed_policies:
      - arn:aws:iam::aws:policy/ReadOnlyAccess

- name: Onboard several users in one run, eight at a time, a note for each in a directory only its owner can read
  mfa_onboarding.iam.iam_onboard_user:
    concurrency: 8
    handover: file
    handover_dir: /srv/onboarding/notes
    users:
      - name: bob
      - name: carol

- name: Onboard users and mail each its temporary password over STARTTLS, trusting a private CA
  mfa_onboarding.iam.iam_onboard_user:
    handover: mail
    mail_host: smtp.example.org
    mail_from: it@example.org
    mail_username: onboarding
    mail_password: "{{ vault_smtp_password }}"
    mail_ca_file: /etc/pki/example-ca.pem
    users:
      - name: dave
        email: dave@example.org

- name: Onboard a user with its promotion profile recorded (tag mfa-onboarding:profile)
  mfa_onboarding.iam.iam_onboard_user:
    name: erin
    promotion_profile: developer
    handover: file
    handover_dir: /srv/onboarding/notes

- name: Promote every user who has registered MFA by its profile; a tag naming anything else is refused
  mfa_onboarding.iam.iam_onboard_user:
    state: promoted
    all_ready: true
    users: []
    profiles:
      developer:
        groups: [Developers]
      analyst:
        managed_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]
    default_profile: analyst

- name: Promote several users; the module fails at the end naming those without MFA, or with a typo in a grant
  mfa_onboarding.iam.iam_onboard_user:
    state: promoted
    users:
      - name: bob
        managed_policies: [arn:aws:iam::aws:policy/job-function/ViewOnlyAccess]
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
      O(reset_password)), never in check mode, never when O(password) was given (the caller knows it), and never
      with O(handover=file) or O(handover=mail).
  returned: when the run set the console password to a generated one, with O(handover=none)
  type: str
  sample: "(not shown)"
handover:
  description:
    - The user's handover mark after the run, V(delivered), V(pending) (its handover failed or has not happened;
      the next run with a channel issues a fresh password) or V(none) (not marked, for example with
      O(handover=none)).
  returned: with O(name)
  type: str
  sample: delivered
password_issued:
  description: Whether the run set (or, in check mode, would set) a new temporary password.
  returned: with O(name)
  type: bool
  sample: true
handover_via:
  description: Where this run's new temporary password went (or, in check mode, would go); null when none was issued
    or with O(handover=none).
  returned: with O(name)
  type: dict
  contains:
    channel:
      description: V(file) or V(mail).
      type: str
      sample: file
    to:
      description: The note's path or the mail address.
      type: str
      sample: /srv/onboarding/notes/bob.txt
detached:
  description:
    - What the run took away (or, in check mode, would take away) from an existing user without an MFA device,
      so that it holds nothing beyond the guard before MFA (see O(adopt_detach)); V(null) when nothing.
    - When the run failed, what the writes made before the failure took away (absent when nothing).
  returned: with O(name) and O(state=onboarding)
  type: dict
  contains:
    access_keys:
      description: The access key ids deactivated.
      type: list
      elements: str
      sample: [AKIAIOSFODNN7EXAMPLE]
    policies:
      description: The ARNs of the managed policies detached.
      type: list
      elements: str
      sample: ["arn:aws:iam::aws:policy/AdministratorAccess"]
    inline_policies:
      description: The inline policies deleted, name to document (an inline policy has no copy elsewhere).
      type: dict
      sample: {"legacy": {"Version": "2012-10-17", "Statement": []}}
    groups:
      description: The groups the user was removed from.
      type: list
      elements: str
      sample: [Admins]
profile:
  description:
    - With O(state=promoted), the profile whose grants the user got (or, refused or in check mode, would get);
      V(null) when none. With the other states, the profile recorded on the user after the run.
  returned: with O(name)
  type: str
  sample: developer
console_password:
  description: V(issued) (a new temporary password in this run), V(kept) (an existing console password, unchanged),
    V(deleted) (by this run, with O(state=expired), O(state=disabled) or O(state=absent)) or V(none).
  returned: with O(name)
  type: str
  sample: kept
actions:
  description: The write calls made (or, in check mode, that would be made), in order.
  returned: with O(name)
  type: list
  elements: str
  sample: ["CreateUser mfa-onboarding:handover", "AddUserToGroup NotYetLoginUsers", "CreateLoginProfile",
           "Handover by file to /srv/onboarding/notes/bob.txt", "TagUser mfa-onboarding:handover"]
users:
  description:
    - With O(users), one result per user in input order, each with the keys above plus C(name), C(changed),
      C(failed), C(refused), C(msg) (why it failed; V(null) otherwise) and C(summary).
    - A user that O(all_pending) or O(all_ready) added has C(listed=false); one that O(all_ready) found has
      C(found_ready=true) too.
    - A failed user's result has C(name), C(changed), C(actions) (the writes made before the failure), C(failed),
      C(refused) (true when the lifecycle refused the transition, for example a promotion without MFA; false for
      an error such as a failed API call), C(msg), C(summary) and C(stage), the stage the user is in (V(absent) or
      V(unmanaged) too, for a user that does not exist or is outside the regime; V(null) when the user could not
      be read), and C(detached) (as above) when the writes before the failure took something away (an inline
      policy deleted before the failure has its document only there, since a rerun cannot report what is gone).
    - >-
      C(summary) is one line for people, for example C(alice: onboarding, new temporary password, changed) or
      C(bob: refused: user bob has no MFA device registered ...); it never holds a password.
  returned: with O(users)
  type: list
  elements: dict
  sample: [{"name": "bob", "changed": true, "failed": false, "refused": false, "msg": null, "stage": "onboarding",
            "summary": "bob: onboarding, new temporary password, changed"}]
"""

from ansible.module_utils.common.warnings import warn
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.mfa_onboarding.iam.plugins.module_utils._handover import HandoverConfigError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._handover import check_users
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._handover import from_params
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._iam import caller_arn
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._observe import AccountError
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._requests import user_requests
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._requests import validate_requests
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._results import module_output
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._run import run
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import ValidationError


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
        email=dict(type="str"),
        profile=dict(type="str"),
    )
    argument_spec = dict(
        name=dict(type="str"),
        users=dict(type="list", elements="dict", options=user_options),
        concurrency=dict(type="int", default=4),
        state=dict(
            type="str", default="onboarding", choices=["onboarding", "promoted", "expired", "disabled", "absent"]
        ),
        expire_after_days=dict(type="int", default=7),
        expire_unassigned_mfa=dict(type="bool", default=True),
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
        email=dict(type="str"),
        promotion_profile=dict(type="str"),
        profiles=dict(type="dict"),
        default_profile=dict(type="str"),
        all_ready=dict(type="bool", default=False),
        handover=dict(type="str", default="none", choices=["none", "file", "mail"]),
        handover_dir=dict(type="path"),
        message_template=dict(type="path"),
        mail_host=dict(type="str", default="localhost"),
        mail_port=dict(type="int", default=587),
        mail_from=dict(type="str"),
        mail_username=dict(type="str"),
        mail_password=dict(type="str", no_log=True),
        mail_starttls=dict(type="bool", default=True),
        mail_plaintext=dict(type="bool", default=False),
        mail_ca_file=dict(type="path"),
        mail_subject=dict(type="str", default="Your AWS account is ready"),
        adopt_detach=dict(type="bool", default=True),
        adopt_only=dict(type="bool", default=False),
        all_pending=dict(type="bool", default=False),
        batch_of=dict(type="list", elements="dict", options=user_options),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("name", "users")],
        required_one_of=[("name", "users")],
    )
    params = module.params
    try:
        requests = user_requests(params)
        # The whole list first, when this run is one batch of it: a bad item anywhere refuses every batch.
        whole = user_requests(dict(params, users=params["batch_of"])) if params["batch_of"] else requests
        validate_requests(whole, params)
        validate_requests(requests, params)
        handover = from_params(params if params["state"] == "onboarding" else {})
        check_users(handover, [(r["name"], r["email"]) for r in whole])
    except (ValidationError, HandoverConfigError) as e:
        module.fail_json(msg=str(e))
    if handover.kind == "mail" and params["mail_plaintext"]:
        warn(f"mail_plaintext: the temporary passwords go to {params['mail_host']}:{params['mail_port']} without TLS")

    client = module.client("iam")
    try:
        results = run(
            client,
            params,
            requests,
            module.check_mode,
            handover,
            listed=[r["name"] for r in whole],
            caller=lambda: caller_arn(module.client("sts")),
            checked=whole,
        )
    except (AccountError, HandoverConfigError) as e:
        module.fail_json(msg=str(e))
    except AnsibleIAMError as e:
        module.fail_json_aws_error(e)

    failure, warnings, output = module_output(results, params["users"] is None, module._diff, module.check_mode)
    for warning in warnings:
        # Not module.warn(): amazon.aws's AnsibleAWSModule.warn makes ansible-core 2.19 print a deprecation.
        warn(warning)
    if failure:
        module.fail_json(msg=failure, **output)
    module.exit_json(**output)


if __name__ == "__main__":
    main()
