"""Tables in and out, shared by both engines: formats, reading rows (CSV, JSONL, Parquet; Excel in
compiler/tables/excel.py) with a progress meter, writing result cells, the allocation file, and
the errors and summary of a run.
"""
from __future__ import annotations

import contextlib
import csv
import io
import os
import json
from decimal import Decimal
from pathlib import Path
from typing import Iterator, Optional

import attrs

from polc.compiler.python import runtime as R
from polc.dsl.files import FileProblem, Outputs, input_limit, open_regular


FORMATS = ('csv', 'jsonl', 'parquet', 'xlsx')
FORMAT_NAMES = '.csv、.jsonl、.parquet、.xlsx'


class BatchError(Exception):
    """A row or file that stops the run; the message is Chinese and names the row (or the file or
    option).  ``code`` is the error code the command line shows: E-FACTS (the table or a row),
    E-IO (an output cannot be written), E-SAME-FILE (an output is an input or another output),
    E-USAGE (an option such as --id-column or --date)."""

    def __init__(self, message: str, code: str = 'E-FACTS'):
        super().__init__(message)
        self.code = code


def table_format(path: str) -> Optional[str]:
    suffix = Path(path).suffix.lower().lstrip('.')
    return {'csv': 'csv', 'jsonl': 'jsonl', 'ndjson': 'jsonl', 'parquet': 'parquet', 'xlsx': 'xlsx',
            'xlsm': 'xlsx'}.get(suffix)


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
    raw = open_regular(path)              # a FIFO or a device is refused before reading
    if meter is None:
        return io.TextIOWrapper(raw, encoding='utf-8-sig', newline='')
    meter.total = os.fstat(raw.fileno()).st_size
    return io.TextIOWrapper(io.BufferedReader(_Counting(raw, meter)), encoding='utf-8-sig', newline='')


def _lines(f, path: str):
    """The lines of a text file, each at most :func:`input_limit` characters (a file of one endless
    line is refused instead of being read into memory)."""
    limit = input_limit()
    n = 0
    while True:
        line = f.readline(limit + 1)
        if not line:
            return
        n += 1
        if len(line) > limit:
            raise BatchError(f'{path}：第 {n} 行（文件中的行）超过 {limit} 个字符的上限'
                             f'（可用环境变量 POLC_MAX_INPUT_BYTES 调整）')
        yield line


def read_rows(path: str, meter: Optional[Meter] = None, sheet: Optional[str] = None,
              on_header=None) -> Iterator[tuple[int, dict]]:
    """(row number, raw facts) — the row number counts data rows from 1 (a CSV header is row 0);
    in an Excel sheet it is the row number Excel shows (header in row 1 → first data row 2).
    ``sheet`` chooses an Excel sheet (default the first).  With a ``meter``, how much of the
    input has been read is kept up to date in it.  ``on_header``, when given, is called with the
    column names of a table that has a header (CSV, Excel, Parquet; not JSONL) before any row."""
    fmt = table_format(path)
    if fmt is None:
        raise BatchError(f'{path}：无法识别的表格格式（支持 {FORMAT_NAMES}）')
    if sheet is not None and fmt != 'xlsx':
        raise BatchError(f'{path}：--sheet 只用于 Excel 表格（.xlsx）')
    try:
        if fmt == 'xlsx':
            from polc.compiler.tables.excel import ExcelError, read_excel
            try:
                yield from read_excel(path, sheet, meter, on_header)
            except ExcelError as exc:
                raise BatchError(str(exc)) from None
        elif fmt == 'csv':
            yield from _read_csv(path, meter, on_header)
        elif fmt == 'jsonl':
            yield from _read_jsonl(path, meter)
        else:
            yield from _read_parquet(path, meter, on_header)
    except FileProblem as exc:
        raise BatchError(str(exc)) from None
    except FileNotFoundError:
        raise BatchError(f'{path}：文件不存在') from None
    except UnicodeDecodeError as exc:
        raise BatchError(f'{path}：不是 UTF-8 编码（第 {exc.start} 字节）') from None
    except IsADirectoryError:
        raise BatchError(f'{path}：这是一个目录') from None


def _read_csv(path: str, meter: Optional[Meter] = None, on_header=None):
    with _open_text(path, meter) as f:
        reader = csv.reader(_lines(f, path))
        n = 0
        try:
            try:
                header = next(reader)
            except StopIteration:
                raise BatchError(f'{path}：{EMPTY_CSV}') from None
            names = [h.strip() for h in header]
            if len(set(names)) != len(names):
                raise BatchError(f'{path}：表头有重复的列名')
            if on_header is not None:
                on_header(names)
            width = len(names)
            for row in reader:
                if not row:                     # a blank line is not a row
                    continue
                n += 1
                if len(row) != width:
                    raise BatchError(f'{path}：第 {n} 行有 {len(row)} 列，表头有 {width} 列')
                # an empty cell means "not given": the input's default applies
                yield n, {k: v for k, v in zip(names, row) if v != ''}
        except csv.Error as exc:
            raise BatchError(f'{path}：第 {n + 1} 行：CSV 格式错误（{exc}）') from None


EMPTY_CSV = '文件为空（没有表头行）；没有申请人的表格也要有表头'


def _reject_constant(name):
    raise ValueError(f'不接受 {name}')


class _DuplicateKey(Exception):
    def __init__(self, key):
        super().__init__(key)
        self.key = key


def _no_duplicate_keys(pairs):
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = set()
        for k, _v in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return out


def _read_jsonl(path: str, meter: Optional[Meter] = None):
    with _open_text(path, meter) as f:
        for n, line in enumerate(_lines(f, path), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line, parse_float=Decimal, parse_constant=_reject_constant,
                                   object_pairs_hook=_no_duplicate_keys)
            except _DuplicateKey as exc:
                raise BatchError(f'{path}：第 {n} 行：键「{exc.key}」出现了两次') from None
            except (json.JSONDecodeError, ValueError, RecursionError) as exc:
                raise BatchError(f'{path}：第 {n} 行：JSON 格式错误（{exc}）') from None
            yield n, value


def _read_parquet(path: str, meter: Optional[Meter] = None, on_header=None):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise BatchError('读写 Parquet 需要 pyarrow：pip install pyarrow') from None
    with open_regular(path) as f:
        pf = pq.ParquetFile(f)
        if on_header is not None:
            on_header(list(pf.schema_arrow.names))
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


def check_outputs(*paths: tuple[str, Optional[str]], inputs=()) -> None:
    """Before any work: every output's folder exists, no output is an input or another output."""
    from polc.dsl.files import check_distinct, check_target
    try:
        check_distinct(inputs, paths)
        for _label, p in paths:
            if p:
                check_target(p)
    except FileProblem as exc:
        raise _output_error(exc) from None


@contextlib.contextmanager
def outputs(*paths: tuple[str, Optional[str]], inputs=()):
    """The outputs of one run, written whole or not at all (:class:`polc.dsl.files.Outputs`):
    refuses, before any work, an output that is the same file as an input (``inputs``: pairs of
    label and path) or as another output (``paths``: pairs of label and path); yields the
    :class:`Outputs` to get each output's temporary file from.  Every file problem becomes a
    :class:`BatchError` naming the output."""
    from polc.dsl.files import check_distinct
    try:
        check_distinct(inputs, paths)
        with Outputs() as outs:
            yield outs
    except FileProblem as exc:
        raise _output_error(exc) from None


def _output_error(exc: FileProblem) -> BatchError:
    from polc.dsl.files import PathClash
    if isinstance(exc, PathClash):
        return BatchError(exc.message, 'E-SAME-FILE')
    return BatchError(str(exc), 'E-IO')


def _unwritable(path: str, exc: OSError) -> BatchError:
    return BatchError(f'{path}：无法写入（{exc.strerror or exc}）；没有写出任何结果，原有文件保持不变', 'E-IO')


class LineFile:
    """A text output written line by line (the rejects file); a failed write names the output."""

    def __init__(self, path: str, dest: str):
        self.path = path
        try:
            self.f = open(dest, 'w', encoding='utf-8')
        except OSError as exc:
            raise _unwritable(path, exc) from None

    def write(self, line: str) -> None:
        try:
            self.f.write(line)
        except OSError as exc:
            raise _unwritable(self.path, exc) from None

    def close(self) -> None:
        try:
            self.f.close()
        except OSError as exc:
            raise _unwritable(self.path, exc) from None


class Writer:
    """A table of text cells written to ``dest`` (a temporary file from :func:`outputs`) in the
    format ``path``'s suffix names.  Any failure to write is a :class:`BatchError` naming ``path``."""

    def __init__(self, path: str, columns: list[str], dest: Optional[str] = None, types: Optional[dict] = None):
        """``types`` ({column: SQL type}, the compact layout): a Parquet output's column types, as
        DuckDB writes them (BIGINT, TINYINT, DECIMAL(p, s); other columns text); other formats
        are text whatever the types."""
        self.path = path
        dest = path if dest is None else dest
        self.fmt = table_format(path)
        if self.fmt is None or path.lower().endswith('.xlsm'):      # .xlsm is read, never written
            raise BatchError(f'{path}：无法识别的输出格式（支持 {FORMAT_NAMES}）')
        self.columns = columns
        self.buffer: list[dict] = []
        if self.fmt == 'xlsx':
            from polc.compiler.tables.excel import ExcelError, ExcelWriter
            try:
                self.excel = ExcelWriter(dest, columns)
            except ExcelError as exc:
                raise BatchError(str(exc)) from None
        elif self.fmt == 'parquet':
            try:
                import pyarrow as pa
                import pyarrow.parquet as pq
            except ImportError:
                raise BatchError('读写 Parquet 需要 pyarrow：pip install pyarrow') from None
            self.pa, self.pq = pa, pq
            self.schema = pa.schema([(c, _arrow_type(pa, (types or {}).get(c))) for c in columns])
            self.convert = [_from_text(t) for t in self.schema.types]
            try:
                self.writer = pq.ParquetWriter(dest, self.schema)
            except OSError as exc:
                raise _unwritable(path, exc) from None
        else:
            try:
                self.f = open(dest, 'w', newline='', encoding='utf-8')
            except OSError as exc:
                raise _unwritable(path, exc) from None
            if self.fmt == 'csv':
                self.csv = csv.writer(self.f, lineterminator='\n')   # as DuckDB writes it
                self.write_cells(columns)

    def write(self, row: dict) -> None:
        self.write_cells([cell_text(row.get(c)) for c in self.columns])

    def write_cells(self, cells: list) -> None:
        """One row of text cells, in column order."""
        try:
            if self.fmt == 'xlsx':
                self.excel.write_cells(cells)
            elif self.fmt == 'csv':
                self.csv.writerow(cells)
            elif self.fmt == 'jsonl':
                self.f.write(json.dumps(dict(zip(self.columns, cells)), ensure_ascii=False,
                                        separators=(',', ':')) + '\n')
            else:
                self.buffer.append({c: f(v) for c, f, v in zip(self.columns, self.convert, cells)})
                if len(self.buffer) >= 65536:
                    self._flush()
        except OSError as exc:
            raise _unwritable(self.path, exc) from None

    def _flush(self):
        if self.buffer:
            try:
                table = self.pa.Table.from_pylist(self.buffer, schema=self.schema)
            except (self.pa.ArrowInvalid, OverflowError) as exc:     # a value beyond its column's type
                raise BatchError(f'{self.path}：结果超出列的类型（{exc}）；请不用 --compact 重新计算') from None
            self.writer.write_table(table)
            self.buffer = []

    def abort(self) -> None:
        """Give up: an Excel output is not written at all (the others are closed as they are)."""
        if self.fmt == 'xlsx':
            self.excel.abort()
        else:
            self.close()

    def close(self) -> None:
        try:
            if self.fmt == 'xlsx':
                from polc.compiler.tables.excel import ExcelError
                try:
                    self.excel.close()
                except ExcelError as exc:
                    raise BatchError(str(exc)) from None
            elif self.fmt == 'parquet':
                try:
                    self._flush()
                finally:
                    self.writer.close()
            else:
                self.f.close()
        except OSError as exc:
            raise _unwritable(self.path, exc) from None


# the compact layout (`polc eval --compact`): each outcome written as its code (the runtime's numbers)
OUTCOME_CODES = {o: str(c) for o, c in R.OUTCOME_CODES.items()}


def compact_columns(names: list[str], amounts: dict, id_column: Optional[str]) -> dict:
    """{column: SQL type} of the compact layout's results: 行号 BIGINT, each 项.结果 TINYINT, each
    项.金额 and the totals as ``amounts`` gives ({item or 合计: type}); the id column text."""
    types = {'行号': 'BIGINT'}
    for n in names:
        types[f'{n}.结果'] = 'TINYINT'
        types[f'{n}.金额'] = amounts[n]
    for t in (TOTAL, BEFORE_CUTS, PAID):
        types[t] = amounts[TOTAL]
    if id_column:
        types.pop(id_column, None)
    return types


def _arrow_type(pa, sql: Optional[str]):
    """The Arrow type of a result column of SQL type ``sql`` (None: text)."""
    if sql is None:
        return pa.string()
    if sql.startswith('DECIMAL('):
        p, s = (int(x) for x in sql[8:-1].split(','))
        return pa.decimal128(p, s)
    return {'BIGINT': pa.int64(), 'TINYINT': pa.int8()}[sql]


def _from_text(t):
    """The converter of a text cell to a value of Arrow type ``t`` ('' is null)."""
    if str(t) == 'string':
        return lambda v: v
    make = Decimal if str(t).startswith('decimal') else int
    return lambda v: None if v == '' else make(v)


def check_id_column(id_column: Optional[str], output_columns, inputs=()) -> None:
    """``--id-column`` must not be empty, nor name a column polc writes (行号, 合计, an item's
    结果 or 金额) or one of the policy's inputs (it would be taken away from the facts)."""
    if id_column is None:
        return
    if not id_column.strip():
        raise BatchError('--id-column：编号列的列名不能为空', 'E-USAGE')
    if id_column in output_columns or id_column in (TOTAL, BEFORE_CUTS, PAID):     # either layout
        raise BatchError(f'--id-column「{id_column}」与 polc 写出的结果列同名（结果列：行号、合计（有名额或资金池时为'
                         f'{BEFORE_CUTS}与{PAID}）、各项的「项名.结果」与「项名.金额」），结果表会有两列同名；'
                         f'请把表中的编号列改名', 'E-USAGE')
    if id_column in inputs:
        raise BatchError(f'--id-column「{id_column}」是政策的输入，不能同时作为编号列'
                         f'（它会被当作编号而不作为事实参与计算）；请指定另一列', 'E-USAGE')


@attrs.define
class BatchSummary:
    rows: int = 0
    written: int = 0
    rejected: int = 0
    totals: dict = attrs.field(factory=dict)      # item -> paid sum (before quotas and pools)
    total: Decimal = Decimal(0)
    allocations: dict = attrs.field(factory=dict)  # item -> Shared, for items with a quota or pool
    cuts: dict = attrs.field(factory=dict)         # item -> amount (outcome 金额) taken off by its quota or pool
    grants: dict = attrs.field(factory=dict)       # item -> [Grant] (tables with records: one claim per record)
    note: str = ''                                 # said after the run (e.g. the engine used instead)
    # tables with records: applicants with an amount or ceiling > 0, and per kind the records with one
    firms: Optional[int] = None
    record_recipients: dict = attrs.field(factory=dict)

    @property
    def paid(self) -> Decimal:
        """The grand total after quotas and pools: what the budget pays (``total`` is before them)."""
        return self.total - sum(self.cuts.values(), Decimal(0))


def write_allocations(path: str, allocations: dict, id_column: Optional[str], idents: dict,
                      dest: Optional[str] = None) -> None:
    """One row per claim of each item with a quota or pool: claimed, granted and why (written to
    ``dest``, a temporary file from :func:`outputs`, in ``path``'s format)."""
    cols = ALLOCATION_COLUMNS[:2] + ([id_column] if id_column else []) + ALLOCATION_COLUMNS[2:]
    w = Writer(path, cols, dest)
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


ALLOCATION_COLUMNS = ['项', '行号', '计算金额', '分配金额', '说明']

# the results' per-applicant total: one column 合计 for a policy without quotas and pools; with them,
# the total before the cuts (each applicant computed alone) and what is paid after them
TOTAL, BEFORE_CUTS, PAID = '合计', '应得合计（削减前）', '实发合计'


def missing_columns(inputs: dict, present, id_column: Optional[str], names) -> list[str]:
    """The problems of a table header that lacks columns (both engines' words): a required input (no
    默认) none of whose spellings is ``present``, and an ``id_column`` not among ``names``."""
    problems = [f'「{name}」：缺少必填输入（表中没有这一列）'
                for name, (_kind, _values, default, _desc) in inputs.items() if default is None and name not in present]
    if id_column and id_column not in names:
        problems.append(f'表中没有编号列「{id_column}」')
    return problems


def total_columns(limited: bool) -> list[str]:
    """The results' last columns: [合计], or [应得合计（削减前）, 实发合计] when some item has a quota
    or a pool (a planner who sums the results gets what is paid from 实发合计)."""
    return [BEFORE_CUTS, PAID] if limited else [TOTAL]


def total_column(columns) -> str:
    """The before-cut total among a results table's ``columns`` (either layout)."""
    return BEFORE_CUTS if BEFORE_CUTS in columns else TOTAL


def record_list_problem(kind: str) -> str:
    """The refusal for a column holding a list of records (项目、产品 …): tables have one applicant per
    row with flat facts (one record each); tables of records joined to applicants are not supported."""
    return (f'「{kind}」：这一列是逐个列出的{kind}；申请人表每行是一个申请人的平铺事实（一行只描述一个{kind}，'
            f'{kind}的输入直接作为列），在一格里写{kind}列表的形式尚不支持；一个申请人多个{kind}时，'
            f'请把{kind}写成{kind}表（每行一个{kind}，带申请人编号列），用 --records {kind}=表格文件 '
            f'--id-column 编号列 与申请人表关联')
