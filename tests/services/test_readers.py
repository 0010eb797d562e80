"""The streaming readers, below the CLI: chunk boundaries, line numbers, and hostile headers."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from encounter_cli import readers
from encounter_cli.errors import InvalidInput

# JSON values as an import file may hold them: finite floats (json cannot write NaN portably), any text.
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3)
)
elements = st.dictionaries(st.text(), values, max_size=4) | values


def read_json(data: bytes) -> list:
    return list(readers.read_records(io.BytesIO(data), "json"))


@settings(max_examples=300, deadline=None)
@given(
    array=st.lists(elements, max_size=6),
    chunk=st.integers(min_value=1, max_value=17),
    indent=st.sampled_from([None, 0, 2]),
    bom=st.booleans(),
)
def test_a_json_array_reads_the_same_whatever_the_chunk_size(array, chunk, indent, bom):
    """Numbers, strings and nesting split anywhere between two reads decode as if read whole."""
    data = (b"\xef\xbb\xbf" if bom else b"") + json.dumps(array, indent=indent).encode()
    expected = [value if isinstance(value, dict) else "bad" for value in array]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(readers, "READ_CHUNK", chunk)
        got = [value if isinstance(value, dict) else "bad" for _, value in read_json(data)]
    assert got == expected


@pytest.mark.parametrize("number", [b"12.5", b"1e3", b"-0.25E-2", b"123456789"])
@pytest.mark.parametrize("chunk", range(1, 8))
def test_a_number_split_at_its_point_or_exponent_is_read_whole(monkeypatch, number, chunk):
    monkeypatch.setattr(readers, "READ_CHUNK", chunk)
    assert read_json(b'[{"a": ' + number + b"}, " + number + b"]") == [
        (1, {"a": json.loads(number)}),
        (2, readers.BadRecord("is not a JSON object")),
    ]


def test_a_bad_byte_in_a_csv_names_its_line():
    data = "first_name,last_name,email\nAda,L,a@example.org\nZoë,L,z@example.org\n".encode("latin-1")
    with pytest.raises(InvalidInput) as caught:
        list(readers.read_records(io.BytesIO(data), "csv"))
    assert caught.value.message.startswith("file: is not UTF-8 text at line 3 ")


def test_a_bad_byte_in_ndjson_names_its_line():
    data = b'{"a": 1}\n{"a": 2}\n{"a": "\xff"}\n'
    with pytest.raises(InvalidInput) as caught:
        list(readers.read_records(io.BytesIO(data), "ndjson"))
    assert caught.value.message.startswith("file: is not UTF-8 text at line 3 ")


def test_a_repeated_column_in_a_40000_column_header_is_named():
    """The repeat check is one pass (it was quadratic: 31 s for this header); timings belong in benchmarks."""
    names = [f"c{i}" for i in range(40_000)] + ["c123"]
    with pytest.raises(InvalidInput) as caught:
        list(readers.read_records(io.BytesIO(",".join(names).encode() + b"\n"), "csv"))
    assert caught.value.message == 'header: "c123" names a column twice'


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def test_a_broken_json_element_is_reported_without_reading_the_rest_of_a_large_file():
    stream = CountingStream(b'[{"a": 1}, {broken' + b" " * (64 << 20) + b"}]")
    with pytest.raises(InvalidInput) as caught:
        list(readers.read_records(stream, "json"))
    assert caught.value.message == "file: is not valid JSON within 4 MiB of element 2"
    assert stream.bytes_read < 16 << 20  # memory stays flat: a few MiB, not the 64 MiB that follow


@pytest.mark.parametrize("newline", [b"\r", b"\n", b"\r\n"])
def test_csv_lines_may_end_in_cr_lf_or_both(newline):
    data = newline.join([b"first_name,last_name", b"Ada,Lovelace", b"Zo\xc3\xab,Z", b""])
    assert list(readers.read_records(io.BytesIO(data), "csv")) == [
        (2, {"first_name": "Ada", "last_name": "Lovelace"}),
        (3, {"first_name": "Zoë", "last_name": "Z"}),
    ]
