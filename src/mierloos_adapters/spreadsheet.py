"""A one-sheet Excel workbook (SpreadsheetML, .xlsx) written as its rows stream in.

The sheet's XML is written row by row into the zip (deflated as it goes), so memory stays
bounded however many rows there are, and a row is a few string operations: text as inline
strings (no shared-string table to hold in memory), numbers as their decimal text, and three
number formats (euros, dates, two decimals). Rows and cells carry no reference (``r``): they
follow each other, which the format allows; an empty value is an empty cell (``<c/>``).

The cell text built here is what the Postgres fast path (`sqlalchemy.report_formats`) builds in
SQL for the same values; the tests hold the two to the same bytes.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from xml.sax.saxutils import quoteattr

EURO_FORMAT = '"€" #,##0.00;-"€" #,##0.00'
PERCENT_FORMAT = "0.00"  # Excel's built-in format 2
DATE_FORMAT = "yyyy-mm-dd hh:mm"
# Style ids (cellXfs) of the three formats in `_STYLES`.
EURO, DATE, DECIMAL = 1, 2, 3
EPOCH = datetime(1899, 12, 30)  # day 0 of Excel's 1900 date system (after February 1900)
DAY_SECONDS = 86400
SERIAL_DIGITS = 10  # decimals of a date's serial number: finer than a millisecond
CHUNK = 256 * 1024
COMPRESS_LEVEL = 1  # deflate's fastest: most of the sheet's bytes are markup repeated

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
    f'<numFmts count="2"><numFmt numFmtId="164" formatCode={quoteattr(EURO_FORMAT)}/>'
    f'<numFmt numFmtId="165" formatCode="{DATE_FORMAT}"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    + "".join(
        f'<xf numFmtId="{n}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        for n in (164, 165, 2)
    )
    + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    "</cellStyles></styleSheet>"
)
_SHEET_HEAD = f'{_HEAD}<worksheet xmlns="{_MAIN}"><sheetData>'
_SHEET_TAIL = "</sheetData></worksheet>"


def _parts(title: str) -> dict[str, str]:
    """The workbook's parts other than its sheet."""
    return {
        "[Content_Types].xml": (
            f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels"'
            ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml"'
            f' ContentType="{_TYPE}.worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_TYPE}.styles+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'{_HEAD}<Relationships xmlns="{_RELATIONS}"><Relationship Id="rId1"'
            f' Type="{_DOCUMENT}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_DOCUMENT}"><sheets>'
            f'<sheet name={quoteattr(title)} sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{_HEAD}<Relationships xmlns="{_RELATIONS}">'
            f'<Relationship Id="rId1" Type="{_DOCUMENT}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_DOCUMENT}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": _STYLES,
    }


# Characters XML 1.0 does not allow (a name pasted with a control character in it): dropped.
_NOT_XML = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;", **_NOT_XML})


def text_cell(value: str) -> str:
    """A cell of text (an inline string; white space kept, a carriage return too)."""
    return f'<c t="inlineStr"><is><t xml:space="preserve">{value.translate(_ESCAPES)}</t></is></c>'


def number_cell(text: str, style: int = 0) -> str:
    """A cell holding a number written as `text` (``12.50``), in one of the formats."""
    return f'<c s="{style}"><v>{text}</v></c>' if style else f"<c><v>{text}</v></c>"


EMPTY_CELL = "<c/>"


def serial(moment: datetime) -> str:
    """A moment without zone as Excel's serial number (days since `EPOCH`), to the second,
    rounded half up to `SERIAL_DIGITS` decimals, computed exactly."""
    since = moment - EPOCH
    scaled = (since.days * DAY_SECONDS + since.seconds) * 10**SERIAL_DIGITS
    whole = (2 * scaled + DAY_SECONDS) // (2 * DAY_SECONDS)
    days, fraction = divmod(whole, 10**SERIAL_DIGITS)
    return f"{days}.{fraction:0{SERIAL_DIGITS}d}"


def row(cells: Iterable[str]) -> str:
    return "<row>" + "".join(cells) + "</row>"


class _Sink:
    """Where the zip writes: bytes collected until taken (no seeking, so the zip streams)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        self.size = 0
        return data


def workbook(title: str, rows: Iterable[str]) -> Iterator[bytes]:
    """The .xlsx file of one sheet named `title` in chunks of about `CHUNK` bytes; `rows` are
    the sheet's rows as `row` writes them, one or more per string."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as book:
        for name, text in _parts(title).items():
            book.writestr(name, text)
        with book.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(_SHEET_HEAD.encode())
            for text in rows:
                sheet.write(text.encode())
                if sink.size >= CHUNK:
                    yield sink.take()
            sheet.write(_SHEET_TAIL.encode())
    yield sink.take()
