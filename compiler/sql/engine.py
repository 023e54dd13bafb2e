"""Batch evaluation on DuckDB (``polc eval … --engine duckdb``): the table is read, checked and
typed by DuckDB, the policy runs as one SQL query (compiler/sql.py), and the results are written
by DuckDB — exact DECIMAL arithmetic throughout, the same numbers as the per-row path.

Reading is DuckDB-specific; the policy query itself is portable SQL (docs/commands/eval.md).
The facts are read and checked by :mod:`polc.compiler.sql.loader` inside the policy query, in one
pass; a row that breaks a rule is reported with its row number (or, with ``skip_bad``, written to
the rejects file).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
from decimal import Decimal
from typing import Optional

from polc.compiler.python import runtime as R
from polc.compiler.tables.allocation import Shared, allocate, allocation_sql, paid_total, shared_sql
from polc.compiler.tables.io import (ALLOCATION_COLUMNS, FORMAT_NAMES, BatchError, BatchSummary, Writer,
                                     check_id_column, check_outputs, outputs, table_format, total_columns)
from polc.compiler.sql.basics import CODES, MONEY
from polc.compiler.sql.generate import (SqlUnsupported, compact_types, item_names, output_columns, policy_sql,
                                        quote, string)
from polc.compiler.sql.loader import _checked_view, _long, _open_input, _reject_bad, load_typed

__all__ = ['run_duckdb', 'load_typed', 'duckdb_errors']


# DuckDB's memory for one run: beyond it, tables kept for quotas and pools, sorts and joins spill
# to a private temporary directory (removed after the run), so memory stays bounded whatever the
# table's size: a quarter of the machine's memory, at least 1 GiB (DuckDB's own default is 80%);
# POLC_DUCKDB_MEMORY (e.g. "4GB") changes it


def _memory_limit() -> str:
    import os
    given = os.environ.get('POLC_DUCKDB_MEMORY')
    if given:
        return given
    try:
        total = os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE')
    except (ValueError, OSError, AttributeError):
        total = 0
    return f'{max(total // 4 // 2 ** 20, 1024)}MiB'


@contextlib.contextmanager
def _connect():
    """(connection, duckdb module) for one run, closed and its spill directory removed after."""
    try:
        import duckdb
    except ImportError:
        raise BatchError("--engine duckdb 需要 duckdb：pip install 'polc[batch]'") from None
    import os
    import shutil
    import tempfile
    spill = tempfile.mkdtemp(prefix='polc-duckdb-')
    limit = _memory_limit()
    try:
        try:
            con = duckdb.connect(config={'memory_limit': limit, 'temp_directory': spill})
        except duckdb.Error as exc:
            raise BatchError(f'POLC_DUCKDB_MEMORY：无法用作 DuckDB 的内存上限（{_first_line(exc)}）；'
                             f'应为如 "4GB" 的大小', 'E-USAGE') from None
        try:
            con.execute('SET preserve_insertion_order = true')
            # progress is tracked (read by query_progress() when a meter is shown) but never printed
            con.execute('SET enable_progress_bar = true')
            con.execute('SET enable_progress_bar_print = false')
            yield con, duckdb
        finally:
            con.close()
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def _copy(con, duckdb, query: str, path: str, dest: str, fmt: str) -> None:
    """Write the query's rows to ``dest`` (the temporary file of output ``path``); a failure to
    write (a full disk …) is reported against the output, not the input."""
    option = {'csv': "FORMAT CSV, HEADER", 'jsonl': 'FORMAT JSON', 'parquet': 'FORMAT PARQUET'}[fmt]
    try:
        con.execute(f'COPY ({query}) TO {string(dest)} ({option})')
    except duckdb.IOException as exc:
        raise BatchError(f'{path}：无法写入（{_first_line(exc)}）；没有写出任何结果，原有文件保持不变',
                         'E-IO') from None


def _read_back(path: str, fmt: str, cols: list, items: list, compact=None) -> str:
    """A query over the results file just written, with the result's types (amounts DECIMAL(38, 2);
    the outcomes' codes TINYINT in the ``compact`` layout)."""
    if fmt == 'parquet':
        return f'SELECT * FROM read_parquet({string(path)})'
    money = {n + '.金额' for n in items} | {'合计'}
    codes = {n + '.结果' for n in items} if compact else set()
    types = ', '.join(f'{string(c)}: \'VARCHAR\'' for c in cols)

    def typed(c):
        t = MONEY if c in money else 'BIGINT' if c == '行号' else 'TINYINT' if c in codes else None
        return f'CAST({quote(c)} AS {t}) AS {quote(c)}' if t else quote(c)
    select = ', '.join(typed(c) for c in cols)
    return (f"SELECT {select} FROM read_csv({string(path)}, header = true, delim = ',', quote = '\"', "
            f"escape = '\"', columns = {{{types}}})")


def run_duckdb(compiled, in_path: str, out_path: str, date, id_column: Optional[str] = None,
               skip_bad: bool = False, rejects_path: Optional[str] = None,
               allocation_path: Optional[str] = None, sheet: Optional[str] = None,
               progress=None, compact: bool = False) -> BatchSummary:
    """The same job as :func:`polc.compiler.tables.rowwise.run_batch`, as SQL on DuckDB.
    ``progress``, when given, is called as ``progress(fraction)`` while the long queries run
    (DuckDB's own query progress).  ``compact``: outcomes as their codes and amounts in the
    narrowest exact type their bounds allow (`polc eval --compact`)."""
    day = R.parse_date(date) if date is not None else _dt.date.today()
    if day is None:
        raise BatchError(f'--date：无法读作日期：「{date}」（应为 "2025-03-01"）', 'E-USAGE')
    places = (('--out', out_path), ('--rejects', rejects_path), ('--allocation', allocation_path))
    inputs = [('--facts', in_path), ('政策文件', compiled.analysis.file)]
    check_outputs(*places, inputs=inputs)
    fmt, out_fmt = table_format(in_path), table_format(out_path)
    if fmt is None:
        raise BatchError(f'{in_path}：无法识别的表格格式（支持 {FORMAT_NAMES}）')
    if out_fmt is None or out_path.lower().endswith('.xlsm'):     # .xlsm is read, never written
        raise BatchError(f'{out_path}：无法识别的输出格式（支持 {FORMAT_NAMES}）')
    if sheet is not None and fmt != 'xlsx':
        raise BatchError(f'{in_path}：--sheet 只用于 Excel 表格（.xlsx）')
    checked = compiled.analysis.checked
    try:
        # DuckDB keeps the table's order (preserve_insertion_order), so no sort is needed
        query = policy_sql(checked, day, 'facts', id_column, ordered=False, compact=compact)
        types = compact_types(checked, day) if compact else None
    except SqlUnsupported as exc:
        raise BatchError(f'{compiled.analysis.file}：{exc}') from None
    check_id_column(id_column, result_columns(compiled, checked, None)
                    + (ALLOCATION_COLUMNS if allocation_path else []), compiled.inputs)
    with _connect() as (con, duckdb), duckdb_errors(duckdb, in_path, out_path), \
            outputs(*places, inputs=inputs) as outs:
        dests = {p: outs.temp(p) for p in (out_path, rejects_path, allocation_path) if p}
        return _run(con, compiled, checked, query, in_path, fmt, out_path, out_fmt, id_column,
                    skip_bad, rejects_path, allocation_path, dests, duckdb, sheet, progress, types)


@contextlib.contextmanager
def duckdb_errors(duckdb, in_path: str, out_path: str):
    """DuckDB's and the file system's errors as BatchError messages naming the file."""
    try:
        yield
    except duckdb.IOException as exc:
        raise BatchError(f'{in_path}：无法读取（{_first_line(exc)}）') from None
    except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
        raise BatchError(f'{in_path}：表格格式错误（{_first_line(exc)}）') from None
    except duckdb.OutOfMemoryException as exc:
        raise BatchError(f'{in_path}：SQL 引擎内存不足（{_first_line(exc)}；上限 '
                         f'{_memory_limit()}）；可用环境变量 POLC_DUCKDB_MEMORY '
                         f'调高（如 4GB），或用 --engine python（逐行，内存不随行数增长）', 'E-IO') from None
    except duckdb.OutOfRangeException as exc:
        raise BatchError(f'{in_path}：数值超出 SQL 引擎 DECIMAL(38) 的范围（{_first_line(exc)}）；'
                         f'请用 --engine python') from None
    except duckdb.Error as exc:
        raise BatchError(f'{in_path}：SQL 引擎无法完成计算（{_first_line(exc)}）；请用 --engine python，'
                         f'并把命令与表格报告给 polc 维护者') from None
    except OSError as exc:
        raise BatchError(f'{exc.filename or out_path}：无法写入（{exc.strerror}）', 'E-IO') from None


def _first_line(exc) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _run(con, compiled, checked, query, in_path, fmt, out_path, out_fmt, id_column, skip_bad,
         rejects_path, allocation_path, dests, duckdb, sheet=None, progress=None, types=None) -> BatchSummary:
    summary = BatchSummary(totals={n: Decimal(0) for n in item_names(checked)})
    kinds = _open_input(con, compiled, in_path, fmt, id_column, sheet)
    _checked_view(con, compiled, id_column, kinds)
    # one pass: the facts are read and checked inside the policy query, the rows with a refused
    # cell left out; they are looked for (a second pass) only when fewer rows come out than went in
    con.execute('CREATE TEMP VIEW facts AS SELECT * EXCLUDE ("__polc_bad") FROM checked_input '
                'WHERE NOT "__polc_bad"')
    cols = output_columns(checked, id_column)
    paid = _paid_query(compiled, _amount(types))
    dest = dests[out_path]
    if paid is not None:            # quotas or pools: 应得合计（削减前） and 实发合计 instead of 合计
        _write_paid(con, duckdb, query, paid, cols, result_columns(compiled, checked, id_column), out_path,
                    out_fmt, dest, progress, types['合计'] if types else MONEY)
        count = con.execute('SELECT count(*) FROM results').fetchone()[0]
    elif out_fmt in ('parquet', 'csv'):
        # written straight from the query (DuckDB keeps the table's order), and the totals and
        # claims read back from the file (cheaper than holding the results); CSV gets the per-row
        # path's text byte for byte (an empty cell is a NULL: DuckDB would quote an empty string)
        if out_fmt == 'parquet':     # Parquet keeps the types (DECIMAL(38, 2) amounts)
            written, option = query, 'FORMAT PARQUET'
        else:
            select = ', '.join(f'CAST({quote(c)} AS VARCHAR) AS {quote(c)}' for c in cols)
            written, option = f'SELECT {select} FROM ({query})', 'FORMAT CSV, HEADER'
        try:
            count = _long(con, f'COPY ({written}) TO {string(dest)} ({option})', progress)[0][0]
        except duckdb.IOException as exc:
            raise BatchError(f'{out_path}：无法写入（{_first_line(exc)}）；没有写出任何结果，原有文件保持不变',
                             'E-IO') from None
        con.execute(f'CREATE TEMP VIEW results AS {_read_back(dest, out_fmt, cols, item_names(checked), types)}')
    else:
        _long(con, f'CREATE TEMP TABLE results AS {query}', progress)
        count = con.execute('SELECT count(*) FROM results').fetchone()[0]
        blank = "''" if out_fmt == 'jsonl' else 'NULL'
        select = ', '.join(f"COALESCE(CAST({quote(c)} AS VARCHAR), {blank}) AS {quote(c)}" for c in cols)
        ordered = f'SELECT {select} FROM results ORDER BY results."行号"'
        if out_fmt == 'xlsx':               # the text cells, through the shared Excel writer
            _write_excel(con, ordered, out_path, cols, dest)
        else:
            _copy(con, duckdb, ordered, out_path, dest, out_fmt)
    if count < con.execute('SELECT count(*) FROM raw_input').fetchone()[0]:
        _reject_bad(con, compiled, in_path, kinds, skip_bad, rejects_path, dests.get(rejects_path), summary)
    return _summary(con, compiled, checked, summary, id_column, allocation_path, dests, _amount(types))


def _amount(types) -> str:
    """The SQL of the outcome 'amount' in the results: its name, or its code in the compact layout."""
    return str(CODES[R.AMOUNT]) if types else f"'{R.AMOUNT}'"


def _summary(con, compiled, checked, summary, id_column, allocation_path, dests, amount: str) -> BatchSummary:
    """The totals and allocations of the temporary table or view ``results`` (the policy query's
    columns, 合计 before cuts), and the allocation file when asked for; ``amount``: :func:`_amount`."""
    names = item_names(checked)
    sums = ', '.join(f"COALESCE(SUM(CASE WHEN {quote(n + '.结果')} = {amount} THEN {quote(n + '.金额')} END), 0)"
                     for n in names)
    row = con.execute(f'SELECT count(*), COALESCE(SUM("合计"), 0){", " + sums if sums else ""} FROM results').fetchone()
    summary.written, summary.total = row[0], Decimal(row[1])
    summary.rows = summary.written + summary.rejected
    summary.totals = {n: Decimal(v) for n, v in zip(names, row[2:])}
    limited = {info['name']: info for info, _f in compiled.namespace['ITEMS']
               if info.get('quota') is not None or info.get('pool') is not None}
    grants, idents = {}, {}
    for name, info in limited.items():
        value = quote(name + '.金额')
        claims = (f'SELECT "行号", {value} AS claimed, {quote(name + ".结果")} = {amount} AS is_amount '
                  f'FROM results WHERE {value} > 0')
        pool = Decimal(info['pool']) if info.get('pool') else None
        row = con.execute(shared_sql(claims, info.get('quota'), pool, info.get('allocation', ''),
                                     flagged=True)).fetchone()
        summary.allocations[name] = Shared(row[0], row[1], Decimal(row[2]), Decimal(row[3]), row[4])
        summary.cuts[name] = Decimal(row[5])
        if allocation_path:             # who, how much and why: one row per claim, in Python
            ident = f', {quote(id_column)}' if id_column else ''
            rows = con.execute(f'SELECT "行号", {value}{ident} FROM results WHERE {value} > 0 '
                               f'ORDER BY "行号"').fetchall()
            if id_column:
                idents.update({r[0]: r[2] for r in rows})
            grants[name] = allocate([(r[0], Decimal(r[1])) for r in rows], info.get('quota'), pool,
                                    info.get('allocation', ''))
    if allocation_path:
        from polc.compiler.tables.io import write_allocations
        write_allocations(allocation_path, grants, id_column, idents, dests[allocation_path])
    return summary


def result_columns(compiled, checked, id_column) -> list[str]:
    """The results' columns: the policy query's, with 合计 replaced by 应得合计（削减前） and 实发合计
    when an item has a quota or pool (:func:`polc.compiler.tables.io.total_columns`)."""
    return output_columns(checked, id_column)[:-1] + total_columns(bool(_limited(compiled)))


def _limited(compiled) -> list[tuple]:
    return [(info['name'], info.get('quota'), Decimal(info['pool']) if info.get('pool') else None,
             info.get('allocation', '')) for info, _f in compiled.namespace['ITEMS']
            if info.get('quota') is not None or info.get('pool') is not None]


def _paid_query(compiled, amount: str) -> Optional[str]:
    """The rows of the results table whose 实发合计 differs from 合计, as (行号, 实发合计): 合计 less
    what each quota and pool took off the row's amounts (claims that are a ceiling are not in 合计),
    by the portable allocation SQL (the same grants as :func:`allocate`; its windows run over the
    claims only); ``amount``: :func:`_amount`.  None without quotas and pools."""
    limited = _limited(compiled)
    if not limited:
        return None
    claims = ['行号', '合计'] + [n + suffix for n, *_r in limited for suffix in ('.结果', '.金额')]
    try:
        shared = allocation_sql(f'SELECT {", ".join(quote(c) for c in claims)} FROM results', claims, limited, quote)
    except ValueError as exc:
        raise BatchError(f'{compiled.analysis.file}：{exc}；请用 --engine python') from None
    return (f'SELECT "行号", paid FROM (SELECT "行号", "合计", {paid_total(limited, quote, amount)} AS paid '
            f'FROM ({shared}) shared) cut WHERE paid <> "合计"')


def _write_paid(con, duckdb, query, paid, cols, out_cols, out_path, out_fmt, dest, progress, total=MONEY) -> None:
    """Write the results with 应得合计（削减前） and 实发合计 (``paid``: :func:`_paid_query`) to ``dest``.
    The results are kept as a table (the allocation needs every claim before any row is written);
    the rows a quota or pool cut are updated in place, so the table keeps the input's order and
    is written without a sort."""
    _long(con, f'CREATE TEMP TABLE results AS {query}', progress)
    con.execute(f'ALTER TABLE results ADD COLUMN "__polc_paid" {total}')
    con.execute(f'CREATE TEMP TABLE cuts AS {paid}')
    con.execute('UPDATE results SET "__polc_paid" = cuts.paid FROM cuts WHERE results."行号" = cuts."行号"')
    names = [quote(c) for c in cols] + ['COALESCE("__polc_paid", "合计")']     # 实发合计 ≤ 合计: its type fits
    if out_fmt == 'parquet':
        select = ', '.join(f'{c} AS {quote(o)}' for c, o in zip(names, out_cols))
        _copy(con, duckdb, f'SELECT {select} FROM results', out_path, dest, 'parquet')
        return
    blank = "''" if out_fmt == 'jsonl' else 'NULL'
    select = ', '.join(f'COALESCE(CAST({c} AS VARCHAR), {blank}) AS {quote(o)}' for c, o in zip(names, out_cols))
    ordered = f'SELECT {select} FROM results'
    if out_fmt == 'xlsx':
        _write_excel(con, ordered, out_path, out_cols, dest)
    else:
        _copy(con, duckdb, ordered, out_path, dest, out_fmt)


def _write_excel(con, ordered: str, out_path: str, cols, dest: str) -> None:
    """The query's text cells through the shared Excel writer."""
    writer = Writer(out_path, cols, dest)
    try:
        cur = con.execute(ordered)
        while True:
            batch = cur.fetchmany(65536)
            if not batch:
                break
            for r in batch:
                writer.write_cells(['' if v is None else v for v in r])
    except BaseException:
        writer.abort()
        raise
    writer.close()
