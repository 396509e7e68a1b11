"""Rows of an import, CSV and NDJSON: what a good row becomes, and what each bad row reports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import orjson
import pytest
from surveys.import_rows import (
    MAX_ROW_BYTES,
    BadRow,
    CsvRows,
    GoodRow,
    HeaderError,
    LineSplitter,
    NdjsonRows,
    Row,
    RowParser,
    parse_rows,
    parser_for,
)

HEADER = (
    "customer_ref,phone,language,timezone,name,segment.age_band,segment.products,"
    "consent.marketing_calls,consent.source,consent.at,consent.wording"
)
ANNA = (
    'crm-1,+4930123456,de-AT,Europe/Vienna,"Beispiel, Anna",30-39,fiber|tv,yes,web-form,'
    '2026-03-01T10:00:00+01:00,"Yes, call me\nabout surveys."'
)
BERT = "crm-2,+4940987654,de,Europe/Berlin,,50-59,dsl|,,,,"
ANNA_JSON = {
    "customer_ref": "crm-1",
    "phone": "+4930123456",
    "language": "de-AT",
    "timezone": "Europe/Vienna",
    "segment": {"age_band": "30-39", "products": ["fiber", "tv"], "score": 7},
    "consent": {"marketing_calls": True, "source": "web-form", "at": "2026-03-01T10:00:00Z"},
}


async def _chunks(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def _rows(body: bytes, parser: RowParser, chunk: int = 7) -> list[Row]:
    """Every row, the body cut into small chunks so that rows and quotes straddle them."""
    return [row async for row in parse_rows(_chunks(body, chunk), parser)]


def _csv(*lines: str) -> bytes:
    return "\r\n".join(lines).encode() + b"\r\n"


def _ndjson(*objects: object) -> bytes:
    return b"\n".join(orjson.dumps(item) for item in objects) + b"\n"


def _bad(rows: Sequence[Row]) -> dict[int, BadRow]:
    return {row.number: row for row in rows if isinstance(row, BadRow)}


async def test_csv_rows_become_what_put_takes() -> None:
    rows = await _rows(b"\xef\xbb\xbf" + _csv(HEADER, ANNA, "", BERT), CsvRows())
    assert [type(row) for row in rows] == [GoodRow, GoodRow]
    anna, bert = (row.customer for row in rows if isinstance(row, GoodRow))
    assert (anna.customer_ref, anna.phone, anna.name) == ("crm-1", "+4930123456", "Beispiel, Anna")
    assert anna.segment == {"age_band": "30-39", "products": ["fiber", "tv"]}
    assert anna.consent is not None
    assert anna.consent.marketing_calls is True
    assert anna.consent.wording == "Yes, call me\nabout surveys.", "a quoted field spans lines"
    assert anna.consent.at.isoformat() == "2026-03-01T10:00:00+01:00"
    assert [row.number for row in rows] == [1, 2], "blank lines are not rows"
    assert bert.name is None, "an empty cell is an absent field"
    assert bert.segment == {"age_band": "50-59", "products": ["dsl"]}, "`dsl|`: a list of one"
    assert bert.consent is None, "no marketing_calls: no statement"


@pytest.mark.parametrize(
    ("cell", "granted"),
    [("true", True), ("YES", True), ("1", True), ("false", False), ("No", False), ("0", False)],
)
async def test_csv_consent_reads_true_false_yes_no_one_zero(cell: str, granted: bool) -> None:
    row = f"crm-1,+4930123456,de,Europe/Berlin,,,,{cell},call,2026-03-01T10:00:00Z,"
    (parsed,) = await _rows(_csv(HEADER, row), CsvRows())
    assert isinstance(parsed, GoodRow)
    assert parsed.customer.consent is not None
    assert parsed.customer.consent.marketing_calls is granted


async def test_csv_segment_values_stay_text() -> None:
    header = "customer_ref,phone,language,timezone,segment.score,segment.vip"
    (parsed,) = await _rows(_csv(header, "crm-1,+4930123456,de,Europe/Berlin,7,true"), CsvRows())
    assert isinstance(parsed, GoodRow)
    assert parsed.customer.segment == {"score": "7", "vip": "true"}


async def test_each_kind_of_bad_csv_row_is_reported_and_the_good_ones_pass() -> None:
    body = _csv(
        HEADER,
        BERT.replace("+4940987654", "040-987654"),  # not E.164
        BERT.replace("Europe/Berlin", "Mars/Olympus"),
        BERT.replace("crm-2", "crm 2!"),  # not a reference
        ",+4940987654,de,Europe/Berlin,,,,,,,",  # no reference at all
        BERT.replace(",,,,", ",maybe,web-form,2026-03-01T10:00:00Z,"),
        BERT.replace(",,,,", ",yes,web-form,2026-03-01T10:00:00,"),  # time without offset
        BERT.replace(",,,,", ",yes,,2026-03-01T10:00:00Z,"),  # consent without its source
        "crm-3,+4940987654,de",  # too few fields
        BERT,
    )
    rows = await _rows(body, CsvRows())
    bad = _bad(rows)
    assert sorted(bad) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert [row.number for row in rows if isinstance(row, GoodRow)] == [9]
    assert bad[1].customer_ref == "crm-2"
    assert bad[1].problems[0].startswith("phone: String should match pattern")
    assert bad[2].problems == (
        "timezone: Value error, 'Mars/Olympus' is not an IANA time zone such as 'Europe/Berlin'",
    )
    assert bad[3].problems[0].startswith("customer_ref: String should match pattern")
    assert (bad[4].customer_ref, bad[4].problems) == (None, ("customer_ref: Field required",))
    assert bad[5].problems[0].startswith("consent.marketing_calls: Input should be a valid boolean")
    assert bad[6].problems[0].startswith("consent.at: Input should have timezone info")
    assert bad[7].problems == ("consent.source: Field required",)
    assert bad[8].problems == ("the row has 3 fields, the header 11",)


async def test_a_csv_row_that_is_not_utf8_is_a_row_error() -> None:
    body = _csv(HEADER) + b"crm-1,+4930123456,de,Europe/Berlin,M\xfcller,,,,,,\r\n" + _csv(BERT)
    rows = await _rows(body, CsvRows())
    assert _bad(rows)[1].problems == ("the row is not UTF-8 text",)
    assert isinstance(rows[1], GoodRow)


async def test_an_overlong_csv_row_is_reported_and_the_next_one_read() -> None:
    long_row = BERT.replace(",,,,", ',yes,web-form,2026-03-01T10:00:00Z,"' + "x" * MAX_ROW_BYTES)
    rows = await _rows(_csv(HEADER, long_row + '"', BERT), CsvRows(), chunk=4096)
    assert _bad(rows)[1].problems == (f"the row is longer than {MAX_ROW_BYTES} bytes",)
    assert isinstance(rows[1], GoodRow)
    assert rows[1].number == 2


async def test_a_quote_left_open_at_the_end_is_a_row_error() -> None:
    rows = await _rows(_csv(HEADER, BERT, 'crm-3,"+4940987654,de'), CsvRows())
    assert _bad(rows)[2].problems == (
        "the row has a quoted field that is not closed at the end of the file",
    )


@pytest.mark.parametrize(
    ("header", "problems"),
    [
        (
            "customer_ref,language,timezone",
            ["the column `phone` is missing"],
        ),
        (
            "customer_ref,phone,language,timezone,phone,segment.Region,email",
            [
                "the column `phone` appears twice",
                "the column `segment.Region` is unknown",
                "the column `email` is unknown",
            ],
        ),
    ],
)
async def test_a_bad_csv_header_stops_the_import(header: str, problems: list[str]) -> None:
    with pytest.raises(HeaderError) as raised:
        await _rows(_csv(header, BERT), CsvRows())
    assert raised.value.problems == problems


async def test_an_empty_csv_has_no_header() -> None:
    with pytest.raises(HeaderError, match="no header row"):
        await _rows(b"\r\n\r\n", CsvRows())


async def test_ndjson_rows_become_what_put_takes() -> None:
    bert = {"customer_ref": "crm-2", "phone": "+4940987654", "language": "de"}
    body = _ndjson(ANNA_JSON) + b"\n  \n" + _ndjson(bert | {"timezone": "Europe/Berlin"})
    rows = await _rows(body, NdjsonRows())
    assert [(type(row), row.number) for row in rows] == [(GoodRow, 1), (GoodRow, 2)]
    anna = rows[0]
    assert isinstance(anna, GoodRow)
    assert anna.customer.segment == {"age_band": "30-39", "products": ["fiber", "tv"], "score": 7}
    assert anna.customer.consent is not None
    assert anna.customer.consent.source == "web-form"


async def test_each_kind_of_bad_ndjson_row_is_reported_and_the_good_ones_pass() -> None:
    body = b"\n".join(
        [
            b'{"customer_ref": "crm-1", "phone": ',  # cut off: not JSON
            b'["crm-1"]',  # JSON, not an object
            orjson.dumps(ANNA_JSON | {"phone": "0301234"}),
            orjson.dumps(ANNA_JSON | {"email": "anna@example.org"}),
            orjson.dumps({k: v for k, v in ANNA_JSON.items() if k != "customer_ref"}),
            orjson.dumps(ANNA_JSON | {"consent": {"marketing_calls": "perhaps"}}),
            orjson.dumps(ANNA_JSON),
        ]
    )
    rows = await _rows(body, NdjsonRows())
    bad = _bad(rows)
    assert sorted(bad) == [1, 2, 3, 4, 5, 6]
    assert bad[1].problems[0].startswith("Invalid JSON")
    assert (bad[1].customer_ref, bad[2].customer_ref) == (None, None)
    assert bad[2].problems == ("Input should be an object",)
    assert bad[3].customer_ref == "crm-1"
    assert bad[3].problems[0].startswith("phone: String should match pattern")
    assert bad[4].problems == ("email: Extra inputs are not permitted",)
    assert bad[5].problems == ("customer_ref: Field required",)
    assert bad[6].problems == (
        "consent.marketing_calls: Input should be a valid boolean, unable to interpret input",
        "consent.source: Field required",
        "consent.at: Field required",
    )
    assert isinstance(rows[6], GoodRow), "the last line needs no line end"


async def test_an_overlong_ndjson_line_is_reported_and_the_next_one_read() -> None:
    long_line = orjson.dumps(ANNA_JSON | {"name": "x" * MAX_ROW_BYTES})
    rows = await _rows(long_line + b"\n" + _ndjson(ANNA_JSON), NdjsonRows(), chunk=1000)
    assert _bad(rows)[1].problems == (f"the row is longer than {MAX_ROW_BYTES} bytes",)
    assert [row.number for row in rows if isinstance(row, GoodRow)] == [2]


def test_the_splitter_never_holds_more_than_a_line() -> None:
    splitter = LineSplitter(limit=10)
    assert splitter.feed(b"abc\r\nde") == [b"abc"]
    assert splitter.feed(b"f" * 20) == []
    assert splitter.feed(b"g\nhi") == [None]
    assert splitter.end() == [b"hi"]


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [
        ("text/csv", CsvRows),
        ("text/csv; charset=UTF-8", CsvRows),
        ("application/x-ndjson", NdjsonRows),
        ("application/ndjson", NdjsonRows),
        ("text/csv; charset=latin-1", None),
        ("application/json", None),
        (None, None),
    ],
)
def test_the_media_type_picks_the_parser(content_type: str | None, kind: type | None) -> None:
    parser = parser_for(content_type)
    assert type(parser) is kind if kind else parser is None
