# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A real SMTP server on loopback for the mail scenario and the secret scan: STARTTLS required, then AUTH
LOGIN/PLAIN required.

    SCENARIO_SMTP_USERNAME=... SCENARIO_SMTP_PASSWORD=... \\
      python -m ansible_collections.mfa_onboarding.iam.tests.support.smtp_server start \\
        --state-file DIR/smtp.json --maildir DIR/mail
    python -m ansible_collections.mfa_onboarding.iam.tests.support.smtp_server stop --state-file DIR/smtp.json

`start` makes a self-signed certificate (cryptography) for localhost and 127.0.0.1, starts the server on a free
port in the background (aiosmtpd), waits until it offers STARTTLS and, only after STARTTLS, AUTH, then writes
host, port and pid into the state file (mode 0600) and prints them as JSON. Every message received goes into
MAILDIR/NNN.json (envelope, whether it came over TLS and from which login, and the raw message); every
authentication attempt is a line of MAILDIR/auth.jsonl (login, mechanism, success; never a password).
`stop` stops the server if it runs and removes the state file; with no state file it does nothing.
"""

from __future__ import annotations

import argparse
import datetime
import hmac
import ipaddress
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

from ansible_collections.mfa_onboarding.iam.tests.support.moto_server import free_port

ENV_USERNAME = "SCENARIO_SMTP_USERNAME"
ENV_PASSWORD = "SCENARIO_SMTP_PASSWORD"
# The server process runs this module (`python -m`), with the environment, and so the PYTHONPATH, of its starter.
MODULE = "ansible_collections.mfa_onboarding.iam.tests.support.smtp_server"


def make_certificate(directory: str) -> tuple[str, str]:
    """A self-signed certificate for localhost and 127.0.0.1, valid for a day; returns (cert, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    os.makedirs(directory, mode=0o700, exist_ok=True)
    cert_path, key_path = os.path.join(directory, "smtp-cert.pem"), os.path.join(directory, "smtp-key.pem")
    with open(cert_path, "wb") as handle:
        handle.write(certificate.public_bytes(serialization.Encoding.PEM))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return cert_path, key_path


def _append_line(path: str, entry: dict[str, t.Any]) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


def serve(args: argparse.Namespace) -> int:
    """Run the server in the foreground until SIGTERM (started by `start`)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
    from aiosmtpd.smtp import LoginPassword

    os.umask(0o077)  # the messages hold temporary passwords
    # aiosmtpd itself still fills the deprecated Session.login_data, and warns about it on every login.
    warnings.filterwarnings("ignore", message="Session.login_data is deprecated")
    username = os.environ[ENV_USERNAME].encode()
    password = os.environ[ENV_PASSWORD].encode()
    os.makedirs(args.maildir, mode=0o700, exist_ok=True)
    auth_log = os.path.join(args.maildir, "auth.jsonl")
    lock = threading.Lock()

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

    class Handler:
        count = 0

        async def handle_DATA(self, server: t.Any, session: t.Any, envelope: t.Any) -> str:
            with lock:
                Handler.count += 1
                message = {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": list(envelope.rcpt_tos),
                    "tls": session.ssl is not None,
                    "authenticated": bool(session.authenticated),
                    "login": session.auth_data.login.decode(errors="replace") if session.auth_data else None,
                    "data": envelope.content.decode("utf-8", errors="replace"),
                }
                path = os.path.join(args.maildir, f"{Handler.count:03d}.json")
                with open(f"{path}.tmp", "w", encoding="utf-8") as handle:
                    json.dump(message, handle, indent=2)
                os.replace(f"{path}.tmp", path)
            return "250 Message accepted for delivery"

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=args.port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    controller.start()
    try:
        stop.wait()
    finally:
        controller.stop()
    return 0


def probe(host: str, port: int) -> str | None:
    """None when the server offers STARTTLS, and AUTH only after it; otherwise what is wrong."""
    try:
        with smtplib.SMTP(host, port, timeout=2) as smtp:
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                return "no STARTTLS offered"
            if smtp.has_extn("auth"):
                return "AUTH offered before STARTTLS"
            smtp.starttls(context=ssl._create_unverified_context())
            smtp.ehlo()
            if not smtp.has_extn("auth"):
                return "no AUTH offered after STARTTLS"
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
    cert, key = make_certificate(os.path.join(state_dir, "smtp-tls"))
    port = free_port()
    log_path = os.path.join(state_dir, "smtp.log")
    with open(log_path, "wb") as log:
        command = [sys.executable, "-m", MODULE, "serve", "--port", str(port), "--maildir", args.maildir]
        process = subprocess.Popen(
            [*command, "--cert", cert, "--key", key],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + args.timeout
    problem = probe("127.0.0.1", port)
    while problem is not None and time.monotonic() < deadline:
        if process.poll() is not None:
            break
        time.sleep(0.1)
        problem = probe("127.0.0.1", port)
    if problem is not None:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        with open(log_path, encoding="utf-8", errors="replace") as handle:
            print(f"smtp_server: {problem}\n{handle.read()}", file=sys.stderr)
        return 1
    state = {"host": "127.0.0.1", "port": port, "pid": process.pid, "maildir": os.path.abspath(args.maildir)}
    fd, tmp = tempfile.mkstemp(dir=state_dir, prefix=".smtp-state-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2)
    os.replace(tmp, args.state_file)
    print(json.dumps(state))
    return 0


def stop(args: argparse.Namespace) -> int:
    try:
        with open(args.state_file, encoding="utf-8") as handle:
            state = json.load(handle)
    except FileNotFoundError:
        print(json.dumps({"stopped": False, "reason": "no state file"}))
        return 0
    pid = int(state["pid"])
    stopped = _running(pid)
    if stopped:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _running(pid):
            os.kill(pid, signal.SIGKILL)
    os.unlink(args.state_file)
    print(json.dumps({"stopped": stopped, "port": state["port"], "pid": pid}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start_parser = commands.add_parser("start")
    start_parser.add_argument("--state-file", required=True)
    start_parser.add_argument("--maildir", required=True)
    start_parser.add_argument("--timeout", type=float, default=15.0)
    start_parser.set_defaults(handler=start)
    stop_parser = commands.add_parser("stop")
    stop_parser.add_argument("--state-file", required=True)
    stop_parser.set_defaults(handler=stop)
    serve_parser = commands.add_parser("serve")
    serve_parser.add_argument("--port", type=int, required=True)
    serve_parser.add_argument("--maildir", required=True)
    serve_parser.add_argument("--cert", required=True)
    serve_parser.add_argument("--key", required=True)
    serve_parser.set_defaults(handler=serve)
    args = parser.parse_args()
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
