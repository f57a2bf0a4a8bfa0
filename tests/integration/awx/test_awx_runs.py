# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The playbooks run as AWX runs its job templates, against a moto server.

`ansible_runner.run` with a private data directory: the project holds docs/awx/project/*.yml, env/envvars the
variables that AWX's Amazon Web Services credential injects (plus the region and the moto endpoint) and
ANSIBLE_COLLECTIONS_PATH, env/extravars the job template's extra vars merged with the survey's answers (defaults
unless answered) from docs/awx/job_templates.yml; no env/passwords, no env/ssh_key. Bootstrap, onboard two users
with file delivery and a profile each, one user's MFA (boto3 and pyotp), then the promote-ready job as its
15-minute schedule launches it: the ready user promoted with its profile's grants, the other left onboarding, the
job successful and its summary handed to AWX (set_stats); the schedule's next run, with nobody ready, succeeds
with nothing changed; then the manual promote with the survey's users: the promoted one unchanged, the waiting one
refused, and the job fails as designed; then the status job with the daily schedule's extra data,
its summary handed to AWX (set_stats), and its compliance gate failing on a console password nothing guards; then
the expire job with the daily schedule's extra data, the waiting user's password made older than its days in moto's
backend (moto cannot let days pass): expired, still guarded; then the offboard job for the promoted user, in the
survey's default mode (disable) and then delete: nothing of it left. IAM holds the expected state, and no temporary
password (read from moto's backend state and from the notes) appears in any file the runs leave in the private data
directory (job events, stdout, command, fact cache) in any common encoding. The user is aged through the control
route of the test support's moto server (tests/support/moto_patched.age_user_at).
"""

from __future__ import annotations

import copy
import datetime
import glob
import html
import json
import os
import secrets
import shutil
import typing as t
import urllib.parse

import ansible_runner
import pytest
import yaml
from conftest import DOCS
from dateutil import rrule

from ansible_collections.mfa_onboarding.iam.tests.support import full_user
from ansible_collections.mfa_onboarding.iam.tests.support import moto_patched
from ansible_collections.mfa_onboarding.iam.tests.support import scenario
from ansible_collections.mfa_onboarding.iam.tests.support import sign_in
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer

SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}


def load_docs() -> dict[str, t.Any]:
    with open(os.path.join(DOCS, "job_templates.yml"), encoding="utf-8") as handle:
        return t.cast("dict[str, t.Any]", yaml.safe_load(handle))


def template(docs: dict[str, t.Any], playbook: str) -> dict[str, t.Any]:
    return next(jt for jt in docs["job_templates"] if jt["playbook"] == playbook)


# AWX's survey spec rules (awx/api/views: survey spec validation), as far as the examples use them.


def survey_problems(spec: t.Any) -> list[str]:
    if not isinstance(spec, dict):
        return ["the survey spec is not a mapping"]
    problems = [f"'{key}' must be a string" for key in ("name", "description") if not isinstance(spec.get(key), str)]
    questions = spec.get("spec")
    if not isinstance(questions, list) or not questions:
        return [*problems, "'spec' must be a non-empty list"]
    seen = set()
    for index, question in enumerate(questions):
        where = f"question {index}"
        if not isinstance(question, dict):
            problems.append(f"{where} is not a mapping")
            continue
        for key in ("question_name", "variable", "type"):
            if not isinstance(question.get(key), str) or not question.get(key):
                problems.append(f"{where}: '{key}' missing")
        if not isinstance(question.get("required"), bool):
            problems.append(f"{where}: 'required' must be a boolean")
        kind, variable = question.get("type"), question.get("variable")
        if kind not in SURVEY_TYPES:
            problems.append(f"{where}: type {kind!r} is not a survey type")
        if variable in seen:
            problems.append(f"{where}: variable {variable!r} is used twice")
        seen.add(variable)
        default = question.get("default")
        if default is None or default == "":
            continue
        choices = question.get("choices")
        if isinstance(choices, str):
            choices = choices.split("\n")
        if kind in ("text", "textarea", "password") and not isinstance(default, str):
            problems.append(f"{where}: the default of a {kind} question must be a string")
        elif kind == "integer" and (not isinstance(default, int) or isinstance(default, bool)):
            problems.append(f"{where}: the default of an integer question must be an integer")
        elif kind == "multiplechoice" and (not choices or default not in choices):
            problems.append(f"{where}: the default {default!r} is not one of the choices {choices}")
        elif kind == "multiselect" and (not choices or not set(str(default).split("\n")) <= set(choices)):
            problems.append(f"{where}: the default {default!r} is not one or more of the choices {choices}")
        if kind in ("text", "textarea", "password", "integer") and ("min" in question or "max" in question):
            size = len(default) if isinstance(default, str) else default
            low, high = question.get("min", size), question.get("max", size)
            if not (isinstance(size, int) and low <= size <= high):
                problems.append(f"{where}: the default is outside min {low} and max {high}")
    return problems


def survey_questions(job_template: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """A template's survey questions; none for a template without a survey."""
    if not job_template.get("survey_enabled"):
        return []
    return t.cast("list[dict[str, t.Any]]", job_template["survey_spec"]["spec"])


def extra_vars(job_template: dict[str, t.Any], answers: dict[str, t.Any]) -> dict[str, t.Any]:
    """What AWX passes as extra vars: the template's extra vars, then the survey's defaults and answers. A
    multiselect question's default is one choice per line; AWX passes it (and an answer) as a list. A template
    without a survey that does not ask for variables on launch takes no answers at all (AWX refuses them)."""
    if not survey_questions(job_template) and not job_template.get("ask_variables_on_launch"):
        assert not answers, f"{job_template['name']} takes no variables on launch, got {answers}"
    merged = copy.deepcopy(job_template.get("extra_vars") or {})
    for question in survey_questions(job_template):
        if question["variable"] in answers:
            merged[question["variable"]] = answers[question["variable"]]
        elif question.get("default") not in (None, ""):
            default = question["default"]
            if question["type"] == "multiselect":
                default = [line for line in str(default).split("\n") if line]
            merged[question["variable"]] = default
    return merged


# The secret scan


def variants(secret: str) -> set[str]:
    return {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret),
        html.escape(secret),
        repr(secret)[1:-1],
    }


def leaks(secrets_by_label: dict[str, str], top: str, exclude: str | None = None) -> list[str]:
    """'label in path' for every secret, in any of its forms, in any file below `top` (but `exclude`)."""
    found = []
    for directory, _dirs, files in os.walk(top):
        if exclude and os.path.abspath(directory).startswith(os.path.abspath(exclude)):
            continue
        for name in files:
            path = os.path.join(directory, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as handle:
                text = handle.read().decode("utf-8", errors="replace")
            for label, secret in secrets_by_label.items():
                if any(form in text for form in variants(secret)):
                    found.append(f"{label} in {os.path.relpath(path, top)}")
    return found


def note_password(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        password = scenario.handover_fields(handle.read())["password"]
    assert password is not None, f"{path}: expected one 'Temporary password:' line"
    return password


# The runs


class Jobs:
    """Runs job templates through ansible-runner, each in a private data directory of its own, as AWX does."""

    def __init__(self, workdir: str, moto: MotoServer, collections_root: str) -> None:
        self.workdir = workdir
        self.envvars = {
            # What AWX's Amazon Web Services credential injects, then the region and endpoint (AWX: extra
            # environment variables or a custom credential type), and where the EE keeps the collections.
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": moto.url,
            "ANSIBLE_COLLECTIONS_PATH": collections_root,
            "ANSIBLE_NOCOLOR": "1",
        }
        self.runs: list[t.Any] = []

    def run(self, playbook: str, variables: dict[str, t.Any]) -> t.Any:
        private = os.path.join(self.workdir, f"job-{len(self.runs) + 1}-{playbook.removesuffix('.yml')}")
        os.makedirs(os.path.join(private, "env"))
        os.makedirs(os.path.join(private, "inventory"))
        os.makedirs(os.path.join(private, "project"))
        for name in os.listdir(os.path.join(DOCS, "project")):
            shutil.copyfile(os.path.join(DOCS, "project", name), os.path.join(private, "project", name))
        with open(os.path.join(private, "inventory", "hosts"), "w", encoding="utf-8") as handle:
            handle.write("localhost ansible_connection=local\n")
        for name, data in (("envvars", self.envvars), ("extravars", variables)):
            with open(os.path.join(private, "env", name), "w", encoding="utf-8") as handle:
                json.dump(data, handle)
        result = ansible_runner.run(private_data_dir=private, playbook=playbook, ident="1", quiet=True)
        self.runs.append(result)
        return result

    @staticmethod
    def events(result: t.Any) -> list[dict[str, t.Any]]:
        paths = glob.glob(os.path.join(result.config.artifact_dir, "job_events", "*.json"))
        loaded = []
        for path in paths:
            with open(path, encoding="utf-8") as handle:
                loaded.append(json.load(handle))
        return sorted(loaded, key=lambda event: event.get("counter", 0))

    @staticmethod
    def stdout(result: t.Any) -> str:
        with open(os.path.join(result.config.artifact_dir, "stdout"), encoding="utf-8", errors="replace") as handle:
            return handle.read()


def fact(events: list[dict[str, t.Any]], name: str) -> t.Any:
    """The last value a set_fact task gave `name`, as the job events show it (AWX: the task's JSON tab)."""
    values = [
        event["event_data"]["res"]["ansible_facts"][name]
        for event in events
        if event.get("event") == "runner_on_ok" and name in event["event_data"].get("res", {}).get("ansible_facts", {})
    ]
    assert values, f"no job event sets {name}"
    return values[-1]


def artifact_data(events: list[dict[str, t.Any]]) -> dict[str, t.Any]:
    """What the job handed to AWX with set_stats (the artifacts a workflow's next node receives)."""
    stats = [event for event in events if event.get("event") == "playbook_on_stats"]
    assert stats, "no playbook_on_stats event"
    return t.cast("dict[str, t.Any]", stats[-1]["event_data"].get("artifact_data") or {})


def promote_summary(result: t.Any, events: list[dict[str, t.Any]]) -> dict[str, t.Any]:
    """The promote job's summary as AWX receives it: ansible-runner's callback puts set_stats data (stats.custom)
    into the playbook_on_stats event as artifact_data; runner.stats leaves it out, so it is read from the events."""
    assert "artifact_data" not in (result.stats or {}), "runner.stats now carries artifact_data: read it there"
    return t.cast("dict[str, t.Any]", artifact_data(events)["mfa_onboarding_promote"])


def changed_tasks(result: t.Any) -> int:
    """How many tasks changed something on localhost: the playbook_on_stats event's changed count (runner.stats)."""
    assert result.stats is not None, "no playbook_on_stats event"
    return int(result.stats["changed"].get("localhost", 0))


def iam_state(iam: t.Any, names: list[str]) -> dict[str, t.Any]:
    """What a promotion writes, for each user: groups, attached policies, tags."""
    return {
        name: (
            groups_of(iam, name),
            attached(iam, name),
            {tag["Key"]: tag["Value"] for tag in iam.list_user_tags(UserName=name)["Tags"]},
        )
        for name in names
    }


def status_fail_on_choices(job_template: dict[str, t.Any]) -> list[str]:
    (question,) = [q for q in job_template["survey_spec"]["spec"] if q["variable"] == "status_fail_on"]
    return list(question["choices"])


def first_sign_in(iam: t.Any, name: str) -> None:
    """The owner sets a password of their own and enables a virtual MFA device (TOTP)."""
    sign_in.first_sign_in(iam, name, "Own-" + secrets.token_urlsafe(18) + "!a1")


def groups_of(iam: t.Any, name: str) -> set[str]:
    return {group["GroupName"] for group in iam.list_groups_for_user(UserName=name)["Groups"]}


def attached(iam: t.Any, name: str) -> set[str]:
    return {p["PolicyName"] for p in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]}


def test_survey_specs_and_schedule_are_valid() -> None:
    docs = load_docs()
    problems = []
    for job_template in docs["job_templates"]:
        if job_template.get("survey_enabled") or "survey_spec" in job_template:
            problems += [f"{job_template['name']}: {p}" for p in survey_problems(job_template.get("survey_spec"))]
        elif job_template.get("ask_variables_on_launch") is not False:
            problems.append(f"{job_template['name']}: no survey, so it must say ask_variables_on_launch: false")
        playbook = os.path.join(DOCS, "project", job_template["playbook"])
        if not os.path.isfile(playbook):
            problems.append(f"{job_template['name']}: no playbook {job_template['playbook']} in docs/awx/project")
        if job_template["credentials"] != [docs["credential"]["name"]]:
            problems.append(f"{job_template['name']}: does not use the AWS credential")
    assert docs["credential"]["credential_type"] == "Amazon Web Services"
    assert sorted(jt["playbook"] for jt in docs["job_templates"]) == [
        "adopt.yml",
        "bootstrap.yml",
        "expire.yml",
        "offboard.yml",
        "onboard.yml",
        "promote.yml",
        "promote_ready.yml",
        "status.yml",
    ]
    names = {jt["name"]: jt for jt in docs["job_templates"]}
    # The promote-ready job every 15 minutes, a daily expire and a daily status; AWX parses each rrule with
    # dateutil, from DTSTART on. The manual promote has no schedule.
    day = datetime.timedelta(days=1)
    expected = {"promote_ready.yml": datetime.timedelta(minutes=15), "expire.yml": day, "status.yml": day}
    assert sorted(names[s["unified_job_template"]]["playbook"] for s in docs["schedules"]) == sorted(expected)
    starts = {}
    for schedule in docs["schedules"]:
        job_template = names[schedule["unified_job_template"]]
        variables = {q["variable"] for q in survey_questions(job_template)}
        if not set(schedule["extra_data"]) <= variables:
            problems.append(
                f"{schedule['name']} answers questions the survey lacks: {set(schedule['extra_data']) - variables}"
            )
        occurrences = rrule.rrulestr(schedule["rrule"].replace(" RRULE:", "\nRRULE:"), forceset=True)
        first, second = occurrences[0], occurrences[1]
        if first.tzinfo is None or second - first != expected[job_template["playbook"]]:
            problems.append(f"{schedule['name']}: the rrule does not repeat as expected: {first}, {second}")
        starts[job_template["playbook"]] = first
    # The profiles are the grants (invariant 8): the operator's, in the template's extra vars, never an answer a
    # launcher or a schedule could give.
    ready = template(docs, "promote_ready.yml")
    if ready["extra_vars"].get("promote_ready") is not True or not ready["extra_vars"].get("promote_profiles"):
        problems.append(f"{ready['name']}: its extra vars must set promote_ready: true and promote_profiles")
    answerable = {q["variable"] for jt in docs["job_templates"] for q in survey_questions(jt)}
    answerable |= {key for schedule in docs["schedules"] for key in schedule["extra_data"]}
    for variable in sorted(answerable & {"promote_profiles", "promote_default_profile", "promote_ready"}):
        problems.append(f"{variable} is a survey question or a schedule's answer; it must be the template's")
    # The expiry runs before the daily status, which then shows the expired users.
    if not starts["expire.yml"].time() < starts["status.yml"].time():
        problems.append(
            f"the daily expire ({starts['expire.yml']}) does not run before the status ({starts['status.yml']})"
        )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("question", "problem"),
    [
        ({"variable": "x", "type": "text", "required": True}, "'question_name' missing"),
        ({"question_name": "q", "variable": "x", "type": "list", "required": True}, "not a survey type"),
        ({"question_name": "q", "variable": "x", "type": "integer", "required": True, "default": "5"}, "integer"),
        (
            {"question_name": "q", "variable": "x", "type": "multiplechoice", "required": True, "default": "c"}
            | {"choices": ["a", "b"]},
            "not one of the choices",
        ),
        ({"question_name": "q", "variable": "x", "type": "text", "required": "yes"}, "'required' must be"),
    ],
)
def test_the_survey_check_finds_a_bad_question(question: dict[str, t.Any], problem: str) -> None:
    found = survey_problems({"name": "n", "description": "d", "spec": [question]})
    assert any(problem in p for p in found), found


def test_the_scan_finds_a_leaked_password(tmp_path: t.Any) -> None:
    secret = "Tmp'&%+=" + secrets.token_urlsafe(12)
    events = tmp_path / "artifacts" / "1" / "job_events"
    events.mkdir(parents=True)
    (events / "1-abc.json").write_text(json.dumps({"event_data": {"res": {"msg": secret}}}))
    (tmp_path / "handover").mkdir()
    (tmp_path / "handover" / "note.txt").write_text(secret)
    assert leaks({"planted": secret}, str(tmp_path), exclude=str(tmp_path / "handover")) == [
        "planted in artifacts/1/job_events/1-abc.json"
    ]


def test_lifecycle_as_awx_jobs(tmp_path: t.Any, moto: MotoServer, collections_root: str) -> None:
    docs = load_docs()
    handover = str(tmp_path / "handover")
    jobs = Jobs(str(tmp_path / "jobs"), moto, collections_root)
    iam = moto.iam_client()
    onboard_template = template(docs, "onboard.yml")
    onboarded = yaml.safe_load(extra_vars(onboard_template, {})["survey_onboard_users"])
    users = [u["name"] for u in onboarded]
    assert len(users) == 2, "the onboard survey's default lists two users"
    mfa_user, waiting_user = users
    ready_template = template(docs, "promote_ready.yml")
    profiles = ready_template["extra_vars"]["promote_profiles"]
    profile_of = {u["name"]: u["profile"] for u in onboarded}
    assert set(profile_of.values()) <= set(profiles), "the onboard survey's profiles are not the promote job's"

    bootstrap = jobs.run("bootstrap.yml", extra_vars(template(docs, "bootstrap.yml"), {}))
    assert (bootstrap.status, bootstrap.rc) == ("successful", 0), jobs.stdout(bootstrap)
    onboard = jobs.run("onboard.yml", extra_vars(onboard_template, {"onboard_handover_dir": handover}))
    assert (onboard.status, onboard.rc) == ("successful", 0), jobs.stdout(onboard)
    onboard_results = fact(jobs.events(onboard), "onboard_results")
    assert [(r["name"], r["password_issued"], r["delivered"]) for r in onboard_results] == [
        (name, True, True) for name in users
    ]

    passwords = scenario.stored_passwords(moto.url)
    notes = {name: note_password(os.path.join(handover, f"{name}.txt")) for name in users}
    assert notes == {name: passwords.get(name) for name in users}, "the notes do not hold the passwords in IAM"
    temporary = {f"{name}'s temporary password": password for name, password in passwords.items()}
    for name in users:
        assert groups_of(iam, name) == {"NotYetLoginUsers"} and attached(iam, name) == set()
        tags = {tag["Key"]: tag["Value"] for tag in iam.list_user_tags(UserName=name)["Tags"]}
        assert tags.get("mfa-onboarding:profile") == profile_of[name], tags

    # The promote-ready job as its 15-minute schedule launches it (the profiles are the template's). Every group of
    # every profile must exist (the AWS-managed policies do: the moto fixture loads them).
    first_sign_in(iam, mfa_user)
    every_15 = next(s for s in docs["schedules"] if s["unified_job_template"] == ready_template["name"])
    for group in sorted({g for grants in profiles.values() for g in grants.get("groups") or []}):
        iam.create_group(GroupName=group)
    ready = jobs.run("promote_ready.yml", extra_vars(ready_template, every_15["extra_data"]))
    assert (ready.status, ready.rc) == ("successful", 0), jobs.stdout(ready)
    results = {r["name"]: r for r in fact(jobs.events(ready), "promote_results")}
    assert set(results) == {mfa_user}, "only the ready user is the job's: the waiting one is not ready"
    assert (results[mfa_user]["stage"], results[mfa_user]["changed"], results[mfa_user]["profile"]) == (
        "promoted",
        True,
        profile_of[mfa_user],
    )
    summary = promote_summary(ready, jobs.events(ready))
    assert summary == {
        "promoted": [{"name": mfa_user, "profile": profile_of[mfa_user], "found_ready": True}],
        "refused": [],
        "failed": [],
        "unchanged": [],
        "counts": {"promoted": 1, "refused": 0, "failed": 0, "unchanged": 0},
    }, summary
    assert changed_tasks(ready) > 0

    granted = profiles[profile_of[mfa_user]]
    wanted = set(granted.get("groups") or [])
    assert groups_of(iam, mfa_user) == wanted and "NotYetLoginUsers" not in wanted
    policy_names = {arn.rsplit("/", 1)[-1] for arn in granted.get("managed_policies") or []}
    assert attached(iam, mfa_user) == {"MFARequiredForCurrentUsers"} | policy_names
    assert groups_of(iam, waiting_user) == {"NotYetLoginUsers"} and attached(iam, waiting_user) == set()
    assert iam.list_mfa_devices(UserName=waiting_user)["MFADevices"] == []

    # The schedule's next run: nobody is ready (the promoted user has left the onboarding group, the other has no
    # MFA). It succeeds, changes nothing, and says so to AWX.
    before = iam_state(iam, users)
    idle = jobs.run("promote_ready.yml", extra_vars(ready_template, every_15["extra_data"]))
    assert (idle.status, idle.rc) == ("successful", 0), jobs.stdout(idle)
    assert changed_tasks(idle) == 0, idle.stats
    assert fact(jobs.events(idle), "promote_results") == []
    summary = promote_summary(idle, jobs.events(idle))
    assert summary["counts"] == {"promoted": 0, "refused": 0, "failed": 0, "unchanged": 0}, summary
    assert iam_state(iam, users) == before

    # The manual promote with the survey's users, an operator naming them: the promoted user is unchanged (its
    # listed groups are its profile's), the waiting one is refused, and the job fails by design, after its summary.
    promote_template = template(docs, "promote.yml")
    manual = jobs.run("promote.yml", extra_vars(promote_template, {}))
    assert (manual.status, manual.rc) == ("failed", 2), jobs.stdout(manual)
    assert f"promotion refused for {waiting_user}" in jobs.stdout(manual)
    results = {r["name"]: r for r in fact(jobs.events(manual), "promote_results")}
    assert (results[mfa_user]["stage"], results[mfa_user]["changed"]) == ("promoted", False)
    assert results[waiting_user]["refused"] is True
    summary = promote_summary(manual, jobs.events(manual))
    assert (summary["unchanged"], [r["name"] for r in summary["refused"]]) == ([mfa_user], [waiting_user]), summary
    assert iam_state(iam, users) == before

    # The daily status job, as its schedule launches it: where everyone stands, the summary handed to AWX.
    status_template = template(docs, "status.yml")
    daily = next(s for s in docs["schedules"] if s["unified_job_template"] == status_template["name"])
    status = jobs.run("status.yml", extra_vars(status_template, daily["extra_data"]))
    assert (status.status, status.rc) == ("successful", 0), jobs.stdout(status)
    summary = artifact_data(jobs.events(status))["mfa_onboarding_status"]
    assert (summary["users"], summary["stages"]["promoted"], summary["stages"]["onboarding"]) == (2, 1, 1)
    assert set(summary["findings"]) == set(status_fail_on_choices(status_template))
    assert not any(summary["findings"].values()), summary
    # A console password that nothing guards fails the job by design, naming the user and the finding; the
    # summary still reaches AWX first, for a workflow to act on.
    iam.create_user(UserName="mallory")
    iam.create_login_profile(UserName="mallory", Password="Mallory-" + secrets.token_urlsafe(12) + "!1")
    gate = jobs.run("status.yml", extra_vars(status_template, daily["extra_data"]))
    assert (gate.status, gate.rc) == ("failed", 2), jobs.stdout(gate)
    assert "status_fail_on: mallory: unguarded_console_password" in jobs.stdout(gate)
    assert artifact_data(jobs.events(gate))["mfa_onboarding_status"]["findings"]["unguarded_console_password"] == 1

    # The daily expire job, as its schedule launches it. The waiting user never signed in; moto cannot let days
    # pass and dates a login profile by its user, so the days pass in moto's backend (moto_patched.age_user_at).
    expire_template = template(docs, "expire.yml")
    daily_expire = next(s for s in docs["schedules"] if s["unified_job_template"] == expire_template["name"])
    days = extra_vars(expire_template, daily_expire["extra_data"])["expire_after_days"]
    moto_patched.age_user_at(moto.url, waiting_user, days + 1)
    expire = jobs.run("expire.yml", extra_vars(expire_template, daily_expire["extra_data"]))
    assert (expire.status, expire.rc) == ("successful", 0), jobs.stdout(expire)
    expired = [(r["name"], r["stage"], r["changed"], r["failed"]) for r in fact(jobs.events(expire), "expire_results")]
    assert expired == [(waiting_user, "expired", True, False)], expired
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_login_profile(UserName=waiting_user)
    assert groups_of(iam, waiting_user) == {"NotYetLoginUsers"}, "an expired user stays guarded"
    tags = {tag["Key"] for tag in iam.list_user_tags(UserName=waiting_user)["Tags"]}
    assert "mfa-onboarding:expired" in tags, tags
    iam.get_login_profile(UserName="mallory")  # outside the regime: not the expire job's

    # The promoted user leaves: the offboard job with the survey's default mode (disable: kept for audit), then
    # with delete. The user also holds an access key.
    offboard_template = template(docs, "offboard.yml")
    leaver = {"survey_offboard_users": f"- name: {mfa_user}\n"}
    iam.create_access_key(UserName=mfa_user)
    disable = jobs.run("offboard.yml", extra_vars(offboard_template, leaver))
    assert (disable.status, disable.rc) == ("successful", 0), jobs.stdout(disable)
    disabled = [(r["name"], r["stage"], r["changed"]) for r in fact(jobs.events(disable), "offboard_results")]
    assert disabled == [(mfa_user, "disabled", True)], disabled
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_login_profile(UserName=mfa_user)
    assert [k["Status"] for k in iam.list_access_keys(UserName=mfa_user)["AccessKeyMetadata"]] == ["Inactive"]
    assert (
        groups_of(iam, mfa_user) == wanted and attached(iam, mfa_user) == {"MFARequiredForCurrentUsers"} | policy_names
    )
    delete = jobs.run("offboard.yml", extra_vars(offboard_template, dict(leaver, offboard_mode="delete")))
    assert (delete.status, delete.rc) == ("successful", 0), jobs.stdout(delete)
    deleted = [(r["name"], r["stage"], r["changed"]) for r in fact(jobs.events(delete), "offboard_results")]
    assert deleted == [(mfa_user, "absent", True)], deleted
    assert full_user.leftovers(iam, mfa_user) == {}, "something of the offboarded user is left"

    # No temporary password anywhere the jobs left files (job events, stdout, command, fact cache).
    for result in jobs.runs:
        assert Jobs.events(result), f"{result.config.artifact_dir}: no job events"
        for name in ("passwords", "ssh_key"):
            assert not os.path.exists(os.path.join(result.config.private_data_dir, "env", name))
    found = leaks(temporary, jobs.workdir)
    assert not found, "\n".join(found)
    # ... but the notes, scanned the same way, do hold them: the scan sees what it looks for.
    assert len(leaks(temporary, handover)) == 2
