"""The upstream layout (README, "Team sync"): what knoxtui writes reads back the same, and what
it refuses is named — no server needed."""

from __future__ import annotations

import pytest

from knoxtui.errors import ValidationError
from knoxtui.remote import layout
from knoxtui.vault import CertificateValue, OAuth2Config

CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"


def test_every_type_round_trips() -> None:
    cert = CertificateValue(CERT.encode(), KEY.encode(), "key pass")
    document = layout.secret_document("certificate", "bank", {"production": cert})
    assert document == {
        "knoxtui": 1,
        "type": "certificate",
        "description": "bank",
        "environments": {
            "production": {"certificate": CERT, "private_key": KEY, "key_passphrase": "key pass"}
        },
    }
    back = layout.parse_secret("bank_cert", document)
    assert back.values["production"] == cert and back.description == "bank"

    oauth = OAuth2Config(
        token_url="https://auth.example/token",
        client_id="knox",
        client_secret="s3cret",
        certificate_secret_id="bank_cert",
    )
    document = layout.secret_document("oauth2", None, {"default": oauth})
    assert document["environments"]["default"]["client_secret"] == "s3cret"
    assert "description" not in document
    assert layout.parse_secret("bank_oauth", document).values["default"] == oauth

    document = layout.secret_document("string", None, {"sandbox": "sk-123"})
    assert document["environments"] == {"sandbox": {"value": "sk-123"}}
    assert layout.parse_secret("api_key", document).values == {"sandbox": "sk-123"}
    assert layout.item_path("team/knox", "route", "payments") == "team/knox/routes/payments"


@pytest.mark.parametrize(
    ("data", "words", "code"),
    [
        ([], "not a JSON object", "invalid_upstream"),
        ({"type": "string"}, '"knoxtui": 1', "invalid_upstream"),
        ({"knoxtui": 2, "type": "string"}, "layout 2", "invalid_upstream"),
        ({"knoxtui": 1, "type": "ssh_key", "environments": {}}, "'ssh_key'", "unknown_type"),
        ({"knoxtui": 1, "type": "string", "environments": {}}, "environments", "invalid_upstream"),
        (
            {"knoxtui": 1, "type": "string", "environments": {"default": {"value": ""}}},
            "non-empty",
            "invalid_upstream",
        ),
        (
            {"knoxtui": 1, "type": "certificate", "environments": {"default": {"cert": "x"}}},
            '"certificate"',
            "invalid_upstream",
        ),
        (
            {"knoxtui": 1, "type": "oauth2", "environments": {"default": {"client_id": "x"}}},
            "token_url",
            "invalid_oauth2",
        ),
        (
            {"knoxtui": 1, "type": "string", "environments": {"Bad Env": {"value": "x"}}},
            "environment name",
            "invalid_name",
        ),
    ],
)
def test_what_is_not_in_the_layout_is_refused_by_name(data: object, words: str, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        layout.parse_secret("item", data)
    assert words in caught.value.message and caught.value.code == code


def test_the_marker_written_by_bao_kv_put_as_text_is_read() -> None:
    data = {"knoxtui": "1", "type": "string", "environments": {"default": {"value": "v"}}}
    assert layout.parse_secret("item", data).values == {"default": "v"}


def test_server_text_in_a_refusal_has_its_controls_visible() -> None:
    hostile = {"knoxtui": 1, "type": "\x1b]52;c;evil\x07", "environments": {}}
    with pytest.raises(ValidationError) as caught:
        layout.parse_secret("item", hostile)
    assert "\x1b" not in caught.value.message and "\\x1b" in caught.value.message
