"""``polc prepare``: raw facts (CSV, JSONL, Parquet) → the typed Parquet table the portable SQL
reads (``polc sql``), with 行号.

The cells are read and checked by the DuckDB engine's loader (compiler/sql/loader.py,
:func:`load_typed`) — the same rules, the same messages and row numbers as ``polc eval --engine
duckdb`` — and written with one fixed type per input kind (:data:`FACT_TYPES`), so that a
distributed engine (Spark, Trino …) runs the policy's query on exactly the values polc would use.
The file is written whole or not at all (a temporary file in the same folder, then a rename), and
is never one of the inputs.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from polc.compiler.tables.io import BatchError, BatchSummary, check_outputs, outputs, table_format
from polc.compiler.sql.engine import _connect, duckdb_errors
from polc.compiler.sql.loader import load_typed
from polc.compiler.sql.generate import quote, string

# the typed facts table's column types (docs/commands/sql.md); the values are within the loader's
# ranges (money ≤ 10^20 元 to the fen, percents ≤ 10^6 with 10 decimals, integers ≤ 10^12)
FACT_TYPES = {'money': 'DECIMAL(38, 2)', 'percent': 'DECIMAL(38, 10)', 'int': 'BIGINT', 'bool': 'BOOLEAN',
              'date': 'DATE', 'enum': 'VARCHAR'}


def prepare_facts(compiled, in_path: str, out_path: str, id_column: Optional[str] = None,
                  skip_bad: bool = False, rejects_path: Optional[str] = None) -> BatchSummary:
    """Write the typed facts table of ``in_path`` to ``out_path`` (.parquet).  Returns a summary
    (``written`` rows, ``rejected`` bad rows); a bad row without ``skip_bad`` raises BatchError
    naming its row number."""
    if table_format(out_path) != 'parquet':
        raise BatchError(f'{out_path}：已分类型的事实表写成 Parquet（.parquet）文件')
    fmt = table_format(in_path)
    if fmt is None:
        raise BatchError(f'{in_path}：无法识别的表格格式（支持 .csv、.jsonl、.parquet）')
    places = (('--out', out_path), ('--rejects', rejects_path))
    inputs = [('--facts', in_path), ('政策文件', compiled.analysis.file)]
    check_outputs(*places, inputs=inputs)
    summary = BatchSummary()
    with _connect() as (con, duckdb), duckdb_errors(duckdb, in_path, out_path), \
            outputs(*places, inputs=inputs) as outs:
        dests = {p: outs.temp(p) for p, _ in ((out_path, 0), (rejects_path, 0)) if p}
        load_typed(con, compiled, in_path, fmt, id_column, skip_bad, rejects_path, summary,
                   dests.get(rejects_path))
        cols = ['"行号"'] + ([quote(id_column)] if id_column else [])
        for name, (kind, *_rest) in compiled.inputs.items():
            cols.append(f'CAST({quote(name)} AS {FACT_TYPES[kind]}) AS {quote(name)}')
        tmp = dests[out_path]
        con.execute(f'COPY (SELECT {", ".join(cols)} FROM facts ORDER BY "行号") TO {string(tmp)} '
                    f'(FORMAT PARQUET)')
        summary.written = con.execute(f'SELECT count(*) FROM read_parquet({string(tmp)})').fetchone()[0]
    summary.rows = summary.written + summary.rejected
    summary.total = Decimal(0)
    return summary
