# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Secret scan (DESIGN.md section 1, invariant 3): no temporary password in any output or log.

The whole lifecycle runs through the playbooks, as an operator runs them (ansible-playbook at -vvvv with --diff,
each step in check mode and then for real, ANSIBLE_LOG_PATH set) against a moto server and, for mail delivery, a
real SMTP server on loopback (STARTTLS and login, its certificate from a test CA that onboard_mail_ca_file names):
bootstrap; onboarding with file delivery and with mail delivery; an onboarding refused by the SMTP login (wrong
SMTP password: refused before any write, nothing issued); one whose mail the server refuses (550: a password is
issued, never delivered, the user stays pending); the rerun that hands the pending user a fresh password by mail;
a password reset over file; one user's first sign-in with MFA (boto3 and pyotp); a promotion that promotes that
user and refuses one without MFA.

Every temporary password that ever existed is collected: from moto's backend state (which reveals console
passwords; read after every run, since a reset replaces them) and from the handover channel (notes, mails).
Each must appear zero times, raw or in any common encoding, in the output of every run, in the log, and in the
other files the runs leave (Ansible's home and temporary directories, the servers' logs); in the handover channel
it may appear only in its own user's note or mail. Nor may the SMTP password appear anywhere but in the inputs.
A deliberately leaky command shows that the scanner does find a secret that is printed.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import glob
import html
import json
import os
import quopri
import secrets
import subprocess
import sys
import time
import typing as t
import urllib.parse

import pytest

from ansible_collections.mfa_onboarding.iam.tests.support import scenario
from ansible_collections.mfa_onboarding.iam.tests.support import sign_in
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import MotoServer

# The scanner


def variants(secret: str) -> dict[str, str]:
    """The secret as it would appear raw or in the encodings that output and logs use (the symbols of generated
    passwords include ' & % + = which these encodings change)."""
    forms = {
        "raw": secret,
        "json": json.dumps(secret, ensure_ascii=False)[1:-1],
        "json-ascii": json.dumps(secret, ensure_ascii=True)[1:-1],
        "url": urllib.parse.quote(secret, safe=""),
        "url-plus": urllib.parse.quote_plus(secret),
        "html": html.escape(secret),
        "quoted-printable": quopri.encodestring(secret.encode()).decode("ascii").replace("=\n", ""),
        "shell": secret.replace("'", "'\"'\"'"),
        "repr": repr(secret)[1:-1],
    }
    unique: dict[str, str] = {}
    for name, form in forms.items():
        if form not in unique.values():
            unique[name] = form
    return unique


@dataclasses.dataclass(frozen=True)
class Hit:
    secret: str  # the label, never the secret
    place: str
    form: str
    count: int

    def __str__(self) -> str:
        return f"{self.secret} found {self.count}x ({self.form}) in {self.place}"


class Scanner:
    """Counts every known secret, in each of its forms, in the texts it is given."""

    def __init__(self) -> None:
        self.labels: dict[str, str] = {}  # secret -> label
        self.scanned_bytes = 0
        self.places = 0

    def add(self, secret: str, label: str) -> bool:
        """Remember a secret (once); True when it is new."""
        if not secret or secret in self.labels:
            return False
        if len(secret) < 8:
            raise ValueError(f"{label} is too short to scan for without false hits")
        self.labels[secret] = label
        return True

    def __len__(self) -> int:
        return len(self.labels)

    def scan(self, place: str, data: bytes) -> list[Hit]:
        self.scanned_bytes += len(data)
        self.places += 1
        text = data.decode("utf-8", errors="replace")
        hits = []
        for secret, label in self.labels.items():
            for form, value in variants(secret).items():
                count = text.count(value)
                if count:
                    hits.append(Hit(label, place, form, count))
        return hits

    def redact(self, text: str) -> str:
        """The text with every known secret, in every form, replaced by its label (for failure messages)."""
        for secret, label in self.labels.items():
            for form in variants(secret).values():
                text = text.replace(form, f"<{label}>")
        return text

    def scan_file(self, path: str, place: str | None = None) -> list[Hit]:
        with open(path, "rb") as handle:
            return self.scan(place or path, handle.read())

    def scan_tree(self, top: str, exclude: t.Collection[str] = ()) -> list[Hit]:
        """Every regular file below `top` (not following links) except those below `exclude`."""
        hits = []
        excluded = tuple(os.path.abspath(path) + os.sep for path in exclude)
        for directory, _dirs, files in os.walk(top):
            for name in files:
                path = os.path.join(directory, name)
                if (path + os.sep).startswith(excluded) or os.path.islink(path) or not os.path.isfile(path):
                    continue
                hits.extend(self.scan_file(path))
        return hits


# ansible-playbook runs


@dataclasses.dataclass
class Run:
    name: str
    argv: list[str]
    rc: int
    stdout: bytes
    stderr: bytes

    @property
    def output(self) -> str:
        return (self.stdout + self.stderr).decode("utf-8", errors="replace")


class Ansible:
    """Runs ansible-playbook (and ansible) with the given AWS environment, at -vvvv with --diff, into one log file."""

    def __init__(self, aws_env: dict[str, str], workdir: str) -> None:
        self.workdir = workdir
        self.home = os.path.join(workdir, "ansible-home")
        self.log_path = os.path.join(workdir, "ansible.log")
        self.inputs = os.path.join(workdir, "inputs")
        os.makedirs(self.home, mode=0o700)
        os.makedirs(self.inputs, mode=0o700)
        bindir = os.path.dirname(sys.executable)
        env = dict(aws_env)
        env.update(
            PATH=bindir + os.pathsep + env.get("PATH", ""),
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_LOG_PATH=self.log_path,
            # Everything Ansible keeps or leaves behind (temporary module files too) stays here, to be scanned.
            ANSIBLE_HOME=self.home,
            ANSIBLE_LOCAL_TEMP=os.path.join(self.home, "tmp"),
            ANSIBLE_REMOTE_TEMP=os.path.join(self.home, "remote-tmp"),
        )
        for name in ("ANSIBLE_CONFIG", "ANSIBLE_STDOUT_CALLBACK", "ANSIBLE_KEEP_REMOTE_FILES", "ANSIBLE_DEBUG"):
            env.pop(name, None)
        if not env.get("ANSIBLE_COLLECTIONS_PATH"):
            raise RuntimeError("ANSIBLE_COLLECTIONS_PATH must name the root that holds mfa_onboarding.iam")
        self.env = env
        self.runs: list[Run] = []
        self._count = 0

    def vars_file(self, data: dict[str, t.Any]) -> str:
        """Extra vars in a private file: secrets never go onto a command line."""
        self._count += 1
        path = os.path.join(self.inputs, f"vars-{self._count:02d}.json")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        return path

    def run(self, name: str, argv: list[str], timeout: float = 120) -> Run:
        completed = subprocess.run(
            argv,
            cwd=self.workdir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        run = Run(name, argv, completed.returncode, completed.stdout, completed.stderr)
        self.runs.append(run)
        return run

    def playbook(self, name: str, playbook: str, extra_vars: dict[str, t.Any], *, check: bool) -> Run:
        argv = ["ansible-playbook", "-vvvv", "--diff"]
        if check:
            argv.append("--check")
        argv += [playbook, "--extra-vars", "@" + self.vars_file(extra_vars)]
        return self.run(f"{name} ({'check' if check else 'real'})", argv)


# The handover channel


@dataclasses.dataclass
class Handover:
    owner: str  # the user the note or mail is meant for
    place: str
    text: str  # the note, or the mail's decoded body
    raw: bytes  # the file as stored


def notes(directory: str) -> list[Handover]:
    """Every file in the handover directory; its owner is the name before `.txt` (backups included)."""
    found = []
    for path in sorted(glob.glob(os.path.join(directory, "*"))):
        with open(path, "rb") as handle:
            raw = handle.read()
        owner = os.path.basename(path).split(".txt", 1)[0]
        found.append(Handover(owner, path, raw.decode("utf-8", errors="replace"), raw))
    return found


def mails(maildir: str, owners: dict[str, str]) -> list[Handover]:
    """Every message the SMTP server received; its owner is the user whose address (`owners`) it went to."""
    found = []
    for path in sorted(glob.glob(os.path.join(maildir, "[0-9]*.json"))):
        with open(path, "rb") as handle:
            raw = handle.read()
        message = json.loads(raw)
        parsed = email.message_from_string(message["data"], policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        owner = ",".join(owners.get(address, address) for address in message["rcpt_tos"])
        found.append(Handover(owner, path, text, raw))
    return found


def handover_password(item: Handover) -> str | None:
    return scenario.handover_fields(item.text)["password"]


# The lifecycle

FILE_USERS = [{"name": "sec-alice", "tags": {"team": "scan"}}, {"name": "sec-bob"}]
MAIL_USERS = [{"name": "sec-carol", "email": "carol@example.org"}, {"name": "sec-dave", "email": "dave@example.net"}]
LATE_USER = {"name": "sec-erin", "email": "erin@example.org"}
EXTRA_GROUP = "SecretScanDevelopers"
MAIL_FROM = "iam-onboarding@example.org"  # one plain address, as the module requires


class Lifecycle:
    """The runs of one lifecycle, and every secret that appeared on the way (with its owner)."""

    def __init__(self, moto: MotoServer, workdir: str) -> None:
        self.moto = moto
        self.ansible = Ansible(moto.env(), workdir)
        self.scanner = Scanner()
        self.owner: dict[str, str | None] = {}  # secret -> user (None: no user's, e.g. the SMTP password)
        self.issued: dict[str, list[str]] = {}  # user -> the console passwords IAM held, in order
        self.problems: list[str] = []

    def secret(self, value: str, label: str, owner: str | None) -> None:
        if self.scanner.add(value, label):
            self.owner[value] = owner

    def collect_from_iam(self, step: str) -> None:
        for user, password in scenario.stored_passwords(self.moto.url).items():
            seen = self.issued.setdefault(user, [])
            if password not in seen:
                seen.append(password)
                self.secret(password, f"{user}'s console password #{len(seen)} (in IAM after {step})", user)

    def collect_from_handover(self, items: list[Handover]) -> None:
        for item in items:
            password = handover_password(item)
            if password is None:
                self.problems.append(f"{item.place} states no temporary password")
                continue
            if password not in self.issued.get(item.owner, []):
                self.problems.append(f"{item.place}: its password was never {item.owner}'s console password in IAM")
            self.secret(password, f"{item.owner}'s temporary password in {os.path.basename(item.place)}", item.owner)

    def step(self, name: str, playbook: str, extra_vars: dict[str, t.Any], rc: tuple[int, int] = (0, 0)) -> None:
        """The playbook in check mode, then for real; each must end with its expected return code."""
        for check, expected in ((True, rc[0]), (False, rc[1])):
            run = self.ansible.playbook(name, playbook, extra_vars, check=check)
            self.collect_from_iam(run.name)
            # Stop at the first unexpected outcome: the later steps build on it (failure messages are redacted).
            assert run.rc == expected, self.scanner.redact(
                f"{run.name}: exit code {run.rc}, expected {expected}; output ends:\n{run.output[-3000:]}"
            )
            if "PLAY RECAP" not in run.output or "ESTABLISH LOCAL CONNECTION" not in run.output:
                self.problems.append(f"{run.name}: the output is not that of a verbose (-vvvv) playbook run")


def first_sign_in(moto: MotoServer, note: Handover) -> str:
    """The owner signs in with the note's password, chooses a new one and enables a virtual MFA device (TOTP)."""
    name = note.owner
    iam = moto.iam_client()
    assert scenario.stored_passwords(moto.url).get(name) == handover_password(note), f"{name}'s note is stale"
    chosen = "Own-" + secrets.token_urlsafe(18) + "!a1"
    sign_in.first_sign_in(iam, name, chosen)
    return chosen


def scan_outputs(scanner: Scanner, ansible: Ansible) -> tuple[list[Hit], int]:
    """Hits in the stdout and stderr of every run and in the log; and the number of bytes scanned."""
    before = scanner.scanned_bytes
    hits = []
    for run in ansible.runs:
        hits += scanner.scan(f"stdout of {run.name}", run.stdout)
        hits += scanner.scan(f"stderr of {run.name}", run.stderr)
    hits += scanner.scan_file(ansible.log_path, f"ANSIBLE_LOG_PATH ({os.path.basename(ansible.log_path)})")
    return hits, scanner.scanned_bytes - before


def misplaced(life: Lifecycle, items: list[Handover]) -> list[str]:
    """Secrets in a note or mail that is not their own user's."""
    found = []
    for item in items:
        for hit in life.scanner.scan(item.place, item.raw + item.text.encode()):
            value = next(v for v, label in life.scanner.labels.items() if label == hit.secret)
            if life.owner[value] != item.owner:
                found.append(f"{hit.secret} is in {item.place}, meant for {item.owner}")
    return found


def test_no_secret_in_any_output_of_the_lifecycle(
    moto: MotoServer, smtp_server: t.Any, tmp_path: t.Any, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    workdir = str(tmp_path)
    smtp = smtp_server
    wrong_smtp_password = secrets.token_urlsafe(18)
    handover_dir = os.path.join(workdir, "handover")
    life = Lifecycle(moto, workdir)
    life.secret(smtp.password, "the SMTP password (onboard_mail_password)", None)
    life.secret(wrong_smtp_password, "the wrong SMTP password", None)
    addresses = {u["email"]: u["name"] for u in [*MAIL_USERS, LATE_USER]}

    life.step("bootstrap", "mfa_onboarding.iam.bootstrap", {})
    file_vars = {"onboard_delivery": "file", "onboard_handover_dir": handover_dir}
    life.step("onboard by file", "mfa_onboarding.iam.onboard", dict(file_vars, onboard_users=FILE_USERS))

    smtp.wait()
    mail_vars = {
        "onboard_delivery": "mail",
        "onboard_mail_host": "127.0.0.1",
        "onboard_mail_port": smtp.port,
        "onboard_mail_from": MAIL_FROM,
        "onboard_mail_username": smtp.login,
        "onboard_mail_password": smtp.password,
        "onboard_mail_starttls": True,
        "onboard_mail_ca_file": smtp.ca_file,
    }
    life.step("onboard by mail", "mfa_onboarding.iam.onboard", dict(mail_vars, onboard_users=MAIL_USERS))
    # The login is tried before any write: the run (check mode too) is refused, nothing is issued.
    wrong_login = dict(mail_vars, onboard_users=[LATE_USER], onboard_mail_password=wrong_smtp_password)
    life.step("onboard, mail login refused", "mfa_onboarding.iam.onboard", wrong_login, rc=(2, 2))
    if LATE_USER["name"] in life.issued:
        life.problems.append(f"{LATE_USER['name']} got a console password although the SMTP login was refused")
    # The server refuses the recipient: the password is issued, never delivered, the user stays pending; the role
    # fails naming the user. Check mode sends nothing, so it succeeds.
    gone = dict(LATE_USER, email=smtp.reject_rcpt[0])
    refused = dict(mail_vars, onboard_users=[gone])
    life.step("onboard, mail refused", "mfa_onboarding.iam.onboard", refused, rc=(0, 2))
    undelivered = life.issued.get(LATE_USER["name"], [])[-1:]
    # The next run hands the pending user a fresh password (invariant 6), without being asked to reset.
    life.step("rerun by mail", "mfa_onboarding.iam.onboard", dict(mail_vars, onboard_users=[LATE_USER]))
    reset = {"onboard_reset_password": True}
    life.step("reset by file", "mfa_onboarding.iam.onboard", dict(file_vars, onboard_users=FILE_USERS[1:], **reset))

    items = notes(handover_dir) + mails(smtp.maildir, addresses)
    life.collect_from_handover(items)
    alice = FILE_USERS[0]["name"]
    own = first_sign_in(moto, next(n for n in items if n.owner == alice and n.place.endswith(".txt")))
    life.secret(own, f"{alice}'s own new password", alice)
    moto.iam_client().create_group(GroupName=EXTRA_GROUP)
    promote = {"promote_users": [{"name": alice, "groups": [EXTRA_GROUP]}, {"name": FILE_USERS[1]["name"]}]}
    # The second user has no MFA: refused (check mode predicts the refusal too), the first is promoted.
    life.step("promote", "mfa_onboarding.iam.promote", promote, rc=(2, 2))
    items = notes(handover_dir) + mails(smtp.maildir, addresses)
    # The lifecycle did what the scan relies on: passwords issued, handed over, one never delivered.
    problems = list(life.problems)
    issued = {user: len(passwords) for user, passwords in life.issued.items()}
    expected = {"sec-alice": 2, "sec-bob": 2, "sec-carol": 1, "sec-dave": 1, "sec-erin": 2}
    if issued != expected:
        problems.append(f"console passwords per user in IAM: expected {expected}, found {issued}")
    if not undelivered or any(undelivered[0] in item.text for item in items):
        problems.append("the password of the failed delivery must exist in IAM and in no note or mail")
    owners = sorted(item.owner for item in items)
    if owners.count("sec-bob") != 2 or owners.count("sec-erin") != 1 or len(owners) != 6:
        problems.append(f"handover: expected 2 notes for sec-bob (one a backup), 1 mail for sec-erin, found {owners}")
    for path in [handover_dir, *(item.place for item in items)]:
        wanted = "0o700" if path == handover_dir else "0o600"
        if scenario.mode(path) != wanted:
            problems.append(f"{path}: mode {scenario.mode(path)}, expected {wanted}")
    runs = life.ansible.runs
    erin = LATE_USER["name"]
    for name, expected_text in (
        ("onboard, mail login refused (real)", f"onboarding failed for {erin}: "),
        ("onboard, mail login refused (real)", f"refused the login of {smtp.login}"),
        (
            "onboard, mail refused (real)",
            f"onboarding failed for {erin}: user {erin}: the handover by mail to {gone['email']}",
        ),
        ("onboard, mail refused (real)", f"refused the recipient {gone['email']}"),
        ("promote (real)", f"promotion refused for {FILE_USERS[1]['name']}"),
        # The one-line-per-user summaries of the roles.
        (
            "onboard by file (real)",
            f"{alice}: onboarding, new temporary password handed over by file to {handover_dir}",
        ),
        (
            "rerun by mail (real)",
            f"{erin}: onboarding, new temporary password handed over by mail to {LATE_USER['email']}, changed",
        ),
        ("promote (real)", f"{alice}: promoted, changed"),
        ("promote (real)", f"{FILE_USERS[1]['name']}: refused: user {FILE_USERS[1]['name']} has no MFA device"),
    ):
        if not any(run.name == name and expected_text in run.output for run in runs):
            problems.append(f"{name}: the output does not say {expected_text!r}")
    with open(life.ansible.log_path, encoding="utf-8", errors="replace") as handle:
        log = handle.read()
    if log.count("PLAY RECAP") != len(runs):
        problems.append(f"the log holds {log.count('PLAY RECAP')} of the {len(runs)} runs")
    if not any("--- before" in run.output and "+++ after" in run.output for run in runs if "onboard" in run.name):
        problems.append("no onboarding run showed a diff (--diff)")
    assert not problems, life.scanner.redact("\n".join(problems))

    # The scan.
    scanner = life.scanner
    hits, output_bytes = scan_outputs(scanner, life.ansible)
    log_name = os.path.basename(life.ansible.log_path)
    other_files: list[Hit] = scanner.scan_tree(
        workdir, exclude=[handover_dir, life.ansible.inputs, smtp.maildir, life.ansible.log_path]
    )
    other_files += scanner.scan_tree(smtp.maildir, exclude=[item.place for item in items])
    other_files += scanner.scan(f"{moto.url} server log", moto.log().encode())
    wrong_places = misplaced(life, items)
    temporary = len(scanner) - 3  # without the two SMTP passwords and the user's own new password
    with capsys.disabled():
        print(
            f"\nsecret hits: {sum(hit.count for hit in hits)} across {len(scanner)} passwords, {output_bytes} bytes of"
            f" output ({len(runs)} runs' stdout+stderr and {log_name}); {temporary} temporary passwords, the SMTP"
            f" password, a wrong SMTP password, one chosen password; other files: {len(other_files)} hits;"
            f" outside its own note/mail: {len(wrong_places)}; {time.monotonic() - started:.1f} s"
        )
    assert not hits, "secrets in the output:\n" + "\n".join(map(str, hits))
    assert not other_files, "secrets in files the runs left:\n" + "\n".join(map(str, other_files))
    assert not wrong_places, "\n".join(wrong_places)


def test_the_scanner_finds_a_printed_password(tmp_path: t.Any, capsys: pytest.CaptureFixture[str]) -> None:
    """The same scan over a command that does print a password (raw) and a playbook that prints it URL-encoded."""
    fake_aws = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    ansible = Ansible(fake_aws, str(tmp_path))
    leaked = "Leak-" + secrets.token_hex(8) + "&=%+!"
    ansible.run("ad hoc debug", ["ansible", "localhost", "-vvvv", "-m", "ansible.builtin.debug", "-a", f"msg={leaked}"])
    playbook = os.path.join(ansible.inputs, "leaky.yml")
    with open(playbook, "w", encoding="utf-8") as handle:
        handle.write(
            "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
            '    - ansible.builtin.debug:\n        msg: "{{ leaked | urlencode }}"\n'
        )
    ansible.run(
        "leaky playbook",
        ["ansible-playbook", "-vvvv", "--diff", playbook, "-e", f"@{ansible.vars_file({'leaked': leaked})}"],
    )
    scanner = Scanner()
    scanner.add(leaked, "the leaked password")
    assert [run.rc for run in ansible.runs] == [0, 0], scanner.redact("\n".join(run.output for run in ansible.runs))
    hits, output_bytes = scan_outputs(scanner, ansible)
    places = {(hit.place, hit.form) for hit in hits}
    with capsys.disabled():
        print(f"\nleaky commands: {sum(hit.count for hit in hits)} secret hits in {output_bytes} bytes, as expected")
    assert ("stdout of ad hoc debug", "raw") in places, hits
    assert ("stdout of leaky playbook", "url") in places, hits
    assert any(place.startswith("ANSIBLE_LOG_PATH") for place, _form in places), hits
