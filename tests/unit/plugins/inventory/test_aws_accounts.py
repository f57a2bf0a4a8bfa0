# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The aws_accounts inventory plugin against moto's Organizations in-process (real calls), against a stubbed
client where moto is not AWS (pages, throttling, ChildNotFoundException), and `ansible-inventory` against a moto
server end to end.

The organization of the `org` fixture (moto's management account is 123456789012):

    root ── shared (account)
     ├─ Workloads ── web
     │    └─ Prod ── api, old-api (closed: SUSPENDED)
     └─ Sandbox ── lab
"""

from __future__ import annotations

import contextlib
import datetime
import importlib
import json
import os
import pathlib
import subprocess
import typing as t

import boto3
import botocore.session
import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import fragment_loader
from ansible.utils.plugin_docs import add_fragments
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.mfa_onboarding.iam.plugins.inventory import aws_accounts
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer

ROOT = pathlib.Path(__file__).resolve().parents[4]
PLUGIN = "mfa_onboarding.iam.aws_accounts"
MANAGEMENT = "123456789012"
ROLE = "OrganizationAccountAccessRole"


class Org(t.NamedTuple):
    root: str
    workloads: str
    prod: str
    sandbox: str
    accounts: dict[str, str]  # name -> id


def build_org(client: t.Any) -> Org:
    client.create_organization(FeatureSet="ALL")
    root = client.list_roots()["Roots"][0]["Id"]

    def unit(parent: str, name: str) -> str:
        return client.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]["Id"]

    workloads = unit(root, "Workloads")
    prod = unit(workloads, "Prod")
    sandbox = unit(root, "Sandbox")
    accounts = {}
    for name, parent in (("shared", root), ("web", workloads), ("api", prod), ("old-api", prod), ("lab", sandbox)):
        status = client.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        accounts[name] = status["AccountId"]
        if parent != root:
            client.move_account(AccountId=accounts[name], SourceParentId=root, DestinationParentId=parent)
    client.close_account(AccountId=accounts["old-api"])
    return Org(root, workloads, prod, sandbox, accounts)


class _Fragments:
    """The documentation fragments as the plugin loader finds them: Ansible's own by name, amazon.aws's by
    importing them (under plain pytest, ansible_collections is an ordinary namespace package, which the loader's
    collection finder cannot read: `ansible-inventory` below loads the plugin the real way)."""

    def get(self, name: str) -> t.Any:
        if not name.startswith("amazon.aws."):
            return fragment_loader.get(name)
        try:
            module = importlib.import_module(f"ansible_collections.amazon.aws.plugins.doc_fragments.{name[11:]}")
        except ImportError:
            return None
        fragment = module.ModuleDocFragment()
        fragment.ansible_name = name
        return fragment


def load_plugin() -> aws_accounts.InventoryModule:
    """What load_plugin() does: the options from DOCUMENTATION and its fragments, the names."""
    if not C.config.has_configuration_definition("inventory", PLUGIN):
        doc = yaml.safe_load(aws_accounts.DOCUMENTATION)
        add_fragments(doc, aws_accounts.__file__, fragment_loader=_Fragments())
        C.config.initialize_plugin_configuration_definitions("inventory", PLUGIN, doc["options"])
    plugin = aws_accounts.InventoryModule()
    plugin._load_name = PLUGIN
    plugin._redirected_names = [PLUGIN]
    plugin.ansible_name = PLUGIN
    return plugin


@pytest.fixture
def org(aws_env: None) -> t.Iterator[Org]:
    with mock_aws():
        yield build_org(boto3.client("organizations", region_name="us-east-1"))


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    monkeypatch.setattr(aws_accounts.InventoryModule, "warn", lambda self, message: seen.append(message))
    return seen


class Parsed(t.NamedTuple):
    hosts: dict[str, dict[str, t.Any]]
    groups: dict[str, dict[str, t.Any]]
    inventory: InventoryData


def parse(tmp_path: pathlib.Path, config: dict[str, t.Any] | str, name: str = "org.aws_accounts.yml") -> Parsed:
    """The plugin as `ansible-inventory` runs it (loaded by name, parse, then the cache written)."""
    path = tmp_path / name
    path.write_text(config if isinstance(config, str) else yaml.safe_dump({"plugin": PLUGIN, **config}))
    plugin = load_plugin()
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), str(path), cache=True)
    # As the auto plugin does: without the cache option, there is no cache to write.
    with contextlib.suppress(AttributeError):
        plugin.update_cache_if_changed()
    hosts = {
        name: {k: v for k, v in host.vars.items() if k not in ("inventory_file", "inventory_dir")}
        for name, host in inventory.hosts.items()
    }
    groups = {
        name: {
            "hosts": sorted(h.name for h in group.hosts),
            "children": sorted(c.name for c in group.child_groups),
            "vars": dict(group.vars),
        }
        for name, group in inventory.groups.items()
        if name not in ("all", "ungrouped")
    }
    return Parsed(hosts, groups, inventory)


def host_vars(account_id: str, name: str, role: str = ROLE) -> dict[str, str]:
    return {
        "aws_account_id": account_id,
        "aws_account_name": name,
        "mfa_onboarding_role_arn": f"arn:aws:iam::{account_id}:role/{role}",
    }


def org_calls(api_calls: t.Any) -> list[str]:
    return [name for name in api_calls.names if name != "AssumeRole"]


# What it lists


def test_every_active_member_account_is_a_host_named_by_id_with_its_variables(
    org: Org, api_calls: t.Any, tmp_path: pathlib.Path
) -> None:
    api_calls.clear()
    parsed = parse(tmp_path, {})

    a = org.accounts
    assert parsed.hosts == {a[n]: host_vars(a[n], n) for n in ("shared", "web", "api", "lab")}
    # Neither the management account nor the closed one; the whole organization through ListAccounts.
    assert MANAGEMENT not in parsed.hosts and a["old-api"] not in parsed.hosts
    assert "ListAccounts" in api_calls.names and api_calls.writes == []


def test_groups_follow_the_organizational_units(org: Org, tmp_path: pathlib.Path) -> None:
    parsed = parse(tmp_path, {})

    a = org.accounts
    assert parsed.groups == {
        "aws_accounts": {"hosts": sorted(a[n] for n in ("shared", "web", "api", "lab")), "children": [], "vars": {}},
        "org_root": {"hosts": [a["shared"]], "children": [], "vars": {"aws_organization_root_id": org.root}},
        "ou_workloads": {
            "hosts": [a["web"]],
            "children": ["ou_prod"],
            "vars": {"aws_organizational_unit_id": org.workloads, "aws_organizational_unit_name": "Workloads"},
        },
        "ou_prod": {
            "hosts": [a["api"]],
            "children": [],
            "vars": {"aws_organizational_unit_id": org.prod, "aws_organizational_unit_name": "Prod"},
        },
        "ou_sandbox": {
            "hosts": [a["lab"]],
            "children": [],
            "vars": {"aws_organizational_unit_id": org.sandbox, "aws_organizational_unit_name": "Sandbox"},
        },
    }
    # Through the child group, the Workloads group reaches the Prod accounts too; the Prod group's variables win.
    workloads = parsed.inventory.groups["ou_workloads"]
    assert sorted(h.name for h in workloads.get_hosts()) == sorted([a["web"], a["api"]])
    assert parsed.inventory.get_host(a["api"]).get_vars()["aws_account_id"] == a["api"]


def test_without_groups_only_the_accounts_are_listed(org: Org, api_calls: t.Any, tmp_path: pathlib.Path) -> None:
    api_calls.clear()
    parsed = parse(tmp_path, {"group_by_organizational_unit": False})

    assert sorted(parsed.groups) == ["aws_accounts"]
    assert len(parsed.hosts) == 4
    assert org_calls(api_calls) == ["DescribeOrganization", "ListAccounts"]


def test_the_management_account_is_a_host_only_when_asked(org: Org, tmp_path: pathlib.Path) -> None:
    parsed = parse(tmp_path, {"include_management_account": True})

    assert parsed.hosts[MANAGEMENT] == host_vars(MANAGEMENT, "master")
    assert MANAGEMENT in parsed.groups["org_root"]["hosts"]


def test_a_named_unit_without_its_children(org: Org, api_calls: t.Any, tmp_path: pathlib.Path) -> None:
    api_calls.clear()
    parsed = parse(tmp_path, {"organizational_units": [org.workloads]})

    assert sorted(parsed.hosts) == [org.accounts["web"]]
    assert sorted(parsed.groups) == ["aws_accounts", "ou_workloads"]
    assert org_calls(api_calls) == ["DescribeOrganization", "DescribeOrganizationalUnit", "ListAccountsForParent"]


def test_named_units_with_their_children(org: Org, tmp_path: pathlib.Path) -> None:
    parsed = parse(tmp_path, {"organizational_units": [org.workloads, org.sandbox], "include_children": True})

    a = org.accounts
    assert sorted(parsed.hosts) == sorted([a["web"], a["api"], a["lab"]])
    assert parsed.groups["ou_workloads"]["children"] == ["ou_prod"]
    assert parsed.groups["ou_prod"]["hosts"] == [a["api"]]
    assert "org_root" not in parsed.groups


def test_a_unit_named_with_its_parent_is_read_once(org: Org, api_calls: t.Any, tmp_path: pathlib.Path) -> None:
    api_calls.clear()
    parsed = parse(tmp_path, {"organizational_units": [org.prod, org.workloads], "include_children": True})

    assert sorted(parsed.hosts) == sorted([org.accounts["web"], org.accounts["api"]])
    assert parsed.groups["ou_workloads"]["children"] == ["ou_prod"]
    assert [p["ParentId"] for p in api_calls.requests("ListAccountsForParent")] == [org.prod, org.workloads]


def test_the_root_named_with_children_is_the_whole_organization(org: Org, tmp_path: pathlib.Path) -> None:
    whole = parse(tmp_path, {})
    by_root = parse(tmp_path, {"organizational_units": [org.root], "include_children": True})

    assert by_root.hosts == whole.hosts
    assert by_root.groups == whole.groups


def test_include_and_exclude_accounts(org: Org, tmp_path: pathlib.Path, warnings: list[str]) -> None:
    a = org.accounts
    config = {
        "include_accounts": [a["web"], a["api"], a["old-api"], MANAGEMENT, "999999999999"],
        "exclude_accounts": [a["api"]],
    }
    parsed = parse(tmp_path, config)

    assert sorted(parsed.hosts) == [a["web"]]
    assert parsed.groups["ou_prod"]["hosts"] == []
    assert [w.split(": ", 2)[2] for w in warnings] == [
        f"include_accounts: {a['api']} is also in exclude_accounts, which wins; no host for it",
        f"include_accounts: {a['old-api']} is SUSPENDED, not ACTIVE; no host for it",
        f"include_accounts: {MANAGEMENT} is the management account, left out while include_management_account is false",
        "include_accounts: 999999999999 is not among the accounts listed; no host for it",
    ]


def test_a_role_name_with_a_path(org: Org, tmp_path: pathlib.Path) -> None:
    parsed = parse(tmp_path, {"role_name": "mfa-onboarding/Operator"})

    web = org.accounts["web"]
    assert parsed.hosts[web]["mfa_onboarding_role_arn"] == f"arn:aws:iam::{web}:role/mfa-onboarding/Operator"


def test_constructed_compose_and_keyed_groups(org: Org, tmp_path: pathlib.Path) -> None:
    config = {
        "compose": {"account_label": "aws_account_name ~ ' (' ~ aws_account_id ~ ')'"},
        "keyed_groups": [{"key": "aws_account_name", "prefix": "name"}],
    }
    parsed = parse(tmp_path, config)

    web = org.accounts["web"]
    assert parsed.hosts[web]["account_label"] == f"web ({web})"
    assert parsed.groups["name_web"]["hosts"] == [web]


def test_an_account_name_is_data_never_a_template(org: Org, tmp_path: pathlib.Path) -> None:
    """Account names are chosen by whoever creates an account; a name that looks like Jinja stays text."""
    client = boto3.client("organizations", region_name="us-east-1")
    name = "{{ 6 * 7 }}{{ lookup('env', 'HOME') }}"
    account_id = client.create_account(Email="t@example.com", AccountName=name)["CreateAccountStatus"]["AccountId"]

    parsed = parse(tmp_path, {"compose": {"label": "aws_account_name"}})

    assert parsed.hosts[account_id]["aws_account_name"] == name
    assert parsed.hosts[account_id]["label"] == name


# Connection


@pytest.mark.parametrize(("configured", "used"), [(None, "us-east-1"), ("eu-west-1", "eu-west-1")])
def test_without_a_region_the_plugin_uses_us_east_1(
    org: Org, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, configured: str | None, used: str
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    made = []
    real_client = aws_accounts.InventoryModule.client

    def client(self: t.Any, service: str, **kwargs: t.Any) -> t.Any:
        connection = real_client(self, service, **kwargs)
        made.append((kwargs["region"], connection.meta.endpoint_url))
        return connection

    monkeypatch.setattr(aws_accounts.InventoryModule, "client", client)
    parsed = parse(tmp_path, {"region": configured} if configured else {})

    assert len(parsed.hosts) == 4
    # Organizations is global: in the partition of either region, botocore signs for us-east-1's endpoint.
    assert made == [(used, "https://organizations.us-east-1.amazonaws.com")]


# Caching


def test_a_cached_organization_answers_until_what_is_read_changes(
    org: Org, api_calls: t.Any, tmp_path: pathlib.Path
) -> None:
    cache = {"cache": True, "cache_plugin": "jsonfile", "cache_connection": str(tmp_path / "cache")}
    first = parse(tmp_path, cache)
    assert list((tmp_path / "cache").iterdir()), "nothing was cached"

    api_calls.clear()
    again = parse(tmp_path, cache)
    filtered = parse(tmp_path, {**cache, "exclude_accounts": [org.accounts["web"]]})
    assert org_calls(api_calls) == []
    assert again.hosts == first.hosts and again.groups == first.groups
    assert org.accounts["web"] not in filtered.hosts and len(filtered.hosts) == 3

    narrower = parse(tmp_path, {**cache, "organizational_units": [org.sandbox]})
    assert "ListAccountsForParent" in api_calls.names
    assert sorted(narrower.hosts) == [org.accounts["lab"]]


# Bad input


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"role_name": "bad role"}, "role_name: the role name 'bad role' may contain only ASCII letters"),
        ({"role_name": "arn:aws:iam::123456789012:role/R"}, "role_name: 'arn:aws:iam::123456789012:role/R' is an ARN"),
        ({"role_name": "R" * 65}, "has 65 characters; IAM allows 1 to 64"),
        ({"organizational_units": ["ou-nope"]}, "organizational_units: 'ou-nope' is not an organizational unit id"),
        ({"include_accounts": [210987654321]}, "include_accounts: 210987654321 is a number; write the account id as"),
        ({"exclude_accounts": ["12345"]}, "exclude_accounts: '12345' is not an AWS account id (12 digits)"),
        ({"organisational_units": ["ou-ab12-cdef3456"]}, "organisational_units: not an option of " + PLUGIN),
    ],
    ids=["role-name", "role-arn", "role-too-long", "unit-id", "account-id-number", "account-id", "misspelt-option"],
)
def test_bad_input_is_refused_before_any_call(
    org: Org, api_calls: t.Any, tmp_path: pathlib.Path, config: dict[str, t.Any], message: str
) -> None:
    api_calls.clear()
    with pytest.raises(AnsibleParserError) as error:
        parse(tmp_path, config)

    assert message in str(error.value)
    assert api_calls.names == []


@pytest.mark.parametrize(
    "config",
    [
        {"organizational_units": ["ou-zzzz-zzzzzzzz"]},
        {"organizational_units": ["ou-zzzz-zzzzzzzz"], "group_by_organizational_unit": False},
        {"organizational_units": ["r-zzzz"], "include_children": True},
    ],
    ids=["described", "listed", "root"],
)
def test_a_unit_that_does_not_exist_is_named_and_no_host_is_added(
    org: Org, tmp_path: pathlib.Path, config: dict[str, t.Any]
) -> None:
    unit = config["organizational_units"][0]
    config = {**config, "organizational_units": [org.sandbox, unit]}
    path = tmp_path / "org.aws_accounts.yml"
    path.write_text(yaml.safe_dump({"plugin": PLUGIN, **config}))
    inventory = InventoryData()

    with pytest.raises(AnsibleParserError) as error:
        load_plugin().parse(inventory, DataLoader(), str(path))

    kind = "root" if unit.startswith("r-") else "organizational unit"
    assert f"{PLUGIN}: the {kind} {unit} does not exist in the organization; no host was added" in str(error.value)
    assert inventory.hosts == {}


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("organizational_units: []\n", "found no plugin key"),
        ("plugin: amazon.aws.aws_ec2\n", "found 'amazon.aws.aws_ec2'"),
        ("plugin: aws_accounts\n", "found 'aws_accounts'"),
    ],
)
def test_a_config_without_the_plugins_name_is_refused_naming_it(
    org: Org, api_calls: t.Any, tmp_path: pathlib.Path, text: str, found: str
) -> None:
    api_calls.clear()
    with pytest.raises(AnsibleParserError) as error:
        parse(tmp_path, text)

    assert f"a config for {PLUGIN} must say plugin: {PLUGIN} ({found})" in str(error.value)
    assert api_calls.names == []


@pytest.mark.parametrize(
    ("name", "accepted"),
    [
        ("org.aws_accounts.yml", True),
        ("org.aws_accounts.yaml", True),
        ("aws_accounts.yml", True),
        ("org.yml", False),
        ("aws_accounts.json", False),
        ("org.aws_ec2.yml", False),
    ],
)
def test_verify_file_accepts_only_its_suffixes(tmp_path: pathlib.Path, name: str, accepted: bool) -> None:
    path = tmp_path / name
    path.write_text(f"plugin: {PLUGIN}\n")

    assert load_plugin().verify_file(str(path)) is accepted


# Where moto is not AWS: pages, throttling, a unit that disappears during the walk.


PAGE_ROOT = "r-ab12"
UNIT_A = "ou-ab12-aaaaaaaa"
UNIT_B = "ou-ab12-bbbbbbbb"


def stub_account(account_id: str, state: str = "ACTIVE") -> dict[str, t.Any]:
    return {
        "Id": account_id,
        "Arn": f"arn:aws:organizations::{MANAGEMENT}:account/o-ab12/{account_id}",
        "Email": f"{account_id}@example.com",
        "Name": f"n{account_id}",
        "Status": "SUSPENDED" if state != "ACTIVE" else "ACTIVE",
        "State": state,
        "JoinedMethod": "CREATED",
        "JoinedTimestamp": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    }


def stubbed_client(monkeypatch: pytest.MonkeyPatch) -> tuple[t.Any, Stubber]:
    client = botocore.session.get_session().create_client(
        "organizations", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    monkeypatch.setattr(aws_accounts.InventoryModule, "client", lambda self, service, **kwargs: client)
    return client, stubber


def test_every_page_of_every_list_is_read(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    """AWS pages ListAccounts (20 a page), ListAccountsForParent and ListOrganizationalUnitsForParent; a client that
    read only the first page would miss the accounts and units of the second."""
    _client, stubber = stubbed_client(monkeypatch)
    ids = [f"2000000000{i:02d}" for i in range(6)]
    stubber.add_response("describe_organization", {"Organization": {"Id": "o-ab12", "MasterAccountId": MANAGEMENT}})
    stubber.add_response("list_accounts", {"Accounts": [stub_account(i) for i in ids[:3]], "NextToken": "p2"}, {})
    stubber.add_response(
        "list_accounts",
        {"Accounts": [stub_account(i) for i in ids[3:]] + [stub_account("299999999999", "CLOSED")]},
        {"NextToken": "p2"},
    )
    stubber.add_response("list_roots", {"Roots": [{"Id": PAGE_ROOT, "Name": "Root"}]}, {})
    stubber.add_response(
        "list_organizational_units_for_parent",
        {"OrganizationalUnits": [{"Id": UNIT_A, "Name": "A"}], "NextToken": "u2"},
        {"ParentId": PAGE_ROOT},
    )
    stubber.add_response(
        "list_organizational_units_for_parent",
        {"OrganizationalUnits": [{"Id": UNIT_B, "Name": "B"}]},
        {"ParentId": PAGE_ROOT, "NextToken": "u2"},
    )
    # Unit A: accounts on two pages, no units below it.
    stubber.add_response(
        "list_accounts_for_parent", {"Accounts": [stub_account(ids[0])], "NextToken": "a2"}, {"ParentId": UNIT_A}
    )
    stubber.add_response(
        "list_accounts_for_parent", {"Accounts": [stub_account(ids[3])]}, {"ParentId": UNIT_A, "NextToken": "a2"}
    )
    stubber.add_response("list_organizational_units_for_parent", {"OrganizationalUnits": []}, {"ParentId": UNIT_A})
    stubber.add_response("list_accounts_for_parent", {"Accounts": [stub_account(ids[4])]}, {"ParentId": UNIT_B})
    stubber.add_response("list_organizational_units_for_parent", {"OrganizationalUnits": []}, {"ParentId": UNIT_B})

    with stubber:
        parsed = parse(tmp_path, {})
        stubber.assert_no_pending_responses()

    assert sorted(parsed.hosts) == ids
    assert parsed.groups["ou_a"]["hosts"] == sorted([ids[0], ids[3]])
    assert parsed.groups["ou_b"]["hosts"] == [ids[4]]
    assert parsed.groups["org_root"]["hosts"] == sorted([ids[1], ids[2], ids[5]])


def test_throttling_is_retried(aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.setattr("ansible_collections.amazon.aws.plugins.module_utils.cloud.time.sleep", lambda seconds: None)
    _client, stubber = stubbed_client(monkeypatch)
    stubber.add_response("describe_organization", {"Organization": {"Id": "o-ab12", "MasterAccountId": MANAGEMENT}})
    stubber.add_client_error("list_accounts", "TooManyRequestsException", "Rate exceeded", 400)
    stubber.add_response("list_accounts", {"Accounts": [stub_account("200000000001")]})

    with stubber:
        parsed = parse(tmp_path, {"group_by_organizational_unit": False})
        stubber.assert_no_pending_responses()

    assert sorted(parsed.hosts) == ["200000000001"]


def test_a_unit_gone_during_the_walk_is_named(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    """Between ListOrganizationalUnitsForParent and the reading of a child unit, the unit may be deleted: AWS then
    answers ParentNotFoundException (or ChildNotFoundException), which moto cannot be made to do mid-walk."""
    _client, stubber = stubbed_client(monkeypatch)
    stubber.add_response("describe_organization", {"Organization": {"Id": "o-ab12", "MasterAccountId": MANAGEMENT}})
    stubber.add_response("describe_organizational_unit", {"OrganizationalUnit": {"Id": UNIT_A, "Name": "A"}})
    stubber.add_response("list_accounts_for_parent", {"Accounts": []}, {"ParentId": UNIT_A})
    stubber.add_response(
        "list_organizational_units_for_parent",
        {"OrganizationalUnits": [{"Id": UNIT_B, "Name": "B"}]},
        {"ParentId": UNIT_A},
    )
    stubber.add_client_error("list_accounts_for_parent", "ChildNotFoundException", "gone", 400)

    with stubber, pytest.raises(AnsibleParserError, match=f"the organizational unit {UNIT_B} does not exist"):
        parse(tmp_path, {"organizational_units": [UNIT_A], "include_children": True})


def test_access_denied_names_the_call(aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    _client, stubber = stubbed_client(monkeypatch)
    stubber.add_client_error(
        "describe_organization", "AccessDeniedException", "not authorized to perform organizations:Describe", 400
    )

    with stubber, pytest.raises(AnsibleParserError) as error:
        parse(tmp_path, {})

    assert f"{PLUGIN}: Failed to describe the organization" in str(error.value)
    assert "AccessDeniedException" in str(error.value)


# End to end: ansible-inventory against a moto server, configured by the environment only.


def plain(value: dict[str, t.Any]) -> t.Any:
    """ansible-inventory --list marks the values that came from a plugin (not trusted as templates) as unsafe."""
    return value["__ansible_unsafe"] if set(value) == {"__ansible_unsafe"} else value


def ansible_inventory(server: MotoServer, source: pathlib.Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ansible-inventory", "-i", str(source), "--list", "--export"],
        env={**server.env(), "ANSIBLE_INVENTORY_UNPARSED_WARNING": "true", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_ansible_inventory_lists_the_example_config_against_a_moto_server(tmp_path: pathlib.Path) -> None:
    with MotoServer(record=False) as server:
        client = boto3.client(
            "organizations",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        org = build_org(client)
        example = ROOT / "examples" / "org.aws_accounts.yml"
        listed = ansible_inventory(server, example)
        assert listed.returncode == 0, listed.stderr
        inventory = json.loads(listed.stdout, object_hook=plain)

        missing_unit = tmp_path / "missing.aws_accounts.yml"
        missing_unit.write_text(f"plugin: {PLUGIN}\norganizational_units: [ou-zzzz-zzzzzzzz]\n")
        failed = ansible_inventory(server, missing_unit, ANSIBLE_INVENTORY_UNPARSED_FAILED="true")

        no_plugin = tmp_path / "noplugin.aws_accounts.yml"
        no_plugin.write_text("organizational_units: []\n")
        unnamed = ansible_inventory(server, no_plugin, ANSIBLE_INVENTORY_ENABLED=PLUGIN)

    a = org.accounts
    members = {n: a[n] for n in ("shared", "web", "api", "lab")}
    assert inventory["_meta"]["hostvars"] == {i: host_vars(i, n) for n, i in members.items()}
    assert sorted(inventory["aws_accounts"]["hosts"]) == sorted(members.values())
    assert inventory["ou_workloads"] == {
        "hosts": [a["web"]],
        "children": ["ou_prod"],
        "vars": {"aws_organizational_unit_id": org.workloads, "aws_organizational_unit_name": "Workloads"},
    }
    assert inventory["ou_prod"]["hosts"] == [a["api"]]
    assert inventory["org_root"] == {"hosts": [a["shared"]], "vars": {"aws_organization_root_id": org.root}}

    assert failed.returncode != 0
    assert "the organizational unit ou-zzzz-zzzzzzzz does not exist in the organization" in failed.stderr
    assert f"must say plugin: {PLUGIN} (found no plugin key)" in " ".join(unnamed.stderr.split())


def test_the_static_inventory_example_has_the_plugins_host_variables() -> None:
    listed = subprocess.run(
        ["ansible-inventory", "-i", str(ROOT / "examples" / "accounts.inventory.yml"), "--list"],
        env={**os.environ, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"},
        capture_output=True,
        text=True,
        check=True,
    )
    hostvars = json.loads(listed.stdout, object_hook=plain)["_meta"]["hostvars"]

    assert len(hostvars) >= 2
    for host, variables in hostvars.items():
        assert variables["aws_account_id"] == host
        assert isinstance(variables["aws_account_name"], str) and variables["aws_account_name"]
        assert variables["mfa_onboarding_role_arn"] == f"arn:aws:iam::{host}:role/{ROLE}"
