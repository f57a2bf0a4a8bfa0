# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: aws_accounts
short_description: The active accounts of an AWS Organization as inventory hosts
version_added: 0.3.0
description:
  - Lists the active accounts of an AWS Organization (all of them, or those of named organizational units) as
    hosts, one per account, named by account id, with the variables C(aws_account_id), C(aws_account_name) and
    C(mfa_onboarding_role_arn), the role that the collection's playbooks assume in that account.
  - Every host is in the group C(aws_accounts). With O(group_by_organizational_unit), each organizational unit is
    a group C(ou_<name>) holding the accounts directly under it, with the group variables
    C(aws_organizational_unit_id) and C(aws_organizational_unit_name); a nested unit's group is a child of its
    parent's group. Accounts directly under the organization's root are in the group C(org_root) (group variable
    C(aws_organization_root_id)); the units' groups are not its children.
  - Uses a YAML configuration file whose name ends with C(aws_accounts.yml) or C(aws_accounts.yaml), and whose
    C(plugin) key is C(mfa_onboarding.iam.aws_accounts).
  - Run it with the management account's credentials (or those of a delegated administrator for Organizations).
options:
  plugin:
    description: The name of this plugin; a configuration without it is refused.
    required: true
    choices: [mfa_onboarding.iam.aws_accounts]
    type: str
  organizational_units:
    description:
      - The organizational units (V(ou-ab12-cdef3456)) or the root (V(r-ab12)) whose accounts to list, with
        C(ListAccountsForParent).
      - Empty (the default) lists every account of the organization with C(ListAccounts).
      - An id that does not exist in the organization fails the inventory, naming it; no host is added.
    type: list
    elements: str
    default: []
  include_children:
    description:
      - With O(organizational_units), also list the accounts of every unit below them, at any depth.
      - Off by default, as C(ListAccountsForParent) is, so that naming a unit never reaches more accounts than
        the ones directly in it.
    type: bool
    default: false
  include_accounts:
    description:
      - Only these account ids (12 digits, quoted) become hosts; empty means every account listed.
      - An id that is not listed, not active, the management account (see O(include_management_account)) or
        also in O(exclude_accounts) gets a warning, and no host.
    type: list
    elements: str
    default: []
  exclude_accounts:
    description: These account ids (12 digits, quoted) never become hosts; this wins over O(include_accounts).
    type: list
    elements: str
    default: []
  include_management_account:
    description:
      - Whether the organization's management account (from C(DescribeOrganization)) may be a host.
      - Off by default. Service control policies do not apply to the management account, which holds the keys
        to every other account; AWS recommends keeping users and workloads out of it. Organizations creates
        O(role_name)'s default role in the accounts it creates, never in the management account.
    type: bool
    default: false
  role_name:
    description:
      - The role that the playbooks assume in each account, by name, or C(path/name) for a role with a path;
        the host variable C(mfa_onboarding_role_arn) is C(arn:<partition>:iam::<account id>:role/<role_name>),
        the partition taken from the account's ARN.
      - Checked against IAM's rules for role names and paths before any call; an ARN is refused.
    type: str
    default: OrganizationAccountAccessRole
  group_by_organizational_unit:
    description:
      - Add the groups of organizational units (and C(org_root)). Without the units listed by
        O(organizational_units), this reads the organization's tree (C(ListRoots),
        C(ListOrganizationalUnitsForParent) and C(ListAccountsForParent) for each unit); with them, also
        C(DescribeOrganizationalUnit) for each unit named.
      - V(false) makes only the calls that list the accounts, and adds only the group C(aws_accounts).
    type: bool
    default: true
  organizational_unit_group_name:
    description:
      - How a unit's group is named. V(name) is C(ou_) and the unit's name in lower case, with each run of other
        characters than letters and digits as C(_) (V(Prod Workloads) is C(ou_prod_workloads)). V(id) is C(ou_)
        and the unit's id without its C(ou-) prefix (V(ou-ab12-cdef3456) is C(ou_ab12_cdef3456)).
      - Unit names are unique only among siblings; two units that would get one group name fail the inventory,
        naming both; use V(id) then.
    type: str
    choices: [name, id]
    default: name
notes:
  - "The caller needs, in the management account (or as delegated administrator):
    C(organizations:DescribeOrganization) and C(organizations:ListAccounts) (whole organization) or
    C(organizations:ListAccountsForParent) (named units); C(organizations:ListOrganizationalUnitsForParent)
    (O(include_children), or units' groups); C(organizations:ListRoots) (units' groups without
    O(organizational_units)); C(organizations:DescribeOrganizationalUnit) (units' groups with
    O(organizational_units)). The playbooks' side needs C(sts:AssumeRole) on the roles."
  - Organizations is a global service, served from C(us-east-1) in the commercial partition. Without a region
    (option, C(AWS_REGION), C(AWS_DEFAULT_REGION) or the profile's) the plugin uses V(us-east-1); set one in
    the partition (for example V(us-gov-west-1), V(cn-northwest-1)) for AWS GovCloud or China.
  - Hosts are named by account id, which is unique and never changes; an account's name can change and need not
    be unique. Quote account ids in YAML (a static inventory's host names too).
  - Results are cached with the C(cache) options; the cache also remembers which units were read, and reads again
    when O(organizational_units), O(include_children) or O(group_by_organizational_unit) change. The filters apply
    to the cached organization, so changing them needs no C(--flush-cache).
  - An error (a unit that does not exist, a refused option) is a parse failure of the inventory source, which
    Ansible reports as a warning and then goes on without the source, unless C(unparsed_is_failed) is set in the
    C([inventory]) section (C(ANSIBLE_INVENTORY_UNPARSED_FAILED=true)); set it where a run without the accounts
    must not go on.
  - A file without a C(plugin) key is never handed to this plugin by C(auto), and Ansible's C(yaml) plugin reads
    it as an empty static inventory. Where this plugin is enabled by name and C(yaml) is not (C(enable_plugins)),
    such a file fails naming the missing key. Keys that are not this plugin's options are refused, so that a
    misspelt filter never widens the inventory to the whole organization.
extends_documentation_fragment:
  - inventory_cache
  - constructed
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
  - amazon.aws.assume_role.plugins
author:
  - mfa_onboarding.iam developers (@mfa-onboarding)
"""

EXAMPLES = r"""
# org.aws_accounts.yml: every active member account of the organization, with the default role.
plugin: mfa_onboarding.iam.aws_accounts

---
# workloads.aws_accounts.yml: the accounts of two units and everything below them, but one, through a role of
# your own with a path, cached for an hour.
plugin: mfa_onboarding.iam.aws_accounts
organizational_units:
  - ou-ab12-cdef3456
  - ou-ab12-98765432
include_children: true
exclude_accounts:
  - "210987654321"
role_name: mfa-onboarding/MfaOnboardingOperator
profile: org-management
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-aws-accounts
cache_timeout: 3600
# constructed: a readable variable and groups by a prefix of the account name.
compose:
  account_label: aws_account_name ~ ' (' ~ aws_account_id ~ ')'
keyed_groups:
  - key: aws_account_name.split('-')[0]
    prefix: team
"""

from ansible.errors import AnsibleParserError
from ansible_collections.amazon.aws.plugins.plugin_utils.inventory import AWSInventoryBase

from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _accounts
from ansible_collections.mfa_onboarding.iam.plugins.module_utils import _organizations
from ansible_collections.mfa_onboarding.iam.plugins.module_utils._validation import ValidationError

# Organizations' endpoint in the commercial partition, for a caller that configured no region.
DEFAULT_REGION = "us-east-1"
# The options that decide what is read (and so whether a cached read still answers this configuration).
READ_OPTIONS = ("organizational_units", "include_children", "group_by_organizational_unit")


class InventoryModule(AWSInventoryBase):
    NAME = "mfa_onboarding.iam.aws_accounts"
    INVENTORY_FILE_SUFFIXES = ("aws_accounts.yml", "aws_accounts.yaml")

    def _do_fail(self, message):
        raise AnsibleParserError(f"{self.NAME}: {message}")

    def _read_config_data(self, path):
        """The standard reading, with messages that name this plugin for a missing or foreign `plugin` key and for
        keys that are not its options."""
        try:
            config = self.loader.load_from_file(path, cache="none", trusted_as_template=True)
        except Exception as e:  # pylint: disable=broad-exception-caught  # as Ansible's own reading: any error
            raise AnsibleParserError(f"{self.NAME}: cannot read {path}: {e}") from e
        names = getattr(self, "_redirected_names", None) or [self.NAME]
        if isinstance(config, dict) and config.get("plugin") not in names:
            found = repr(config["plugin"]) if "plugin" in config else "no plugin key"
            raise AnsibleParserError(f"{path}: a config for {self.NAME} must say plugin: {self.NAME} (found {found})")
        config = super()._read_config_data(path)
        unknown = sorted(str(key) for key in set(config) - set(self._options))
        if unknown:
            raise AnsibleParserError(f"{path}: {', '.join(unknown)}: not an option of {self.NAME}")
        return config

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        try:
            role = _accounts.validate_role_name(self.get_option("role_name"))
            parents = _accounts.validate_parent_ids(self.get_option("organizational_units"))
            include = _accounts.validate_account_ids(self.get_option("include_accounts"), "include_accounts")
            exclude = _accounts.validate_account_ids(self.get_option("exclude_accounts"), "exclude_accounts")
        except ValidationError as e:
            self._do_fail(f"{path}: {e}")
        query = {name: self.get_option(name) for name in READ_OPTIONS}
        query["organizational_units"] = parents

        organization = self._cached(path, cache, query)
        if organization is None:
            organization = self._read(parents, query)
            self.update_cached_result(path, False, {"query": query, "organization": organization})
        try:
            built = _accounts.build_inventory(
                organization,
                role=role,
                include_management_account=self.get_option("include_management_account"),
                include_accounts=include,
                exclude_accounts=exclude,
                group_naming=self.get_option("organizational_unit_group_name"),
            )
        except ValidationError as e:
            self._do_fail(f"{path}: {e}")
        for warning in built["warnings"]:
            self.warn(f"{self.NAME}: {path}: {warning}")
        self._populate(built)

    def _cached(self, path, cache, query):
        was_cached, value = self.get_cached_result(path, cache)
        if was_cached and isinstance(value, dict) and value.get("query") == query:
            return value["organization"]
        return None

    def _read(self, parents, query):
        client = self.client("organizations", region=self.region or DEFAULT_REGION)
        try:
            return _organizations.read_organization(
                client,
                parents,
                include_children=query["include_children"],
                with_units=query["group_by_organizational_unit"],
            )
        except _organizations.MissingParent as e:
            kind = "root" if e.parent_id.startswith("r-") else "organizational unit"
            return self._do_fail(f"the {kind} {e.parent_id} does not exist in the organization; no host was added")
        except _organizations.AnsibleOrganizationsError as e:
            return self.fail_aws(e.message, exception=e.exception)

    def _populate(self, built):
        for name, group in built["groups"].items():
            self.inventory.add_group(name)
            for key, value in group["vars"].items():
                self.inventory.set_variable(name, key, value)
        for name, group in built["groups"].items():
            for child in group["children"]:
                self.inventory.add_child(name, child)
            for host in group["hosts"]:
                self.inventory.add_host(host, group=name)
        strict = self.get_option("strict")
        for host, host_vars in built["hosts"].items():
            for key, value in host_vars.items():
                self.inventory.set_variable(host, key, value)
            self._set_composite_vars(self.get_option("compose"), host_vars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), host_vars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, host, strict=strict)
