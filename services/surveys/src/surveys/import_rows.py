"""The rows of a customer list, read as the body streams in: CSV with a header row, or NDJSON.

Every row is validated by `CustomerRow`, the body of `PUT /v1/customers/{customer_ref}` plus the
reference, so an import accepts exactly what single writes accept. A row that does not pass is a
`BadRow` naming its problems; only a CSV header that cannot be used stops an import
(`HeaderError`), and it comes before any row. Memory stays bounded: lines are cut from the
stream as they arrive, and a line longer than `MAX_ROW_BYTES` is reported, not kept.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, Final, Protocol

import orjson
from pydantic import TypeAdapter, ValidationError

from surveys.customer_schemas import SegmentName
from surveys.import_schemas import CustomerRow

MAX_ROW_BYTES: Final = 64 * 1024
MAX_PROBLEMS: Final = 10
REF_SHOWN: Final = 128
BOM: Final = b"\xef\xbb\xbf"
REQUIRED: Final = ("customer_ref", "phone", "language", "timezone")
PLAIN: Final = (*REQUIRED, "name")
CONSENT: Final = tuple(
    f"consent.{name}" for name in ("marketing_calls", "source", "at", "wording", "campaign_id")
)
TOO_LONG: Final = f"is longer than {MAX_ROW_BYTES} bytes"
UNCLOSED: Final = "has a quoted field that is not closed at the end of the file"
_SEGMENT_NAME = TypeAdapter(SegmentName)

Line = bytes | None
"""A line without its line end; None for a line over `MAX_ROW_BYTES`, dropped unread."""


@dataclass(frozen=True, slots=True)
class GoodRow:
    number: int
    customer: CustomerRow


@dataclass(frozen=True, slots=True)
class BadRow:
    number: int
    customer_ref: str | None
    problems: tuple[str, ...]


Row = GoodRow | BadRow


class HeaderError(ValueError):
    """The CSV header cannot be used: nothing is imported."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class RowParser(Protocol):
    def row(self, line: Line) -> Row | None:
        """The row this line completes, if any (blank lines and a CSV header complete none)."""

    def end(self) -> Row | None:
        """The row left open when the body ends, if any."""


async def parse_rows(chunks: AsyncIterable[bytes], parser: RowParser) -> AsyncIterator[Row]:
    """The rows of a body arriving in chunks, in order."""
    lines = LineSplitter()
    async for chunk in chunks:
        for row in _rows(parser, lines.feed(chunk)):
            yield row
    for row in _rows(parser, lines.end()):
        yield row
    last = parser.end()
    if last is not None:
        yield last


def _rows(parser: RowParser, lines: list[Line]) -> Iterator[Row]:
    for line in lines:
        row = parser.row(line)
        if row is not None:
            yield row


class LineSplitter:
    """Cuts a byte stream into lines (`\\n` or `\\r\\n`), a leading byte-order mark dropped."""

    def __init__(self, limit: int = MAX_ROW_BYTES) -> None:
        self._limit = limit
        self._rest = b""
        self._overflow = False  # inside a line already over the limit: dropped up to its end
        self._first = True

    def feed(self, chunk: bytes) -> list[Line]:
        parts = (self._rest + chunk).split(b"\n")
        self._rest = parts.pop()
        lines = [self._line(part) for part in parts]
        if len(self._rest) > self._limit:
            self._rest, self._overflow = b"", True
        return lines

    def end(self) -> list[Line]:
        if self._overflow:
            return [None]
        return [self._line(self._rest)] if self._rest else []

    def _line(self, part: bytes) -> Line:
        if self._first:
            part, self._first = part.removeprefix(BOM), False
        if self._overflow or len(part) > self._limit:
            self._overflow = False
            return None
        return part.removesuffix(b"\r")


class NdjsonRows:
    """One JSON object per line, as `PUT` takes it plus `customer_ref`."""

    def __init__(self) -> None:
        self._number = 0

    def row(self, line: Line) -> Row | None:
        if line is not None and not line.strip():
            return None
        self._number += 1
        if line is None:
            return BadRow(self._number, None, (f"the row {TOO_LONG}",))
        try:
            return GoodRow(self._number, CustomerRow.model_validate_json(line))
        except ValidationError as exc:
            return BadRow(self._number, _ref_in_json(line), problems_of(exc))

    def end(self) -> Row | None:
        return None


class CsvRows:
    """RFC 4180 CSV in UTF-8: a header row naming the columns, then one customer per row.

    A quoted field may span lines: a line that leaves a quote open continues on the next.
    """

    def __init__(self) -> None:
        self._columns: CsvColumns | None = None
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._quotes = 0
        self._number = 0

    def row(self, line: Line) -> Row | None:
        if line is None:
            self._reset()
            return self._bad(TOO_LONG)
        self._pending.append(line)
        self._pending_bytes += len(line) + 1
        self._quotes += line.count(b'"')
        if self._quotes % 2 == 0:
            record = b"\n".join(self._pending)
            self._reset()
            return self._record(record)
        if self._pending_bytes > MAX_ROW_BYTES:
            self._reset()
            return self._bad(TOO_LONG)
        return None

    def end(self) -> Row | None:
        if self._pending:
            self._reset()
            return self._bad(UNCLOSED)
        if self._columns is None:
            raise HeaderError(["the CSV has no header row"])
        return None

    def _record(self, record: bytes) -> Row | None:
        if not record.strip():
            return None
        if self._columns is None:
            self._columns = CsvColumns.parse(record)
            return None
        self._number += 1
        return self._columns.row(self._number, record)

    def _bad(self, problem: str) -> Row:
        """A row that `problem` (`is ...`, `has ...`) rules out; in the header, the import."""
        if self._columns is None:
            raise HeaderError([f"the header row {problem}"])
        self._number += 1
        return BadRow(self._number, None, (f"the row {problem}",))

    def _reset(self) -> None:
        self._pending, self._pending_bytes, self._quotes = [], 0, 0


@dataclass(frozen=True, slots=True)
class CsvColumns:
    """The header: which column goes where in `CustomerRow`."""

    names: tuple[str, ...]
    groups: tuple[
        tuple[str, str], ...
    ]  # per column: (`segment`, name), (`consent`, ...), ("", name)
    ref_index: int

    @classmethod
    def parse(cls, record: bytes) -> CsvColumns:
        try:
            names = tuple(name.strip() for name in _cells(record))
        except (UnicodeDecodeError, csv.Error):
            raise HeaderError(["the header row is not CSV in UTF-8"]) from None
        problems = header_problems(names)
        if problems:
            raise HeaderError(problems)
        groups = tuple(_group(name) for name in names)
        return cls(names, groups, names.index("customer_ref"))

    def row(self, number: int, record: bytes) -> Row:
        try:
            cells = _cells(record)
        except UnicodeDecodeError:
            return BadRow(number, None, ("the row is not UTF-8 text",))
        except csv.Error as exc:
            return BadRow(number, None, (f"the row is not CSV: {exc}",))
        ref = self._ref(cells)
        if len(cells) != len(self.names):
            problem = f"the row has {len(cells)} fields, the header {len(self.names)}"
            return BadRow(number, ref, (problem,))
        try:
            return GoodRow(number, CustomerRow.model_validate(self.fields(cells)))
        except ValidationError as exc:
            return BadRow(number, ref, problems_of(exc))

    def fields(self, cells: list[str]) -> dict[str, Any]:
        """The row as `CustomerRow` takes it; an empty cell is as if its column were absent."""
        fields: dict[str, Any] = {}
        segment: dict[str, str | list[str]] = {}
        consent: dict[str, str] = {}
        for (group, key), cell in zip(self.groups, cells, strict=True):
            if not cell:
                continue
            if group == "segment":
                segment[key] = segment_value(cell)
            elif group == "consent":
                consent[key] = cell
            else:
                fields[key] = cell
        if segment:
            fields["segment"] = segment
        if "marketing_calls" in consent:
            fields["consent"] = consent
        return fields

    def _ref(self, cells: list[str]) -> str | None:
        ref = cells[self.ref_index] if self.ref_index < len(cells) else ""
        return ref[:REF_SHOWN] or None


def _group(name: str) -> tuple[str, str]:
    group, dot, key = name.partition(".")
    return (group, key) if dot else ("", name)


def header_problems(names: tuple[str, ...]) -> list[str]:
    """What makes a header unusable: a required column missing, a name twice or unknown."""
    missing = [f"the column `{name}` is missing" for name in REQUIRED if name not in names]
    twice = sorted(
        {f"the column `{name}` appears twice" for name in names if names.count(name) > 1}
    )
    unknown = [f"the column `{name}` is unknown" for name in names if not _known_column(name)]
    return [*missing, *twice, *unknown]


def _known_column(name: str) -> bool:
    if name in PLAIN or name in CONSENT:
        return True
    group, _, key = name.partition(".")
    if group != "segment":
        return False
    try:
        _SEGMENT_NAME.validate_python(key)
    except ValidationError:
        return False
    return True


def segment_value(cell: str) -> str | list[str]:
    """Text as written; a value with `|` is a list of its non-empty parts (`dsl|` is `["dsl"]`)."""
    if "|" not in cell:
        return cell
    return [part for part in cell.split("|") if part]


def problems_of(error: ValidationError) -> tuple[str, ...]:
    """`field.path: message` per problem (never the value itself), at most `MAX_PROBLEMS`."""
    found = [_problem(e["loc"], e["msg"]) for e in error.errors(include_url=False)]
    if len(found) > MAX_PROBLEMS:
        found = [*found[:MAX_PROBLEMS], f"and {len(found) - MAX_PROBLEMS} more problems"]
    return tuple(found)


def _problem(location: tuple[int | str, ...], message: str) -> str:
    path = ".".join(str(part) for part in location)
    return f"{path}: {message}" if path else message


def _cells(record: bytes) -> list[str]:
    return next(csv.reader((record.decode("utf-8"),)), [])


def _ref_in_json(line: bytes) -> str | None:
    try:
        ref = orjson.loads(line).get("customer_ref")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return ref[:REF_SHOWN] if isinstance(ref, str) and ref else None


PARSERS: Final[dict[str, type[CsvRows] | type[NdjsonRows]]] = {
    "text/csv": CsvRows,
    "application/x-ndjson": NdjsonRows,
    "application/ndjson": NdjsonRows,
}


def parser_for(content_type: str | None) -> RowParser | None:
    """The parser of a media type (UTF-8 only); None if the import does not read it."""
    media_type, *parameters = (content_type or "").split(";")
    for name, _, value in (parameter.partition("=") for parameter in parameters):
        if name.strip().lower() == "charset" and value.strip(' "').lower() not in ("utf-8", "utf8"):
            return None
    factory = PARSERS.get(media_type.strip().lower())
    return factory() if factory else None
