"""Development and test certificates for TLS and mutual TLS, made with `cryptography`.

    python -m scripts.devcerts DIR      # ca.pem, server.pem, server-key.pem, client.pem, client-key.pem
    python -m scripts.devcerts DIR --self-signed --host numrep-lookup ... --days 3650
                                        # tls.crt, tls.key, ca.crt (= tls.crt): a cert-manager-shaped Secret

The server certificate is valid for 127.0.0.1 and localhost; the client
certificate names an operator. Never use these outside development and tests.
"""

from __future__ import annotations

import argparse
import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    ca: bool,
    usage: list[x509.ObjectIdentifier] | None = None,
    sans: list[x509.GeneralName] | None = None,
    days: int = 30,
) -> x509.Certificate:
    now = datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make(directory: Path, operator: str = "test-operator") -> dict[str, Path]:
    """Write a CA, a server certificate for 127.0.0.1/localhost and a client certificate; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca = _cert("numrep test CA", ca_key, None, ca_key, ca=True)
    server_key, client_key = _key(), _key()
    server = _cert(
        "numrep test server",
        server_key,
        ca.subject,
        ca_key,
        ca=False,
        usage=[ExtendedKeyUsageOID.SERVER_AUTH],
        sans=[x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")],
    )
    client = _cert(operator, client_key, ca.subject, ca_key, ca=False, usage=[ExtendedKeyUsageOID.CLIENT_AUTH])
    files = {
        "ca": (directory / "ca.pem", ca.public_bytes(serialization.Encoding.PEM)),
        "server": (directory / "server.pem", server.public_bytes(serialization.Encoding.PEM)),
        "server_key": (directory / "server-key.pem", _pem_key(server_key)),
        "client": (directory / "client.pem", client.public_bytes(serialization.Encoding.PEM)),
        "client_key": (directory / "client-key.pem", _pem_key(client_key)),
    }
    for path, data in files.values():
        path.write_bytes(data)
        path.chmod(0o600)
    return {k: p for k, (p, _) in files.items()}


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def self_signed(directory: Path, hosts: list[str], days: int = 30) -> dict[str, Path]:
    """A self-signed server certificate for ``hosts``, written as cert-manager names its Secret's keys:
    ``tls.crt``, ``tls.key`` and ``ca.crt`` (the certificate itself, which clients trust)."""
    directory.mkdir(parents=True, exist_ok=True)
    key = _key()
    cert = _cert(
        hosts[0],
        key,
        None,
        key,
        ca=True,
        usage=[ExtendedKeyUsageOID.SERVER_AUTH],
        sans=[_san(h) for h in hosts],
        days=days,
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    files = {
        "cert": (directory / "tls.crt", pem),
        "key": (directory / "tls.key", _pem_key(key)),
        "ca": (directory / "ca.crt", pem),
    }
    for path, data in files.values():
        path.write_bytes(data)
        path.chmod(0o600)
    return {k: p for k, (p, _) in files.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("directory", type=Path)
    ap.add_argument(
        "--self-signed", action="store_true", help="one self-signed server certificate (tls.crt/tls.key/ca.crt)"
    )
    ap.add_argument("--host", action="append", default=[], help="a name or address the certificate is for (repeat)")
    ap.add_argument("--days", type=int, default=30)
    ns = ap.parse_args()
    made = (
        self_signed(ns.directory, ns.host or ["localhost", "127.0.0.1"], ns.days)
        if ns.self_signed
        else make(ns.directory)
    )
    for name, path in made.items():
        print(f"{name:11} {path}")


if __name__ == "__main__":
    main()
