"""Tables in and out, shared by both engines: formats, reading rows (CSV, JSONL, Parquet) with a
progress meter, writing result cells, the allocation file, and the errors and summary of a run.
"""
from __future__ import annotations

import csv
import io
import os
import json
from decimal import Decimal
from pathlib import Path
from typing import Iterator, Optional

import attrs


FORMATS = ('csv', 'jsonl', 'parquet')


class BatchError(Exception):
    """A row or file that stops the run; the message is Chinese and names the row."""


def table_format(path: str) -> Optional[str]:
    suffix = Path(path).suffix.lower().lstrip('.')
    return {'csv': 'csv', 'jsonl': 'jsonl', 'ndjson': 'jsonl', 'parquet': 'parquet'}.get(suffix)


# ------------------------------------------------------------------ reading
class Meter:
    """How far through its input a read is: ``done`` of ``total`` (bytes, or rows for Parquet)."""

    def __init__(self):
        self.done = 0
        self.total = 0

    @property
    def fraction(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 0.0


class _Counting(io.RawIOBase):
    """A raw file that counts the bytes read from it into a :class:`Meter`."""

    def __init__(self, f, meter: Meter):
        self.f, self.meter = f, meter

    def readable(self):
        return True

    def readinto(self, b):
        n = self.f.readinto(b)
        self.meter.done += n or 0
        return n

    def close(self):
        self.f.close()
        super().close()


def _open_text(path: str, meter: Optional[Meter]):
    if meter is None:
        return open(path, newline='', encoding='utf-8-sig')
    raw = open(path, 'rb', buffering=0)
    meter.total = os.fstat(raw.fileno()).st_size
    return io.TextIOWrapper(io.BufferedReader(_Counting(raw, meter)), encoding='utf-8-sig', newline='')


def read_rows(path: str, meter: Optional[Meter] = None) -> Iterator[tuple[int, dict]]:
    """(row number, raw facts) — the row number counts data rows from 1 (a CSV header is row 0).
    With a ``meter``, how much of the input has been read is kept up to date in it."""
    fmt = table_format(path)
    if fmt is None:
        raise BatchError(f'{path}：无法识别的表格格式（支持 .csv、.jsonl、.parquet）')
    try:
        if fmt == 'csv':
            yield from _read_csv(path, meter)
        elif fmt == 'jsonl':
            yield from _read_jsonl(path, meter)
        else:
            yield from _read_parquet(path, meter)
    except FileNotFoundError:
        raise BatchError(f'{path}：文件不存在') from None
    except UnicodeDecodeError as exc:
        raise BatchError(f'{path}：不是 UTF-8 编码（第 {exc.start} 字节）') from None
    except IsADirectoryError:
        raise BatchError(f'{path}：这是一个目录') from None


def _read_csv(path: str, meter: Optional[Meter] = None):
    with _open_text(path, meter) as f:
        reader = csv.reader(f)
        try:
            header = next(reader)
        except StopIteration:
            return
        names = [h.strip() for h in header]
        if len(set(names)) != len(names):
            raise BatchError(f'{path}：表头有重复的列名')
        width = len(names)
        n = 0
        for row in reader:
            if not row:                     # a blank line is not a row
                continue
            n += 1
            if len(row) != width:
                raise BatchError(f'{path}：第 {n} 行有 {len(row)} 列，表头有 {width} 列')
            # an empty cell means "not given": the input's default applies
            yield n, {k: v for k, v in zip(names, row) if v != ''}


def _reject_constant(name):
    raise ValueError(f'不接受 {name}')


def _read_jsonl(path: str, meter: Optional[Meter] = None):
    with _open_text(path, meter) as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line, parse_float=Decimal, parse_constant=_reject_constant)
            except (json.JSONDecodeError, ValueError, RecursionError) as exc:
                raise BatchError(f'{path}：第 {n} 行：JSON 格式错误（{exc}）') from None
            yield n, value


def _read_parquet(path: str, meter: Optional[Meter] = None):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise BatchError('读写 Parquet 需要 pyarrow：pip install pyarrow') from None
    pf = pq.ParquetFile(path)
    if meter is not None:
        meter.total = pf.metadata.num_rows
    n = 0
    for batch in pf.iter_batches(batch_size=65536):
        for row in batch.to_pylist():
            n += 1
            if meter is not None:
                meter.done = n
            yield n, {k: v for k, v in row.items() if v is not None}


# ------------------------------------------------------------------ writing
_CENTS = -2


def cell_text(v) -> str:
    if v is None:
        return ''
    if type(v) is Decimal and v.as_tuple().exponent == _CENTS:
        return str(v) if v.adjusted() < 20 else f'{v:f}'    # an amount already in fen
    if isinstance(v, Decimal):
        return f'{v.quantize(Decimal("0.01")):f}'
    return str(v)


def check_writable(path: str) -> None:
    """An output table's place must exist: say so before any work is done."""
    p = Path(path)
    if p.is_dir():
        raise BatchError(f'{path}：这是一个目录，无法写入结果')
    if not p.parent.is_dir():
        raise BatchError(f'{path}：目录 {p.parent} 不存在，无法写入')


class Writer:
    def __init__(self, path: str, columns: list[str]):
        self.path = path
        self.fmt = table_format(path)
        if self.fmt is None:
            raise BatchError(f'{path}：无法识别的输出格式（支持 .csv、.jsonl、.parquet）')
        self.columns = columns
        self.buffer: list[dict] = []
        if self.fmt == 'parquet':
            try:
                import pyarrow as pa
                import pyarrow.parquet as pq
            except ImportError:
                raise BatchError('读写 Parquet 需要 pyarrow：pip install pyarrow') from None
            self.pa, self.pq = pa, pq
            self.schema = pa.schema([(c, pa.string()) for c in columns])
            self.writer = pq.ParquetWriter(path, self.schema)
        else:
            try:
                self.f = open(path, 'w', newline='', encoding='utf-8')
            except OSError as exc:
                raise BatchError(f'{path}：无法写入（{exc.strerror}）') from None
            if self.fmt == 'csv':
                self.csv = csv.writer(self.f, lineterminator='\n')   # as DuckDB writes it
                self.csv.writerow(columns)

    def write(self, row: dict) -> None:
        self.write_cells([cell_text(row.get(c)) for c in self.columns])

    def write_cells(self, cells: list) -> None:
        """One row of text cells, in column order."""
        if self.fmt == 'csv':
            self.csv.writerow(cells)
        elif self.fmt == 'jsonl':
            self.f.write(json.dumps(dict(zip(self.columns, cells)), ensure_ascii=False, separators=(',', ':')) + '\n')
        else:
            self.buffer.append(dict(zip(self.columns, cells)))
            if len(self.buffer) >= 65536:
                self._flush()

    def _flush(self):
        if self.buffer:
            self.writer.write_table(self.pa.Table.from_pylist(self.buffer, schema=self.schema))
            self.buffer = []

    def close(self) -> None:
        if self.fmt == 'parquet':
            self._flush()
            self.writer.close()
        else:
            self.f.close()


@attrs.define
class BatchSummary:
    rows: int = 0
    written: int = 0
    rejected: int = 0
    totals: dict = attrs.field(factory=dict)      # item -> paid sum (before quotas and pools)
    total: Decimal = Decimal(0)
    allocations: dict = attrs.field(factory=dict)  # item -> Shared, for items with a quota or pool


def write_allocations(path: str, allocations: dict, id_column: Optional[str], idents: dict) -> None:
    """One row per claim of each item with a quota or pool: claimed, granted and why."""
    cols = ['项', '行号'] + ([id_column] if id_column else []) + ['计算金额', '分配金额', '说明']
    w = Writer(path, cols)
    try:
        for name, grants in allocations.items():
            for g in grants:
                row = {'项': name, '行号': g.row, '计算金额': g.claimed, '分配金额': g.granted,
                       '说明': g.reason}
                if id_column:
                    row[id_column] = idents.get(g.row)
                w.write(row)
    finally:
        w.close()


def jsonable(raw):
    if isinstance(raw, dict):
        return {str(k): (f'{v}' if isinstance(v, Decimal) else v) for k, v in raw.items()}
    return str(raw)


def record_list_problem(kind: str) -> str:
    """The refusal for a column holding a list of records (项目、产品 …): tables have one applicant per
    row with flat facts (one record each); tables of records joined to applicants are not supported."""
    return (f'「{kind}」：这一列是逐个列出的{kind}；整表计算时每行是一个申请人的平铺事实（一行只描述一个{kind}，'
            f'{kind}的输入直接作为列），一个申请人多个{kind}的表格（{kind}表与申请人表关联）尚不支持；'
            f'请对这样的申请人用 polc eval --facts（JSON 或 YAML，「{kind}」写作列表）逐个计算')
