"""Auth settings validation, secret references, and the key files made on first start."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gateway.auth import AuthSettings, ClientSettings, dev_client
from gateway.auth.keys import KeyFileError, load_or_create_issuer_key


def test_literal_secret_in_config_is_refused_without_being_echoed() -> None:
    with pytest.raises(ValidationError) as caught:
        ClientSettings.model_validate(
            {"client_id": "svc", "tenant": "t", "scopes": ["a"], "secret": "plain-canary"}
        )
    assert "plain-canary" not in str(caught.value)


def test_settings_round_trip_keeps_references(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEGATE_T_SECRET", "value-canary")
    settings = AuthSettings.model_validate(
        {
            "issuer": "https://gateway.example/",
            "clients": [
                {
                    "client_id": "svc",
                    "tenant": "t",
                    "scopes": ["a"],
                    "secret": "env:CASEGATE_T_SECRET",
                }
            ],
        }
    )
    assert settings.issuer == "https://gateway.example"
    assert settings.token_url == "https://gateway.example/oauth/token"
    dumped = settings.model_dump_json()
    assert json.loads(dumped)["clients"][0]["secret"] == "env:CASEGATE_T_SECRET"
    assert "value-canary" not in dumped and "value-canary" not in repr(settings)
    assert AuthSettings.model_validate_json(dumped) == settings


def _client(**fields: Any) -> dict[str, Any]:
    return {"client_id": "svc", "tenant": "t", "scopes": ["cases:read"], **fields}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (_client(), "needs a secret, a jwks or a jwks_url"),
        (_client(jwks={"keys": []}, jwks_url="https://x.example/jwks"), "not both"),
        (_client(secret="env:X", unknown=1), "Extra inputs are not permitted"),
        (_client(secret="env:X", scopes=["has space"]), "scope-token"),
        (_client(secret="env:X", scopes=[]), "at least 1 item"),
        (_client(secret="env:X", client_id="bad id"), "client_id must be"),
        (_client(jwks_url="http://idp.example/jwks"), "must be https"),
        (_client(jwks={"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "k"}]}), "symmetric"),
        (_client(jwks={"nokeys": []}), '"keys" array'),
    ],
)
def test_client_settings_refuse_bad_fields(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ClientSettings.model_validate(fields)


def test_client_jwks_must_be_public_with_kid(es384_client_key: Any) -> None:
    private = dict(es384_client_key.key.as_dict(private=True))
    with pytest.raises(ValidationError, match="private"):
        ClientSettings.model_validate(_client(jwks={"keys": [{**private, "kid": "k"}]}))
    public = dict(es384_client_key.key.as_dict(private=False))
    with pytest.raises(ValidationError, match="kid"):
        ClientSettings.model_validate(_client(jwks={"keys": [public]}))
    loopback = _client(jwks_url="http://127.0.0.1:9999/jwks.json")
    assert ClientSettings.model_validate(loopback).jwks_url == loopback["jwks_url"]


def test_auth_settings_refuse_incoherent_combinations() -> None:
    with pytest.raises(ValidationError, match="jwks_url must name"):
        AuthSettings(embedded_issuer=False)
    duplicate = [_client(secret="env:A"), _client(secret="env:B")]
    with pytest.raises(ValidationError, match="configured twice"):
        AuthSettings.model_validate({"clients": duplicate})
    with pytest.raises(ValidationError, match="http"):
        AuthSettings(issuer="gateway.example")
    with pytest.raises(ValidationError):
        AuthSettings(token_ttl_seconds=0)
    external = AuthSettings(embedded_issuer=False, jwks_url="https://idp.example/jwks")
    assert external.jwks_url == "https://idp.example/jwks"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_issuer_key_is_created_once_owner_only(tmp_path: Path) -> None:
    key = load_or_create_issuer_key(tmp_path)
    key_file = tmp_path / "keys" / "issuer-es384.json"
    assert _mode(key_file) == 0o600
    assert _mode(tmp_path / "keys") == 0o700
    assert key.kid == key.private_key.thumbprint()
    assert load_or_create_issuer_key(tmp_path).kid == key.kid
    public = key.public_jwks()["keys"][0]
    assert public["kid"] == key.kid and public["alg"] == "ES384" and public["crv"] == "P-384"
    assert "d" not in public
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["issuer-es384.json"]


def test_issuer_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    load_or_create_issuer_key(tmp_path)
    key_file = tmp_path / "keys" / "issuer-es384.json"
    key_file.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_or_create_issuer_key(tmp_path)
    key_file.chmod(0o600)
    key_file.write_text('{"kty": "EC"}')
    with pytest.raises(KeyFileError, match="not an EC private JWK"):
        load_or_create_issuer_key(tmp_path)


def test_dev_client_secret_is_created_once_and_referenced(tmp_path: Path) -> None:
    client = dev_client(tmp_path)
    secret_file = tmp_path / "keys" / "dev-client-secret"
    assert _mode(secret_file) == 0o600
    assert client.client_id == "casegate-dev"
    assert client.tenant == "default"
    assert client.scopes[:3] == ["cases:read", "cases:write", "admin"]
    assert {"system/Claim.write", "system/ClaimResponse.read"} <= set(client.scopes)
    assert client.secret is not None
    secret = client.secret.resolve()
    assert len(secret) >= 32
    assert secret not in repr(client) and secret not in client.model_dump_json()
    assert dev_client(tmp_path).secret == client.secret
    assert secret_file.read_text() == secret
