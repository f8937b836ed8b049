"""A real nginx with `ssl_verify_client`, where installed: the lab's second backend, used by the
benchmark and the tests to check the diagnosis against the server banks actually run."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from knoxtui.errors import UsageError

_CONFIG = """
worker_processes 1;
daemon off;
master_process on;
pid {run}/nginx.pid;
error_log {run}/error.log error;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl{listen_options};
        server_name {server_name};
        ssl_certificate {run}/server.pem;
        ssl_certificate_key {run}/server.key;
        ssl_client_certificate {run}/client-ca.pem;
        ssl_verify_client {verify};
        ssl_verify_depth 3;
        ssl_protocols {protocols};
        ssl_session_cache off;
        ssl_session_tickets off;
        keepalive_timeout {keepalive};
        location / {{
            default_type application/json;
            return 200 '{{"client": "$ssl_client_s_dn", "verify": "$ssl_client_verify"}}';
        }}
    }}
}}
"""


def nginx_path() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


class NginxServer:
    """`with NginxServer(chain_pem, key_pem, client_ca_pem, verify="on") as n: n.port`"""

    def __init__(
        self,
        server_chain_pem: bytes,
        server_key_pem: bytes,
        client_ca_pem: bytes,
        *,
        verify: str = "on",
        protocols: str = "TLSv1.2 TLSv1.3",
        server_name: str = "localhost",
        http2: bool = False,
    ) -> None:
        binary = nginx_path()
        if binary is None:
            raise UsageError("nginx is not installed.", hint="apt-get install nginx-light")
        self.binary = binary
        self.run = Path(tempfile.mkdtemp(prefix="knoxtui-nginx-"))
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        (self.run / "server.pem").write_bytes(server_chain_pem)
        key = self.run / "server.key"
        key.touch(0o600)
        key.write_bytes(server_key_pem)
        (self.run / "client-ca.pem").write_bytes(client_ca_pem)
        (self.run / "nginx.conf").write_text(
            _CONFIG.format(
                run=self.run,
                port=self.port,
                verify=verify,
                protocols=protocols,
                server_name=server_name,
                listen_options=" http2" if http2 else "",
                # HTTP/2 with keepalive 0 sends GOAWAY before the response headers
                keepalive="5" if http2 else "0",
            )
        )
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> NginxServer:
        self._proc = subprocess.Popen(
            [self.binary, "-p", str(self.run), "-c", str(self.run / "nginx.conf"), "-e", "stderr"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                self.stop()
                raise UsageError(f"nginx did not start: {err.strip()[:300]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise UsageError("nginx did not start listening within 10 s.")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGQUIT)
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
        if self._proc is not None and self._proc.stderr:
            self._proc.stderr.close()
        shutil.rmtree(self.run, ignore_errors=True)

    def __enter__(self) -> NginxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
