# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The test CA (tests/support/tls.py) and the SMTP server helper: a CA certificate that is a CA, a server
certificate that verifies against it (host name included) and against nothing else, private keys 0600; the server
on loopback in each mode, naming the CA file its clients are to trust, counting sessions, stopped by its pid."""

from __future__ import annotations

import json
import os
import smtplib
import socket
import ssl
import stat
import threading
import typing as t

import pytest
from cryptography import x509

from ansible_collections.mfa_onboarding.iam.tests.support import smtp_server
from ansible_collections.mfa_onboarding.iam.tests.support import tls


def _handshake(cert: str, key: str, ca_file: str, server_hostname: str) -> None:
    """A TLS handshake over a socket pair: the server presents cert, the client trusts only ca_file."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=ca_file)
    left, right = socket.socketpair()
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            with server_context.wrap_socket(right, server_side=True) as wrapped:
                wrapped.recv(1)
        except (ssl.SSLError, OSError) as e:
            errors.append(e)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client_context.wrap_socket(left, server_hostname=server_hostname) as wrapped:
            wrapped.sendall(b"x")
    finally:
        left.close()
        thread.join(timeout=10)
        right.close()


def test_the_ca_is_a_ca_and_its_server_certificate_verifies_against_it_alone(tmp_path: t.Any) -> None:
    ca = tls.make_ca(str(tmp_path), "ca")
    other = tls.make_ca(str(tmp_path), "other")
    cert, key = tls.issue_server_certificate(ca, str(tmp_path), "server")

    constraints = ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca is True
    with open(cert, "rb") as handle:
        leaf = x509.load_pem_x509_certificate(handle.read())
    assert leaf.issuer == ca.certificate.subject
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    for path in (ca.key, other.key, key):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path

    _handshake(cert, key, ca.cert, "localhost")
    _handshake(cert, key, ca.cert, "127.0.0.1")
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer certificate"):
        _handshake(cert, key, other.cert, "localhost")
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        _handshake(cert, key, ca.cert, "mail.example.org")


@pytest.mark.parametrize(
    "mode,untrusted", [("starttls", False), ("implicit", False), ("none", False), ("starttls", True)]
)
def test_the_server_in_each_mode(tmp_path: t.Any, mode: str, untrusted: bool) -> None:
    with smtp_server.SmtpServer(str(tmp_path), tls=mode, untrusted=untrusted) as server:
        assert server.host == "127.0.0.1" and server.port
        assert os.path.basename(server.ca_file) == "ca.pem"
        context = ssl.create_default_context(cafile=server.ca_file)
        if mode == "implicit":
            client: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=10, context=context)
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=10)
        with client:
            client.ehlo()
            assert client.has_extn("starttls") is (mode == "starttls")
            if mode == "starttls" and untrusted:
                with pytest.raises(ssl.SSLCertVerificationError):
                    client.starttls(context=context)
                client.close()
            else:
                if mode == "starttls":
                    client.starttls(context=context)
                client.login(server.login, server.password)
                client.sendmail("a@example.org", ["b@example.org"], "Subject: s\r\n\r\nbody\r\n")
                client.quit()
        sessions = server.sessions()
        messages = server.messages()
        pid = _pid(server.state_file)
    # One session of this client (start's own probes are not counted), stopped by its pid.
    assert len(sessions) == 1 and sessions[0]["helo"] != smtp_server.PROBE_HELO, sessions
    assert len(messages) == (0 if untrusted else 1)
    if messages:
        assert messages[0]["rcpt_tos"] == ["b@example.org"] and messages[0]["tls"] is (mode != "none")
        assert messages[0]["session"] == sessions[0]["n"]
    assert not os.path.exists(server.state_file)
    assert not smtp_server._running(pid)


def _pid(state_file: str) -> int:
    with open(state_file, encoding="utf-8") as handle:
        return int(json.load(handle)["pid"])


def test_a_rejected_recipient_gets_550(tmp_path: t.Any) -> None:
    with smtp_server.SmtpServer(str(tmp_path), reject_rcpt=["no@example.org"]) as server:
        with smtplib.SMTP(server.host, server.port, timeout=10) as client:
            client.starttls(context=ssl.create_default_context(cafile=server.ca_file))
            client.login(server.login, server.password)
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                client.sendmail("a@example.org", ["no@example.org"], "Subject: s\r\n\r\nbody\r\n")
            assert refused.value.recipients["no@example.org"][0] == 550
            client.sendmail("a@example.org", ["yes@example.org"], "Subject: s\r\n\r\nbody\r\n")
        assert [m["rcpt_tos"] for m in server.messages()] == [["yes@example.org"]]
        assert [s["refused"] for s in server.sessions()] == [["no@example.org"]]
