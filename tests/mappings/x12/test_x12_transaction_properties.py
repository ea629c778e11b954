"""Properties of the 271, 277 and 835 mappings: any canonical result written as X12 validates,
reads back equal and round-trips byte for byte; a streamed 835 agrees with the whole read."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from canonical.base import Period
from canonical.cases import ClaimStatusRequest, EligibilityCheckRequest
from canonical.claim_status import ClaimStatus, ClaimStatusResult, LineStatus, StatusCode
from canonical.eligibility import Benefit, EligibilityResult
from mappings.x12 import Group, InterchangeHeader, Party, Transaction, build_interchange, read
from mappings.x12.claim_status import read_277, status_body
from mappings.x12.eligibility import benefits_body, read_271
from mappings.x12.envelope import parse_interchanges
from mappings.x12.remittance import read_835, stream_835

GOLDEN = Path(__file__).parent / "golden"
CREATED = datetime(2026, 11, 21, 9, 30)
HEADER = InterchangeHeader(Party("ACMEHP"), Party("CASEGATE"), 9, CREATED, line_break="\n")
ELIGIBILITY = EligibilityCheckRequest.model_validate(
    json.loads((GOLDEN / "eligibility-check.case.json").read_text())["payload"]
)
STATUS = ClaimStatusRequest.model_validate(
    json.loads((GOLDEN / "claim-status.case.json").read_text())["payload"]
)
codes = st.text(alphabet="ABCDEFGHJKMNPRSTUVWXYZ0123456789", min_size=1, max_size=2)
words = (
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,./-", min_size=1, max_size=40)
    .map(str.strip)
    .filter(bool)
)
money = st.decimals(min_value=0, max_value=99999, places=2).map(lambda d: d.normalize() + 0)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def periods(draw: st.DrawFn) -> Period:
    start = draw(days)
    return Period(start=start, end=draw(st.sampled_from([start, date(2031, 1, 1)])))


@st.composite
def benefits(draw: st.DrawFn) -> Benefit:
    return Benefit(
        information=draw(st.sampled_from(["1", "6", "A", "B", "C", "CB", "F"])),
        coverage_level=draw(st.none() | st.sampled_from(["IND", "FAM", "EMP"])),
        service_type_codes=draw(st.lists(codes, max_size=4)),
        plan_description=draw(st.none() | words),
        amount=draw(st.none() | money),
        authorization_required=draw(st.none() | st.booleans()),
        in_network=draw(st.none() | st.booleans()),
        period=draw(st.none() | periods()),
        messages=draw(st.lists(words, max_size=2)),
    )


def _one(set_id: str, functional_id: str, guide: str, body: list) -> bytes:  # type: ignore[type-arg]
    group = Group(functional_id, guide, 9, [Transaction(set_id, "0001", body)])
    return build_interchange(HEADER, [group]).to_bytes()


@settings(max_examples=30, deadline=None)
@given(st.lists(benefits(), max_size=6))
def test_any_eligibility_result_survives_a_271(found: list[Benefit]) -> None:
    informations = {b.information for b in found}
    active = True if informations & {"1"} else False if "6" in informations else None
    needing: list[str] = []
    for benefit in found:
        if benefit.authorization_required:
            needing += [c for c in benefit.service_type_codes or ["30"] if c not in needing]
    result = EligibilityResult(
        case_id="case-0003",
        payer_id="ACMEHP",
        payer_name="Acme Health Plan",
        member_id="W123456789",
        group_number="GRP-4410",
        plan_name=next((b.plan_description for b in found if b.information == "1"), None),
        coverage_active=active,
        authorization_required_for=needing,
        benefits=found,
    )
    data = _one(
        "271",
        "HB",
        "005010X279A1",
        benefits_body("case-0003", ELIGIBILITY, result, created=CREATED),
    )
    [checked] = read(data)
    assert checked.accepted, list(checked.located_errors())
    assert checked.transactions[0].tree is not None
    assert read_271(checked.transactions[0].tree) == result
    assert parse_interchanges(data)[0].to_bytes() == data


statuses = st.builds(
    StatusCode,
    category=st.sampled_from(["A1", "F1", "F2", "P1", "R3"]),
    code=st.integers(0, 999).map(str),
    entity=st.none() | st.sampled_from(["PR", "41", "1P"]),
)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(statuses, min_size=1, max_size=3),
    st.lists(
        st.builds(
            LineStatus,
            procedure_code=st.sampled_from(["99213", "73110", "J3490"]),
            charge=money,
            paid=st.none() | money,
            statuses=st.lists(statuses, min_size=1, max_size=3),
            service_period=st.none() | periods(),
        ),
        max_size=3,
    ),
    st.none() | money,
)
def test_any_claim_status_survives_a_277(
    claim_statuses: list[StatusCode], lines: list[LineStatus], paid: Decimal | None
) -> None:
    status = ClaimStatus(
        patient_account_number="PAN-778812",
        trace_number="case-0004",
        statuses=claim_statuses,
        status_date=date(2026, 10, 20),
        paid=paid,
        service_period=Period(start=date(2026, 10, 2), end=date(2026, 10, 2)),
        lines=lines,
    )
    result = ClaimStatusResult(
        case_id="case-0004", payer_id="ACMEHP", payer_name="Acme Health Plan", claims=[status]
    )
    body = status_body("case-0004", STATUS, result, created=CREATED)
    [checked] = read(_one("277", "HN", "005010X212", body))
    assert checked.accepted, list(checked.located_errors())
    assert checked.transactions[0].tree is not None
    assert read_277(checked.transactions[0].tree) == result


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.sampled_from(["~", "~\n", "~\r\n"]))
def test_a_streamed_835_agrees_with_the_whole_read(copies: int, terminator: str) -> None:
    text = (GOLDEN / "remittance.835.x12").read_text().replace("~\n", "\n")
    lines = text.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("LX*")))
    end = lines.index(next(line for line in lines if line.startswith("PLB*")))
    body = lines[:start] + lines[start:end] * copies + lines[end:]
    count = len(body[body.index(next(x for x in body if x.startswith("ST*"))) :]) - 2
    body = [f"SE*{count}*0001" if line.startswith("SE*") else line for line in body]
    data = terminator.join(body).encode() + terminator.encode()
    [checked] = read(data)
    assert checked.accepted, list(checked.located_errors())
    assert checked.transactions[0].tree is not None
    whole = read_835(checked.transactions[0].tree)
    assert list(stream_835(io.BytesIO(data))) == whole.claims
    assert len(whole.claims) == 2 * copies
