"""The encoding characters a message declares in MSH-1/MSH-2, and escaping with them.

Escapes are decoded after the separators have split a value, so an escaped separator never
splits anything. Sequences we do not know (formatting commands, locally defined ones, a
Windows path's backslashes) stay in the text as they came: dropping or guessing at them would
change what the sender wrote.
"""

from __future__ import annotations

import binascii
import re
import string
from dataclasses import dataclass
from functools import cached_property

# Characters that would end a segment or look like MLLP framing must never appear raw.
_CONTROL_ESCAPES = {"\r": "X0D", "\n": "X0A", "\x0b": "X0B", "\x1c": "X1C"}


class EscapeError(ValueError):
    """A hex escape that cannot be decoded; the caller adds where it was."""


@dataclass(frozen=True)
class Delimiters:
    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"
    truncation: str | None = None

    @classmethod
    def declared(cls, field: str, encoding: str) -> Delimiters:
        """Read MSH-1 and MSH-2; raises ValueError saying which rule they break."""
        if len(encoding) not in (4, 5):
            raise ValueError("MSH-2 must hold 4 encoding characters (5 from v2.7)")
        chars = field + encoding
        if len(set(chars)) != len(chars):
            raise ValueError("the field separator and encoding characters must all differ")
        if any(c not in string.punctuation for c in chars):
            raise ValueError("delimiters must be ASCII punctuation characters")
        truncation = encoding[4] if len(encoding) == 5 else None
        return cls(field, encoding[0], encoding[1], encoding[2], encoding[3], truncation)

    @property
    def encoding_characters(self) -> str:
        """MSH-2 as it is written."""
        truncation = self.truncation or ""
        return self.component + self.repetition + self.escape + self.subcomponent + truncation

    @cached_property
    def _escapes(self) -> tuple[tuple[str, str], ...]:
        """Each character that must not appear raw, with the escape that stands for it."""
        esc = self.escape
        pairs = [
            (esc, "E"),
            (self.field, "F"),
            (self.component, "S"),
            (self.subcomponent, "T"),
            (self.repetition, "R"),
        ]
        if self.truncation is not None:
            pairs.append((self.truncation, "P"))
        pairs.extend(_CONTROL_ESCAPES.items())
        return tuple((char, f"{esc}{code}{esc}") for char, code in pairs)

    @cached_property
    def _needs_escape(self) -> re.Pattern[str]:
        return re.compile("[" + re.escape("".join(c for c, _ in self._escapes)) + "]")

    @cached_property
    def _decodes(self) -> dict[str, str]:
        decodes = {code[1:-1]: char for char, code in self._escapes if len(code) == 3}
        decodes[".br"] = "\n"
        return decodes

    def escape_text(self, value: str) -> str:
        if self._needs_escape.search(value) is None:
            return value
        # The escape character goes first, so the escapes added after it stay as they are.
        for char, code in self._escapes:
            value = value.replace(char, code)
        return value

    def unescape(self, value: str, charset: str) -> str:
        esc = self.escape
        if esc not in value:
            return value
        out: list[str] = []
        start = 0
        while True:
            opening = value.find(esc, start)
            if opening < 0:
                out.append(value[start:])
                break
            closing = value.find(esc, opening + 1)
            if closing < 0:  # a lone escape character is text
                out.append(value[start:])
                break
            out.append(value[start:opening])
            body = value[opening + 1 : closing]
            decoded = self._sequence(body, charset)
            out.append(value[opening : closing + 1] if decoded is None else decoded)
            start = closing + 1
        return "".join(out)

    def _sequence(self, body: str, charset: str) -> str | None:
        decoded = self._decodes.get(body)
        if decoded is not None:
            return decoded
        if body.startswith("X"):
            return _hex(body[1:], charset)
        return None


def _hex(digits: str, charset: str) -> str:
    if not digits or len(digits) % 2:
        raise EscapeError("a hex escape needs an even, non-zero number of hex digits")
    try:
        raw = binascii.unhexlify(digits)
    except (binascii.Error, ValueError):
        raise EscapeError("a hex escape holds characters that are not hex digits") from None
    try:
        return raw.decode(charset)
    except UnicodeDecodeError:
        raise EscapeError(f"a hex escape's bytes are not valid {charset}") from None
