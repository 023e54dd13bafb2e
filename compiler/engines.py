"""Choosing a table engine: the per-row Python engine or the policy as one SQL query on DuckDB."""
from __future__ import annotations

from typing import Optional

from polc.compiler.tables.io import BatchError, BatchSummary
from polc.compiler.tables.rowwise import run_batch

# The engine `polc eval --out` and `polc report` use unless told: the faster one on the tables
# bureaus have (text cells with units and separators) — today the per-row engine (docs/performance.md);
# one setting, so the two commands never disagree.
DEFAULT_ENGINE = 'python'


def evaluate_table(policy, facts: str, out: str, date=None, engine: str = DEFAULT_ENGINE,
                   id_column: Optional[str] = None, skip_bad: bool = False, rejects: Optional[str] = None,
                   allocation: Optional[str] = None, sheet: Optional[str] = None) -> BatchSummary:
    """Evaluate a whole table of applicants (``facts``: .csv/.jsonl/.parquet/.xlsx;
    ``sheet`` chooses an Excel sheet) into ``out``.

    ``policy`` is a :class:`~polc.compiler.python.loader.CompiledPolicy` or a path to a .pol file;
    ``engine`` is ``'python'`` (row by row, constant memory) or ``'duckdb'`` (the policy as one
    SQL query).  Both give the same rows.  Raises :class:`BatchError` (message in Chinese)."""
    if not hasattr(policy, 'evaluate_typed'):
        from polc.compiler.python.loader import load
        policy = load(policy)
    if engine == 'duckdb':
        from polc.compiler.sql.engine import run_duckdb
        return run_duckdb(policy, facts, out, date, id_column, skip_bad, rejects, allocation, sheet)
    if engine != 'python':
        raise BatchError(f'未知的引擎「{engine}」（可用 python、duckdb）')
    return run_batch(policy, facts, out, date, id_column, skip_bad, rejects, allocation_path=allocation,
                     sheet=sheet)
