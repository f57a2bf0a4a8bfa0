# Copyright: Contributors to the mfa_onboarding.iam project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A certificate authority made by the test, and server certificates it issues (cryptography), as PEM files.

    ca = make_ca(directory)                          # ca.cert (the file a client trusts), ca.key (0600)
    cert, key = issue_server_certificate(ca, directory)  # for localhost and 127.0.0.1, signed by ca

A client that is given `ca.cert` as its only trust anchor (smtplib with ssl.create_default_context(cafile=...))
verifies the server certificate and its host name; a client that uses the system store, or another CA's file,
refuses it. Everything is valid for a day; the keys are written with mode 0600.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import typing as t

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.oid import NameOID

VALIDITY = datetime.timedelta(days=1)
# A little in the past, so that a clock that lags behind by a few minutes still accepts the certificates.
BACKDATE = datetime.timedelta(minutes=5)


class Authority(t.NamedTuple):
    """A CA: its certificate file (what a client trusts), its key file, and both as objects for issuing."""

    cert: str
    key: str
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey


def _write_key(path: str, key: ec.EllipticCurvePrivateKey) -> None:
    # O_EXCL after unlinking: never write a key into a file that someone else opened (or linked) beforehand.
    if os.path.lexists(path):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )


def _write_cert(path: str, certificate: x509.Certificate) -> None:
    with open(path, "wb") as handle:
        handle.write(certificate.public_bytes(serialization.Encoding.PEM))


def make_ca(directory: str, name: str = "ca", common_name: str = "mfa_onboarding.iam test CA") -> Authority:
    """A fresh CA key and its self-signed certificate (BasicConstraints CA:TRUE, critical; may sign certificates
    but no further CA) as DIRECTORY/NAME.pem and DIRECTORY/NAME-key.pem."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mfa_onboarding.iam tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path = os.path.join(directory, f"{name}.pem")
    key_path = os.path.join(directory, f"{name}-key.pem")
    _write_key(key_path, key)
    _write_cert(cert_path, certificate)
    return Authority(cert_path, key_path, certificate, key)


def issue_server_certificate(
    ca: Authority,
    directory: str,
    name: str = "server",
    dns_names: t.Sequence[str] = ("localhost",),
    ip_addresses: t.Sequence[str] = ("127.0.0.1",),
) -> tuple[str, str]:
    """A server certificate signed by `ca` for the given names (serverAuth, not a CA) and its key, as
    DIRECTORY/NAME.pem and DIRECTORY/NAME-key.pem; returns (cert, key) paths."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
    common_name = dns_names[0] if dns_names else ip_addresses[0]
    ca_key_id = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id), critical=False)
        .sign(ca.private_key, hashes.SHA256())
    )
    cert_path = os.path.join(directory, f"{name}.pem")
    key_path = os.path.join(directory, f"{name}-key.pem")
    _write_key(key_path, key)
    _write_cert(cert_path, certificate)
    return cert_path, key_path
