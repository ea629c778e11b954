"""Hot reload: a changed pack replaces the old one, a bad one is refused and the last good stays."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from policies.decision import PolicyCase
from policies.errors import NoPackForPayer
from policies.pack_directory import PackDirectory
from tests.policies.conftest import case, examples, line, pack_text, payload

KNEE_REQUIRED = """
- id: KNEE
  when: {procedure: {cpt: ["27447"]}}
  then: {required: true}
  why: Knee replacement.
"""


def write(path: Path, text: str) -> None:
    """Write and move the modification time on, as an editor saving twice a second would not."""
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def versioned(version: str, rows: str = "") -> str:
    return pack_text(rows).replace('version: "1.0"', f'version: "{version}"')


def knee_case() -> PolicyCase:
    return case(payload("TESTPAYER", service_lines=[line("27447", "22")]))


@pytest.fixture
def directory(tmp_path: Path) -> PackDirectory:
    write(tmp_path / "test.yaml", versioned("1.0"))
    packs = PackDirectory([tmp_path], clock=lambda: datetime(2026, 3, 2, tzinfo=UTC))
    report = packs.reload()
    assert [(e.action, e.pack_id, e.version) for e in report.events] == [("loaded", "test", "1.0")]
    return packs


def test_an_unchanged_directory_reloads_to_no_events(directory: PackDirectory) -> None:
    assert directory.reload().events == ()
    assert directory.book.pack_for("TESTPAYER").version == "1.0"


def test_a_new_version_replaces_the_pack(directory: PackDirectory, tmp_path: Path) -> None:
    before = directory.book
    write(tmp_path / "test.yaml", versioned("1.1", KNEE_REQUIRED))
    report = directory.reload()
    assert [str(e) for e in report.events] == [f"replaced test 1.1 ({tmp_path / 'test.yaml'})"]
    decision = directory.book.decide(knee_case())
    assert (decision.pack_version, decision.auth_required) == ("1.1", True)
    assert before.pack_for("TESTPAYER").version == "1.0", "a book is a snapshot"


def test_a_bad_pack_is_refused_and_the_last_good_one_stays(
    directory: PackDirectory, tmp_path: Path
) -> None:
    write(tmp_path / "test.yaml", versioned("1.1", KNEE_REQUIRED).replace("cpt", "icd9"))
    report = directory.reload()
    (event,) = report.refused
    assert (event.pack_id, event.version) == ("test", "1.0"), "names the pack still in force"
    assert [str(e) for e in event.errors] == [
        "test.yaml:8: unknown code system 'icd9' (known: cpt, hcpcs)"
    ]
    assert directory.book.pack_for("TESTPAYER").version == "1.0"
    decision = directory.book.decide(knee_case())
    assert (decision.pack_version, decision.auth_required) == ("1.0", False)
    (status,) = directory.status()
    assert (status.version, status.in_force) == ("1.0", True)
    assert status.refusal == event.errors
    assert status.refused_at == datetime(2026, 3, 2, tzinfo=UTC)
    assert directory.reload().events == (), "a refusal is reported once, not on every reload"


def test_fixing_a_refused_pack_loads_it_and_clears_the_refusal(
    directory: PackDirectory, tmp_path: Path
) -> None:
    write(tmp_path / "test.yaml", "id: [unclosed\n")
    assert directory.reload().refused
    write(tmp_path / "test.yaml", versioned("1.1"))
    assert [e.action for e in directory.reload().events] == ["replaced"]
    (status,) = directory.status()
    assert (status.version, status.refusal, status.refused_at) == ("1.1", (), None)


def test_changed_content_under_the_same_version_is_refused(
    directory: PackDirectory, tmp_path: Path
) -> None:
    write(tmp_path / "test.yaml", versioned("1.0", KNEE_REQUIRED))
    (event,) = directory.reload().refused
    assert event.errors[0].reason == (
        "the content changed but version 1.0 did not; raise the version"
    )
    assert directory.book.pack_for("TESTPAYER").digest == directory.status()[0].digest


def test_restoring_the_good_content_clears_a_refusal(
    directory: PackDirectory, tmp_path: Path
) -> None:
    good = (tmp_path / "test.yaml").read_text()
    write(tmp_path / "test.yaml", good + "oops: [\n")
    assert directory.reload().refused
    write(tmp_path / "test.yaml", good)
    assert directory.reload().events == ()
    assert directory.status()[0].refusal == ()


def test_a_pack_whose_examples_fail_is_refused(directory: PackDirectory, tmp_path: Path) -> None:
    cases = """
        - name: knee replacement needs authorization
          received_at: 2026-03-02T09:00:00Z
          expect: {auth_required: true}
        """
    text = pack_text(extra=examples(cases)).replace('version: "1.0"', 'version: "1.1"')
    write(tmp_path / "test.yaml", text)
    (event,) = directory.reload().refused
    assert [e.reason for e in event.errors] == [
        "example 'knee replacement needs authorization' fails:"
        " auth_required: expected true, got false"
    ]
    assert directory.book.pack_for("TESTPAYER").version == "1.0"


def test_a_removed_file_takes_its_pack_out(directory: PackDirectory, tmp_path: Path) -> None:
    (tmp_path / "test.yaml").unlink()
    assert [e.action for e in directory.reload().events] == ["removed"]
    with pytest.raises(NoPackForPayer, match="no policy pack for payer TESTPAYER"):
        directory.book.pack_for("TESTPAYER")


def test_a_second_pack_for_the_same_payer_is_refused_until_the_first_goes(
    directory: PackDirectory, tmp_path: Path
) -> None:
    twin = pack_text().replace("id: test", "id: twin")
    write(tmp_path / "twin.yaml", twin)
    (event,) = directory.reload().refused
    assert event.errors[0].reason == "payer TESTPAYER is already used by test.yaml"
    (tmp_path / "test.yaml").unlink()
    assert [e.action for e in directory.reload().events] == ["removed", "loaded"]
    assert directory.book.pack_for("TESTPAYER").id == "twin"


def test_a_later_directory_overrides_an_earlier_one(tmp_path: Path) -> None:
    shipped, operator = tmp_path / "shipped", tmp_path / "operator"
    shipped.mkdir()
    operator.mkdir()
    write(shipped / "test.yaml", versioned("1.0"))
    write(operator / "test.yaml", versioned("2.0", KNEE_REQUIRED))
    packs = PackDirectory([shipped, operator])
    assert not packs.reload().refused
    assert packs.book.pack_for("TESTPAYER").version == "2.0"
    assert [(s.version, s.in_force) for s in packs.status()] == [("2.0", True), ("1.0", False)]


def test_a_missing_directory_is_reported_once(tmp_path: Path) -> None:
    packs = PackDirectory([tmp_path / "nowhere"])
    (event,) = packs.reload().refused
    assert event.errors[0].reason.startswith("cannot list:")
    assert packs.reload().events == ()
