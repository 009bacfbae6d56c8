"""Export files (issue #5 item 6): XLSX (openpyxl, write-only) and CSV, streamed to disk.

Each batch of rows from models/exports.py is written out in a worker thread before the next
is read, so neither the event loop nor memory carries the whole table. CSV is UTF-8 with a
byte-order mark (Excel opens Chinese text right only so); several CSV tables go into one ZIP.

User-typed text that starts like a formula (`=`, `+`, `-`, `@`) is written as text: in XLSX
as a string cell, in CSV behind an apostrophe (OWASP's advice against CSV injection).
"""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from models.exports import Cell, Options, Table, batches

FORMATS = ("xlsx", "csv")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportFile:
    """A written export: where, how many rows per table, how big."""

    path: Path
    rows: dict[str, int]

    @property
    def size(self) -> int:
        """Bytes on disk."""
        return self.path.stat().st_size


def suffix(fmt: str, tables: list[Table]) -> str:
    """The file extension of an export: several CSV tables make a ZIP."""
    return "zip" if fmt == "csv" and len(tables) > 1 else fmt


async def write(tables: list[Table], fmt: str, options: Options, path: Path) -> ExportFile:
    """Write the tables to `path` in `fmt` ("xlsx" or "csv")."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    if fmt == "xlsx":
        rows = await _write_xlsx(tables, options, path)
    elif len(tables) == 1:
        with path.open("w", encoding="utf-8-sig", newline="") as stream:
            rows = {tables[0].name: await _write_csv(tables[0], options, stream)}
    else:
        rows = {}
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for table in tables:
                with (
                    archive.open(f"{table.name}.csv", "w") as raw,
                    io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as stream,
                ):
                    rows[table.name] = await _write_csv(table, options, stream)
    return ExportFile(path, rows)


def _csv_text(value: Cell) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


async def _write_csv(table: Table, options: Options, stream: io.TextIOBase) -> int:
    writer = csv.writer(stream)
    writer.writerow(table.headings(options.lang))
    count = 0
    async for batch in batches(table, options):
        cleaned = [[_csv_text(value) for value in row] for row in batch]
        await asyncio.to_thread(writer.writerows, cleaned)
        count += len(batch)
    return count


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Cell) -> Any:
    if not isinstance(value, str):
        return value
    # Control characters are not allowed in XLSX (openpyxl refuses them): dropped.
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if text.startswith("="):
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"  # openpyxl would store it as a formula
        return cell
    return text


def _append(sheet: WriteOnlyWorksheet, batch: list[list[Cell]]) -> None:
    for row in batch:
        sheet.append([_xlsx_cell(sheet, value) for value in row])


async def _write_xlsx(tables: list[Table], options: Options, path: Path) -> dict[str, int]:
    book = Workbook(write_only=True)
    rows: dict[str, int] = {}
    for table in tables:
        sheet = book.create_sheet(title=table.title(options.lang))
        sheet.append(table.headings(options.lang))
        count = 0
        async for batch in batches(table, options):
            await asyncio.to_thread(_append, sheet, batch)
            count += len(batch)
        rows[table.name] = count
    await asyncio.to_thread(book.save, path)
    return rows
