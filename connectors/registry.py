"""Finds connector classes by name and builds them from configuration.

Plugins are discovered through the `casegate.connectors` entry-point group but imported only
when first asked for, so one broken or heavy plugin costs nothing to a gateway that does not
route to it. Every class is checked against the contract before use, so a plugin that drifts
from it fails at configuration time with a message, not mid-send with an AttributeError.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pydantic import ValidationError

from connectors.contract import KNOWN_OPERATIONS, Connector, ConnectorConfig
from connectors.errors import located_problems

ENTRY_POINT_GROUP = "casegate.connectors"
_ASYNC_METHODS = ("check", "send", "aclose")


class UnknownConnectorError(LookupError):
    """No connector is registered under the name configuration asked for."""


class InvalidConnectorError(TypeError):
    """A plugin failed to load, or its class does not honour the connector contract."""


class ConnectorConfigError(ValueError):
    """A connector's configuration is invalid.

    `problems` maps each bad key, as a dotted path, to what is wrong with it. Values are never
    repeated: a misplaced credential must not reach a log through an error message.
    """

    def __init__(self, connector: str, problems: Mapping[str, str]) -> None:
        self.connector = connector
        self.problems = dict(problems)
        listing = "; ".join(f"{path}: {problem}" for path, problem in self.problems.items())
        super().__init__(f"invalid configuration for connector {connector!r}: {listing}")


def contract_problems(cls: object) -> list[str]:
    """Everything that keeps `cls` from being a usable connector class (empty when it is)."""
    if not isinstance(cls, type):
        return ["is not a class"]
    problems: list[str] = []
    for attr in ("name", "wire_format"):
        value = getattr(cls, attr, None)
        if not isinstance(value, str) or not value:
            problems.append(f"{attr} must be a non-empty string")
    capabilities = getattr(cls, "capabilities", None)
    if not isinstance(capabilities, frozenset) or not capabilities:
        problems.append("capabilities must be a non-empty frozenset")
    else:
        unknown = sorted(str(op) for op in capabilities - KNOWN_OPERATIONS)
        if unknown:
            problems.append(f"capabilities has unknown operations: {', '.join(unknown)}")
    config = getattr(cls, "Config", None)
    if not (isinstance(config, type) and issubclass(config, ConnectorConfig)):
        problems.append("Config must be a subclass of connectors.contract.ConnectorConfig")
    for method in _ASYNC_METHODS:
        if not inspect.iscoroutinefunction(getattr(cls, method, None)):
            problems.append(f"{method} must be an async method")
    return problems


class ConnectorRegistry:
    """Connector classes by name: installed entry points plus classes registered in code."""

    def __init__(self, group: str = ENTRY_POINT_GROUP) -> None:
        self._group = group
        self._entry_points: dict[str, list[EntryPoint]] | None = None
        self._classes: dict[str, type[Connector]] = {}

    def names(self) -> list[str]:
        return sorted(set(self._discovered()) | set(self._classes))

    def register(self, name: str, cls: type[Any]) -> None:
        """Add a class in code (tests, in-tree connectors); it wins over an entry point."""
        self._classes[name] = self._checked(name, cls)

    def get(self, name: str) -> type[Connector]:
        if name in self._classes:
            return self._classes[name]
        candidates = self._discovered().get(name)
        if not candidates:
            known = ", ".join(self.names()) or "none"
            raise UnknownConnectorError(f"no connector named {name!r} (known: {known})")
        if len(candidates) > 1:
            sources = ", ".join(sorted(ep.value for ep in candidates))
            raise InvalidConnectorError(
                f"connector {name!r} is declared by more than one entry point: {sources}"
            )
        try:
            loaded = candidates[0].load()
        except Exception as exc:
            raise InvalidConnectorError(
                f"connector {name!r} failed to load from {candidates[0].value}: "
                f"{type(exc).__name__}"
            ) from exc
        cls = self._checked(name, loaded)
        self._classes[name] = cls
        return cls

    def create(self, name: str, config: Mapping[str, Any]) -> Connector:
        cls = self.get(name)
        try:
            validated = cls.Config.model_validate(dict(config))
        except ValidationError as exc:
            # `from None`: the pydantic error's own text repeats the inputs.
            raise ConnectorConfigError(name, located_problems(exc)) from None
        return cls(validated)

    def _discovered(self) -> dict[str, list[EntryPoint]]:
        if self._entry_points is None:
            found: dict[str, list[EntryPoint]] = {}
            for ep in entry_points(group=self._group):
                found.setdefault(ep.name, []).append(ep)
            self._entry_points = found
        return self._entry_points

    @staticmethod
    def _checked(name: str, cls: object) -> type[Connector]:
        problems = contract_problems(cls)
        if not problems and getattr(cls, "name", None) != name:
            problems.append(f"its name attribute is {getattr(cls, 'name', None)!r}")
        if problems:
            raise InvalidConnectorError(
                f"connector {name!r} does not honour the contract: {'; '.join(problems)}"
            )
        assert isinstance(cls, type)
        return cls
