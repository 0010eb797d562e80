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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

from encounter_cli.errors import InvalidInput

EXTENSIONS = {".csv": "csv", ".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson"}
MAX_FIELD_BYTES = 1 << 20  # one CSV field; far above any valid value, low enough to refuse junk quickly
READ_CHUNK = 1 << 16


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
    return _read_json_array(stream) if fmt == "json" else _read_ndjson(stream)


def _text(stream: BinaryIO) -> io.TextIOWrapper:
    # utf-8-sig drops a byte-order mark; strict errors turn bad bytes into a clear message.
    return io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")


def _read_csv(stream: BinaryIO, check_header: Callable[[list[str]], None]) -> Iterator[tuple[int, Record]]:
    csv.field_size_limit(MAX_FIELD_BYTES)
    reader = csv.reader(_text(stream), strict=True)
    with _decoding_guard(lambda: reader.line_num):
        header = next(reader, None)
        if header is None:
            raise InvalidInput("file", None, "is empty: a CSV import needs a header row")
        header = [name.strip() for name in header]
        repeated = next((name for name in header if header.count(name) > 1), None)
        if repeated is not None:
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
                yield line, {name: value or None for name, value in zip(header, fields, strict=True)}


def _read_ndjson(stream: BinaryIO) -> Iterator[tuple[int, Record]]:
    text = _text(stream)
    number = 0
    with _decoding_guard(lambda: number):
        for number, line in enumerate(text, start=1):  # noqa: B007 - read by the guard
            if line.strip():
                yield number, _object(line)


def _object(text: str) -> Record:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return BadRecord(f"is not valid JSON ({exc.msg})")
    except (ValueError, RecursionError):  # a number of thousands of digits, or absurd nesting
        return BadRecord("is not a usable JSON value (too deeply nested or a number too long)")
    if not isinstance(value, dict):
        return BadRecord(f"is not a JSON object but {type(value).__name__}")
    return value


def _read_json_array(stream: BinaryIO) -> Iterator[tuple[int, Record]]:
    """Decode one array element at a time from a growing buffer (json has no streaming API)."""
    decoder = json.JSONDecoder()
    chunks = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    buffer, position, exhausted = "", 0, False

    def more() -> bool:
        nonlocal buffer, position, exhausted
        data = stream.read(READ_CHUNK * max(1, len(buffer) // READ_CHUNK))  # grow reads for huge elements
        try:
            buffer = buffer[position:] + chunks.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise InvalidInput("file", None, f"is not UTF-8 text ({exc.reason})") from None
        position, exhausted = 0, not data
        return bool(data)

    def skip_space() -> str:
        nonlocal position
        while True:
            while position < len(buffer) and buffer[position] in " \t\r\n":
                position += 1
            if position < len(buffer) or not more():
                return buffer[position : position + 1]

    if skip_space() != "[":
        raise InvalidInput("file", None, "is not a JSON array of objects (it must start with '[')")
    position += 1
    element = 0
    if skip_space() == "]":
        return
    while True:
        element += 1
        while True:
            try:
                value, end = decoder.raw_decode(buffer, position)
                if end < len(buffer) or exhausted or not more():  # a value at the very end may be cut short
                    break
            except json.JSONDecodeError as exc:
                if exhausted or not more():
                    raise InvalidInput("file", None, f"is not valid JSON at element {element} ({exc.msg})") from None
            except (ValueError, RecursionError):
                raise InvalidInput(
                    "file", None, f"has an unusable value at element {element} (too deeply nested or a number too long)"
                ) from None
        position = end
        yield element, value if isinstance(value, dict) else BadRecord("is not a JSON object")
        separator = skip_space()
        if separator == "]":
            position += 1
            if skip_space():
                raise InvalidInput("file", None, "has data after the closing ']' of the JSON array")
            return
        if separator != ",":
            raise InvalidInput("file", None, f"is not valid JSON after element {element} (expected ',' or ']')")
        position += 1
        skip_space()


@contextmanager
def _decoding_guard(line: Callable[[], int]) -> Iterator[None]:
    """Report undecodable bytes and broken CSV quoting with the line they were found on."""
    try:
        yield
    except UnicodeDecodeError as error:
        raise InvalidInput("file", None, f"is not UTF-8 text ({error.reason})") from None
    except csv.Error as error:
        raise InvalidInput("file", None, f"cannot be read as CSV at line {line()}: {error}") from None
