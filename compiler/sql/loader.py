"""Reading and checking a facts table on DuckDB (the DuckDB engine, compiler/sql/engine.py, and
``polc prepare``, compiler/sql/prepare.py): the table as the view ``raw_input``, its cells typed and
checked by the per-row path's rules as the view ``checked_input``.

An empty cell takes the input's default; money, percentages and whole numbers follow the one
grammar of :mod:`polc.dsl.money` — read by the fast reader (:mod:`polc.compiler.sql.textnumbers`),
with the messages of the full grammar as SQL (:mod:`polc.compiler.sql.grammar`) made only for the
rows found bad.  A table column of floating-point type is rejected as a whole.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Optional

from polc.compiler.python import runtime as R
from polc.compiler.tables.io import (EMPTY_CSV, BatchError, BatchSummary, LineFile, read_rows,
                                     missing_columns, record_list_problem)
from polc.dsl import money as M
from polc.compiler.sql.grammar import fold_sql, integer_sql, message_sql, money_sql, percent_sql, stages
from polc.compiler.sql.textnumbers import FAST_KINDS, TextColumn
from polc.compiler.sql.generate import quote, string

_FLOAT_TYPES = ('FLOAT', 'DOUBLE', 'REAL')


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
    problems += missing_columns(inputs, columns, id_column, columns)
    if problems:
        raise BatchError(f'{path}：' + '；'.join(problems))


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


def _open_input(con, compiled, in_path: str, fmt: str, id_column: Optional[str], sheet: Optional[str]):
    """The input as the view ``raw_input`` (行号 and the table's columns, headers as declared),
    its columns checked against the policy; returns {column: DuckDB type}."""
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
    return dict(zip(columns, (t.upper() for t in types)))


def _checked_view(con, compiled, id_column: Optional[str], kinds: dict) -> None:
    """The view ``checked_input``: 行号, the id column, one typed column per input (NULL where
    not given) and ``__polc_bad``, true on a row with a cell the rules refuse.  Text numbers are
    read by the fast reader (compiler/sql/textnumbers.py) in two inner projections; the messages
    are made only for the bad rows (:func:`_problems`)."""
    inputs = compiled.inputs
    texts = {}
    for i, (name, (kind, *_rest)) in enumerate(inputs.items()):
        if name in kinds and kind in FAST_KINDS and not _numeric(kinds[name]):
            texts[name] = TextColumn(kind, quote(name), quote(f'__polc_{i}_t'), quote(f'__polc_{i}_v'))
    source = 'raw_input'
    if texts:
        folded = ', '.join(f'{c.folded()} AS {c.t}' for c in texts.values())
        values = ', '.join(f'{c.value()} AS {c.v}' for c in texts.values())
        con.execute(f'CREATE TEMP VIEW read_0 AS SELECT *, {folded} FROM raw_input')
        con.execute(f'CREATE TEMP VIEW read_1 AS SELECT *, {values} FROM read_0')
        source = 'read_1'
    typed, bad = ['"行号"'], []
    if id_column:
        typed.append(f'CAST({quote(id_column)} AS VARCHAR) AS {quote(id_column)}')
    for name, (kind, values, _default, _desc) in inputs.items():
        if name in texts:
            typed.append(f'{texts[name].typed()} AS {quote(name)}')
            bad.append(texts[name].bad())
        elif name in kinds:
            v, problem = _typed(name, kind, values, kinds[name],
                                (compiled.meta.get('value_aliases') or {}).get(name))
            typed.append(f'{v} AS {quote(name)}')
            if problem != 'NULL':
                bad.append(f'({problem}) IS NOT NULL')
        else:
            typed.append(f'NULL AS {quote(name)}')
    con.execute(f'CREATE TEMP VIEW checked_input AS SELECT {", ".join(typed)}, '
                f'({" OR ".join(bad) or "FALSE"}) AS "__polc_bad" FROM {source}')


def _problems(con, compiled, kinds: dict, table: str) -> list:
    """[(行号, message)] of the rows of ``table`` (bad rows of raw_input), by the full grammar
    (compiler/sql/grammar.py) — the per-row path's messages, joined by '；'."""
    problems = []
    folds, parses, parsed = [], [], {}
    for i, (name, (kind, _values, _default, _desc)) in enumerate(compiled.inputs.items()):
        if name in kinds and kind in FAST_KINDS and not _numeric(kinds[name]):
            first, second, parsed[name] = stages(kind, quote(name), f'__polc_{i}_')
            folds += first
            parses += second
    source = table
    for n, stage in enumerate((folds, parses)):
        if stage:
            cols = ', '.join(f'{e} AS {a}' for a, e in stage)
            con.execute(f'CREATE TEMP VIEW {table}_{n} AS SELECT *, {cols} FROM {source}')
            source = f'{table}_{n}'
    for name, (kind, values, _default, _desc) in compiled.inputs.items():
        if name in kinds:
            _v, problem = _typed(name, kind, values, kinds[name],
                                 (compiled.meta.get('value_aliases') or {}).get(name), parsed.get(name))
            if problem != 'NULL':
                problems.append(problem)
    message = f"concat_ws('；', {', '.join(problems)})" if problems else "''"
    rows = con.execute(f'SELECT "行号", {message} FROM {source} ORDER BY "行号"').fetchall()
    if any(not m for _n, m in rows):        # the fast reader and the grammar disagree: never silent
        raise BatchError(f'第 {next(n for n, m in rows if not m)} 行：SQL 引擎的快速读取与金额语法不一致；'
                         f'请用 --engine python，并把表格报告给 polc 维护者')
    return rows


def _reject_bad(con, compiled, in_path: str, kinds: dict, skip_bad: bool, rejects_path: Optional[str],
                rejects_dest: Optional[str], summary: BatchSummary) -> None:
    """The rows of ``checked_input`` with a refused cell: without ``skip_bad``, the first stops the
    job (BatchError naming its row number); with it, they are counted and written to the rejects."""
    bad = 'SELECT "行号" FROM checked_input WHERE "__polc_bad"'
    if not skip_bad:
        bad = f'SELECT min("行号") FROM ({bad})'
    con.execute(f'CREATE TEMP TABLE bad_input AS SELECT * FROM raw_input WHERE "行号" IN ({bad})')
    rows = _problems(con, compiled, kinds, 'bad_input')
    if not rows:
        return
    if not skip_bad:
        raise BatchError(f'{in_path}：第 {rows[0][0]} 行：{rows[0][1]}')
    summary.rejected = len(rows)
    if rejects_path:
        columns = list(kinds)
        originals = {r[0]: r for r in con.execute('SELECT * FROM bad_input').fetchall()}
        f = LineFile(rejects_path, rejects_dest or rejects_path)
        try:
            for n, msg in rows:
                data = {c: _text(v) for c, v in zip(columns[1:], originals[n][1:]) if v is not None}
                f.write(json.dumps({'行号': n, '错误': msg, '数据': data}, ensure_ascii=False) + '\n')
        finally:
            f.close()


def load_typed(con, compiled, in_path: str, fmt: str, id_column: Optional[str], skip_bad: bool,
               rejects_path: Optional[str], summary: BatchSummary, rejects_dest: Optional[str] = None,
               sheet: Optional[str] = None, progress=None) -> None:
    """Read the table at ``in_path``, check every cell by the per-row path's rules and create the
    view ``facts``: 行号, the id column, one typed column per input (NULL where not given).  A bad
    row stops the job naming its row number, or with ``skip_bad`` is left out (and written to
    ``rejects_path``); ``summary.rejected`` counts them.  Used by ``polc prepare``
    (compiler/sql/prepare.py); ``--engine duckdb`` checks in the same pass as the policy query
    (:func:`_run`).  The rejects go to ``rejects_dest``, the temporary file of ``rejects_path``.
    ``sheet`` chooses the sheet of an Excel input; ``progress`` is told how far the check of the
    facts has gone (DuckDB's own query progress)."""
    kinds = _open_input(con, compiled, in_path, fmt, id_column, sheet)
    _checked_view(con, compiled, id_column, kinds)
    if _long(con, 'SELECT "行号" FROM checked_input WHERE "__polc_bad" LIMIT 1', progress):
        _reject_bad(con, compiled, in_path, kinds, skip_bad, rejects_path, rejects_dest, summary)
    con.execute('CREATE TEMP VIEW facts AS SELECT * EXCLUDE ("__polc_bad") FROM checked_input '
                'WHERE NOT "__polc_bad"')
