# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A real SMTP server on loopback for the mail scenario, the secret scan and the mail tests: a login required,
TLS as the test asks, its certificate issued by a CA that the test made (tests/support/tls.py).

    SCENARIO_SMTP_USERNAME=... SCENARIO_SMTP_PASSWORD=... \\
      python -m ansible_collections.mfa_onboarding.iam.tests.support.smtp_server start \\
        --state-file DIR/smtp.json --maildir DIR/mail [--tls starttls|implicit|none] [--untrusted] \\
        [--reject-rcpt ADDRESS ...]
    python -m ansible_collections.mfa_onboarding.iam.tests.support.smtp_server stop --state-file DIR/smtp.json

`start` makes a CA and a server certificate it issues for localhost and 127.0.0.1 (in DIR/smtp-tls, keys 0600),
starts the server on a free loopback port in the background (aiosmtpd), waits until it answers as its mode says,
then writes host, port, pid, maildir, the mode and `ca_file` (the CA file a client is to trust, for the module's
mail_ca_file) into the state file (mode 0600) and prints them as JSON. The modes (`--tls`):

- `starttls` (the default): STARTTLS offered and required before anything else; AUTH only after it.
- `implicit`: TLS from the first byte (SMTPS), then AUTH.
- `none`: no TLS at all, no STARTTLS offered; AUTH in plain text (for mail_plaintext).

With `--untrusted`, the server's certificate is issued by a second CA, not by the one `ca_file` names: a client
that trusts `ca_file` must refuse it. `--reject-rcpt ADDRESS` answers RCPT TO that address with 550.

What the server saw, in MAILDIR (see `messages`, `sessions`, `auth_attempts`):

- NNN.json per message received: envelope, the session it came in, whether it came over TLS and after which
  login, and the raw message;
- connections.jsonl: a line when a connection opens ({"event": "open", "n": N}) and one when it closes (its
  EHLO name, TLS, login, the messages it carried, the recipients refused); the start-up's own probes are marked
  by their EHLO name (PROBE_HELO) and are not counted as sessions;
- auth.jsonl: a line per authentication attempt (login, mechanism, success; never a password).

`stop` stops the server if it runs and removes the state file; with no state file it does nothing.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import signal
import smtplib
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
import warnings

ENV_USERNAME = "SCENARIO_SMTP_USERNAME"
ENV_PASSWORD = "SCENARIO_SMTP_PASSWORD"
# The server process runs this module (`python -m`), with the environment, and so the PYTHONPATH, of its starter.
MODULE = "ansible_collections.mfa_onboarding.iam.tests.support.smtp_server"
STARTTLS, IMPLICIT, PLAIN = "starttls", "implicit", "none"
MODES = (STARTTLS, IMPLICIT, PLAIN)
# The EHLO name of start's own probes: their connections are not sessions of the code under test.
PROBE_HELO = "smtp-server-probe"
CONNECTIONS = "connections.jsonl"
AUTH_LOG = "auth.jsonl"


def make_tls(directory: str, untrusted: bool = False) -> dict[str, str]:
    """The CA a client is to trust (`ca_file`) and the server's certificate and key. Issued by that CA, or, when
    untrusted, by a second CA (`issuer_ca_file`) that the client is not given."""
    from ansible_collections.mfa_onboarding.iam.tests.support import tls as tls_support

    trusted = tls_support.make_ca(directory, "ca", "mfa_onboarding.iam test CA")
    issuer = trusted
    if untrusted:
        issuer = tls_support.make_ca(directory, "other-ca", "mfa_onboarding.iam other test CA")
    cert, key = tls_support.issue_server_certificate(issuer, directory, "smtp-server")
    return {"ca_file": trusted.cert, "issuer_ca_file": issuer.cert, "cert": cert, "key": key}


def make_certificate(directory: str) -> tuple[str, str]:
    """A server certificate for localhost and 127.0.0.1 and its key, issued by a fresh test CA whose certificate
    is DIRECTORY/ca.pem (the file a client is to trust); returns (cert, key) paths."""
    made = make_tls(directory)
    return made["cert"], made["key"]


def _append_line(path: str, entry: dict[str, t.Any]) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


def read_lines(path: str) -> list[dict[str, t.Any]]:
    """The entries of a .jsonl file; none when it does not exist."""
    try:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except FileNotFoundError:
        return []


def messages(maildir: str) -> list[dict[str, t.Any]]:
    """Every message received, in the order of arrival."""
    found = []
    for name in sorted(os.listdir(maildir)) if os.path.isdir(maildir) else []:
        if name.endswith(".json") and name[:1].isdigit():
            with open(os.path.join(maildir, name), encoding="utf-8") as handle:
                found.append(json.load(handle))
    return found


def sessions(maildir: str, timeout: float = 10.0) -> list[dict[str, t.Any]]:
    """The SMTP sessions of clients (every connection that said EHLO or HELO, but start's probes), once every
    connection opened so far has closed (a client's QUIT reaches the server a moment after the client returns)."""
    path = os.path.join(maildir, CONNECTIONS)
    deadline = time.monotonic() + timeout
    while True:
        lines = read_lines(path)
        opened = {e["n"] for e in lines if e["event"] == "open"}
        closed = [e for e in lines if e["event"] == "close"]
        if opened <= {e["n"] for e in closed} or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    still_open = opened - {e["n"] for e in closed}
    if still_open:
        raise AssertionError(f"SMTP connections {sorted(still_open)} still open after {timeout} s")
    return [e for e in closed if e["helo"] and e["helo"] != PROBE_HELO]


def auth_attempts(maildir: str) -> list[dict[str, t.Any]]:
    return read_lines(os.path.join(maildir, AUTH_LOG))


def serve(args: argparse.Namespace) -> int:
    """Run the server in the foreground until SIGTERM (started by `start`)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP
    from aiosmtpd.smtp import AuthResult
    from aiosmtpd.smtp import LoginPassword

    os.umask(0o077)  # the messages hold temporary passwords
    # aiosmtpd itself still fills the deprecated Session.login_data, and warns about it on every login.
    warnings.filterwarnings("ignore", message="Session.login_data is deprecated")
    username = os.environ[ENV_USERNAME].encode()
    password = os.environ[ENV_PASSWORD].encode()
    os.makedirs(args.maildir, mode=0o700, exist_ok=True)
    auth_log = os.path.join(args.maildir, AUTH_LOG)
    connections_log = os.path.join(args.maildir, CONNECTIONS)
    rejected = {address.lower() for address in args.reject_rcpt}
    lock = threading.Lock()
    counters = {"connections": 0, "messages": 0}

    def authenticator(server: t.Any, session: t.Any, envelope: t.Any, mechanism: str, data: t.Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and hmac.compare_digest(data.login, username)
            and hmac.compare_digest(data.password, password)
        )
        login = data.login.decode(errors="replace") if isinstance(data, LoginPassword) else None
        with lock:
            _append_line(auth_log, {"login": login, "mechanism": mechanism, "success": ok})
        # handled=False: aiosmtpd then answers 535 itself on a failure.
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    class RecordingSMTP(SMTP):
        """One line when a connection opens and one when it closes (STARTTLS makes connection_made run twice for
        one connection: the connection is the protocol object)."""

        record_n = 0
        record_closed = False
        record_tls = False

        def connection_made(self, transport: t.Any) -> None:
            if not self.record_n:
                with lock:
                    counters["connections"] += 1
                    self.record_n = counters["connections"]
                    self.record_messages = 0
                    self.record_refused: list[str] = []
                    _append_line(connections_log, {"event": "open", "n": self.record_n})
            # Implicit TLS: the first transport is an SSL one; STARTTLS: the second, once the handshake is done.
            if transport.get_extra_info("ssl_object") is not None:
                self.record_tls = True
            super().connection_made(transport)

        def connection_lost(self, error: Exception | None) -> None:
            if not self.record_closed:
                self.record_closed = True
                session = self.session
                entry = {
                    "event": "close",
                    "n": self.record_n,
                    "helo": session.host_name if session else None,
                    "tls": self.record_tls,
                    "authenticated": bool(session and session.authenticated),
                    "login": session.auth_data.login.decode(errors="replace")
                    if session and session.auth_data
                    else None,
                    "messages": self.record_messages,
                    "refused": self.record_refused,
                }
                with lock:
                    _append_line(connections_log, entry)
            super().connection_lost(error)

    class Handler:
        async def handle_RCPT(
            self, server: t.Any, session: t.Any, envelope: t.Any, address: str, rcpt_options: list[str]
        ) -> str:
            if address.lower() in rejected:
                server.record_refused.append(address)
                return f"550 5.1.1 <{address}>: mailbox unavailable"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: t.Any, session: t.Any, envelope: t.Any) -> str:
            with lock:
                counters["messages"] += 1
                server.record_messages += 1
                message = {
                    "session": server.record_n,
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": list(envelope.rcpt_tos),
                    "tls": server.record_tls,
                    "authenticated": bool(session.authenticated),
                    "login": session.auth_data.login.decode(errors="replace") if session.auth_data else None,
                    "data": envelope.content.decode("utf-8", errors="replace"),
                }
                path = os.path.join(args.maildir, f"{counters['messages']:03d}.json")
                with open(f"{path}.tmp", "w", encoding="utf-8") as handle:
                    json.dump(message, handle, indent=2)
                os.replace(f"{path}.tmp", path)
            return "250 Message accepted for delivery"

    class RecordingController(Controller):
        def factory(self) -> SMTP:
            return RecordingSMTP(self.handler, **self.SMTP_kwargs)

    options: dict[str, t.Any] = {"authenticator": authenticator, "auth_required": True}
    if args.tls != PLAIN:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        if args.tls == STARTTLS:
            options.update(tls_context=context, require_starttls=True, auth_require_tls=True)
        else:
            # aiosmtpd does not count a TLS transport as TLS for AUTH: the whole connection is TLS anyway.
            options.update(ssl_context=context, auth_require_tls=False)
    else:
        options.update(auth_require_tls=False)
    controller = RecordingController(Handler(), hostname="127.0.0.1", port=args.port, **options)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    controller.start()
    try:
        stop.wait()
    finally:
        controller.stop()
    return 0


def probe(host: str, port: int, mode: str = STARTTLS, ca_file: str | None = None) -> str | None:
    """None when the server answers as its mode says (TLS verified against ca_file, the server's own issuer;
    AUTH only once the connection is TLS, but in mode none); otherwise what is wrong."""
    context = ssl.create_default_context(cafile=ca_file) if ca_file else None
    try:
        if mode == IMPLICIT:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=2, local_hostname=PROBE_HELO, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=2, local_hostname=PROBE_HELO)
        with smtp:
            smtp.ehlo()
            if mode == STARTTLS:
                if not smtp.has_extn("starttls"):
                    return "no STARTTLS offered"
                if smtp.has_extn("auth"):
                    return "AUTH offered before STARTTLS"
                smtp.starttls(context=context)
                smtp.ehlo()
            elif smtp.has_extn("starttls"):
                return f"STARTTLS offered in mode {mode}"
            if not smtp.has_extn("auth"):
                return "no AUTH offered"
    except (OSError, smtplib.SMTPException) as error:
        return f"not answering: {error}"
    return None


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z" and b"serve" in argv and MODULE.encode() in argv


def start(args: argparse.Namespace) -> int:
    if not os.environ.get(ENV_USERNAME) or not os.environ.get(ENV_PASSWORD):
        print(f"smtp_server: set {ENV_USERNAME} and {ENV_PASSWORD}", file=sys.stderr)
        return 2
    state_dir = os.path.dirname(os.path.abspath(args.state_file))
    os.makedirs(state_dir, exist_ok=True)
    from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import free_port

    made = make_tls(os.path.join(state_dir, "smtp-tls"), untrusted=args.untrusted)
    port = free_port()
    log_path = os.path.join(state_dir, "smtp.log")
    command = [sys.executable, "-m", MODULE, "serve", "--port", str(port), "--maildir", args.maildir]
    command += ["--tls", args.tls, "--cert", made["cert"], "--key", made["key"]]
    for address in args.reject_rcpt:
        command += ["--reject-rcpt", address]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + args.timeout
    problem = probe("127.0.0.1", port, args.tls, made["issuer_ca_file"])
    while problem is not None and time.monotonic() < deadline:
        if process.poll() is not None:
            break
        time.sleep(0.1)
        problem = probe("127.0.0.1", port, args.tls, made["issuer_ca_file"])
    if problem is not None:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        with open(log_path, encoding="utf-8", errors="replace") as handle:
            print(f"smtp_server: {problem}\n{handle.read()}", file=sys.stderr)
        return 1
    state = {
        "host": "127.0.0.1",
        "port": port,
        "pid": process.pid,
        "maildir": os.path.abspath(args.maildir),
        "tls": args.tls,
        "untrusted": args.untrusted,
        "ca_file": made["ca_file"],
        "reject_rcpt": list(args.reject_rcpt),
    }
    fd, tmp = tempfile.mkstemp(dir=state_dir, prefix=".smtp-state-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2)
    os.replace(tmp, args.state_file)
    print(json.dumps(state))
    return 0


def stop(args: argparse.Namespace) -> int:
    print(json.dumps(stop_server(args.state_file)))
    return 0


def stop_server(state_file: str) -> dict[str, t.Any]:
    """Stop the server that the state file names, by its pid, if it still runs; remove the state file."""
    try:
        with open(state_file, encoding="utf-8") as handle:
            state = json.load(handle)
    except FileNotFoundError:
        return {"stopped": False, "reason": "no state file"}
    pid = int(state["pid"])
    stopped = _running(pid)
    if stopped:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _running(pid):
            os.kill(pid, signal.SIGKILL)
    os.unlink(state_file)
    return {"stopped": stopped, "port": state["port"], "pid": pid}


class SmtpServer:
    """The server run through its own command line, from Python: `start()` launches `start` in the background,
    `wait()` waits until the server answers (so that it can start while something else runs) and reads its
    port and CA file, `stop()` stops it by its pid. Also `with SmtpServer(...) as server:`.

    Messages land in `maildir`; the login is `login`, the password `password` (made here unless given).
    """

    login = "onboarding-mailer"

    def __init__(
        self,
        directory: str,
        *,
        tls: str = STARTTLS,
        untrusted: bool = False,
        reject_rcpt: t.Sequence[str] = (),
        password: str | None = None,
    ) -> None:
        import secrets

        if tls not in MODES:
            raise ValueError(f"tls must be one of {MODES}, not {tls!r}")
        self.password = password or secrets.token_urlsafe(18)
        self.state_file = os.path.join(directory, "smtp.json")
        self.maildir = os.path.join(directory, "mail")
        self.host = "127.0.0.1"
        self.port = 0
        self.ca_file = ""
        self.tls = tls
        self.untrusted = untrusted
        self.reject_rcpt = list(reject_rcpt)
        self._starting: subprocess.Popen[bytes] | None = None

    def start(self) -> SmtpServer:
        env = dict(os.environ, **{ENV_USERNAME: self.login, ENV_PASSWORD: self.password})
        argv = [sys.executable, "-m", MODULE, "start", "--state-file", self.state_file, "--maildir", self.maildir]
        argv += ["--tls", self.tls] + (["--untrusted"] if self.untrusted else [])
        for address in self.reject_rcpt:
            argv += ["--reject-rcpt", address]
        self._starting = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return self

    def wait(self) -> SmtpServer:
        if self.port:
            return self
        assert self._starting is not None, "start() first"
        out, err = self._starting.communicate(timeout=60)
        if self._starting.returncode != 0:
            raise RuntimeError(f"the SMTP server did not start: {err.decode(errors='replace')}")
        state = json.loads(out)
        self.port, self.ca_file = int(state["port"]), str(state["ca_file"])
        return self

    def stop(self) -> None:
        if self._starting is not None and self._starting.poll() is None:
            self._starting.communicate(timeout=60)
        stop_server(self.state_file)

    def __enter__(self) -> SmtpServer:
        return self.start().wait()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def messages(self) -> list[dict[str, t.Any]]:
        return messages(self.maildir)

    def sessions(self) -> list[dict[str, t.Any]]:
        return sessions(self.maildir)

    def auth_attempts(self) -> list[dict[str, t.Any]]:
        return auth_attempts(self.maildir)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start_parser = commands.add_parser("start")
    start_parser.add_argument("--state-file", required=True)
    start_parser.add_argument("--maildir", required=True)
    start_parser.add_argument("--tls", choices=MODES, default=STARTTLS)
    start_parser.add_argument("--untrusted", action="store_true", help="a certificate from a CA not in ca_file")
    start_parser.add_argument("--reject-rcpt", action="append", default=[], metavar="ADDRESS")
    start_parser.add_argument("--timeout", type=float, default=15.0)
    start_parser.set_defaults(handler=start)
    stop_parser = commands.add_parser("stop")
    stop_parser.add_argument("--state-file", required=True)
    stop_parser.set_defaults(handler=stop)
    serve_parser = commands.add_parser("serve")
    serve_parser.add_argument("--port", type=int, required=True)
    serve_parser.add_argument("--maildir", required=True)
    serve_parser.add_argument("--tls", choices=MODES, default=STARTTLS)
    serve_parser.add_argument("--cert", required=True)
    serve_parser.add_argument("--key", required=True)
    serve_parser.add_argument("--reject-rcpt", action="append", default=[], metavar="ADDRESS")
    serve_parser.set_defaults(handler=serve)
    args = parser.parse_args()
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
