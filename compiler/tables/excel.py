"""Excel tables (.xlsx) in and out, exactly.

Reading (python-calamine, the Rust calamine reader): every cell becomes the text a CSV cell would
hold, so both engines then apply one money grammar to it.

- A text cell is taken as it is ("199581萬元", "1,234,567").
- A number cell: an .xlsx file stores numbers as binary doubles (written as decimal text in the
  XML); a person typing into Excel can enter at most 15 significant digits.  Every decimal of at
  most 15 significant digits survives decimal → double → shortest decimal unchanged (15 ≤ DBL_DIG),
  and two such decimals never share a double; so when the shortest decimal that gives the cell's
  double (Python's ``repr``) has at most 15 significant digits, it IS the number that was typed,
  exactly, and it is used.  A double whose shortest form needs 16 or 17 digits (the result of a
  formula such as =0.1+0.2, or a number beyond Excel's 15 digits) is refused with the cell named:
  nothing is rounded.  Amounts with more than two decimals are then refused by the money grammar
  (金额精确到分) like any other input.
- A date cell becomes 2025-03-01; a TRUE/FALSE cell true/false; an empty cell is "not given".
- The first non-empty row is the header; 行号 is the row number Excel shows (header in row 1 →
  the first data row is 2), so a reviewer can go straight to the row; blank rows are skipped.
  (CSV and JSONL count data rows from 1: their row numbers are not a spreadsheet's.)

Writing (XlsxWriter, constant memory): amount columns (…金额, 合计) are written as numbers with the
format #,##0.00 when they have at most 15 significant digits — XlsxWriter formats a ``Decimal``
with Decimal's own formatting, so the XML holds the exact decimal text, and by the rule above it
reads back (in Excel or here) as the same decimal — and as text beyond 15 digits, so Excel can
never show a rounded amount.  行号 is a whole number; everything else is text.  The workbook is
written to a temporary file beside the target and renamed: whole or not at all.
"""
from __future__ import annotations

import datetime as _dt
import math
import os
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Iterator, Optional

EXCEL_SUFFIXES = ('.xlsx', '.xlsm')
MAX_DIGITS = 15


class ExcelError(Exception):
    """A workbook that cannot be read or written (message in Chinese)."""


def number_text(value) -> Optional[str]:
    """The exact decimal text of a number cell, or None when the double is not a number of at most
    15 significant digits (see the module's docstring for why this is exact)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if len(str(abs(value))) <= MAX_DIGITS else None
    if not math.isfinite(value):          # NaN and infinities are not numbers of a cell
        return None
    d = Decimal(repr(value))
    sign, digits, exponent = d.normalize().as_tuple()
    if len(digits) > MAX_DIGITS:
        return None
    d = d.normalize()
    text = f'{d:f}'
    return '0' if text in ('-0', '0') else text


def _cell_text(value) -> Optional[str]:
    """Text of one cell as a CSV cell would hold it; None for an empty cell.  Raises ValueError
    for a number that cannot be taken exactly."""
    if value is None or value == '':
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        text = number_text(value)
        if text is None:
            raise ValueError(f'数值 {value!r} 超过 15 位有效数字（可能是公式结果或浮点误差），无法确定原值；'
                             f'请在 Excel 中用 ROUND 取整到分，或把这一格写成文本')
        return text
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=' ')
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA (as Excel names columns)."""
    out = ''
    index += 1
    while index:
        index, r = divmod(index - 1, 26)
        out = chr(65 + r) + out
    return out


def _open(path: str):
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        raise ExcelError("读取 Excel 需要 python-calamine：pip install 'polc[excel]'") from None
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    if os.path.isdir(path):
        raise IsADirectoryError(path)
    try:
        return CalamineWorkbook.from_path(path)
    except Exception as exc:        # calamine raises its own types for a damaged or foreign file
        raise ExcelError(f'{path}：无法作为 Excel 工作簿读取（{str(exc).strip() or type(exc).__name__}）') from None


def sheet_names(path: str) -> list[str]:
    return list(_open(path).sheet_names)


def read_excel(path: str, sheet: Optional[str] = None, meter=None, on_header=None) -> Iterator[tuple[int, dict]]:
    """(Excel row number, {column: text}) for each non-blank data row of one sheet (the first
    sheet unless ``sheet`` names one).  Raises :class:`ExcelError` naming the cell."""
    wb = _open(path)
    names = list(wb.sheet_names)
    if not names:
        raise ExcelError(f'{path}：工作簿中没有工作表')
    if sheet is None:
        sheet = names[0]
    elif sheet not in names:
        raise ExcelError(f'{path}：没有名为「{sheet}」的工作表；有：{"、".join(names)}')
    try:
        ws = wb.get_sheet_by_name(sheet)
    except Exception as exc:
        raise ExcelError(f'{path}：工作表「{sheet}」无法读取（{exc}）') from None
    if meter is not None:
        meter.total = max(ws.total_height, 1)
    header = None
    first_col = ws.start[1] if ws.start else 0
    for n, row in enumerate(ws.iter_rows(), start=1):
        if meter is not None:
            meter.done = n
        if all(v is None or v == '' for v in row):
            continue
        if header is None:
            header = []
            for k, v in enumerate(row):
                try:
                    text = _cell_text(v)
                except ValueError:
                    text = str(v)
                header.append((text or '').strip())
            while header and header[-1] == '':
                header.pop()
            seen = [h for h in header if h]
            if len(set(seen)) != len(seen):
                raise ExcelError(f'{path}：工作表「{sheet}」第 {n} 行（表头）有重复的列名')
            if on_header is not None:
                on_header(seen)
            continue
        facts = {}
        for k, v in enumerate(row):
            try:
                text = _cell_text(v)
            except ValueError as exc:
                raise ExcelError(f'{path}：工作表「{sheet}」第 {n} 行 {column_letter(first_col + k)} 列：{exc}') \
                    from None
            if text is None:
                continue
            if k >= len(header) or header[k] == '':
                raise ExcelError(f'{path}：工作表「{sheet}」第 {n} 行 {column_letter(first_col + k)} 列：'
                                 f'这一列没有表头，内容为「{text}」')
            facts[header[k]] = text
        yield n, facts


# ------------------------------------------------------------------ writing
def is_money_column(name: str) -> bool:
    return name.endswith('金额') or name in ('合计', '应得合计（削减前）', '实发合计') or name.endswith('（元）')


def _digits(d: Decimal) -> int:
    return len(d.normalize().as_tuple().digits)


class ExcelWriter:
    """Rows of text cells into one sheet of a new workbook (see the module docstring for types)."""

    def __init__(self, path: str, columns: list[str], sheet: str = '结果'):
        try:
            import xlsxwriter
        except ImportError:
            raise ExcelError("写入 Excel 需要 XlsxWriter：pip install 'polc[excel]'") from None
        self.path = path
        target = Path(path)
        fd, self.tmp = tempfile.mkstemp(prefix='.' + target.name + '.', suffix='.xlsx', dir=str(target.parent))
        os.close(fd)
        self.book = xlsxwriter.Workbook(self.tmp, {'constant_memory': True, 'strings_to_numbers': False,
                                                   'strings_to_formulas': False, 'strings_to_urls': False})
        self.money_format = self.book.add_format({'num_format': '#,##0.00'})
        self.bold = self.book.add_format({'bold': True})
        self.sheets = []
        self.add_sheet(sheet, columns)

    def add_sheet(self, name: str, columns: list[str]) -> None:
        self.sheet = self.book.add_worksheet(name[:31])
        self.columns = columns
        self.money = [is_money_column(c) for c in columns]
        self.row = 0
        for k, c in enumerate(columns):
            self.sheet.write_string(0, k, c, self.bold)
            self.sheet.set_column(k, k, max(10, min(40, 2 * len(c) + 2)))
        self.sheet.freeze_panes(1, 0)
        self.row = 1

    def write_cells(self, cells: list) -> None:
        ws, r = self.sheet, self.row
        for k, (c, money) in enumerate(zip(cells, self.money)):
            if c is None or c == '':
                continue
            if isinstance(c, int) and not isinstance(c, bool):
                ws.write_number(r, k, c)
                continue
            if isinstance(c, Decimal) or money:
                try:
                    d = Decimal(c)
                except Exception:
                    ws.write_string(r, k, str(c))
                    continue
                if d.is_finite() and _digits(d) <= MAX_DIGITS:
                    ws.write_number(r, k, d, self.money_format)     # the XML holds Decimal's own text
                else:
                    ws.write_string(r, k, str(c))
                continue
            if k == 0 and self.columns[0] == '行号' and str(c).isdigit():
                ws.write_number(r, k, int(c))
                continue
            ws.write_string(r, k, str(c))
        self.row += 1

    def close(self) -> None:
        try:
            self.book.close()
            os.replace(self.tmp, self.path)
        except OSError as exc:
            raise ExcelError(f'{self.path}：无法写入（{exc.strerror}）') from None
        finally:
            if os.path.exists(self.tmp):
                os.unlink(self.tmp)

    def abort(self) -> None:
        try:
            self.book.close()
        except Exception:
            pass
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)
