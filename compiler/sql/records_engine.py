"""``--engine duckdb`` for an applicants table with record tables (``--records``): the policy's query
over applicants and records (compiler/sql/records.py) run on DuckDB.

The tables are read and every cell checked by the per-row engine's code (compiler/tables/records.py:
the same messages, row numbers and ``--skip-bad`` rejects), the typed values handed to DuckDB as Arrow
tables (DECIMAL(38, 2) money, DECIMAL(38, 10) percents, BIGINT, BOOLEAN, DATE, VARCHAR — the types
``polc prepare`` writes), and the results written by the same writer as the per-row engine, so the two
engines' files are byte for byte the same.  The typed tables and the results are held in memory.
"""
from __future__ import annotations

from decimal import Decimal

from polc.compiler.python import runtime as R
from polc.compiler.python.runtime_records import LABEL_KEY, _record_name, split_record_facts
from polc.compiler.sql.basics import SqlUnsupported
from polc.compiler.sql.decimals import INPUT_TYPES
from polc.compiler.sql.records import records_queries
from polc.compiler.tables.io import BatchError
from polc.compiler.tables.records import run_records_batch

APPLICANTS, RECORDS = 'polc_applicants', 'polc_records_{}'
RANGE = ('超出 SQL 引擎的精确范围（金额小于 10^21 元且到分，比例绝对值小于 10^7 且至多 10 位小数，整数绝对值小于 10^13）；'
         '请用 --engine python')


def run_records_duckdb(compiled, in_path, record_tables, out_path, date, id_column, skip_bad=False,
                       rejects_path=None, progress=None, allocation_path=None, sheet=None, records_out=None):
    """As :func:`polc.compiler.tables.records.run_records_batch`, the amounts computed by SQL on DuckDB."""
    try:
        import duckdb  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        raise BatchError("--engine duckdb 需要 duckdb 与 pyarrow：pip install 'polc[batch]'") from None
    return run_records_batch(compiled, in_path, record_tables, out_path, date, id_column, skip_bad, rejects_path,
                             progress, allocation_path, sheet, records_out, engine=_DuckDB)


def _fits(kind, v) -> bool:
    """The value fits the typed column the query reads (compiler/sql/decimals.py INPUT_TYPES)."""
    if kind not in INPUT_TYPES or v is None:
        return True
    d, s = INPUT_TYPES[kind]
    v = Decimal(v)
    return abs(v) < Decimal(10) ** d and (v == 0 or v.as_tuple().exponent >= -s)


class _DuckDB:
    def __init__(self, run):
        self.run = run
        c = run.compiled
        self.inputs, self.records = c.inputs, c.records
        self.listed = list(run.tables)
        own_names = {n for k in self.listed for n in self.records[k][1]}
        self.own = [n for n in self.inputs if n not in own_names]
        self.applicants = []                # (行号, id text, values)
        self.kept = []                      # (行号, ident, rows) of the accepted applicants, in order
        self.rows = {k: [] for k in self.listed}      # (record row, id text, label, values)
        self.labels = {}
        try:
            self.queries = records_queries(c.analysis.checked, run.day, APPLICANTS,
                                           {k: RECORDS.format(i) for i, k in enumerate(self.listed)}, run.id_column,
                                           ordered=True)
        except SqlUnsupported as exc:
            raise BatchError(f'{c.analysis.file}：{exc}；请用 --engine python') from None

    def check(self, facts, n, ident, rows):
        c = self.run.compiled
        base, lists = split_record_facts(self.inputs, self.records, facts, c.meta.get('input_aliases'),
                                         c.meta.get('value_aliases'))
        problems = [(name, RANGE) for name in self.own if not _fits(self.inputs[name][0], base.get(name))]
        for k in self.listed:
            for i, rec in enumerate(lists.get(k, []), 1):
                problems += [(f'{k}[{i}].{name}', RANGE) for name in self.records[k][1]
                             if not _fits(self.inputs[name][0], rec.get(name))]
        if problems:
            raise R.FactsError(problems)
        text = _text(ident)
        self.applicants.append((n, text, [base.get(name) for name in self.own]))
        for k in self.listed:
            for row, rec in zip(rows[k], lists.get(k, [])):
                self.rows[k].append((row, text, [rec.get(name) for name in self.records[k][1]]))
                self.labels[(k, row)] = rec[LABEL_KEY]
        self.kept.append((n, ident, rows))
        return None

    def _arrow(self, con, name, names, rows):
        import pyarrow as pa
        types = {'money': pa.decimal128(38, 2), 'percent': pa.decimal128(38, 10), 'int': pa.int64(),
                 'bool': pa.bool_(), 'date': pa.date32(), 'enum': pa.string()}
        columns = {'行号': pa.array([r[0] for r in rows], pa.int64()),
                   self.run.id_column: pa.array([r[1] for r in rows], pa.string())}
        for j, n in enumerate(names):
            kind = self.inputs[n][0]
            values = [r[2][j] for r in rows]
            if kind in ('money', 'percent'):
                q = Decimal('0.01') if kind == 'money' else Decimal('1e-10')
                values = [None if v is None else Decimal(v).quantize(q) for v in values]
            columns[n] = pa.array(values, types.get(kind, pa.string()))
        con.register(name, pa.table(columns))

    def results(self):
        import duckdb
        con = duckdb.connect()
        try:
            self._arrow(con, APPLICANTS, self.own, self.applicants)
            for i, k in enumerate(self.listed):
                self._arrow(con, RECORDS.format(i), list(self.records[k][1]), self.rows[k])
            query, per_record = self.queries
            try:
                cur = con.execute(query)
                cols = [d[0] for d in cur.description]
                applicants = cur.fetchall()
                recs = {}
                for k, q in per_record.items():
                    cur = con.execute(q)
                    rcols = [d[0] for d in cur.description]
                    recs[k] = [dict(zip(rcols, r)) for r in cur.fetchall()]
            except duckdb.Error as exc:
                raise BatchError(f'SQL 引擎无法完成计算（{str(exc).strip().splitlines()[0]}）；请用 --engine python') \
                    from None
        finally:
            con.close()
        by_row = {k: {} for k in recs}
        for k, rows in recs.items():
            for r in rows:
                by_row[k].setdefault(r['行号'], []).append(r)
        for (n, ident, rows), values in zip(self.kept, applicants):
            yield n, ident, rows, self._result(dict(zip(cols, values)), {k: by_row[k].get(n, []) for k in by_row})

    def _result(self, row, recs):
        """The row of the query as the runtime's result dict (what the writer reads)."""
        items = []
        for name in self.run.names:
            o, v = row[f'{name}.结果'], row[f'{name}.金额']
            item = {'name': name, 'outcome': o, 'paid': v if o == R.AMOUNT else Decimal(0),
                    'ceiling': v if o == R.CEILING else None, 'records': None}
            kind = self.run.infos[name].get('per_record')
            if kind in recs:
                item['records'] = [{'label': _record_name(kind, j, self.labels[(kind, r['记录行号'])]),
                                    'outcome': r[f'{name}.结果'], 'amount': r[f'{name}.计算金额'],
                                    'paid': r[f'{name}.金额']} for j, r in enumerate(recs[kind], 1)]
            items.append(item)
        return {'items': items, 'total': row['合计']}


def _text(ident) -> str:
    from polc.compiler.tables.io import cell_text
    return cell_text(ident)
