"""Issue 11 item 5: no input takes the machine. /dev/zero as any input, a 1 GB (sparse) value file,
an endless pipe, deeply nested JSON, `https://[::1/`, a FIFO at the vault path: each is a clear
message with exit 1 or 2, never "internal error", never a hang."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from knoxtui.cli import main
from knoxtui.vault import connection as vault_connection

PASSPHRASE = "vault-pass-Ibis-9"


@pytest.fixture
def knox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setattr(vault_connection, "DEFAULT_KDF_ITER", 64)
    pass_file = tmp_path / "pass.txt"
    pass_file.write_text(PASSPHRASE + "\n")
    vault = tmp_path / "v" / "limits.knox"
    (tmp_path / "val.txt").write_text("tok-1")

    def run(*argv: str, passphrase: str | None = None) -> tuple[int, str]:
        extra = ["--vault", str(vault), "--vault-passphrase-file", passphrase or str(pass_file)]
        code = main([*argv, *([] if argv[0] == "inspect" else extra)])
        _out, err = capsys.readouterr()
        assert "internal error" not in err
        return code, err

    code, err = run(
        "secret", "add", "seed", "--type", "string", "--value-file", str(tmp_path / "val.txt")
    )
    assert code == 0, err
    run.dir = tmp_path  # type: ignore[attr-defined]
    return run


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ("inspect", "/dev/zero"),
        ("inspect", "/dev/null", "--key", "/dev/zero"),
        ("secret", "add", "z", "--type", "string", "--value-file", "/dev/zero"),
        ("secret", "add", "z", "--type", "oauth2", "--config", "/dev/zero"),
        ("route", "add", "z", "--config", "/dev/zero"),
        ("secret", "import-json", "/dev/zero"),
    ],
)
def test_dev_zero_is_refused_before_reading(knox, argv: tuple[str, ...]) -> None:
    code, err = knox(*argv)
    assert code == 2
    assert "not a regular file" in err


def test_dev_zero_as_the_passphrase_file(knox) -> None:
    code, err = knox("secret", "list", passphrase="/dev/zero")
    assert code == 2 and "not a regular file" in err


def test_a_1_gb_value_is_refused_by_its_size(knox) -> None:
    big = _sparse(knox.dir / "big.txt", 1 << 30)
    code, err = knox("secret", "add", "big", "--type", "string", "--value-file", str(big))
    assert code == 2
    assert "1024 MB; the limit is 1 MB" in err


def test_a_huge_certificate_file_is_refused(knox) -> None:
    big = _sparse(knox.dir / "big.pem", 200 << 20)
    code, err = knox("inspect", str(big))
    assert code == 2 and "the limit is 8 MB" in err


def test_an_endless_pipe_is_read_up_to_the_limit(knox, tmp_path: Path) -> None:
    fifo = tmp_path / "endless"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f"cat /dev/zero > '{fifo}'"], stderr=subprocess.DEVNULL)
    try:
        code, err = knox("secret", "list", passphrase=str(fifo))
    finally:
        writer.kill()
        writer.wait(timeout=10)
    assert code == 2 and "longer than 64 KiB" in err


@pytest.mark.parametrize(
    ("argv_head", "name"),
    [
        (("route", "add", "deep", "--config"), "deep.json"),
        (("secret", "add", "deep", "--type", "oauth2", "--config"), "deep.json"),
        (("secret", "import-json"), "deep.json"),
    ],
)
def test_deeply_nested_json_is_a_clear_error(knox, argv_head, name: str) -> None:
    for depth in (40, 100_000):
        path = knox.dir / name
        path.write_text('{"a": ' * depth + "1" + "}" * depth)
        code, err = knox(*argv_head, str(path))
        assert code in (1, 2), err
        assert "nested deeper than 32 levels" in err


def test_unclosed_ipv6_urls_are_clear_errors(knox) -> None:
    route = knox.dir / "r.json"
    route.write_text('{"target_url": "https://[::1/"}')
    code, err = knox("route", "add", "r", "--config", str(route))
    assert code == 1 and "is not an http(s) URL" in err
    proxied = knox.dir / "p.json"
    proxied.write_text('{"target_url": "https://api.example", "proxy": "http://u:pw@[::1"}')
    code, err = knox("route", "add", "p", "--config", str(proxied))
    assert code == 1 and "'proxy' must be" in err and "pw" not in err
    oauth = knox.dir / "o.json"
    oauth.write_text('{"token_url": "https://[::1/", "client_id": "a", "client_secret": "b"}')
    code, err = knox("secret", "add", "o", "--type", "oauth2", "--config", str(oauth))
    assert code == 1 and "token_url" in err
    good = knox.dir / "g.json"
    good.write_text('{"target_url": "https://127.0.0.1:9/"}')
    assert knox("route", "add", "g", "--config", str(good))[0] == 0
    code, err = knox("test", "g", "--proxy", "http://u:pw@[::1")
    assert code == 2 and "--proxy" in err and "pw" not in err


def test_a_fifo_at_the_vault_path_does_not_hang(tmp_path: Path, capsys) -> None:
    fifo = tmp_path / "vault.knox"
    os.mkfifo(fifo)
    pass_file = tmp_path / "p.txt"
    pass_file.write_text("x")
    code = main(["secret", "list", "--vault", str(fifo), "--vault-passphrase-file", str(pass_file)])
    err = capsys.readouterr().err
    assert code == 2 and "not a regular file" in err


def test_a_servers_deeply_nested_json_is_shown_not_a_crash(knox, tmp_path: Path) -> None:
    """A real TLS server on 127.0.0.1 answering 100,000 nested arrays (to the API and to the
    OAuth2 token request): `knoxtui test` reports, never "internal error"."""
    from hostile import hostile_client

    from knoxtui.net.tls_server import ServerRequest, ServerResponse, TlsServer
    from knoxtui.ui.screens.tester import pretty_body

    deep = b"[" * 100_000 + b"]" * 100_000
    material = hostile_client()

    def handler(_request: ServerRequest) -> ServerResponse:
        return ServerResponse(200, deep)

    with TlsServer(
        handler, cert_chain_pem=material.cert_pem, key_pem=material.key_pem, verify="none"
    ) as server:
        route = knox.dir / "deep-route.json"
        route.write_text(
            json.dumps({"target_url": server.url + "/x", "tls_reject_unauthorized": False})
        )
        assert knox("route", "add", "deep", "--config", str(route))[0] == 0
        code, err = knox("test", "deep")
        assert code == 0, err
        oauth = knox.dir / "deep-oauth.json"
        oauth.write_text(
            json.dumps(
                {"token_url": server.url + "/token", "client_id": "a", "client_secret": "b-Sec-1"}
            )
        )
        assert knox("secret", "add", "tok", "--type", "oauth2", "--config", str(oauth))[0] == 0
        route.write_text(
            json.dumps(
                {
                    "target_url": server.url + "/x",
                    "oauth2_secret_id": "tok",
                    "tls_reject_unauthorized": False,
                }
            )
        )
        assert knox("route", "add", "deep2", "--config", str(route))[0] == 0
        code, err = knox("test", "deep2")
        assert code == 1, err  # oauth2_token_failed: the answer is no token (and no crash)
    assert pretty_body(deep, "application/json").startswith("[[[")
