"""ConnectorRegistry: lazy entry points, contract checks, config errors without values.

Plugins are real: a distribution's metadata written to a temporary directory on sys.path,
discovered by importlib.metadata exactly as an installed connector package would be.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any, ClassVar

import pytest

from connectors.contract import ConnectorConfig, ConnectorRequest, ConnectorResponse
from connectors.payer_rest.connector import PayerRestConnector
from connectors.registry import (
    ConnectorConfigError,
    ConnectorRegistry,
    InvalidConnectorError,
    UnknownConnectorError,
)

GROUP = "casegate.test_connectors"
PLUGIN_MODULE = "casegate_registry_test_plugin"
PLUGIN_SOURCE = textwrap.dedent(
    """
    from typing import ClassVar
    from connectors.contract import ConnectorConfig

    class EchoConfig(ConnectorConfig):
        url: str

    class Echo:
        name: ClassVar[str] = "echo"
        wire_format: ClassVar[str] = "echo/v1"
        capabilities: ClassVar[frozenset[str]] = frozenset({"erp.post"})
        Config = EchoConfig

        def __init__(self, config):
            self.config = config

        async def check(self):
            return None

        async def send(self, request):
            raise NotImplementedError

        async def aclose(self):
            return None
    """
)


def _distribution(root: Path, name: str, entry_points: str) -> None:
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{GROUP}]\n{entry_points}")


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / f"{PLUGIN_MODULE}.py").write_text(PLUGIN_SOURCE)
    _distribution(
        tmp_path,
        "casegate_registry_plugins_a",
        f"echo = {PLUGIN_MODULE}:Echo\n"
        "broken = casegate_registry_no_such_module:Thing\n"
        f"misnamed = {PLUGIN_MODULE}:Echo\n"
        f"twice = {PLUGIN_MODULE}:Echo\n",
    )
    _distribution(tmp_path, "casegate_registry_plugins_b", f"twice = {PLUGIN_MODULE}:Echo\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, PLUGIN_MODULE, raising=False)


def test_installed_payer_rest_is_found() -> None:
    registry = ConnectorRegistry()
    assert "payer_rest" in registry.names()
    assert registry.get("payer_rest") is PayerRestConnector


@pytest.mark.usefixtures("plugins")
def test_plugins_are_imported_only_when_asked_for() -> None:
    registry = ConnectorRegistry(GROUP)
    assert registry.names() == ["broken", "echo", "misnamed", "twice"]
    assert PLUGIN_MODULE not in sys.modules
    cls = registry.get("echo")
    assert PLUGIN_MODULE in sys.modules
    assert registry.get("echo") is cls


@pytest.mark.usefixtures("plugins")
def test_create_validates_config_through_the_class() -> None:
    connector = ConnectorRegistry(GROUP).create("echo", {"url": "x", "timeout_seconds": 3})
    assert connector.config.timeout_seconds == 3  # type: ignore[attr-defined]


@pytest.mark.usefixtures("plugins")
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("broken", "failed to load from casegate_registry_no_such_module:Thing"),
        ("misnamed", "its name attribute is 'echo'"),
        ("twice", "more than one entry point"),
    ],
)
def test_unusable_plugins_fail_with_a_message(name: str, message: str) -> None:
    with pytest.raises(InvalidConnectorError, match=message):
        ConnectorRegistry(GROUP).get(name)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(UnknownConnectorError, match="payer_rest"):
        ConnectorRegistry().get("no_such_connector")


class _Good:
    name: ClassVar[str] = "good"
    wire_format: ClassVar[str] = "good/v1"
    capabilities: ClassVar[frozenset[str]] = frozenset({"eligibility.check"})
    Config: ClassVar[type[ConnectorConfig]] = ConnectorConfig

    def __init__(self, config: ConnectorConfig) -> None:
        self.config = config

    async def check(self) -> None:
        return None

    async def send(self, request: ConnectorRequest) -> ConnectorResponse:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None


def _variant(**attrs: Any) -> type:
    return type("Variant", (_Good,), attrs)


def _sync_check(self: Any) -> None:
    return None


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (_variant(capabilities=frozenset({"prior_auth.teleport"})), "prior_auth.teleport"),
        (_variant(capabilities=frozenset()), "capabilities must be a non-empty frozenset"),
        (_variant(capabilities={"erp.post"}), "capabilities must be a non-empty frozenset"),
        (_variant(wire_format=""), "wire_format must be a non-empty string"),
        (_variant(Config=dict), "Config must be a subclass"),
        (_variant(check=_sync_check), "check must be an async method"),
        (_variant(name="other"), "its name attribute is 'other'"),
    ],
)
def test_register_checks_the_contract(cls: type, message: str) -> None:
    with pytest.raises(InvalidConnectorError, match=message):
        ConnectorRegistry().register("good", cls)


def test_registered_class_wins_and_is_listed() -> None:
    registry = ConnectorRegistry()
    registry.register("good", _Good)
    assert registry.get("good") is _Good
    assert {"good", "payer_rest"} <= set(registry.names())


def test_bad_config_names_each_key_by_dotted_path_without_values() -> None:
    leaked = "Zq-pasted-secret-77"
    with pytest.raises(ConnectorConfigError) as caught:
        ConnectorRegistry().create(
            "payer_rest",
            {
                "base_url": "http://payer.example.com",
                "timeout_seconds": leaked,
                "auth": {
                    "token_url": "https://payer.example.com/token",
                    "client_id": "casegate",
                    "client_secret": leaked,
                },
                "retries": 3,
            },
        )
    error = caught.value
    assert set(error.problems) == {"base_url", "timeout_seconds", "auth.client_secret", "retries"}
    assert "https" in error.problems["base_url"]
    assert leaked not in str(error) and error.__cause__ is None and error.__suppress_context__
    assert error.connector == "payer_rest"
