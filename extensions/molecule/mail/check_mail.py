# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Checks of the mail scenario, against the SMTP server's maildir, the moto server and the playbooks' log.

    python check_mail.py absent --state-file MOTO_STATE --user NAME
        exits 1 when IAM holds a user NAME (e.g. one whose run was refused before any write)
    python check_mail.py check --state-file MOTO_STATE --maildir DIR --login LOGIN --sender ADDRESS
        --expect NAME=EMAIL ... --log FILE ... [--secret-file FILE ...] [--auth-failures N]

`check`: exactly one mail per expected user, to that user's address, from the sender, over TLS, after a login as
LOGIN; each states the user name, the console sign-in URL and a temporary password that is the console password
IAM holds for the user; the passwords differ; every expected user is still only in the onboarding state; at
least N failed logins were seen; no log holds any of the mailed passwords or the secrets in the secret files.
Prints every failed check (never a password) and a count; exits 1 when a check failed.
"""

from __future__ import annotations

import argparse
import email
import email.message
import email.policy
import email.utils
import glob
import json
import os
import sys

from ansible_collections.mfa_onboarding.iam.tests.support import scenario as lib
from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import iam_client


def absent(args: argparse.Namespace) -> int:
    iam = iam_client(lib.moto_url(args.state_file))
    names = [user["UserName"] for page in iam.get_paginator("list_users").paginate() for user in page["Users"]]
    print(json.dumps({"user": args.user, "exists": args.user in names}))
    return 1 if args.user in names else 0


def body_text(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def check_mails(checks: lib.Checks, args: argparse.Namespace, stored: dict[str, str]) -> dict[str, str]:
    expected = dict(item.split("=", 1) for item in args.expect)
    paths = sorted(glob.glob(os.path.join(args.maildir, "[0-9]*.json")))
    mails = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            mails.append(json.load(handle))
    checks.equal(len(mails), len(expected), "number of mails received")
    sender = email.utils.parseaddr(args.sender)[1]
    passwords: dict[str, str] = {}
    for name, address in expected.items():
        to_user = [m for m in mails if m["rcpt_tos"] == [address]]
        if not checks.equal(len(to_user), 1, f"mails to {name} <{address}>"):
            continue
        mail = to_user[0]
        checks.equal(mail["mail_from"], sender, f"{name}'s mail: envelope sender")
        checks.check(mail["tls"], f"{name}'s mail came over TLS (STARTTLS)")
        checks.check(mail["authenticated"], f"{name}'s mail came after a login")
        checks.equal(mail["login"], args.login, f"{name}'s mail: SMTP login")
        message = email.message_from_string(mail["data"], policy=email.policy.default)
        checks.equal(email.utils.parseaddr(str(message["To"]))[1], address, f"{name}'s mail: To header")
        checks.check(str(message["Subject"] or "").strip(), f"{name}'s mail has a subject")
        text = body_text(message)
        fields = lib.handover_fields(text)
        checks.equal(fields["user"], name, f"{name}'s mail: user name")
        checks.equal(fields["url"], lib.CONSOLE_URL, f"{name}'s mail: sign-in URL")
        checks.check("MFA" in text, f"{name}'s mail tells the owner to register an MFA device")
        password = fields["password"]
        if checks.check(password, f"{name}'s mail states one temporary password"):
            assert password is not None
            checks.check(stored.get(name) == password, f"{name}'s mailed password is the console password IAM holds")
            passwords[name] = password
    checks.equal(len(set(passwords.values())), len(expected), "distinct temporary passwords in the mails")
    return passwords


def check_iam(checks: lib.Checks, args: argparse.Namespace) -> None:
    iam = iam_client(lib.moto_url(args.state_file))
    for item in args.expect:
        lib.check_onboarding(checks, iam, item.split("=", 1)[0])


def check_auth(checks: lib.Checks, args: argparse.Namespace) -> None:
    attempts = []
    auth_log = os.path.join(args.maildir, "auth.jsonl")
    if os.path.exists(auth_log):
        with open(auth_log, encoding="utf-8") as handle:
            attempts = [json.loads(line) for line in handle if line.strip()]
    failures = [a for a in attempts if not a["success"] and a["login"] == args.login]
    checks.check(
        len(failures) >= args.auth_failures,
        f"failed SMTP logins as {args.login}: expected at least {args.auth_failures}, found {len(failures)}",
    )


def check_logs(checks: lib.Checks, args: argparse.Namespace, secrets: dict[str, str]) -> None:
    for path in args.log:
        if not checks.check(os.path.isfile(path), f"{path} exists"):
            continue
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        # The log must have recorded the onboarding runs, verbosely, or the checks below prove nothing.
        checks.check("PLAY RECAP" in text, f"{path} holds the playbook runs")
        checks.check("mfa_onboarding.iam.onboard" in text, f"{path} holds the onboard role's tasks")
        checks.check("<127.0.0.1>" in text or "ESTABLISH LOCAL CONNECTION" in text, f"{path} is verbose (-vvv)")
        for what, secret in secrets.items():
            checks.check(secret not in text, f"{path} must not hold {what}")


def check(args: argparse.Namespace) -> int:
    checks = lib.Checks("mail")
    stored = lib.stored_passwords(lib.moto_url(args.state_file))
    passwords = check_mails(checks, args, stored)
    check_iam(checks, args)
    check_auth(checks, args)
    secrets = {f"{name}'s temporary password": password for name, password in passwords.items()}
    for path in args.secret_file:
        with open(path, encoding="utf-8") as handle:
            secret = handle.read().split()[0]
        if checks.check(len(secret) >= 8, f"{path} holds a secret"):
            secrets[f"the secret of {os.path.basename(path)}"] = secret
    check_logs(checks, args, secrets)
    return checks.done()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    missing = commands.add_parser("absent")
    missing.add_argument("--state-file", required=True)
    missing.add_argument("--user", required=True)
    missing.set_defaults(handler=absent)
    checking = commands.add_parser("check")
    checking.add_argument("--state-file", required=True)
    checking.add_argument("--maildir", required=True)
    checking.add_argument("--login", required=True)
    checking.add_argument("--sender", required=True)
    checking.add_argument("--expect", action="append", required=True, metavar="NAME=EMAIL")
    checking.add_argument("--log", action="append", default=[])
    checking.add_argument("--secret-file", action="append", default=[])
    checking.add_argument("--auth-failures", type=int, default=0)
    checking.set_defaults(handler=check)
    args = parser.parse_args()
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
