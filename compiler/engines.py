"""Choosing a table engine: the policy as one SQL query on DuckDB (the default) or the per-row
Python engine."""
from __future__ import annotations

import datetime as _dt
from typing import Optional

from polc.compiler.tables.io import BatchError, BatchSummary
from polc.compiler.tables.rowwise import run_batch

# The engine `polc eval --out` and `polc report` use unless told: the faster one on the tables
# bureaus have (text cells with units and separators, typed Parquet) — the DuckDB engine
# (docs/performance.md) — one setting, so the two commands never disagree.  Without an engine
# asked for, a policy SQL cannot express, or an installation without DuckDB, falls back to the
# per-row engine (:func:`choose_engine`), which gives the same rows.
DEFAULT_ENGINE = 'duckdb'
ENGINES = ('duckdb', 'python')


# the formats DuckDB reads itself, streaming; JSONL and Excel rows are read by Python, and the DuckDB
# engine would hold the whole table in memory where the per-row engine streams it
_SQL_FORMATS = ('csv', 'parquet')


def choose_engine(compiled, engine: Optional[str] = None, date=None,
                  facts: Optional[str] = None, explain: bool = False) -> tuple[str, Optional[str]]:
    """(the engine to run, a notice for stderr or None).  An engine asked for is used as it is
    (its own errors say what is wrong); ``None`` means the default: DuckDB for a CSV or Parquet
    table ``facts``, the per-row engine for JSONL and Excel; and the per-row engine, with a notice
    saying why, where DuckDB is not installed or the policy has a construct SQL cannot express.
    ``explain`` (explanation columns): the explanations are the Python runtime's, so the per-row
    engine, with a notice when none was asked for; DuckDB asked for is refused."""
    if explain:
        if engine == 'duckdb':
            raise BatchError('--explain 的说明由逐行引擎生成，不能与 --engine duckdb 同用；请去掉 --engine duckdb '
                             '（或用 --engine python）', 'E-USAGE')
        if engine is None:
            return 'python', '提示：--explain 的说明由逐行引擎逐个申请人生成（比表格引擎慢，结果相同）'
    if engine is not None:
        return engine, None
    from polc.compiler.tables.io import table_format
    if facts is not None and table_format(facts) not in _SQL_FORMATS:
        return 'python', None
    import importlib.util
    if importlib.util.find_spec('duckdb') is None:
        return 'python', "提示：未安装 DuckDB（pip install 'polc[batch]'），用逐行引擎计算（结果相同，较慢）"
    from polc.compiler.python import runtime as R
    from polc.compiler.sql.generate import SqlUnsupported, policy_sql
    day = R.parse_date(date) if date is not None else _dt.date.today()
    if day is None:                     # the engine says what is wrong with the date
        return DEFAULT_ENGINE, None
    try:
        policy_sql(compiled.analysis.checked, day, 'facts', None, ordered=False)
    except SqlUnsupported as exc:
        return 'python', f'提示：{exc}；改用逐行引擎计算（结果相同，较慢；可用 --engine python 明确指定）'
    return DEFAULT_ENGINE, None


def evaluate_table(policy, facts: str, out: str, date=None, engine: Optional[str] = None,
                   id_column: Optional[str] = None, skip_bad: bool = False, rejects: Optional[str] = None,
                   allocation: Optional[str] = None, sheet: Optional[str] = None, records: Optional[dict] = None,
                   records_out: Optional[str] = None, compact: bool = False, explain: bool = False) -> BatchSummary:
    """Evaluate a whole table of applicants (``facts``: .csv/.jsonl/.parquet/.xlsx;
    ``sheet`` chooses an Excel sheet) into ``out``.

    ``records`` ({kind: path}, for a policy that declares records) gives one table per record kind,
    joined to the applicants by ``id_column`` (:mod:`polc.compiler.tables.records`); ``records_out``
    then receives one row per record.

    ``policy`` is a :class:`~polc.compiler.python.loader.CompiledPolicy` or a path to a .pol file;
    ``engine`` is ``'duckdb'`` (the policy as one SQL query), ``'python'`` (row by row, constant
    memory) or ``None``: DuckDB for CSV and Parquet, the per-row engine for JSONL and Excel, or
    where DuckDB is not installed or the policy cannot be expressed in SQL (:func:`choose_engine`).  Both give the same rows.
    ``compact``: the compact layout (outcomes as codes; in Parquet amounts in 64-bit DECIMAL(18, 2)
    where the policy bounds them below 10^16 元; :func:`compact_layout`).  Raises :class:`BatchError`
    (message in Chinese).  ``explain``: a column ``项名.说明`` after each item's amount, its derivation —
    made by the per-row engine (:func:`choose_engine`)."""
    if not hasattr(policy, 'evaluate_typed'):
        from polc.compiler.python.loader import load
        policy = load(policy)
    if records or records_out:
        refuse_with_records(compact, explain)
        return run_records(policy, facts, out, date, engine, id_column, skip_bad, rejects, allocation, sheet,
                           records or {}, records_out)
    engine, _notice = choose_engine(policy, engine, date, facts, explain)
    return run_flat(policy, engine, facts, out, date, id_column, skip_bad, rejects, allocation, sheet, compact,
                    explain)


def run_flat(policy, engine, facts, out, date, id_column, skip_bad, rejects, allocation, sheet, compact=False,
             explain=False, rows=None, fraction=None) -> BatchSummary:
    """A table of one applicant per row on ``engine`` (chosen by :func:`choose_engine`); ``rows`` and
    ``fraction`` are the per-row and the DuckDB engine's progress callbacks."""
    if engine == 'duckdb':
        from polc.compiler.sql.engine import run_duckdb
        return run_duckdb(policy, facts, out, date, id_column, skip_bad, rejects, allocation, sheet,
                          progress=fraction, compact=compact)
    if engine != 'python':
        raise BatchError(f'未知的引擎「{engine}」（可用 python、duckdb）')
    return run_batch(policy, facts, out, date, id_column, skip_bad, rejects, progress=rows,
                     allocation_path=allocation, sheet=sheet,
                     compact=compact_layout(policy, date) if compact else None, explain=explain)


def refuse_with_records(compact: bool, explain: bool) -> None:
    """--compact and --explain are not written for tables with record tables (BatchError)."""
    if compact:
        raise BatchError('--compact 只用于每行一个申请人的表格（带 --records 记录表时不支持）', 'E-USAGE')
    if explain:
        raise BatchError('--explain 只用于每行一个申请人的表格（带 --records 记录表时不支持）；'
                         '某个申请人的计算过程可用 polc eval --facts 申请人.json 查看', 'E-USAGE')


def compact_layout(compiled, date=None) -> dict:
    """{item or 合计: SQL type of its amounts} of the compact layout on ``date`` (default today), the
    same for both engines: DECIMAL(18, 2) where the policy's caps and constants bound the amounts
    below 10^16 元, else DECIMAL(38, 2) (:func:`polc.compiler.sql.generate.compact_types`)."""
    from polc.compiler.python import runtime as R
    from polc.compiler.sql.generate import compact_types
    day = (R.parse_date(date) if date is not None else None) or _dt.date.today()
    return compact_types(compiled.analysis.checked, day)


def run_records(policy, facts, out, date, engine, id_column, skip_bad, rejects, allocation, sheet, records,
                records_out, progress=None) -> BatchSummary:
    """An applicants table with record tables (compiler/tables/records.py), on the per-row engine or as
    SQL on DuckDB (compiler/sql/records_engine.py)."""
    engine = engine or 'python'         # the default for record tables: the per-row engine (same bytes as DuckDB)
    if engine not in ('python', 'duckdb'):
        raise BatchError(f'未知的引擎「{engine}」（可用 python、duckdb）')
    if not records:
        raise BatchError('--records-out 需要 --records（记录表）', 'E-USAGE')
    if engine == 'duckdb':
        from polc.compiler.sql.records_engine import run_records_duckdb
        return run_records_duckdb(policy, facts, records, out, date, id_column, skip_bad, rejects, progress,
                                  allocation, sheet, records_out)
    from polc.compiler.tables.records import run_records_batch
    return run_records_batch(policy, facts, records, out, date, id_column, skip_bad, rejects, progress,
                             allocation, sheet, records_out)
