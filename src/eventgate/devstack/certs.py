"""Local security material of the secured devstack: a CA, a server certificate, passwords.

The secured Kafka and the TLS Redis share one local certificate authority, so a client
needs one CA file (``EVENTGATE_KAFKA_SSL_CAFILE`` / ``EVENTGATE_REDIS_SSL_CAFILE``). The
server certificate names ``localhost`` and ``127.0.0.1`` (the addresses the launcher
binds), so clients verify host names as they would in production. Files are made with
the ``openssl`` command line (always on Debian), once per folder: a second ``up`` reuses
them, and the passwords with them, so clients configured earlier keep working.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from eventgate.devstack.process import DevstackError

CERT_DAYS = 825  # the longest validity TLS clients accept for a server certificate
SERVER_NAMES = ("DNS:localhost", "IP:127.0.0.1")


@dataclass(frozen=True)
class LocalCerts:
    """Paths of the PEM files in one folder."""

    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def server_cert(self) -> Path:
        """The server certificate followed by the CA's (the chain a server presents)."""
        return self.folder / "server.pem"

    @property
    def server_key(self) -> Path:
        """The server's unencrypted PKCS#8 private key."""
        return self.folder / "server.key"

    @property
    def server_keystore(self) -> Path:
        """Key and chain in one file: Kafka's ``ssl.keystore.type=PEM`` reads this form."""
        return self.folder / "server-keystore.pem"


def server_extensions(names: tuple[str, ...] = SERVER_NAMES) -> str:
    """The X.509 v3 extensions of the server certificate (``openssl x509 -extfile``)."""
    return "\n".join(
        [
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature,keyEncipherment",
            "extendedKeyUsage=serverAuth,clientAuth",
            f"subjectAltName={','.join(names)}",
            "",
        ]
    )


def _openssl(*args: str, cwd: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise DevstackError("the openssl command is needed: apt-get install openssl")
    result = subprocess.run(
        [openssl, *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
    )
    if result.returncode != 0:
        raise DevstackError(f"openssl {args[0]} failed: {result.stderr.strip()}")


def ensure_certs(folder: Path) -> LocalCerts:
    """The CA and server certificate in ``folder``, made on first use."""
    certs = LocalCerts(folder)
    if certs.server_keystore.exists():
        return certs
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    rsa = ("-newkey", "rsa:2048", "-nodes")
    _openssl(
        "req", "-x509", *rsa, "-keyout", "ca.key", "-out", "ca.pem",
        "-days", str(CERT_DAYS), "-subj", "/CN=eventgate devstack CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )  # fmt: skip
    _openssl(
        "req", "-new", *rsa, "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=localhost",
        cwd=folder,
    )  # fmt: skip
    (folder / "server.ext").write_text(server_extensions())
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", str(CERT_DAYS), "-sha256",
        "-extfile", "server.ext", "-out", "server-only.pem",
        cwd=folder,
    )  # fmt: skip
    leaf = (folder / "server-only.pem").read_text()
    certs.server_cert.write_text(leaf + certs.ca_cert.read_text())
    key = certs.server_key.read_text()
    for path in (certs.ca_key, certs.server_key):
        os.chmod(path, 0o600)
    # Written last: its presence means the whole set is complete.
    certs.server_keystore.write_text(key + certs.server_cert.read_text())
    os.chmod(certs.server_keystore, 0o600)
    return certs


def ensure_passwords(path: Path, users: tuple[str, ...]) -> dict[str, str]:
    """A random password per user, kept in ``path`` (mode 0600) and reused afterwards.
    Hex only, so a password needs no quoting in JAAS lines, ACL files or URLs."""
    known: dict[str, str] = {}
    if path.exists():
        known = json.loads(path.read_text())
    missing = [user for user in users if user not in known]
    if missing:
        known.update({user: secrets.token_hex(16) for user in missing})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(known, indent=2))
        os.chmod(path, 0o600)
    return {user: known[user] for user in users}
