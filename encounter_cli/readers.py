"""Streaming readers for batch import: CSV, a JSON array, or NDJSON, from a binary stream.

Each yields `(position, record)` one record at a time, so memory stays flat
however large the input. `position` is what a rejection report cites: the
1-based line where a CSV record starts (the header is line 1) or an NDJSON
line, or the 1-based element number of a JSON array. A record that cannot be
read at all is yielded as `(position, BadRecord)`; damage that makes the rest
of the input unreadable raises `InvalidInput` for the whole file.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from typing import Any, BinaryIO

from encounter_cli.csv_cells import unescape_formula
from encounter_cli.errors import InvalidInput

EXTENSIONS = {".csv": "csv", ".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson"}
MAX_FIELD_BYTES = 1 << 20  # one CSV field; far above any valid value, low enough to refuse junk quickly
READ_CHUNK = 1 << 16
BOM = "\ufeff"
MAX_ELEMENT_CHARS = 4 * MAX_FIELD_BYTES  # a JSON array element: far above any valid record, so memory stays flat
JSON_SPACE = " \t\r\n"
NUMBER_CHARACTERS = frozenset("0123456789.eE+-")
UNUSABLE = "too deeply nested or a number too long"
UNUSABLE_JSON = f"is not a usable JSON value ({UNUSABLE})"


@dataclass(frozen=True)
class BadRecord:
    """A record that could not be parsed into fields."""

    message: str


Record = dict[str, Any] | BadRecord


def format_from_extension(path: str) -> str | None:
    return next((fmt for extension, fmt in EXTENSIONS.items() if path.lower().endswith(extension)), None)


def read_records(
    stream: BinaryIO, fmt: str, check_header: Callable[[list[str]], None] = lambda names: None
) -> Iterator[tuple[int, Record]]:
    """Records of `stream`; a CSV header is passed to `check_header` before any record is read."""
    if fmt == "csv":
        return _read_csv(stream, check_header)
    return JsonArrayReader(stream).records() if fmt == "json" else _read_ndjson(stream)


def _read_csv(stream: BinaryIO, check_header: Callable[[list[str]], None]) -> Iterator[tuple[int, Record]]:
    csv.field_size_limit(MAX_FIELD_BYTES)
    reader = csv.reader(_utf8_lines(stream), strict=True)
    with _csv_guard(lambda: reader.line_num):
        header = next(reader, None)
        if header is None:
            raise InvalidInput("file", None, "is empty: a CSV import needs a header row")
        header = [name.strip() for name in header]
        if len(set(header)) < len(header):
            repeated = next(name for name, count in Counter(header).items() if count > 1)
            raise InvalidInput("header", repeated, "names a column twice")
        check_header(header)
        start = reader.line_num + 1  # a record may span lines (quoted newlines): cite the one it starts on
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not fields:
                continue  # a blank line is not a record
            if len(fields) != len(header):
                yield line, BadRecord(f"has {len(fields)} fields but the header has {len(header)}")
            else:
                # Inline, not a function per cell: an empty cell is no value; a `'` guarding a formula is dropped.
                yield (
                    line,
                    {
                        name: (unescape_formula(value) if value[:1] == "'" else value) or None
                        for name, value in zip(header, fields, strict=True)
                    },
                )


def _utf8_lines(stream: BinaryIO) -> Iterator[str]:
    """The stream's lines as text, a byte-order mark dropped; bad bytes are reported with their line number.

    Lines are split before decoding, on `\n`, `\r\n` or a lone `\r` (files from any
    system), reading the bytes as Latin-1, one character per byte, so nothing is lost;
    each line is then decoded as UTF-8. No UTF-8 sequence contains a line-break
    byte, so the line being decoded is the line the bad bytes are on.
    """
    lines = io.TextIOWrapper(stream, encoding="latin-1", newline="")  # closes `stream` when collected: read once
    number = 0
    try:
        for number, line in enumerate(lines, start=1):  # noqa: B007 - the number is reported below
            text = line.encode("latin-1").decode("utf-8")
            yield text.removeprefix(BOM) if number == 1 else text
    except UnicodeDecodeError as error:
        raise InvalidInput("file", None, f"is not UTF-8 text at line {max(number, 1)} ({error.reason})") from None


def _read_ndjson(stream: BinaryIO) -> Iterator[tuple[int, Record]]:
    for number, line in enumerate(_utf8_lines(stream), start=1):
        if line.strip():
            yield number, _object(line)


def _object(text: str) -> Record:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return BadRecord(f"is not valid JSON ({exc.msg})")
    except (ValueError, RecursionError):  # a number of thousands of digits, or absurd nesting
        return BadRecord(UNUSABLE_JSON)
    if not isinstance(value, dict):
        return BadRecord(f"is not a JSON object but {type(value).__name__}")
    return value


class JsonArrayReader:
    """The elements of a JSON array, decoded one at a time from a buffer that is refilled as needed.

    The standard json module cannot stream, and ijson, which can, needs
    memory quadratic in nesting depth (a 20,000-deep array of a few kilobytes
    took 970 MB): this decodes each element with json's `raw_decode`.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.decoder = json.JSONDecoder()
        self.text = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
        self.buffer = ""
        self.position = 0
        self.exhausted = False

    def records(self) -> Iterator[tuple[int, Record]]:
        if self._next_char() != "[":
            raise InvalidInput("file", None, "is not a JSON array of objects (it must start with '[')")
        self.position += 1
        if self._next_char() == "]":
            self._close()
            return
        for element in count(1):
            value = self._element(element)
            yield element, value if isinstance(value, dict) else BadRecord("is not a JSON object")
            separator = self._next_char()
            if separator == "]":
                self._close()
                return
            if separator != ",":
                raise InvalidInput("file", None, f"is not valid JSON after element {element} (expected ',' or ']')")
            self.position += 1

    def _element(self, element: int) -> Any:
        self._next_char()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.position)
            except json.JSONDecodeError as exc:
                if len(self.buffer) - self.position > MAX_ELEMENT_CHARS:  # read on, but not without end
                    limit = f"{MAX_ELEMENT_CHARS >> 20} MiB"
                    raise InvalidInput("file", None, f"is not valid JSON within {limit} of element {element}") from None
                if self._read_more():
                    continue  # the element may just be cut off at the end of the buffer
                raise InvalidInput("file", None, f"is not valid JSON at element {element} ({exc.msg})") from None
            except (ValueError, RecursionError):
                raise InvalidInput("file", None, f"has an unusable value at element {element} ({UNUSABLE})") from None
            # A number that reaches the end of what was read may go on in the next chunk ("12" of "12.5e3"):
            # only a character that cannot continue it proves the value complete.
            if (end < len(self.buffer) and self.buffer[end] not in NUMBER_CHARACTERS) or not self._read_more():
                self.position = end
                return value

    def _next_char(self) -> str:
        """The next character that is not white space ("" at the end), without consuming it."""
        while True:
            while self.position < len(self.buffer) and self.buffer[self.position] in JSON_SPACE:
                self.position += 1
            if self.position < len(self.buffer) or not self._read_more():
                return self.buffer[self.position : self.position + 1]

    def _read_more(self) -> bool:
        """Append the next chunk to the unread rest of the buffer; False at the end of the input."""
        if self.exhausted:
            return False
        size = READ_CHUNK * max(1, len(self.buffer) // READ_CHUNK)  # grow reads for huge elements
        data = self.stream.read(size)
        try:
            text = self.text.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise InvalidInput("file", None, f"is not UTF-8 text ({exc.reason})") from None
        if not data:
            self.exhausted = True
            return False
        self.buffer, self.position = self.buffer[self.position :] + text, 0
        return True

    def _close(self) -> None:
        self.position += 1
        if self._next_char():
            raise InvalidInput("file", None, "has data after the closing ']' of the JSON array")


@contextmanager
def _csv_guard(line: Callable[[], int]) -> Iterator[None]:
    """Report broken CSV quoting with the line it was found on."""
    try:
        yield
    except csv.Error as error:
        raise InvalidInput("file", None, f"cannot be read as CSV at line {line()}: {error}") from None
