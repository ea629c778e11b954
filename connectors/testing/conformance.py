"""The conformance suite every connector runs against its own sandbox.

A connector's test module subclasses `ConnectorConformance`, names the connector, provides
three fixtures (`sandbox`, `connector_config`, `bad_credentials_config`) and lists its
scenarios; every behaviour the gateway relies on is then checked the same way for every
connector. Class attributes switch off what a sandbox cannot show (`faults`,
`records_effects`), so a connector without, say, idempotency keys still runs the rest.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from canonical.decisions import DecisionOutcome
from connectors.contract import (
    KNOWN_OPERATIONS,
    Connector,
    ConnectorRequest,
    ConnectorResponse,
)
from connectors.errors import (
    AuthError,
    ConnectorError,
    PermanentError,
    ProtocolError,
    TransientError,
)
from connectors.registry import ConnectorConfigError, ConnectorRegistry, contract_problems
from connectors.sandbox import Fault, SandboxControl
from connectors.secrets import SecretRef
from connectors.testing.scenarios import Scenario, with_values

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
# Faults whose error the canary test inspects: each answers fast and most echo the request.
_QUICK_FAULTS = (
    Fault.bad_request,
    Fault.malformed,
    Fault.off_contract,
    Fault.rate_limited,
    Fault.unavailable,
    Fault.unauthorized,
)


def _secret_paths(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, SecretRef]]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretRef):
            yield prefix + name, value
        elif isinstance(value, BaseModel):
            yield from _secret_paths(value, f"{prefix}{name}.")


def error_text(exc: BaseException) -> str:
    """All an operator could ever see of an error: message, repr and the whole chain."""
    return "\n".join([str(exc), repr(exc), "".join(traceback.format_exception(exc))])


class ConnectorConformance:
    """Mix into a `Test...` class; see the module docstring."""

    connector_name: ClassVar[str]
    scenarios: ClassVar[Sequence[Scenario]]
    canary_fields: ClassVar[Sequence[str]] = ()
    """Dotted payload paths that take free text; the canary PHI value is planted there."""
    faults: ClassVar[frozenset[Fault]] = frozenset(Fault)
    """The faults the sandbox can show."""
    records_effects: ClassVar[bool] = True
    """Whether the sandbox counts effects per idempotency key."""
    fault_timeout_seconds: ClassVar[float] = 0.5
    """Client timeout for the timeout tests; the sandbox must hang for longer."""

    # -- fixtures a subclass provides -----------------------------------------------------

    @pytest.fixture
    def sandbox(self) -> SandboxControl:
        raise NotImplementedError("provide a `sandbox` fixture returning a SandboxControl")

    @pytest.fixture
    def connector_config(self, sandbox: SandboxControl) -> Mapping[str, Any]:
        raise NotImplementedError("provide a `connector_config` fixture for the sandbox")

    @pytest.fixture
    def bad_credentials_config(self, connector_config: Mapping[str, Any]) -> Mapping[str, Any]:
        raise NotImplementedError("provide a `bad_credentials_config` fixture")

    # -- the kit's own fixtures and helpers -----------------------------------------------

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "scenario" in metafunc.fixturenames:
            metafunc.parametrize("scenario", self.scenarios, ids=[s.name for s in self.scenarios])

    @pytest.fixture(autouse=True)
    def _clean_sandbox(self, sandbox: SandboxControl) -> None:
        sandbox.reset()

    @asynccontextmanager
    async def opened(self, config: Mapping[str, Any]) -> AsyncIterator[Connector]:
        connector = ConnectorRegistry().create(self.connector_name, config)
        try:
            yield connector
        finally:
            await connector.aclose()

    def request(
        self,
        scenario: Scenario,
        *,
        payload: Mapping[str, Any] | None = None,
        case_id: str | None = None,
        operation: str | None = None,
        payer_reference: str | None = None,
    ) -> ConnectorRequest:
        return ConnectorRequest(
            operation=operation or scenario.operation,
            idempotency_key=f"conformance-{uuid.uuid4().hex}",
            case_id=case_id or f"case-{uuid.uuid4().hex[:16]}",
            case_type=scenario.case_type,
            payload=payload if payload is not None else scenario.payload,
            payer_reference=payer_reference,
            headers={"traceparent": TRACEPARENT},
        )

    async def fault_error(
        self, sandbox: SandboxControl, config: Mapping[str, Any], fault: Fault
    ) -> ConnectorError:
        """Inject `fault` once, send the plain request and return what the connector raised."""
        if fault not in self.faults:
            pytest.skip(f"the sandbox cannot show {fault}")
        sandbox.inject(fault, 1)
        async with self.opened(config) as connector:
            with pytest.raises(ConnectorError) as caught:
                await connector.send(self.request(self.scenarios[0]))
        return caught.value

    # -- plugin and configuration ---------------------------------------------------------

    def test_entry_point_resolves_to_a_conforming_class(self) -> None:
        cls = ConnectorRegistry().get(self.connector_name)
        assert cls.name == self.connector_name
        assert contract_problems(cls) == []

    def test_scenarios_use_declared_capabilities(self) -> None:
        cls = ConnectorRegistry().get(self.connector_name)
        assert cls.capabilities <= KNOWN_OPERATIONS
        for scenario in self.scenarios:
            assert scenario.operation in cls.capabilities, scenario.name
            if scenario.then is not None:
                assert scenario.follow_up in cls.capabilities, scenario.name

    def test_sandbox_offers_the_control_interface(self, sandbox: SandboxControl) -> None:
        assert isinstance(sandbox, SandboxControl)

    @pytest.mark.asyncio
    async def test_created_connector_satisfies_the_protocol(
        self, connector_config: Mapping[str, Any]
    ) -> None:
        async with self.opened(connector_config) as connector:
            assert isinstance(connector, Connector)

    def test_config_rejects_unknown_fields(self, connector_config: Mapping[str, Any]) -> None:
        config = {**connector_config, "casegate_no_such_setting": 1}
        with pytest.raises(ConnectorConfigError) as caught:
            ConnectorRegistry().create(self.connector_name, config)
        assert "casegate_no_such_setting" in caught.value.problems

    def test_config_rejects_wrong_types_without_echoing_them(
        self, connector_config: Mapping[str, Any]
    ) -> None:
        config = {**connector_config, "timeout_seconds": "Zq-not-a-number"}
        with pytest.raises(ConnectorConfigError) as caught:
            ConnectorRegistry().create(self.connector_name, config)
        assert "timeout_seconds" in caught.value.problems
        assert "Zq-not-a-number" not in error_text(caught.value)

    def test_secrets_never_show(self, connector_config: Mapping[str, Any]) -> None:
        cls = ConnectorRegistry().get(self.connector_name)
        validated = cls.Config.model_validate(dict(connector_config))
        secrets = list(_secret_paths(validated))
        if not secrets:
            pytest.skip("the configuration holds no secret references")
        shown = "\n".join([repr(validated), str(validated), validated.model_dump_json()])
        for path, ref in secrets:
            value = ref.resolve()
            assert value not in shown, path
            # A secret pasted where its reference belongs is refused without being repeated.
            pasted = with_values(connector_config, {path: value})
            with pytest.raises(ConnectorConfigError) as caught:
                ConnectorRegistry().create(self.connector_name, pasted)
            assert path in caught.value.problems
            assert value not in error_text(caught.value), path

    # -- check ------------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_check_passes_without_effects(
        self, sandbox: SandboxControl, connector_config: Mapping[str, Any]
    ) -> None:
        async with self.opened(connector_config) as connector:
            await connector.check()
        if self.records_effects:
            assert sandbox.effects() == 0

    @pytest.mark.asyncio
    async def test_check_with_bad_credentials_raises_auth_error(
        self, bad_credentials_config: Mapping[str, Any]
    ) -> None:
        async with self.opened(bad_credentials_config) as connector:
            with pytest.raises(AuthError):
                await connector.check()

    # -- scenarios --------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_scenario_round_trips(
        self, scenario: Scenario, connector_config: Mapping[str, Any]
    ) -> None:
        async with self.opened(connector_config) as connector:
            request = self.request(scenario)
            response = await connector.send(request)
            self._assert_answer(connector, response, scenario.expect, scenario)
            if scenario.then is None:
                return
            assert response.payer_reference, "a pended answer must name the payer's reference"
            for _ in range(scenario.max_follow_ups):
                follow_up = self.request(
                    scenario,
                    case_id=request.case_id,
                    operation=scenario.follow_up,
                    payer_reference=response.payer_reference,
                )
                response = await connector.send(follow_up)
                assert response.decision is not None
                if response.decision.outcome is not DecisionOutcome.pended:
                    break
                await asyncio.sleep(0.05)
            self._assert_answer(connector, response, scenario.then, scenario)

    @staticmethod
    def _assert_answer(
        connector: Connector,
        response: ConnectorResponse,
        expect: DecisionOutcome | None,
        scenario: Scenario,
    ) -> None:
        assert response.wire_format == connector.wire_format
        assert response.wire_request and response.wire_response
        if expect is None:
            assert response.decision is None, scenario.name
            return
        assert response.decision is not None, scenario.name
        assert response.decision.outcome is expect, scenario.name
        if expect is DecisionOutcome.denied:
            assert response.decision.reason_code, "a denial must give a specific reason"
        if scenario.reason_code is not None and expect is not DecisionOutcome.pended:
            assert response.decision.reason_code == scenario.reason_code
        if expect is DecisionOutcome.partially_approved:
            assert response.decision.items, "a partial approval must say which items"

    def _assert_plain_answer(self, connector: Connector, response: ConnectorResponse) -> None:
        """The answer to the first scenario, which fault tests send once the fault has passed."""
        self._assert_answer(connector, response, self.scenarios[0].expect, self.scenarios[0])

    @pytest.mark.asyncio
    async def test_repeat_send_has_one_effect(
        self, sandbox: SandboxControl, connector_config: Mapping[str, Any]
    ) -> None:
        if not self.records_effects:
            pytest.skip("the sandbox does not count effects")
        request = self.request(self.scenarios[0])
        async with self.opened(connector_config) as connector:
            first = await connector.send(request)
            again = await connector.send(request)
        assert again.decision == first.decision
        assert sandbox.effects(request.idempotency_key) == 1

    @pytest.mark.asyncio
    async def test_unsupported_operation_is_permanent(
        self, connector_config: Mapping[str, Any]
    ) -> None:
        cls = ConnectorRegistry().get(self.connector_name)
        unsupported = sorted(KNOWN_OPERATIONS - cls.capabilities)
        if not unsupported:
            pytest.skip("the connector supports every known operation")
        async with self.opened(connector_config) as connector:
            with pytest.raises(PermanentError):
                await connector.send(self.request(self.scenarios[0], operation=unsupported[0]))

    # -- faults -----------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_timeout_is_transient_and_the_next_send_succeeds(
        self, sandbox: SandboxControl, connector_config: Mapping[str, Any]
    ) -> None:
        if Fault.timeout not in self.faults:
            pytest.skip("the sandbox cannot hang")
        config = {**connector_config, "timeout_seconds": self.fault_timeout_seconds}
        sandbox.inject(Fault.timeout, 1)
        async with self.opened(config) as connector:
            started = time.monotonic()
            with pytest.raises(TransientError):
                await connector.send(self.request(self.scenarios[0]))
            assert time.monotonic() - started < self.fault_timeout_seconds * 4 + 1
            response = await connector.send(self.request(self.scenarios[0]))
        self._assert_plain_answer(connector, response)

    @pytest.mark.asyncio
    async def test_rate_limit_is_transient_with_retry_after(
        self, sandbox: SandboxControl, connector_config: Mapping[str, Any]
    ) -> None:
        error = await self.fault_error(sandbox, connector_config, Fault.rate_limited)
        assert isinstance(error, TransientError)
        assert error.retry_after is not None and error.retry_after >= 0

    @pytest.mark.asyncio
    async def test_unavailable_is_transient_and_the_next_send_succeeds(
        self, sandbox: SandboxControl, connector_config: Mapping[str, Any]
    ) -> None:
        error = await self.fault_error(sandbox, connector_config, Fault.unavailable)
        assert isinstance(error, TransientError)
        async with self.opened(connector_config) as connector:
            response = await connector.send(self.request(self.scenarios[0]))
        self._assert_plain_answer(connector, response)

    @pytest.mark.asyncio
    async def test_bad_request_is_permanent(
        self, sandbox: SandboxControl, connector_config: Mapping[str, Any]
    ) -> None:
        error = await self.fault_error(sandbox, connector_config, Fault.bad_request)
        assert isinstance(error, PermanentError)

    @pytest.mark.asyncio
    async def test_unauthorized_is_an_auth_error(
        self, sandbox: SandboxControl, connector_config: Mapping[str, Any]
    ) -> None:
        error = await self.fault_error(sandbox, connector_config, Fault.unauthorized)
        assert isinstance(error, AuthError)

    @pytest.mark.asyncio
    async def test_malformed_body_is_a_protocol_error(
        self, sandbox: SandboxControl, connector_config: Mapping[str, Any]
    ) -> None:
        error = await self.fault_error(sandbox, connector_config, Fault.malformed)
        assert isinstance(error, ProtocolError)

    @pytest.mark.asyncio
    async def test_off_contract_body_is_a_protocol_error(
        self, sandbox: SandboxControl, connector_config: Mapping[str, Any]
    ) -> None:
        error = await self.fault_error(sandbox, connector_config, Fault.off_contract)
        assert isinstance(error, ProtocolError)

    @pytest.mark.asyncio
    async def test_lost_response_then_resend_has_one_effect(
        self, sandbox: SandboxControl, connector_config: Mapping[str, Any]
    ) -> None:
        if Fault.lost_response not in self.faults or not self.records_effects:
            pytest.skip("the sandbox cannot lose a response after acting on it")
        config = {**connector_config, "timeout_seconds": self.fault_timeout_seconds}
        request = self.request(self.scenarios[0])
        sandbox.inject(Fault.lost_response, 1)
        async with self.opened(config) as connector:
            with pytest.raises(TransientError):
                await connector.send(request)
            response = await connector.send(request)
        self._assert_plain_answer(connector, response)
        assert sandbox.effects(request.idempotency_key) == 1

    # -- PHI --------------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_canary_phi_never_appears_in_error_text(
        self,
        sandbox: SandboxControl,
        connector_config: Mapping[str, Any],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        if not self.canary_fields:
            pytest.skip("no canary_fields named")
        canary = f"Zqcanary{uuid.uuid4().hex[:10]}"
        base = self.scenarios[0]
        planted = with_values(base.payload, dict.fromkeys(self.canary_fields, canary))
        # The same value where it cannot be valid: a list instead of text.
        misplaced = with_values(base.payload, {self.canary_fields[0]: [canary]})
        texts: list[str] = []
        caplog.set_level(logging.DEBUG)
        async with self.opened(connector_config) as connector:
            with pytest.raises(PermanentError) as caught:
                await connector.send(self.request(base, payload=misplaced))
            texts.append(error_text(caught.value))
            for fault in _QUICK_FAULTS:
                if fault not in self.faults:
                    continue
                sandbox.inject(fault, 1)
                with pytest.raises(ConnectorError) as raised:
                    await connector.send(self.request(base, payload=planted))
                texts.append(error_text(raised.value))
        assert texts
        for text in texts:
            assert canary not in text
        assert canary not in caplog.text

    # -- lifecycle --------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_aclose_twice_is_fine(self, connector_config: Mapping[str, Any]) -> None:
        connector = ConnectorRegistry().create(self.connector_name, connector_config)
        await connector.check()
        await connector.aclose()
        await connector.aclose()
