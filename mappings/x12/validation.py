"""Reading and judging whole interchanges: envelopes, then each transaction against its spec.

The result keeps the loop tree of every supported transaction, so mapping to canonical reads
the tree validation already built instead of parsing twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from mappings.x12.envelope import FunctionalGroup, Interchange, TransactionSet, parse_interchanges
from mappings.x12.envelope_checks import check_interchange
from mappings.x12.findings import (
    GROUP_CODES,
    TRANSACTION_CODES,
    InterchangeReport,
    TransactionReport,
)
from mappings.x12.loop_tree import LoopNode, read_transaction
from mappings.x12.schema import TransactionSpec
from mappings.x12.specs import SPECS, find_spec


@dataclass(slots=True)
class CheckedTransaction:
    group: FunctionalGroup
    transaction: TransactionSet
    report: TransactionReport
    spec: TransactionSpec | None
    tree: LoopNode | None


@dataclass(slots=True)
class CheckedInterchange:
    interchange: Interchange
    report: InterchangeReport
    transactions: list[CheckedTransaction]

    @property
    def accepted(self) -> bool:
        return self.report.accepted and all(t.report.accepted for t in self.transactions)

    def located_errors(self) -> Iterator[tuple[str, str]]:
        """Every problem as (where, what), where naming segment positions in the stream."""
        yield from self.report.envelope_errors
        for group in self.report.groups:
            for group_code in group.codes:
                yield f"segment {group.position} (GS)", GROUP_CODES[group_code]
            for transaction in group.transactions:
                prefix = f"transaction set {transaction.set_id} at segment {transaction.position}"
                for set_code in transaction.codes:
                    if set_code != "5":
                        yield prefix, TRANSACTION_CODES[set_code]
                for error in transaction.errors:
                    for where, what in error.located():
                        yield f"{prefix}: {where}", what


def check(interchange: Interchange) -> CheckedInterchange:
    functional_ids = frozenset(s.functional_id for s in SPECS)
    report = check_interchange(interchange, functional_ids)
    checked: list[CheckedTransaction] = []
    for group, group_report in zip(interchange.groups, report.groups, strict=True):
        for transaction, verdict in zip(group.transactions, group_report.transactions, strict=True):
            checked.append(_check_transaction(group, transaction, verdict))
    return CheckedInterchange(interchange, report, checked)


def read(data: bytes, *, release: str | None = None) -> list[CheckedInterchange]:
    """Parse and judge every interchange in `data`; raises `X12Error` only for unreadable bytes."""
    return [check(interchange) for interchange in parse_interchanges(data, release=release)]


def _check_transaction(
    group: FunctionalGroup, transaction: TransactionSet, verdict: TransactionReport
) -> CheckedTransaction:
    reference = transaction.reference or group.version
    spec = find_spec(transaction.set_id, reference, transaction.segments)
    tree = None
    if spec is None:
        if "6" not in verdict.codes:
            known = any(s.set_id == transaction.set_id for s in SPECS)
            verdict.codes.append("I6" if known else "1")
    else:
        tree, verdict.errors = read_transaction(spec, transaction.segments)
        if verdict.errors:
            verdict.codes.append("5")
    return CheckedTransaction(group, transaction, verdict, spec, tree)
