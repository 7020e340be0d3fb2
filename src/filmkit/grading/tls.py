"""Certificates for a grading cluster: a private authority, and one certificate per role.

A Dask scheduler runs whatever its clients send, so a cluster off one machine talks TLS with a
certificate on each side (:func:`filmkit.grading.cluster.check_secure`): the scheduler's, each
worker's and the grader's (the client's), all signed by an authority of the course's own, whose
certificate every party trusts and whose key stays with the instructor. ``filmkit cluster certs
DIR`` writes them (:func:`make_certificates`):

    ca.pem          the authority's certificate (give it to every machine)
    ca-key.pem      its key (keep it: it makes new certificates; never copy it to a worker)
    scheduler.pem   the scheduler's key and certificate
    worker.pem      the workers' key and certificate
    client.pem      the grader's key and certificate

Dask checks the chain both ways and not the host name, so one worker certificate serves every
worker; whoever holds a certificate signed by the authority can use the cluster, which is why
the key files are written readable by their owner only. Made with ``cryptography``, as Dask's own
``Security.temporary()`` makes its certificates.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Final

ROLES: Final = ("scheduler", "worker", "client")
VALID_DAYS: Final = 365


def make_certificates(folder: Path, *, days: int = VALID_DAYS) -> dict[str, Path]:
    """Write an authority and a certificate per role (:data:`ROLES`) into ``folder``; returns
    each file by its name (``ca``, ``ca-key``, and the roles). Refuses to overwrite an authority
    already there (its certificates would stop being trusted)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "ca.pem").exists():
        raise FileExistsError(
            f"{folder / 'ca.pem'} exists: its certificates would no longer be trusted; "
            "choose another folder, or remove it first"
        )
    now = dt.datetime.now(dt.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "filmkit grading cluster"),
                x509.NameAttribute(NameOID.COMMON_NAME, common),
            ]
        )

    def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name("filmkit cluster authority"))
        .issuer_name(name("filmkit cluster authority"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
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
        .sign(ca_key, hashes.SHA256())
    )
    written = {
        "ca": _write(folder / "ca.pem", ca_cert.public_bytes(serialization.Encoding.PEM), 0o644),
        "ca-key": _write(folder / "ca-key.pem", key_pem(ca_key), 0o600),
    }
    for role in ROLES:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(f"filmkit cluster {role}"))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        pem = key_pem(key) + cert.public_bytes(serialization.Encoding.PEM)
        written[role] = _write(folder / f"{role}.pem", pem, 0o600)
    return written


def _write(path: Path, data: bytes, mode: int) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)
    return path
