"""The X12 flow: a payer that takes only X12, behind a clearinghouse (the x12_clearinghouse
sandbox). Prior authorizations go out as 278s and eligibility checks as 270s over CORE real
time; the clearinghouse then leaves an 835 on its SFTP server whose denials open
`denial_appeal` cases, held for the appeals queue by the payer's own policy pack.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from canonical.claims import Claim
from connectors.payer_rest.sandbox_rules import Rule
from connectors.secrets import SecretRef
from connectors.x12_clearinghouse.sandbox import X12ClearinghouseSandbox
from connectors.x12_clearinghouse.sandbox_reports import (
    ClaimAdjustment,
    PaidClaim,
    Payee,
    remittance_835,
    report_header,
)
from gateway.demo.access import secret_file
from gateway.demo.api_submit import submit_cases
from gateway.demo.backlog import backlog
from gateway.demo.flow import DemoContext, FlowResult
from gateway.settings import ConnectorInstance, Route, Settings, X12Pickup, X12Settings
from gateway.store.schema import cases

CONNECTOR = "x12_clearinghouse"
USER = "casegate-demo"
PAYER_ID = "RIVERBEND"
PAYER_NAME = "Riverbend Health (X12)"
PAYEE = Payee("1860913908", "DEMO GENERAL HOSPITAL", "123456789")
BILLING: dict[str, Any] = {
    "npi": PAYEE.npi,
    "name": "Demo General Hospital",
    "tax_id": PAYEE.tax_id,
    "address": {
        "line": ["1 Demo Way"],
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
    },
}
APPEALS_WAIT_SECONDS = 15.0
ELIGIBILITY_SHARE = 4  # one eligibility check per this many prior authorizations
PACK = f"""\
# Riverbend Health (fictional, demo only): takes prior authorizations and eligibility checks
# only as X12 through its clearinghouse; a denial found in its 835s is appealed by a person.
id: riverbend-demo
payer: {PAYER_ID}
name: {PAYER_NAME}
version: "2026.1.0"
tables:
  prior_auth:
    - id: RB-PA-ALL
      then: {{required: true}}
      why: Riverbend reviews every service the demo sends.
  human_review:
    - id: RB-HOLD-APPEALS
      when: {{case_type: [denial_appeal]}}
      then: {{hold: policy_exception, queue: appeals, role: appeals_specialist}}
      why: An appeal is written by a person, with the records an 835 does not carry.
  routing:
    - id: RB-ROUTE-X12
      then:
        channels: [{{connector: {CONNECTOR}}}]
      why: Riverbend has no FHIR API; it takes X12 through its clearinghouse.
"""


def demo_rules() -> list[Rule]:
    """Two-character reasons: an HCR03 is an X12 code, not free text."""
    return [
        Rule(procedure_code="43644", decide="deny", reason_code="MN", reason_text="Not necessary"),
        Rule(procedure_code="70553", decide="pend", then="approve", decide_after_inquiries=1),
        Rule(procedure_code="72148", decide="pend", then="approve", decide_after_inquiries=1),
        Rule(procedure_code="J9035", decide="partial", approved_units=Decimal(2), reason_code="U1"),
    ]


class X12Flow:
    name = "X12 clearinghouse"
    weight = 4

    def __init__(self) -> None:
        self._sandbox: X12ClearinghouseSandbox | None = None
        self._secret_file = Path()
        self._packs = Path()
        self._claims = Path()
        self._denied_claims = 0

    async def start(self, home: Path) -> None:
        self._secret_file = secret_file(home, "clearinghouse-secret")
        self._packs = home / "x12-packs"
        self._packs.mkdir(exist_ok=True)
        (self._packs / "riverbend.yaml").write_text(PACK)
        self._claims = home / "x12-claims"
        self._claims.mkdir(exist_ok=True)
        self._sandbox = X12ClearinghouseSandbox(
            home / "clearinghouse",
            demo_rules(),
            users={USER: SecretRef(f"file:{self._secret_file}")},
        )
        self._sandbox.start()

    def configure(self, settings: Settings) -> Settings:
        sandbox = self._sandbox
        assert sandbox is not None
        password = f"file:{self._secret_file}"
        instance = ConnectorInstance(
            kind="x12_clearinghouse",
            config={
                "sender": {"id": "CASEGATE"},
                "receiver": {"id": "CLEARINGHOUSE"},
                "realtime": {
                    "url": sandbox.base_url,
                    "auth": {"method": "client_secret", "username": USER, "password": password},
                },
                "batch": {
                    "sftp": {
                        "host": "127.0.0.1",
                        "port": sandbox.sftp_port,
                        "username": USER,
                        "password": password,
                        "host_key": sandbox.public_host_key,
                    }
                },
            },
        )
        routes = [
            Route(payer=PAYER_ID, case_type=case_type, connector=CONNECTOR)
            for case_type in ("prior_authorization", "eligibility_check")
        ]
        pickup = X12Pickup(connector=CONNECTOR, interval_seconds=0.5, claims_dir=self._claims)
        policies = settings.policies.model_copy(
            update={"directories": [*settings.policies.directories, self._packs]}
        )
        return settings.model_copy(
            update={
                "connectors": {**settings.connectors, CONNECTOR: instance},
                "routes": [*settings.routes, *routes],
                "x12": X12Settings(pickup=[*settings.x12.pickup, pickup]),
                "policies": policies,
            }
        )

    async def run(self, ctx: DemoContext) -> FlowResult:
        requests = backlog(ctx.count, seed=5010)
        for request in requests:
            request["payer"] = {"id": PAYER_ID, "name": PAYER_NAME}
        checks = [_eligibility_check(r) for r in requests[::ELIGIBILITY_SHARE]]
        result = await submit_cases(ctx.api, "/v1/prior-authorizations", requests, ctx.concurrency)
        checked = await submit_cases(ctx.api, "/v1/eligibility-checks", checks, ctx.concurrency)
        result.accepted.update(checked.accepted)
        result.refused += checked.refused
        self._leave_remittance(requests[: max(1, min(6, len(requests)))])
        return result

    def _leave_remittance(self, requests: list[dict[str, Any]]) -> None:
        """Bill the first cases as claims, then have the payer deny every other one."""
        assert self._sandbox is not None
        paid: list[PaidClaim] = []
        for index, request in enumerate(requests):
            account = f"DEMO-{index + 1:04d}"
            claim = _claim(account, request)
            (self._claims / f"{account}.json").write_text(claim.model_dump_json())
            denied = index % 2 == 1
            self._denied_claims += denied
            charge = claim.total_charge
            adjustment = (
                ClaimAdjustment("CO", "50", charge)
                if denied
                else ClaimAdjustment("CO", "45", Decimal("25.00"))
            )
            paid.append(
                PaidClaim(
                    account_number=account,
                    payer_claim_id=f"RB{index + 1:08d}",
                    procedure_code=claim.service_lines[0].procedure_code or "99213",
                    charge=charge,
                    paid=Decimal(0) if denied else charge - adjustment.amount,
                    service_date=claim.service_lines[0].service_period.start,
                    member_id=claim.coverage.member_id,
                    family=claim.patient.family.upper(),
                    given=(claim.patient.given or "").upper(),
                    adjustments=(adjustment,),
                )
            )
        now = datetime.now(UTC)
        era = remittance_835(
            paid,
            header=report_header("CLEARINGHOUSE", "CASEGATE", int(time.time()) % 10**8 + 1, now),
            payer_id=PAYER_ID,
            payer_name=PAYER_NAME.upper(),
            payee=PAYEE,
            paid_on=now.date(),
            trace_number=f"EFT{now:%Y%m%d%H%M%S}",
        )
        self._sandbox.leave_report(f"era-{now:%Y%m%d%H%M%S}.835", era)

    async def report(self, ctx: DemoContext) -> list[str]:
        assert self._sandbox is not None
        appeals = await _wait_for_appeals(ctx, self._denied_claims)
        return [
            f"X12 clearinghouse sandbox: {self._sandbox.base_url} (CORE real time), "
            f"SFTP 127.0.0.1:{self._sandbox.sftp_port}",
            f"  payloads acted on: {self._sandbox.effects()}; 835 denials: "
            f"{self._denied_claims}, denial appeals opened: {appeals} (held for the appeals queue)",
        ]

    async def stop(self) -> None:
        if self._sandbox is not None:
            self._sandbox.stop()


def _eligibility_check(request: dict[str, Any]) -> dict[str, Any]:
    start = request["service_lines"][0]["service_period"]["start"]
    return {
        "patient": request["patient"],
        "coverage": request["coverage"],
        "payer": request["payer"],
        "provider": request["requesting_provider"],
        "service_type_codes": ["30"],
        "as_of": start,
    }


def _claim(account: str, request: dict[str, Any]) -> Claim:
    line = request["service_lines"][0]
    served = date.fromisoformat(line["service_period"]["start"]) - timedelta(days=60)
    charge = Decimal("480.00")
    return Claim.model_validate(
        {
            "kind": "professional",
            "patient": request["patient"],
            "coverage": request["coverage"],
            "payer": request["payer"],
            "patient_account_number": account,
            "total_charge": str(charge),
            "place_of_service": "11",
            "billing_provider": BILLING,
            "diagnoses": request["diagnoses"],
            "service_lines": [
                {
                    "sequence": 1,
                    "procedure_code": "99214",
                    "charge": str(charge),
                    "diagnosis_pointers": [1],
                    "service_period": {"start": served.isoformat(), "end": served.isoformat()},
                }
            ],
        }
    )


async def _wait_for_appeals(ctx: DemoContext, expected: int) -> int:
    """Denial appeals the pickup opened for this payer, once it got to them (or in 15 s)."""
    query = sa.select(sa.func.count()).where(
        cases.c.type == "denial_appeal", cases.c.payer_id == PAYER_ID
    )
    deadline = time.monotonic() + APPEALS_WAIT_SECONDS
    while True:
        async with ctx.runtime.store.connect() as conn:
            found = int((await conn.execute(query)).scalar_one())
        if found >= expected or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)
