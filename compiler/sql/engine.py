"""Batch evaluation on DuckDB (``polc eval … --engine duckdb``): the table is read, checked and
typed by DuckDB, the policy runs as one SQL query (compiler/sql.py), and the results are written
by DuckDB — exact DECIMAL arithmetic throughout, the same numbers as the per-row path.

Reading is DuckDB-specific; the policy query itself is portable SQL (docs/commands/eval.md).
Facts are checked in SQL with the per-row path's rules: an empty cell takes the input's default;
money, percentages and whole numbers follow the one grammar of :mod:`polc.dsl.money`, as SQL built
from the same definition (:mod:`polc.compiler.sql.grammar`); a row that breaks a rule is reported
with its row number (or, with ``skip_bad``, written to the rejects file).  A table column of
floating-point type is rejected as a whole.
"""
from __future__ import annotations

import contextlib
import json
import datetime as _dt
from decimal import Decimal
from typing import Optional

from polc.compiler.python import runtime as R
from polc.compiler.tables.allocation import Shared, allocate, allocation_sql, shared_sql
from polc.compiler.tables.io import (ALLOCATION_COLUMNS, EMPTY_CSV, FORMAT_NAMES, BatchError, BatchSummary,
                                     LineFile, Writer, check_id_column, check_outputs, outputs, read_rows,
                                     record_list_problem, table_format, total_columns)
from polc.dsl import money as M
from polc.compiler.sql.grammar import fold_sql, integer_sql, message_sql, money_sql, percent_sql, stages
from polc.compiler.sql.generate import SqlUnsupported, item_names, output_columns, policy_sql, quote, string

_FLOAT_TYPES = ('FLOAT', 'DOUBLE', 'REAL')


def _connect():
    try:
        import duckdb
    except ImportError:
        raise BatchError("--engine duckdb 需要 duckdb：pip install 'polc[batch]'") from None
    con = duckdb.connect()
    con.execute('SET preserve_insertion_order = true')
    # progress is tracked (read by query_progress() when a meter is shown) but never printed
    con.execute('SET enable_progress_bar = true')
    con.execute('SET enable_progress_bar_print = false')
    return con, duckdb


def _source(con, path: str, fmt: str, sheet: Optional[str] = None):
    """A relation over the input with a 行号 column (data rows counted from 1; Excel's own row
    numbers for a sheet) first."""
    if fmt == 'parquet':
        return con.sql(f'SELECT file_row_number + 1 AS "行号", * EXCLUDE (file_row_number) '
                       f'FROM read_parquet({string(path)}, file_row_number = true)')
    if fmt == 'csv':
        # as the per-row reader: an empty cell (quoted or not) is "not given"; a blank line is not
        # a row — DuckDB skips it in a table of several columns but reads it as a NULL cell in a
        # table of one column, where (with quoted empty cells kept as '') it is dropped here
        read = (f"read_csv({string(path)}, header = true, all_varchar = true, delim = ',', quote = '\"', "
                f"escape = '\"', allow_quoted_nulls = false)")
        names = con.sql(f'SELECT * FROM {read} LIMIT 0').columns
        cells = ', '.join(f"NULLIF({quote(c)}, '') AS {quote(c)}" for c in names)
        blank = f' WHERE {quote(names[0])} IS NOT NULL' if len(names) == 1 else ''
        return con.sql(f'SELECT row_number() OVER () AS "行号", {cells} FROM {read}{blank}')
    # JSONL: read by Python with exact decimals (DuckDB's JSON reader would make numbers doubles);
    # Excel: every cell as its exact text (compiler/tables/excel.py), handed over through Arrow
    import pyarrow as pa
    rows, names = [], []
    for n, raw in read_rows(path, None, sheet):
        if not isinstance(raw, dict):
            raise BatchError(f'{path}：第 {n} 行：应为一个对象（名称到值的映射）')
        for k in raw:
            if k not in names:
                names.append(k)
        rows.append((n, raw))
    table = pa.table({'行号': [n for n, _r in rows],
                      **{k: [_text(r.get(k)) for _n, r in rows] for k in names}})
    if not names:
        table = pa.table({'行号': pa.array([n for n, _r in rows], pa.int64())})
    con.register('jsonl_input', table)
    return con.sql('SELECT * FROM jsonl_input')


def _text(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, Decimal):
        # a JSON number: its digits without exponent or trailing zeros (1E+5 -> 100000,
        # 1.50 -> 1.5), so that the text grammar reads the value the per-row engine reads
        s = f'{v:f}'
        return s.rstrip('0').rstrip('.') if '.' in s else s
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _scale(source_type: str) -> int:
    """The scale of a DECIMAL(p,s) column type (0 for integer types)."""
    if source_type.startswith('DECIMAL('):
        return int(source_type[8:-1].split(',')[1])
    return 0


_INTEGER_DIGITS = {'TINYINT': 3, 'SMALLINT': 5, 'INTEGER': 10, 'BIGINT': 19, 'HUGEINT': 39, 'UTINYINT': 3,
                   'USMALLINT': 5, 'UINTEGER': 10, 'UBIGINT': 20}


def _digits(source_type: str) -> int:
    if source_type.startswith('DECIMAL('):
        return int(source_type[8:-1].split(',')[0])
    return _INTEGER_DIGITS.get(source_type, 39)


def _numeric(source_type: str) -> bool:
    return source_type.startswith('DECIMAL(') or source_type in _INTEGER_DIGITS


def _typed(name: str, kind: str, values, source_type: str, aliases=None, parsed=None) -> tuple[str, str]:
    """(typed value, problem message or NULL) for one input column (``parsed``: where the
    loader has computed the column's folded text and parses, see polc.compiler.sql.grammar)."""
    col = quote(name)
    label = f'「{name}」：'
    given = f'{col} IS NOT NULL'
    numeric = _numeric(source_type)
    shown = f"CAST({col} AS VARCHAR)"
    if kind == 'money' and numeric and _scale(source_type) <= 2:
        # an exact column of fen or whole 元: only the sign and the range can be wrong; the column
        # keeps its own (possibly narrower, faster) type — every amount is DECIMAL(38, 2) at the end
        v = col
        checks = [] if source_type.startswith('U') else [
            f"WHEN {col} < 0 THEN {message_sql(M.negative_money_message, shown, label)}"]
        if _digits(source_type) - _scale(source_type) > 20:
            checks.append(f"WHEN {col} > {M.MONEY_MAX} THEN {string(label + M.MONEY_RANGE_MESSAGE)}")
        return v, ('CASE ' + ' '.join(checks) + ' END') if checks else 'NULL'
    if kind == 'money':
        if numeric:
            v = f'CAST({col} AS DECIMAL(38, 10))'
            problem = (f"CASE WHEN {given} AND {v} < 0 THEN {message_sql(M.negative_money_message, shown, label)} "
                       f"WHEN {given} AND {v} > {M.MONEY_MAX} THEN {string(label + M.MONEY_RANGE_MESSAGE)} "
                       f"WHEN {given} AND {v} <> ROUND({v}, 2) THEN {message_sql(M.fen_message, shown, label)} END")
            return f'CAST({v} AS DECIMAL(38, 2))', problem
        return money_sql(col, label, parsed)
    if kind == 'percent':
        if numeric:
            v = f'CAST({col} AS DECIMAL(38, 10))'
            problem = (f"CASE WHEN {given} AND abs({v}) > {M.PERCENT_MAX} THEN "
                       f"{message_sql(M.percent_range_message, shown, label)} END")
            return v, problem
        return percent_sql(col, label, parsed)
    if kind == 'int':
        if numeric:
            v = f'(CASE WHEN {col} = ROUND({col}, 0) AND abs({col}) <= 1000000000000 THEN CAST({col} AS BIGINT) END)'
            problem = (f"CASE WHEN {given} AND ({v} IS NULL OR abs({v}) > 1000000000000) "
                       f"THEN {message_sql(M.integer_range_message, shown, label)} END")
            return v, problem
        return integer_sql(col, label, parsed)
    if kind == 'bool':
        if source_type == 'BOOLEAN':
            return col, 'NULL'
        s = f'trim(CAST({col} AS VARCHAR))'
        yes = ', '.join(string(w) for w, b in R._BOOL_TEXT.items() if b)
        no = ', '.join(string(w) for w, b in R._BOOL_TEXT.items() if not b)
        v = f"(CASE WHEN {s} IN ({yes}) THEN TRUE WHEN {s} IN ({no}) THEN FALSE END)"
        problem = (f"CASE WHEN {given} AND {v} IS NULL THEN "
                   f"{string(label + '应为是否（true/false 或 “是”/“否”），得到 ')} || {shown} END")
        return v, problem
    if kind == 'date':
        if source_type == 'DATE':
            return col, 'NULL'
        s = fold_sql(col)
        v = (f"COALESCE(TRY_CAST(TRY_STRPTIME({s}, '%Y-%m-%d') AS DATE), "
             f"TRY_CAST(TRY_STRPTIME({s}, '%Y年%m月%d日') AS DATE))")
        problem = (f"CASE WHEN {given} AND {v} IS NULL THEN "
                   f"{string(label + '应为日期（如 “2025-03-01”），得到 ')} || {shown} END")
        return v, problem
    # enumeration: a value spelt in the other script (简/繁) is read as the declared value
    listed = ', '.join(string(x) for x in values)
    v = f'CAST({col} AS VARCHAR)'
    if aliases:
        whens = ' '.join(f'WHEN {string(a)} THEN {string(d)}' for a, d in aliases.items())
        v = f'(CASE {v} {whens} ELSE {v} END)'
    problem = (f"CASE WHEN {given} AND {v} NOT IN ({listed}) THEN "
               f"{string(label + '应为以下之一：' + '、'.join(values) + '，得到 ')} || {shown} END")
    return v, problem


def _declared_headers(con, raw, path, inputs, aliases, id_column):
    """The input with each header spelt in the other script (简/繁) renamed to the declared
    input name, as the per-row engine finds it (:func:`polc.compiler.python.runtime.coerce_facts`)."""
    renamed, seen = {}, {}
    for c in raw.columns[1:]:
        if c == id_column or c in inputs:
            seen.setdefault(c, c)
            continue
        declared = R._declared(c, inputs, aliases)
        if declared is not None:
            if declared in seen:
                raise BatchError(f'{path}：「{c}」与「{seen[declared]}」是同一输入（简繁写法不同），只能有一列')
            renamed[c] = declared
            seen[declared] = c
    for c, declared in renamed.items():
        if declared in raw.columns:
            raise BatchError(f'{path}：「{c}」与「{declared}」是同一输入（简繁写法不同），只能有一列')
    if not renamed:
        return raw
    select = ', '.join(f'{quote(c)} AS {quote(renamed[c])}' if c in renamed else quote(c) for c in raw.columns)
    con.register('raw_headers', raw)
    return con.sql(f'SELECT {select} FROM raw_headers')


def _check_columns(path, columns, types, inputs, id_column, records=()):
    problems = []
    if id_column == '行号':
        problems.append('编号列不能叫「行号」（与 polc 给出的行号同名），请改名或用 --engine python')
    elif '行号' in columns[1:]:
        problems.append('「行号」：未声明的输入（政策中没有这一项；行号由 polc 给出）')
    for c, t in zip(columns[1:], types[1:]):
        if c == '行号':
            continue
        if c == id_column:
            continue
        if c in records:
            problems.append(record_list_problem(c))
        elif c not in inputs:
            problems.append(f'「{c}」：未声明的输入（政策中没有这一项）')
        elif t.upper().startswith(_FLOAT_TYPES):
            problems.append(f'「{c}」：这一列是浮点数类型（{t}），金额与比例不接受浮点数；请存为 DECIMAL 或字符串')
    for name, (_kind, _values, default, _desc) in inputs.items():
        if name not in columns and default is None:
            problems.append(f'「{name}」：缺少必填输入（表中没有这一列）')
    if id_column and id_column not in columns:
        problems.append(f'表中没有编号列「{id_column}」')
    if problems:
        raise BatchError(f'{path}：' + '；'.join(problems))


def _copy(con, duckdb, query: str, path: str, dest: str, fmt: str) -> None:
    """Write the query's rows to ``dest`` (the temporary file of output ``path``); a failure to
    write (a full disk …) is reported against the output, not the input."""
    option = {'csv': "FORMAT CSV, HEADER", 'jsonl': 'FORMAT JSON', 'parquet': 'FORMAT PARQUET'}[fmt]
    try:
        con.execute(f'COPY ({query}) TO {string(dest)} ({option})')
    except duckdb.IOException as exc:
        raise BatchError(f'{path}：无法写入（{_first_line(exc)}）；没有写出任何结果，原有文件保持不变',
                         'E-IO') from None


def _long(con, sql: str, progress=None):
    """Run one long statement and return its rows; with ``progress``, report DuckDB's own query
    progress (polled from this thread while the statement runs in another, on the same connection)."""
    if progress is None:
        return con.execute(sql).fetchall()
    import threading
    failure, result = [], []

    def work():
        try:
            result.append(con.execute(sql).fetchall())
        except BaseException as exc:        # handed back to the caller's thread
            failure.append(exc)

    t = threading.Thread(target=work, daemon=True)
    t.start()
    while t.is_alive():
        t.join(0.25)
        try:
            p = con.query_progress()
        except Exception:
            p = -1
        if p is not None and p >= 0:
            progress(min(p / 100.0, 1.0))
    if failure:
        raise failure[0]
    progress(1.0)
    return result[0]


def load_typed(con, compiled, in_path: str, fmt: str, id_column: Optional[str], skip_bad: bool,
               rejects_path: Optional[str], summary: BatchSummary, rejects_dest: Optional[str] = None,
               sheet: Optional[str] = None, progress=None) -> None:
    """Read the table at ``in_path``, check every cell by the per-row path's rules and create the
    view ``facts``: 行号, the id column, one typed column per input (NULL where not given).  A bad
    row stops the job naming its row number, or with ``skip_bad`` is left out (and written to
    ``rejects_path``); ``summary.rejected`` counts them.  Used by ``--engine duckdb`` and by
    ``polc prepare`` (compiler/sql/prepare.py).  The rejects go to ``rejects_dest``, the
    temporary file of ``rejects_path``.  ``sheet`` chooses the sheet of an Excel input; ``progress``
    is told how far the check of the facts has gone (DuckDB's own query progress)."""
    from polc.dsl.files import FileProblem, open_regular
    try:
        with open_regular(in_path) as f:     # a FIFO or a device is refused before reading
            empty = fmt == 'csv' and not f.read(1)
    except FileProblem as exc:
        raise BatchError(str(exc)) from None
    if empty:                               # as the per-row engine says it
        raise BatchError(f'{in_path}：{EMPTY_CSV}')
    raw = _source(con, in_path, fmt, sheet)
    inputs = compiled.inputs
    raw = _declared_headers(con, raw, in_path, inputs, compiled.meta.get('input_aliases'), id_column)
    columns, types = raw.columns, [str(t) for t in raw.types]
    _check_columns(in_path, columns, types, inputs, id_column, compiled.records)
    con.register('raw_input', raw)
    typed, problems = ['"行号"'], []
    if id_column:
        typed.append(f'CAST({quote(id_column)} AS VARCHAR) AS {quote(id_column)}')
    kinds = dict(zip(columns, types))
    # text numbers are folded and parsed once per row, in two inner projections, and the value
    # and problem expressions refer to the results by name (inline, DuckDB would repeat them)
    folds, parses, parsed = [], [], {}
    for i, (name, (kind, _values, _default, _desc)) in enumerate(inputs.items()):
        if name in kinds and kind in ('money', 'percent', 'int') and not _numeric(kinds[name].upper()):
            first, second, parsed[name] = stages(kind, quote(name), f'__polc_{i}_')
            folds += first
            parses += second
    source = 'raw_input'
    for n, stage in enumerate((folds, parses)):
        if stage:
            cols = ', '.join(f'{e} AS {a}' for a, e in stage)
            con.execute(f'CREATE TEMP VIEW parsed_{n} AS SELECT *, {cols} FROM {source}')
            source = f'parsed_{n}'
    for name, (kind, values, _default, _desc) in inputs.items():
        if name in kinds:
            v, problem = _typed(name, kind, values, kinds[name].upper(),
                                (compiled.meta.get('value_aliases') or {}).get(name), parsed.get(name))
            typed.append(f'{v} AS {quote(name)}')
            if problem != 'NULL':
                problems.append(problem)
        else:
            typed.append(f'NULL AS {quote(name)}')
    # typed facts as a view (computed once, inside the policy query); problems found by one
    # read-only pass, and their messages built only for the rows that have them
    con.execute(f'CREATE TEMP VIEW typed_input AS SELECT {", ".join(typed)} FROM {source}')
    message = f"concat_ws('；', {', '.join(problems)})" if problems else "''"
    any_bad = ' OR '.join(f'({p}) IS NOT NULL' for p in problems) or 'FALSE'
    bad_rows = f'SELECT "行号", {message} AS "错误" FROM {source} WHERE {any_bad} ORDER BY "行号"'
    # the facts checked in one pass (the long part on a table of text cells): its progress is shown
    found = _long(con, bad_rows + ' LIMIT 1', progress)
    first = found[0] if found else None
    facts = 'SELECT * FROM typed_input'
    if first is not None:
        if not skip_bad:
            raise BatchError(f'{in_path}：第 {first[0]} 行：{first[1]}')
        con.execute(f'CREATE TEMP TABLE bad_rows AS {bad_rows}')
        rows = con.execute('SELECT "行号", "错误" FROM bad_rows ORDER BY "行号"').fetchall()
        summary.rejected = len(rows)
        if rejects_path:
            originals = {r[0]: r for r in con.execute(
                'SELECT * FROM raw_input WHERE "行号" IN (SELECT "行号" FROM bad_rows)').fetchall()}
            f = LineFile(rejects_path, rejects_dest or rejects_path)
            try:
                for n, msg in rows:
                    data = {c: _text(v) for c, v in zip(columns[1:], originals[n][1:]) if v is not None}
                    f.write(json.dumps({'行号': n, '错误': msg, '数据': data}, ensure_ascii=False) + '\n')
            finally:
                f.close()
        facts += ' WHERE "行号" NOT IN (SELECT "行号" FROM bad_rows)'
    con.execute(f'CREATE TEMP VIEW facts AS {facts}')


def run_duckdb(compiled, in_path: str, out_path: str, date, id_column: Optional[str] = None,
               skip_bad: bool = False, rejects_path: Optional[str] = None,
               allocation_path: Optional[str] = None, sheet: Optional[str] = None,
               progress=None) -> BatchSummary:
    """The same job as :func:`polc.compiler.tables.rowwise.run_batch`, as SQL on DuckDB.
    ``progress``, when given, is called as ``progress(fraction)`` while the long queries run
    (DuckDB's own query progress)."""
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
        query = policy_sql(checked, day, 'facts', id_column, ordered=False)
    except SqlUnsupported as exc:
        raise BatchError(f'{compiled.analysis.file}：{exc}') from None
    check_id_column(id_column, result_columns(compiled, checked, None)
                    + (ALLOCATION_COLUMNS if allocation_path else []), compiled.inputs)
    con, duckdb = _connect()
    try:
        with duckdb_errors(duckdb, in_path, out_path), outputs(*places, inputs=inputs) as outs:
            dests = {p: outs.temp(p) for p in (out_path, rejects_path, allocation_path) if p}
            return _run(con, compiled, checked, query, in_path, fmt, out_path, out_fmt, id_column,
                        skip_bad, rejects_path, allocation_path, dests, duckdb, sheet, progress)
    finally:
        con.close()


@contextlib.contextmanager
def duckdb_errors(duckdb, in_path: str, out_path: str):
    """DuckDB's and the file system's errors as BatchError messages naming the file."""
    try:
        yield
    except duckdb.IOException as exc:
        raise BatchError(f'{in_path}：无法读取（{_first_line(exc)}）') from None
    except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
        raise BatchError(f'{in_path}：表格格式错误（{_first_line(exc)}）') from None
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
         rejects_path, allocation_path, dests, duckdb, sheet=None, progress=None) -> BatchSummary:
    summary = BatchSummary(totals={n: Decimal(0) for n in item_names(checked)})
    load_typed(con, compiled, in_path, fmt, id_column, skip_bad, rejects_path, summary,
               dests.get(rejects_path), sheet, (lambda f: progress(f * 0.5)) if progress else None)
    later = (lambda f: progress(0.5 + f * 0.5)) if progress else None
    cols = output_columns(checked, id_column)
    paid = _paid_query(compiled, cols)
    if paid is not None:            # quotas or pools: 应得合计（削减前） and 实发合计 instead of 合计
        _write_paid(con, duckdb, query, paid, cols, result_columns(compiled, checked, id_column), out_path,
                    out_fmt, dests[out_path], later)
    elif out_fmt == 'parquet':
        # Parquet keeps the types (DECIMAL(38, 2) amounts): written straight from the query, and
        # the totals and claims read back from the file (cheaper than holding the results)
        try:
            _long(con, f'COPY ({query}) TO {string(dests[out_path])} (FORMAT PARQUET)', later)
        except duckdb.IOException as exc:
            raise BatchError(f'{out_path}：无法写入（{_first_line(exc)}）；没有写出任何结果，原有文件保持不变',
                             'E-IO') from None
        con.execute(f'CREATE TEMP VIEW results AS SELECT * FROM read_parquet({string(dests[out_path])})')
    else:
        # CSV and JSONL get the per-row path's text, byte for byte (an empty CSV cell is a NULL:
        # DuckDB would quote an empty string)
        _long(con, f'CREATE TEMP TABLE results AS {query}', later)
        blank = "''" if out_fmt == 'jsonl' else 'NULL'
        select = ', '.join(f"COALESCE(CAST({quote(c)} AS VARCHAR), {blank}) AS {quote(c)}" for c in cols)
        ordered = f'SELECT {select} FROM results ORDER BY results."行号"'
        if out_fmt == 'xlsx':               # the text cells, through the shared Excel writer
            _write_excel(con, ordered, out_path, cols, dests[out_path])
        else:
            _copy(con, duckdb, ordered, out_path, dests[out_path], out_fmt)
    return _summary(con, compiled, checked, summary, id_column, allocation_path, dests)


def _summary(con, compiled, checked, summary, id_column, allocation_path, dests) -> BatchSummary:
    """The totals and allocations of the temporary table or view ``results`` (the policy query's
    columns, 合计 before cuts), and the allocation file when asked for."""
    names = item_names(checked)
    sums = ', '.join(f"COALESCE(SUM(CASE WHEN {quote(n + '.结果')} = '{R.AMOUNT}' THEN {quote(n + '.金额')} END), 0)"
                     for n in names)
    row = con.execute(f'SELECT count(*), COALESCE(SUM("合计"), 0){", " + sums if sums else ""} FROM results').fetchone()
    summary.written, summary.total = row[0], Decimal(row[1])
    summary.rows = summary.written + summary.rejected
    summary.totals = {n: Decimal(v) for n, v in zip(names, row[2:])}
    limited = {info['name']: info for info, _f in compiled.namespace['ITEMS']
               if info.get('quota') is not None or info.get('pool') is not None}
    grants, idents = {}, {}
    for name, info in limited.items():
        amount = quote(name + '.金额')
        claims = (f'SELECT "行号", {amount} AS claimed, {quote(name + ".结果")} = \'{R.AMOUNT}\' AS is_amount '
                  f'FROM results WHERE {amount} > 0')
        pool = Decimal(info['pool']) if info.get('pool') else None
        row = con.execute(shared_sql(claims, info.get('quota'), pool, info.get('allocation', ''),
                                     flagged=True)).fetchone()
        summary.allocations[name] = Shared(row[0], row[1], Decimal(row[2]), Decimal(row[3]), row[4])
        summary.cuts[name] = Decimal(row[5])
        if allocation_path:             # who, how much and why: one row per claim, in Python
            ident = f', {quote(id_column)}' if id_column else ''
            rows = con.execute(f'SELECT "行号", {amount}{ident} FROM results WHERE {amount} > 0 '
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


def _paid_query(compiled, cols) -> Optional[str]:
    """The results with the policy query's 合计 and, after it, 实发合计: 合计 less what each quota and
    pool took off the row's amounts (claims that are a ceiling are not in 合计), by the portable
    allocation SQL (the same grants as :func:`allocate`).  None without quotas and pools."""
    limited = _limited(compiled)
    if not limited:
        return None
    try:
        shared = allocation_sql('SELECT * FROM results', cols, limited, quote)
    except ValueError as exc:
        raise BatchError(f'{compiled.analysis.file}：{exc}；请用 --engine python') from None
    cut = ' + '.join(f"CASE WHEN {quote(n + '.结果')} = '{R.AMOUNT}' AND {quote(n + '.分配金额')} IS NOT NULL "
                     f"THEN {quote(n + '.金额')} - {quote(n + '.分配金额')} ELSE 0 END" for n, *_r in limited)
    return (f'SELECT {", ".join(quote(c) for c in cols)}, CAST("合计" - ({cut}) AS DECIMAL(38, 2)) AS "实发合计" '
            f'FROM ({shared}) shared ORDER BY "行号"')


def _write_paid(con, duckdb, query, paid, cols, out_cols, out_path, out_fmt, dest, progress) -> None:
    """Write the results with 应得合计（削减前） and 实发合计 (``paid``: :func:`_paid_query`) to ``dest``."""
    _long(con, f'CREATE TEMP TABLE results AS {query}', progress)
    names = cols + ['实发合计']
    if out_fmt == 'parquet':
        select = ', '.join(f'{quote(c)} AS {quote(o)}' for c, o in zip(names, out_cols))
        _copy(con, duckdb, f'SELECT {select} FROM ({paid}) p ORDER BY p."行号"', out_path, dest, 'parquet')
        return
    blank = "''" if out_fmt == 'jsonl' else 'NULL'
    select = ', '.join(f'COALESCE(CAST({quote(c)} AS VARCHAR), {blank}) AS {quote(o)}' for c, o in zip(names, out_cols))
    ordered = f'SELECT {select} FROM ({paid}) p ORDER BY p."行号"'
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
