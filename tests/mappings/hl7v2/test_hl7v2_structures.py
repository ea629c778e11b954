"""Message structures: hl7apy's definitions read once, choice groups meaning one of."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hl7apy
import pytest
from hl7apy.exceptions import ValidationError
from hl7apy.parser import parse_message
from hl7apy.validation import VALIDATION_LEVEL, Validator

from mappings.hl7v2 import Hl7StructureError, Location, check_structure, parse
from mappings.hl7v2.structures import automaton, definition

MSH = "MSH|^~\\&|EHR|HOSP|CG|CG|20261120||{type}|C1|P|{version}"
ORDER = ["PID|1", "ORC|NW|1", "OBR|1|1"]


def message(*segments: str, type_: str = "ORM^O01", version: str = "2.5") -> bytes:
    return "\r".join([MSH.format(type=type_, version=version), *segments]).encode() + b"\r"


def located(data: bytes, structure: str = "ORM_O01", version: str = "2.5") -> Location:
    with pytest.raises(Hl7StructureError) as caught:
        check_structure(parse(data), structure, version)
    return caught.value.issues[0].location


def test_hl7apy_demands_every_alternative_of_a_choice_group(tmp_path: Path) -> None:
    """crs4/hl7apy#151, the reason ORM^O01 has our own definition."""
    parsed = parse_message(
        message(*ORDER, version="2.3").decode(),
        find_groups=True,
        validation_level=VALIDATION_LEVEL.TOLERANT,
    )
    report = tmp_path / "report.txt"
    with pytest.raises(ValidationError):
        Validator.validate(parsed, report_file=str(report))
    complaints = report.read_text()
    assert "Missing required child ORM_O01_CHOICE.RQD" in complaints
    assert "Missing required child ORM_O01_CHOICE.RXO" in complaints


@pytest.mark.parametrize("service", ["OBR|1", "RXO|1", "ODS|1"])
def test_one_alternative_satisfies_the_choice(service: str) -> None:
    check_structure(parse(message("PID|1", "ORC|NW|1", service)), "ORM_O01", "2.5")


def test_two_alternatives_of_one_choice_are_refused() -> None:
    assert located(message(*ORDER, "RXO|1")) == Location("RXO", 5, 1)


@pytest.mark.parametrize("version", ["2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.8"])
def test_orm_is_checked_in_every_version_even_after_its_withdrawal(version: str) -> None:
    check_structure(parse(message(*ORDER, "DG1|1", version=version)), "ORM_O01", version)
    assert located(message("ORC|NW|1", "PID|1"), version=version) == Location("PID", 3, 1)


def test_z_segments_may_appear_anywhere() -> None:
    check_structure(
        parse(message("ZPI|x", "PID|1", "ZIN|y", "ORC|NW|1", "OBR|1", "ZZZ")), "ORM_O01", "2.5"
    )


def test_a_missing_segment_before_a_present_one_is_named() -> None:
    with pytest.raises(Hl7StructureError, match="OBR must come before DG1") as caught:
        check_structure(parse(message("PID|1", "ORC|NW|1", "DG1|1")), "ORM_O01", "2.5")
    assert caught.value.issues[0].location == Location("DG1", 4, 1)


def test_a_message_that_ends_too_early_names_what_is_missing() -> None:
    assert located(message("PID|1")) == Location("ORC")


def test_a_segment_foreign_to_the_structure_is_located() -> None:
    with pytest.raises(Hl7StructureError, match="RXE is not a segment of ORM_O01"):
        check_structure(parse(message(*ORDER, "RXE|1")), "ORM_O01", "2.5")


def test_definitions_follow_the_version() -> None:
    siu = ["SCH|1", "TQ1|1", "RGS|1", "AIS|1"]
    check_structure(parse(message(*siu, type_="SIU^S12")), "SIU_S12", "2.5")
    assert located(message(*siu, type_="SIU^S12", version="2.3"), "SIU_S12", "2.3") == Location(
        "TQ1", 3, 1
    )
    assert definition("OMG_O19", "2.3") is None
    assert definition("RDE_O11", "2.7.1") is not None  # read with v2.7's tables


def test_hl7apy_tables_are_loaded_once_per_version(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = hl7apy.load_library

    def counting(version: str) -> Any:
        calls.append(version)
        return real(version)

    monkeypatch.setattr(hl7apy, "load_library", counting)
    definition.cache_clear()
    automaton.cache_clear()
    siu = parse(message("SCH|1", "RGS|1", "AIS|1", type_="SIU^S12", version="2.4"))
    for _ in range(50):
        check_structure(siu, "SIU_S12", "2.4")
        check_structure(parse(message(*ORDER)), "ORM_O01", "2.5")
    assert calls == ["2.4"]
