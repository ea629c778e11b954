"""Run a pack's own examples against it: the pack's tests, kept beside its rules."""

from __future__ import annotations

from dataclasses import dataclass

from policies.evaluate import decide
from policies.pack import Pack
from policies.pack_examples import example_problems


@dataclass(frozen=True)
class ExampleOutcome:
    pack_id: str
    version: str
    file: str
    name: str
    line: int | None
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        head = (
            f"{'ok  ' if self.passed else 'FAIL'} {self.pack_id} {self.version} {where} {self.name}"
        )
        return head if self.passed else f"{head}: {'; '.join(self.problems)}"


def run_examples(pack: Pack) -> list[ExampleOutcome]:
    return [
        ExampleOutcome(
            pack_id=pack.id,
            version=pack.version,
            file=pack.file,
            name=example.name,
            line=example.line,
            problems=tuple(example_problems(decide(pack, example.case), example.expect)),
        )
        for example in pack.examples
    ]
