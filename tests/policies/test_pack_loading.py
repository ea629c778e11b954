"""A bad pack is refused at load with the file, the line and the reason of every problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from policies import SHIPPED_PACKS
from policies.errors import PackError, PackRejected
from policies.pack import load_pack, parse_pack
from policies.pack_schema import TableName
from tests.policies.conftest import examples, pack_text

WritePack = Callable[..., Path]


def errors_of(text: str, file: str = "pack.yaml") -> list[PackError]:
    with pytest.raises(PackRejected) as raised:
        parse_pack(text.encode(), file)
    return list(raised.value.errors)


def line_of(text: str, fragment: str) -> int:
    """1-based line of the first line containing `fragment`, so tests do not hard-code lines."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def only(errors: list[PackError]) -> PackError:
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def test_every_shipped_pack_loads() -> None:
    packs = [load_pack(path) for path in sorted(SHIPPED_PACKS.glob("*.yaml"))]
    assert {p.payer for p in packs} == {"*", "ACMEHP", "BLUEMESA", "SUNCOAST"}
    assert all(p.examples for p in packs)


def test_a_valid_pack_loads_with_its_version_and_a_digest_of_its_bytes() -> None:
    text = pack_text()
    pack = parse_pack(text.encode(), "test.yaml")
    assert (pack.id, pack.payer, pack.version) == ("test", "TESTPAYER", "1.0")
    assert pack.digest != parse_pack((text + "# edited\n").encode(), "test.yaml").digest
    (catch_all,) = pack.tables[TableName.prior_auth]
    assert catch_all.source == f"test.yaml:{line_of(text, 'id: PA-NONE')}"


def test_a_yaml_syntax_error_names_its_line(write_pack: WritePack) -> None:
    path = write_pack("id: broken\npayer: X\n  name: [oops\n", "broken.yaml")
    with pytest.raises(PackRejected) as raised:
        load_pack(path)
    error = only(list(raised.value.errors))
    assert (error.file, error.line) == ("broken.yaml", 3)
    assert error.reason.startswith("YAML syntax error")
    assert str(error).startswith("broken.yaml:3: YAML syntax error")


def test_an_unknown_field_is_refused_at_its_line() -> None:
    text = pack_text(
        """
        - id: KNEE
          when: {procedure: {cpt: ["27447"]}}
          then: {required: true, approve: always}
          why: Knee replacement.
        """
    )
    error = only(errors_of(text))
    assert error.line == line_of(text, "approve: always")
    assert error.reason == "unknown field 'approve' in tables.prior_auth.0.then"


def test_an_unknown_top_level_field_is_refused() -> None:
    text = pack_text(extra="colour: blue")
    error = only(errors_of(text))
    assert (error.line, error.reason) == (line_of(text, "colour"), "unknown field 'colour'")


def test_an_unknown_code_system_is_refused_at_its_line() -> None:
    text = pack_text(
        """
        - id: OLD-CODES
          when:
            procedure: {icd9: ["81.54"]}
          then: {required: true}
          why: Written against ICD-9 procedure codes.
        """
    )
    error = only(errors_of(text))
    assert error.line == line_of(text, "icd9")
    assert error.reason == "unknown code system 'icd9' (known: cpt, hcpcs)"


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ('"2744"', "'2744' is not a CPT code (4 digits then a digit, F, T or U)"),
        ('"27447-J1745"', "'J1745' is not a CPT code (4 digits then a digit, F, T or U)"),
        ('"0001T-27447"', "range '0001T-27447' mixes code families; split it"),
        ('"27447-27130"', "range '27447-27130' ends before it starts"),
        ("100", "cpt code 100 must be written as a quoted string"),
    ],
)
def test_a_malformed_code_is_refused_with_the_reason(entry: str, reason: str) -> None:
    text = pack_text(
        f"""
        - id: BAD
          when:
            procedure:
              cpt: [{entry}]
          then: {{required: true}}
          why: A typo.
        """
    )
    error = only(errors_of(text))
    assert (error.line, error.reason) == (line_of(text, "cpt: ["), reason)


def test_overlapping_rows_with_different_outcomes_are_refused() -> None:
    text = pack_text(
        """
        - id: ORTHO-HOSPITAL
          when:
            procedure: {cpt: ["27000-27899"]}
            place_of_service: ["22"]
          then: {required: true}
          why: Orthopedic surgery in hospital.
        - id: KNEE
          when:
            procedure: {cpt: ["27447"]}
          then: {required: false}
          why: Knee replacement is exempt.
        """
    )
    error = only(errors_of(text))
    assert error.line == line_of(text, "id: KNEE")
    assert error.reason.startswith(
        "rows ORTHO-HOSPITAL and KNEE overlap with different outcomes"
        " (e.g. procedure 27447, place_of_service 22)"
    )


def test_a_narrower_row_first_is_the_exception_before_the_rule() -> None:
    text = pack_text(
        """
        - id: KNEE-ASC
          when:
            procedure: {cpt: ["27447"]}
            place_of_service: ["24"]
          then: {required: false}
          why: Exempt in an ambulatory surgical center.
        - id: KNEE
          when:
            procedure: {cpt: ["27447"]}
          then: {required: true}
          why: Knee replacement.
        """
    )
    assert [r.id for r in parse_pack(text.encode(), "p.yaml").tables[TableName.prior_auth]] == [
        "KNEE-ASC",
        "KNEE",
        "PA-NONE",
    ]


def test_a_row_shadowed_by_an_earlier_row_is_unreachable() -> None:
    text = pack_text(
        """
        - id: ORTHO
          when:
            procedure: {cpt: ["27000-27899"]}
          then: {required: true}
          why: Orthopedic surgery.
        - id: KNEE-HOSPITAL
          when:
            procedure: {cpt: ["27447"]}
            place_of_service: ["22"]
          then: {required: false}
          why: Never reached.
        """
    )
    error = only(errors_of(text))
    assert error.line == line_of(text, "id: KNEE-HOSPITAL")
    assert error.reason == (
        "row KNEE-HOSPITAL is unreachable: every case it matches is taken by ORTHO"
        f" (pack.yaml:{line_of(text, 'id: ORTHO')})"
    )


def test_a_row_covered_by_several_earlier_rows_is_unreachable() -> None:
    text = pack_text(
        """
        - id: EXPEDITED
          when: {urgency: [expedited], procedure: {cpt: ["70553"]}}
          then: {required: false}
          why: Expedited imaging goes straight out.
        - id: STANDARD
          when: {urgency: [standard], procedure: {cpt: ["70553"]}}
          then: {required: false}
          why: So does standard imaging.
        - id: BRAIN-MRI
          when: {procedure: {cpt: ["70553"]}}
          then: {required: false}
          why: Never reached.
        """
    )
    error = only(errors_of(text))
    assert error.line == line_of(text, "id: BRAIN-MRI")
    assert error.reason == (
        "row BRAIN-MRI is unreachable: earlier rows EXPEDITED, STANDARD take every case it matches"
    )


def test_a_row_whose_conditions_exclude_each_other_is_unreachable() -> None:
    text = pack_text(
        """
        - id: NOWHERE
          when:
            place_of_service: {not: ["11"]}
            procedure: {cpt: ["99213"]}
            urgency: {not: [expedited, standard]}
          then: {required: true}
          why: Excludes every urgency.
        """
    )
    error = only(errors_of(text))
    assert error.line == line_of(text, "id: NOWHERE")
    assert error.reason == "row NOWHERE is unreachable: no case meets all its conditions"


def test_first_hit_tables_need_a_catch_all_row() -> None:
    text = pack_text().replace(
        "    - id: PA-NONE\n      then: {required: false}\n",
        "    - id: PA-NONE\n      when: {urgency: [standard]}\n      then: {required: false}\n",
    )
    error = only(errors_of(text))
    assert error.line == line_of(text, "prior_auth:")
    assert error.reason.startswith("table prior_auth has no catch-all row")


def test_all_problems_are_reported_at_once_in_line_order() -> None:
    text = pack_text(
        """
        - id: A
          when: {procedure: {snomed: ["1"]}}
          then: {required: true}
          why: Unknown system.
        - id: A
          when: {urgency: [urgent]}
          then: {required: true}
          why: Duplicate id and an unknown urgency.
        """
    )
    errors = errors_of(text)
    first = line_of(text, "id: A")
    assert [(e.line, e.reason) for e in errors] == [
        (line_of(text, "snomed"), "unknown code system 'snomed' (known: cpt, hcpcs)"),
        (first + 4, f"rule id A is used twice (first at pack.yaml:{first})"),
        (line_of(text, "urgent"), "unknown urgency 'urgent' (known: expedited, standard)"),
    ]


@pytest.mark.parametrize(
    ("extra", "fragment", "reason"),
    [
        (
            """
            drug_classes:
              tnf: ["57894-0030"]
              biologic: ["57894-0030-01"]
            """,
            "57894-0030-01",
            "NDC 57894003001 is in biologic but its product is in tnf",
        ),
        (
            """
            drug_classes:
              tnf: ["57894-0030", "57894-030"]
            """,
            "tnf:",
            "NDC 57894-030 is already in drug class tnf",
        ),
        (
            """
            drug_classes:
              tnf: ["5789-40030"]
            """,
            "tnf:",
            "'5789-40030' is not an NDC product code (labeler-product: 4-4, 5-3, 5-4)",
        ),
        (
            "time_zone: Mars/Olympus_Mons\n",
            "time_zone",
            "time_zone: unknown time zone 'Mars/Olympus_Mons'",
        ),
    ],
)
def test_pack_level_problems_name_their_line(extra: str, fragment: str, reason: str) -> None:
    text = pack_text(extra=extra)
    error = only(errors_of(text))
    assert (error.line, error.reason) == (line_of(text, fragment), reason)


@pytest.mark.parametrize(
    ("table", "fragment", "reason"),
    [
        (
            """
            documents:
              - id: DOC
                then: {attachments: ["ZZ"]}
                why: Unknown report type.
            """,
            '"ZZ"',
            "'ZZ' is not an X12 PWK01 report type code",
        ),
        (
            """
            documents:
              - id: DOC
                then: {fields: [shoe_size]}
                why: Unknown field.
            """,
            "shoe_size",
            "unknown field 'shoe_size' (known: ",
        ),
        (
            """
            clocks:
              - id: CLOCK
                then: {decide_within: 3 fortnights}
                why: Unknown unit.
            """,
            "fortnights",
            "'3 fortnights' is not a duration",
        ),
        (
            """
            clocks:
              - id: CLOCK
                then:
                  escalation:
                    - {after: 2 calendar days, queue: um, role: nurse}
                    - {after: 24 hours, queue: um, role: lead}
                why: A ladder that goes down.
            """,
            "escalation:",
            "escalation rungs must come later and later",
        ),
        (
            """
            human_review:
              - id: HOLD
                when: {place_of_service: ["11"], amount: {at_least: 10, below: 5}}
                then: {hold: amount_over_threshold, queue: approvals, role: approver}
                why: An empty range.
            """,
            "amount:",
            "below must be greater than at_least",
        ),
    ],
)
def test_outcome_problems_name_their_line(table: str, fragment: str, reason: str) -> None:
    text = pack_text(tables=table)
    error = only(errors_of(text))
    assert error.line == line_of(text, fragment)
    assert reason in error.reason


def test_a_column_a_table_does_not_read_is_refused() -> None:
    text = pack_text(
        """
        - id: RICH
          when: {amount: {at_least: 1000}}
          then: {required: true}
          why: Amounts are only known to human review.
        """
    )
    error = only(errors_of(text))
    assert error.line == line_of(text, "amount:")
    assert error.reason.startswith("column 'amount' is not used by prior_auth")


def test_a_key_given_twice_is_refused() -> None:
    text = pack_text().replace('version: "1.0"\n', 'version: "1.0"\nversion: "1.1"\n')
    error = only(errors_of(text))
    assert (error.line, error.reason) == (5, "key 'version' appears twice")


def test_examples_are_checked_at_load() -> None:
    cases = """
        - name: bad npi
          received_at: 2026-03-02T09:00:00Z
          case: {rendering_provider: {npi: "1234567890", name: Surgeon}}
          expect: {fired: [NO-SUCH-RULE], missing: [attachment:ZZ]}
        - name: other payer
          received_at: 2026-03-02T09:00:00Z
          case: {payer: {id: ELSEWHERE, name: Else}}
          expect: {auth_required: false}
        """
    text = pack_text(extra=examples(cases))
    errors = errors_of(text)
    assert [(e.line, e.reason) for e in errors] == [
        (
            line_of(text, '"1234567890"'),
            "example case rendering_provider.npi: Value error, not a valid NPI: 10 digits with a"
            " Luhn check digit (80840 prefix)",
        ),
        (line_of(text, "NO-SUCH-RULE"), "no rule NO-SUCH-RULE in this pack"),
        (
            line_of(text, "NO-SUCH-RULE"),
            "'attachment:ZZ' is not attachment:<PWK01 code> or field:<name>",
        ),
        (
            line_of(text, "ELSEWHERE"),
            "example is for payer ELSEWHERE, not this pack's payer TESTPAYER",
        ),
    ]


def test_non_utf8_and_empty_files_are_refused(write_pack: WritePack) -> None:
    assert only(errors_of("")).reason == "the file is empty"
    path = write_pack("", "latin.yaml")
    path.write_bytes(b"name: Caf\xe9\n")
    with pytest.raises(PackRejected) as raised:
        load_pack(path)
    assert str(raised.value) == "latin.yaml: not UTF-8 text (byte 9)"
