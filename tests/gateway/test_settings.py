from pathlib import Path

import pytest

from canonical.cases import CaseType
from gateway.settings import SettingsError, load_settings


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "casegate.yaml"
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    settings = load_settings(environ={"CASEGATE_HOME": str(tmp_path)})
    assert settings.home == tmp_path
    assert settings.resolved_database_url.endswith(f"{tmp_path}/casegate.db")


def test_errors_name_the_key_and_hide_the_value(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "server:\n  port: not-a-port\n"
        "auth:\n  clients:\n    - {client_id: a, tenant: t, scopes: [x], secret: LITERAL-CANARY}\n",
    )
    with pytest.raises(SettingsError) as caught:
        load_settings(path, environ={})
    message = str(caught.value)
    assert "server.port" in message
    assert "auth.clients.0.secret" in message
    assert "LITERAL-CANARY" not in message


def test_routes_must_name_a_connector(tmp_path: Path) -> None:
    path = _write(tmp_path, "routes:\n  - {payer: ACME, connector: missing}\n")
    with pytest.raises(SettingsError, match=r"routes\.0\.connector names no connector"):
        load_settings(path, environ={})


def test_environment_overrides_nested_keys(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "CASEGATE__SERVER__PORT": "9001",
            "CASEGATE_DATABASE_URL": "postgresql+asyncpg://x/y",
        }
    )
    assert settings.server.port == 9001
    assert settings.resolved_database_url == "postgresql+asyncpg://x/y"


def test_exact_payer_route_wins_over_fallback(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "connectors:\n  a: {kind: payer_rest}\n  b: {kind: payer_rest}\n"
        "routes:\n  - {payer: '*', connector: a}\n  - {payer: ACME, connector: b}\n",
    )
    settings = load_settings(path, environ={})
    assert settings.route_for("ACME", CaseType.prior_authorization) == "b"
    assert settings.route_for("OTHER", CaseType.prior_authorization) == "a"
    assert settings.route_for("ACME", CaseType.eligibility_check) is None


def test_the_shipped_example_settings_are_valid() -> None:
    path = Path(__file__).parents[2] / "examples" / "casegate.yaml"
    settings = load_settings(path, environ={})
    assert settings.route_for("ANY", CaseType.prior_authorization) == "payer_sandbox"
