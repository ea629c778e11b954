"""Load one pack file: parse, validate, check every table, compile it for the engine.

Every problem found is reported, each with its file and line, so one edit round fixes a pack;
a pack with any problem is refused whole, never loaded in part.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from policies.code_systems import ndc_product
from policies.conditions import ConditionError, Vocabulary
from policies.engine import RuleEngine
from policies.errors import PackError, PackRejected
from policies.pack_examples import PackExample, compile_examples
from policies.pack_schema import PackFile, TableName
from policies.rules import Rule
from policies.table_checks import check_table
from policies.yaml_source import SourceDocument, read_yaml


@dataclass(frozen=True)
class Pack:
    id: str
    payer: str
    name: str
    version: str
    digest: str
    file: str
    time_zone: ZoneInfo
    drug_classes: dict[str, str]
    tables: dict[TableName, tuple[Rule, ...]]
    engine: RuleEngine
    examples: tuple[PackExample, ...]


def load_pack(path: Path) -> Pack:
    """Read and compile a pack file; PackRejected lists every problem found."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PackRejected([PackError(path.name, None, f"cannot read: {exc.strerror}")]) from None
    return parse_pack(data, path.name)


def parse_pack(data: bytes, file: str) -> Pack:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackRejected([PackError(file, None, f"not UTF-8 text (byte {exc.start})")]) from None
    document = read_yaml(text, file)
    spec = _validated(document)
    errors: list[PackError] = []
    classes = _drug_classes(spec, document, errors)
    vocabulary = Vocabulary(tuple(sorted(spec.drug_classes)))
    tables = _compiled_tables(spec, document, vocabulary, errors)
    examples: tuple[PackExample, ...] = ()
    if spec.examples is not None:
        known = {rule.id for rules in tables.values() for rule in rules}
        examples = compile_examples(spec.examples, spec.payer, known, document, errors)
    if errors:
        raise PackRejected(sorted(errors, key=lambda e: e.line or 0))
    return Pack(
        id=spec.id,
        payer=spec.payer,
        name=spec.name,
        version=spec.version,
        digest=hashlib.sha256(data).hexdigest()[:12],
        file=file,
        time_zone=ZoneInfo(spec.time_zone),
        drug_classes=classes,
        tables=tables,
        engine=RuleEngine(tables),
        examples=examples,
    )


def _validated(document: SourceDocument) -> PackFile:
    try:
        return PackFile.model_validate(document.data)
    except ValidationError as exc:
        raise PackRejected(
            [document.error(e["loc"], _reason(e)) for e in exc.errors(include_url=False)]
        ) from None


def _reason(error: Any) -> str:
    loc = [str(step) for step in error["loc"] if isinstance(step, str | int)]
    if error["type"] == "extra_forbidden":
        return f"unknown field '{loc[-1]}'" + (f" in {'.'.join(loc[:-1])}" if loc[:-1] else "")
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{'.'.join(loc)}: {message}" if loc else message


def _drug_classes(
    spec: PackFile, document: SourceDocument, errors: list[PackError]
) -> dict[str, str]:
    """NDC (11 digits) or product (9 digits) to class; an NDC in two classes is ambiguous."""
    classes: dict[str, str] = {}
    for name, entries in spec.drug_classes.items():
        for i, entry in enumerate(entries):
            loc = ("drug_classes", name, i)
            try:
                code = ndc_product(entry)
            except ValueError as exc:
                errors.append(document.error(loc, str(exc)))
                continue
            if code in classes:
                reason = f"NDC {entry} is already in drug class {classes[code]}"
                errors.append(document.error(loc, reason))
                continue
            classes[code] = name
    for code, name in classes.items():
        if len(code) == 11 and code[:9] in classes and classes[code[:9]] != name:
            reason = f"NDC {code} is in {name} but its product is in {classes[code[:9]]}"
            errors.append(document.error(("drug_classes", name), reason))
    return classes


def _compiled_tables(
    spec: PackFile, document: SourceDocument, vocabulary: Vocabulary, errors: list[PackError]
) -> dict[TableName, tuple[Rule, ...]]:
    tables: dict[TableName, tuple[Rule, ...]] = {}
    seen: dict[str, str] = {}
    for table in TableName:
        rules: list[Rule] = []
        for position, row in enumerate(getattr(spec.tables, table)):
            loc = ("tables", str(table), position)
            line = document.line_of(loc)
            source = f"{document.file}:{line}"
            if row.id in seen:
                errors.append(
                    document.error(
                        (*loc, "id"), f"rule id {row.id} is used twice (first at {seen[row.id]})"
                    )
                )
            seen.setdefault(row.id, source)
            try:
                conditions = vocabulary.compile(row.when, table, (*loc, "when"))
            except ConditionError as exc:
                errors.append(document.error(exc.loc, str(exc)))
                continue
            rules.append(Rule(row.id, table, position, line, source, conditions, row.then, row.why))
        for problem in check_table(table, rules, vocabulary):
            line = problem.rule.line if problem.rule else document.line_of(("tables", str(table)))
            errors.append(PackError(document.file, line, problem.reason))
        tables[table] = tuple(rules)
    return tables
