"""The policy flow: requests that the payer packs hold for a person, worked from the queues.

Part of this flow's share of the backlog is inpatient joint surgery sent without its clinical
notes, which the packs hold for missing documents; an intake specialist then resolves half of
those work items with the documents, and those cases resume and go out. At the end the SLA
clock is advanced four days in one sweep, so the cases still waiting climb the escalation
ladders, and the summary shows what was held, escalated and routed, by payer.
"""

from __future__ import annotations

import base64
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from gateway.demo.access import all_items
from gateway.demo.api_submit import submit_cases
from gateway.demo.backlog import backlog
from gateway.demo.flow import DemoContext, FlowResult
from gateway.orchestration.sweeper import SlaSweeper
from gateway.settings import Settings
from gateway.store.schema import cases, work_items

SEED = 57
INPATIENT_EVERY = 3
ADVANCE = timedelta(days=4)


def _inpatient_joint(case: dict[str, Any]) -> dict[str, Any]:
    """The same request as an inpatient knee replacement: the packs want notes for that."""
    line = {**case["service_lines"][0], "procedure_code": "27447", "place_of_service": "21"}
    return {**case, "diagnoses": [{"code": "M17.11"}], "service_lines": [line]}


def _document(code: str) -> dict[str, str]:
    content = base64.b64encode(f"%PDF-1.4 synthetic {code} report".encode()).decode()
    return {
        "kind": code,
        "media_type": "application/pdf",
        "title": f"Report {code}",
        "data": content,
    }


class PolicyFlow:
    name = "policies and work queues"
    weight = 3

    def __init__(self) -> None:
        self._resolved = 0

    async def start(self, home: Path) -> None:
        """No sandbox of its own: held cases go out on the other flows' routes once resolved."""

    def configure(self, settings: Settings) -> Settings:
        return settings

    async def run(self, ctx: DemoContext) -> FlowResult:
        requests = backlog(ctx.count, seed=SEED)
        requests = [
            _inpatient_joint(case) if index % INPATIENT_EVERY == 0 else case
            for index, case in enumerate(requests)
        ]
        result = await submit_cases(ctx.api, "/v1/prior-authorizations", requests, ctx.concurrency)
        held = [
            item
            for item in await all_items(ctx.api, "/v1/work-items")
            if item["case_id"] in result.accepted and item["kind"] == "missing_documents"
        ]
        for item in held[::2]:
            codes = [
                m.split(":", 1)[1] for m in item["detail"]["missing"] if m.startswith("attachment:")
            ]
            response = await ctx.api.post(
                f"/v1/work-items/{item['id']}/resolve",
                json={"attachments": [_document(code) for code in codes]},
            )
            if response.status_code == 200:
                self._resolved += 1
        return result

    async def report(self, ctx: DemoContext) -> list[str]:
        sweep = await SlaSweeper(ctx.runtime.store).sweep(datetime.now(UTC) + ADVANCE)
        async with ctx.runtime.store.connect() as conn:
            held = Counter(
                (payer, kind)
                for payer, kind in await conn.execute(
                    sa.select(cases.c.payer_id, work_items.c.kind)
                    .join(cases, cases.c.id == work_items.c.case_id)
                    .where(work_items.c.kind != "escalation")
                )
            )
            routed = Counter(
                (payer, route)
                for payer, route in await conn.execute(
                    sa.select(cases.c.payer_id, cases.c.route).where(cases.c.route.is_not(None))
                )
            )
        lines = ["work items opened for a person, by payer and reason:"]
        lines += [f"  {payer:<12}{kind:<24}{n:>6}" for (payer, kind), n in sorted(held.items())]
        lines.append(
            f"work items resolved with documents (case resumed and sent): {self._resolved}"
        )
        lines.append(
            f"escalated after advancing the SLA clock {ADVANCE.days} days: "
            f"{sweep.escalations} rungs raised, {sweep.breaches} SLA breaches"
        )
        lines.append("routed by payer:")
        lines += [f"  {payer:<12}{route:<24}{n:>6}" for (payer, route), n in sorted(routed.items())]
        return lines

    async def stop(self) -> None:
        """Nothing of its own to stop."""
