# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The mail channel of _handover.py as iam_onboard_user uses it, against a real SMTP server on loopback
(tests/support/smtp_server.py, a subprocess, its certificate issued by a CA this test run made) and an in-process
moto IAM (DESIGN section 4, invariant 6).

Every case reads what the server saw (messages, sessions, logins) and what IAM holds (marks, the console password
moto keeps), and counts the module's write calls: a certificate that is not trusted, a server without STARTTLS or
an address that is not exactly one address refuses the run before any write and before anything is sent.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import typing as t

import botocore.client
import pytest
from moto.backends import get_backend

from ansible_collections.mfa_onboarding.iam.plugins.modules import iam_onboard_user
from ansible_collections.mfa_onboarding.iam.tests.support import scenario
from ansible_collections.mfa_onboarding.iam.tests.support.smtp_server import IMPLICIT
from ansible_collections.mfa_onboarding.iam.tests.support.smtp_server import PLAIN
from ansible_collections.mfa_onboarding.iam.tests.support.smtp_server import SmtpServer

Run = t.Callable[..., dict[str, t.Any]]

ACCOUNT = "123456789012"  # moto's default account
GROUP = "NotYetLoginUsers"
SENDER = "iam-onboarding@example.org"
HANDOVER_TAG = "mfa-onboarding:handover"
USERS = [
    {"name": "alice", "email": "alice@example.org"},
    {"name": "bob", "email": "bob.builder@example.net"},
    {"name": "carol", "email": "carol+iam@mail.example.com"},
]

# Botocore's own call, captured before any fixture patches it: the tests' inspections go through it unrecorded.
_UNRECORDED_CALL = botocore.client.BaseClient._make_api_call


# Fixtures and helpers


@pytest.fixture
def system_store_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The system's trust store is OpenSSL's default one, not one that the environment names."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


@pytest.fixture
def smtp(tmp_path: t.Any, system_store_only: None) -> t.Iterator[t.Callable[..., SmtpServer]]:
    """smtp(tls=..., untrusted=..., reject_rcpt=...) -> a running SMTP server on loopback; all stopped afterwards."""
    started: list[SmtpServer] = []

    def start(**options: t.Any) -> SmtpServer:
        server = SmtpServer(str(tmp_path / f"smtp-{len(started)}"), **options)
        started.append(server)
        return server.start().wait()

    try:
        yield start
    finally:
        for server in started:
            server.stop()


def mail_args(server: SmtpServer, users: list[dict[str, t.Any]], **overrides: t.Any) -> dict[str, t.Any]:
    """The module's arguments for a mail handover through server, trusting the test CA unless overridden."""
    args = {
        "users": users,
        "handover": "mail",
        "mail_host": server.host,
        "mail_port": server.port,
        "mail_from": SENDER,
        "mail_username": server.login,
        "mail_password": server.password,
        "mail_ca_file": server.ca_file,
    }
    args.update(overrides)
    return {k: v for k, v in args.items() if v is not None}


def iam_users() -> dict[str, t.Any]:
    """moto's user objects by name (moto keeps the console password; real IAM never reveals it)."""
    return dict(get_backend("iam")[ACCOUNT]["global"].users)


def stored_password(name: str) -> str | None:
    return iam_users()[name].password


def tags(iam: t.Any, name: str) -> dict[str, str]:
    user = _UNRECORDED_CALL(iam, "GetUser", {"UserName": name})["User"]
    return {tag["Key"]: tag["Value"] for tag in user.get("Tags", [])}


def parsed(message: dict[str, t.Any]) -> email.message.EmailMessage:
    return t.cast(email.message.EmailMessage, email.message_from_string(message["data"], policy=email.policy.default))


def mailed_password(message: dict[str, t.Any]) -> str | None:
    body = parsed(message).get_body(preferencelist=("plain",))
    return scenario.handover_fields(body.get_content() if body is not None else "")["password"]


def by_name(result: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    return {user["name"]: user for user in result["users"]}


def make_pending(iam: t.Any, name: str) -> None:
    """A user as a run killed after CreateLoginProfile leaves it: guarded, a password, the mark still pending."""
    iam.create_user(UserName=name, Tags=[{"Key": HANDOVER_TAG, "Value": "pending"}])
    iam.add_user_to_group(UserName=name, GroupName=GROUP)
    iam.create_login_profile(UserName=name, Password="Never-Handed-0ver!x", PasswordResetRequired=True)


def user_state(iam: t.Any, name: str) -> dict[str, t.Any]:
    """What IAM holds for a user, for before/after comparisons (unrecorded)."""
    groups = _UNRECORDED_CALL(iam, "ListGroupsForUser", {"UserName": name})["Groups"]
    profile = _UNRECORDED_CALL(iam, "GetLoginProfile", {"UserName": name})["LoginProfile"]
    return {
        "tags": tags(iam, name),
        "groups": sorted(g["GroupName"] for g in groups),
        "login_profile": str(profile["CreateDate"]),
        "password": stored_password(name),
    }


def assert_delivered(
    iam: t.Any, server: SmtpServer, result: dict[str, t.Any], users: list[dict[str, t.Any]], tls: bool = True
) -> None:
    """Every user got exactly one message, to exactly its one address, with the password IAM holds; marked
    delivered; no password in the result."""
    assert not result.get("failed"), result["msg"]
    assert "temporary_password" not in str(result)
    results = by_name(result)
    received = server.messages()
    assert len(received) == len(users), [m["rcpt_tos"] for m in received]
    passwords = set()
    for user in users:
        name, address = user["name"], user["email"]
        assert results[name]["handover"] == "delivered", results[name]
        assert results[name]["handover_via"] == {"channel": "mail", "to": address}
        assert tags(iam, name)[HANDOVER_TAG] == "delivered"
        mine = [m for m in received if address in m["rcpt_tos"]]
        assert len(mine) == 1, f"{name} got {len(mine)} messages"
        message = mine[0]
        assert message["rcpt_tos"] == [address]
        assert message["mail_from"] == SENDER
        assert message["tls"] is tls
        assert message["authenticated"] is True and message["login"] == server.login
        headers = parsed(message)
        assert headers.get_all("To") == [address]
        assert headers.get_all("Cc") is None and headers.get_all("Bcc") is None
        password = mailed_password(message)
        assert password and password == stored_password(name), f"{name}'s mailed password is not the one IAM holds"
        passwords.add(password)
    assert len(passwords) == len(users)


def assert_refused_before_any_write(result: dict[str, t.Any], api_calls: t.Any, server: SmtpServer) -> None:
    assert result.get("failed"), result
    assert api_calls.writes == [], api_calls.writes
    assert server.messages() == []


# The certificate


def test_starttls_trusting_the_test_ca_delivers_one_message_per_user(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, smtp: t.Callable[..., SmtpServer]
) -> None:
    server = smtp()
    api_calls.clear()
    result = run_module(iam_onboard_user, mail_args(server, USERS))

    assert_delivered(iam, server, result, USERS)
    assert api_calls.writes.count("CreateLoginProfile") == len(USERS)
    sessions = server.sessions()
    assert sessions and all(s["tls"] and s["login"] == server.login for s in sessions), sessions
    assert all(attempt["success"] for attempt in server.auth_attempts())


def test_the_system_store_does_not_trust_the_test_ca(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, smtp: t.Callable[..., SmtpServer]
) -> None:
    server = smtp()
    api_calls.clear()
    result = run_module(iam_onboard_user, mail_args(server, USERS, mail_ca_file=None))

    assert_refused_before_any_write(result, api_calls, server)
    assert "certificate is not trusted by the system's trust store" in result["msg"], result["msg"]
    assert "give mail_ca_file" in result["msg"], result["msg"]
    assert "local issuer" in result["msg"], result["msg"]  # OpenSSL's reason, as the module passes it on
    assert not set(iam_users()) & {u["name"] for u in USERS}
    assert server.auth_attempts() == []  # the login (and its password) never went to the untrusted server


def test_a_certificate_from_another_ca_is_refused(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, smtp: t.Callable[..., SmtpServer]
) -> None:
    server = smtp(untrusted=True)
    api_calls.clear()
    result = run_module(iam_onboard_user, mail_args(server, USERS))

    assert_refused_before_any_write(result, api_calls, server)
    assert f"certificate is not trusted by mail_ca_file {server.ca_file}" in result["msg"], result["msg"]
    assert "local issuer" in result["msg"] and "give mail_ca_file" not in result["msg"], result["msg"]
    assert not set(iam_users()) & {u["name"] for u in USERS}
    assert server.auth_attempts() == []


def test_a_rerun_for_pending_users_against_an_untrusted_server_changes_nobody(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, smtp: t.Callable[..., SmtpServer]
) -> None:
    for user in USERS:
        make_pending(iam, user["name"])
    before = {u["name"]: user_state(iam, u["name"]) for u in USERS}
    server = smtp(untrusted=True)
    api_calls.clear()
    result = run_module(iam_onboard_user, mail_args(server, USERS))

    assert_refused_before_any_write(result, api_calls, server)
    assert "certificate is not trusted" in result["msg"], result["msg"]
    after = {u["name"]: user_state(iam, u["name"]) for u in USERS}
    assert after == before
    assert all(state["tags"][HANDOVER_TAG] == "pending" for state in after.values())


def test_implicit_tls_trusting_the_test_ca_delivers(
    bootstrapped: t.Any, run_module: Run, iam: t.Any, smtp: t.Callable[..., SmtpServer]
) -> None:
    server = smtp(tls=IMPLICIT)
    result = run_module(iam_onboard_user, mail_args(server, USERS, mail_starttls=False))

    assert_delivered(iam, server, result, USERS)
    assert all(s["tls"] for s in server.sessions())


def test_implicit_tls_from_another_ca_is_refused(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, smtp: t.Callable[..., SmtpServer]
) -> None:
    server = smtp(tls=IMPLICIT, untrusted=True)
    api_calls.clear()
    result = run_module(iam_onboard_user, mail_args(server, USERS, mail_starttls=False))

    assert_refused_before_any_write(result, api_calls, server)
    assert "certificate is not trusted" in result["msg"], result["msg"]


# Without TLS


def test_a_server_without_starttls_is_refused_and_nothing_goes_out_in_plain_text(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, smtp: t.Callable[..., SmtpServer]
) -> None:
    server = smtp(tls=PLAIN)
    api_calls.clear()
    result = run_module(iam_onboard_user, mail_args(server, USERS))

    assert_refused_before_any_write(result, api_calls, server)
    assert "does not offer STARTTLS" in result["msg"], result["msg"]
    assert not set(iam_users()) & {u["name"] for u in USERS}
    # The session that found no STARTTLS said EHLO and nothing else: no login, no sender, no recipient.
    assert server.auth_attempts() == []
    assert all(not s["authenticated"] and s["messages"] == 0 for s in server.sessions())


def test_mail_plaintext_delivers_to_a_plain_server_with_a_warning(
    bootstrapped: t.Any,
    run_module: Run,
    iam: t.Any,
    smtp: t.Callable[..., SmtpServer],
    warning_messages: t.Callable[[dict[str, t.Any]], list[str]],
) -> None:
    server = smtp(tls=PLAIN)
    result = run_module(iam_onboard_user, mail_args(server, USERS, mail_plaintext=True, mail_ca_file=None))

    assert_delivered(iam, server, result, USERS, tls=False)
    warned = [w for w in warning_messages(result) if "mail_plaintext" in w]
    assert len(warned) == 1 and "without TLS" in warned[0], warning_messages(result)
    assert f"{server.host}:{server.port}" in warned[0]


# Sessions


def test_one_session_per_worker_thread(
    bootstrapped: t.Any, run_module: Run, iam: t.Any, smtp: t.Callable[..., SmtpServer]
) -> None:
    server = smtp()
    users = [{"name": f"user{i:02d}", "email": f"user{i:02d}@example.org"} for i in range(12)]
    result = run_module(iam_onboard_user, mail_args(server, users, concurrency=3))

    assert_delivered(iam, server, result, users)
    sessions = server.sessions()
    # The session prepare() opened is one of them: at most one per worker, not one per user.
    assert 1 <= len(sessions) <= 3, sessions
    assert sum(s["messages"] for s in sessions) == 12
    assert {m["session"] for m in server.messages()} == {s["n"] for s in sessions}
    assert len([a for a in server.auth_attempts() if a["success"]]) == len(sessions)


# A recipient refused mid-run, then the rerun


def test_a_refused_recipient_stays_pending_and_the_rerun_delivers_only_to_it(
    bootstrapped: t.Any, api_calls: t.Any, run_module: Run, iam: t.Any, smtp: t.Callable[..., SmtpServer]
) -> None:
    refusing = smtp(reject_rcpt=["bob.builder@example.net"])
    result = run_module(iam_onboard_user, mail_args(refusing, USERS))

    assert result.get("failed")
    assert "1 of 3 users failed" in result["msg"] and "user bob" in result["msg"], result["msg"]
    results = by_name(result)
    assert results["bob"]["failed"] and results["bob"]["handover"] == "pending", results["bob"]
    assert "refused the recipient bob.builder@example.net" in results["bob"]["msg"]
    assert stored_password("bob") not in str(result)
    assert {name: tags(iam, name)[HANDOVER_TAG] for name in results} == {
        "alice": "delivered",
        "bob": "pending",
        "carol": "delivered",
    }
    first = refusing.messages()
    assert sorted(m["rcpt_tos"][0] for m in first) == ["alice@example.org", "carol+iam@mail.example.com"]
    assert [s["refused"] for s in refusing.sessions() if s["refused"]] == [["bob.builder@example.net"]]
    undelivered = stored_password("bob")
    kept = {name: stored_password(name) for name in ("alice", "carol")}

    server = smtp()
    api_calls.clear()
    rerun = run_module(iam_onboard_user, mail_args(server, USERS))

    assert not rerun.get("failed"), rerun["msg"]
    again = by_name(rerun)
    assert again["bob"]["changed"] and again["bob"]["handover"] == "delivered"
    assert not again["alice"]["changed"] and not again["carol"]["changed"]
    assert [p["UserName"] for p in api_calls.requests("UpdateLoginProfile")] == ["bob"]
    assert api_calls.requests("CreateLoginProfile") == []
    received = server.messages()
    assert [m["rcpt_tos"] for m in received] == [["bob.builder@example.net"]]
    assert mailed_password(received[0]) == stored_password("bob") != undelivered
    assert {name: stored_password(name) for name in ("alice", "carol")} == kept
    assert tags(iam, "bob")[HANDOVER_TAG] == "delivered"
    assert len(refusing.messages()) == 2  # nothing more went to the first server


# Addresses


@pytest.mark.parametrize(
    "address",
    ["m2@example.org, eve2@evil.example", "not-an-email", "a@b\r\nBcc: x@y.z", "Name <a@b.org>", "a@localhost"],
    ids=["two-recipients", "no-domain", "header-break", "display-name", "single-label-domain"],
)
def test_an_address_that_is_not_exactly_one_address_is_refused_before_any_call(
    address: str, bootstrapped: t.Any, api_calls: t.Any, run_module: Run, smtp: t.Callable[..., SmtpServer]
) -> None:
    server = smtp()
    users = [USERS[0], {"name": "mallory", "email": address}]
    api_calls.clear()
    result = run_module(iam_onboard_user, mail_args(server, users))

    assert result.get("failed"), result
    assert "email of user mallory" in result["msg"] and "nothing was changed" in result["msg"], result["msg"]
    assert "alice" not in result["msg"]
    assert api_calls.names == []  # not even a read
    assert not set(iam_users()) & {"alice", "mallory"}
    assert server.messages() == [] and server.sessions() == []  # no connection at all
