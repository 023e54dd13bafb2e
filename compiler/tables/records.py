"""Tables of applicants with several projects (记录): an applicants table plus one table per record
kind (项目表、产品表 …) joined by the applicant id column.

Each row of a record table is one record of the applicant whose id is in the id column; an optional
``名称`` column labels it; the other columns are the kind's inputs.  The record tables are indexed
first (held in memory: about the size of the tables' text), then the applicants are streamed, and
each applicant's facts — its own columns plus a list per kind — go through the same evaluation as
``polc eval --facts`` with JSON/YAML (:func:`runtime_records.evaluate_records`).  One result row per
applicant (per-item sums after per-record caps, 就高 per record and the applicant's caps), with a
column per per-record item counting the records that got an amount; optionally one row per record
(``records_out``).  Quotas and pools of per-record items are shared over the whole table per record:
a quota of 10 products counts products, not applicants.
"""
from __future__ import annotations

import decimal
import json
from decimal import Decimal
from typing import Optional

from polc.compiler.python import runtime as R
from polc.compiler.python.runtime_records import LABEL_KEY
from polc.compiler.tables.io import (ALLOCATION_COLUMNS, BatchError, BatchSummary, LineFile, Meter, Writer,
                                     cell_text, check_id_column, jsonable, outputs, read_rows, total_columns)

RECORD_COLUMN = '记录'           # allocation and per-record files: which record (产品2「甲」)
RECORD_ROW = '记录行号'          # per-record file: the record's row in its table


def count_column(item: str, kind: str) -> str:
    """The result column counting an applicant's records that got an amount from ``item``."""
    return f'{item}.获奖{kind}数'


def parse_record_options(compiled, specs, option: str = '--records', example: str = '产品=products.csv') -> dict:
    """``--records KIND=FILE`` (repeatable) -> {kind: path}; a Chinese BatchError (E-USAGE) for an
    unknown kind, a kind given twice or a spec without ``=``.  ``option`` and ``example`` name the
    option in the messages (``polc sql --records-table KIND=TABLE`` too)."""
    kinds = compiled.records
    out: dict = {}
    for spec in specs or ():
        kind, sep, path = spec.partition('=')
        kind, path = kind.strip(), path.strip()
        if not sep or not kind or not path:
            raise BatchError(f'{option}「{spec}」：应写作「记录种类={"表格文件" if option == "--records" else "表名"}」，'
                             f'如 {option} {example}', 'E-USAGE')
        if kind not in kinds:
            from polc.dsl.script import fold
            match = next((k for k in kinds if fold(k) == fold(kind)), None)
            if match is None:
                known = '、'.join(kinds) or '（本政策没有声明记录）'
                raise BatchError(f'{option}「{spec}」：政策没有声明记录「{kind}」；可用：{known}', 'E-USAGE')
            kind = match
        if kind in out:
            raise BatchError(f'{option}：「{kind}」给了两次（{out[kind]} 与 {path}）', 'E-USAGE')
        out[kind] = path
    return out


def _key(value) -> str:
    """An id cell as text, so that 1001 (Parquet, Excel) and "1001" (CSV) name the same applicant."""
    if isinstance(value, Decimal):
        value = value.normalize() if value == value.to_integral_value() else value
        return f'{value:f}'
    return str(value).strip()


def index_records(record_tables: dict, id_column: str) -> dict:
    """{kind: {applicant id: [(row number, raw facts)]}} read from each record table."""
    index: dict = {}
    for kind, path in record_tables.items():
        by_id: dict = {}
        for n, raw in read_rows(path):
            if not isinstance(raw, dict):
                raise BatchError(f'{path}：第 {n} 行：应为一个对象（列名到值）')
            ident = raw.pop(id_column, None)
            if ident is None or _key(ident) == '':
                raise BatchError(f'{path}：第 {n} 行：没有编号列「{id_column}」的值（该列缺失或为空）；'
                                 f'{kind}表的每行都要写明所属申请人的编号')
            by_id.setdefault(_key(ident), []).append((n, raw))
        index[kind] = by_id
    return index


def record_shares(item: dict, value) -> list:
    """Each record's part of the applicant's amount ``value`` for a per-record item: the record's
    amount after 就高 per record, the per-record quota and the applicant's cap; when an applicant-level
    group (合计…最高, 就高 between an applicant's items) cut the item further, the cut is taken from the
    last records first, as the applicant's cap is (the parts always add up to ``value``)."""
    recs = item.get('records') or []
    left = value if value is not None else Decimal(0)
    out = []
    for x in recs:
        if x['paid'] is None:
            out.append(None)
            continue
        take = min(x['paid'], left)
        out.append(take)
        left -= take
    return out


def record_item_names(compiled) -> list[tuple[str, str]]:
    """(item, kind) of every per-record item, in policy order."""
    return [(info['name'], info['per_record']) for info, _f in compiled.namespace['ITEMS'] if info.get('per_record')]


def run_records_batch(compiled, in_path: str, record_tables: dict, out_path: str, date,
                      id_column: Optional[str], skip_bad: bool = False, rejects_path: Optional[str] = None,
                      progress=None, allocation_path: Optional[str] = None, sheet: Optional[str] = None,
                      records_out: Optional[str] = None, engine=None) -> BatchSummary:
    """Evaluate every applicant of ``in_path`` with its records from ``record_tables`` ({kind: path});
    outputs as :func:`polc.compiler.tables.rowwise.run_batch`, plus ``records_out`` (one row per record).
    ``engine``: a factory ``engine(run)`` of the object that computes instead of the per-row runtime
    (see :meth:`_Run.go`)."""
    if not id_column:
        raise BatchError('--records 需要 --id-column：申请人表与各记录表用同一个编号列关联', 'E-USAGE')
    for kind in record_tables:
        if kind not in compiled.records:
            raise BatchError(f'政策没有声明记录「{kind}」', 'E-USAGE')
    day = R.parse_date(date) if date is not None else None
    if day is None:
        import datetime as dt
        day = dt.date.today() if date is None else None
        if day is None:
            raise BatchError(f'--date：无法读作日期：「{date}」（应为 "2025-03-01"）', 'E-USAGE')
    names = [info['name'] for info, _f in compiled.namespace['ITEMS']]
    per_record = [(n, k) for n, k in record_item_names(compiled) if k in record_tables]
    columns = ['行号', id_column]
    for n in names:
        columns += [f'{n}.结果', f'{n}.金额']
        columns += [count_column(n, k) for m, k in per_record if m == n]
    columns += total_columns(any(info.get('quota') is not None or info.get('pool') is not None
                                 for info, _f in compiled.namespace['ITEMS']))
    check_id_column(id_column, [c for c in columns if c != id_column] + (ALLOCATION_COLUMNS if allocation_path else [])
                    + [RECORD_COLUMN, RECORD_ROW], compiled.inputs)
    inputs = [('--facts', in_path), ('政策文件', compiled.analysis.file)] + \
        [(f'--records {k}', p) for k, p in record_tables.items()]
    with outputs(('--out', out_path), ('--rejects', rejects_path), ('--allocation', allocation_path),
                 ('--records-out', records_out), inputs=inputs) as outs:
        dests = {p: outs.temp(p) for p in (out_path, rejects_path, allocation_path, records_out) if p}
        with decimal.localcontext(R.CONTEXT):
            index = index_records(record_tables, id_column)
            run = _Run(compiled, names, per_record, columns, day, id_column, record_tables, index)
            return run.go(in_path, out_path, dests, skip_bad, rejects_path, progress, allocation_path, sheet,
                          records_out, engine(run) if engine is not None else None)


class _Run:
    def __init__(self, compiled, names, per_record, columns, day, id_column, record_tables, index):
        self.compiled, self.names, self.per_record, self.columns = compiled, names, per_record, columns
        self.day, self.id_column, self.tables, self.index = day, id_column, record_tables, index
        self.infos = {info['name']: info for info, _f in compiled.namespace['ITEMS']}
        self.limited = {n: i for n, i in self.infos.items() if i.get('quota') is not None or i.get('pool') is not None}

    def facts_of(self, raw: dict, ident: str):
        """The applicant object (own columns + a list per kind) and, per kind, the records' row numbers."""
        facts = dict(raw)
        rows = {}
        for kind in self.tables:
            recs = self.index[kind].pop(ident, [])
            facts[kind] = [dict(r) for _n, r in recs]
            rows[kind] = [n for n, _r in recs]
        return facts, rows

    def problem_text(self, in_path, n, problems, rows) -> str:
        """The Chinese message for a bad applicant: its own cells named by its row, a record's cells by
        the record table and that record's row."""
        own, theirs = [], []
        for key, msg in problems:
            kind, sep, rest = (key or '').partition('[')
            if sep and kind in rows and ']' in rest:
                i, _s, name = rest.partition(']')
                name = name.lstrip('.')
                try:
                    row = rows[kind][int(i) - 1]
                except (ValueError, IndexError):
                    row = None
                where = f'{self.tables[kind]}：第 {row} 行' if row is not None else f'{self.tables[kind]}'
                theirs.append(f'{where}（{kind}，申请人表第 {n} 行）：' + (f'「{name}」：{msg}' if name else msg))
            else:
                own.append(f'「{key}」：{msg}' if key else msg)
        parts = ([f'{in_path}：第 {n} 行：' + '；'.join(own)] if own else []) + theirs
        return '；'.join(parts)

    def misplaced(self, facts):
        """A record table's column that is another input of the policy (the applicant's, or another kind's):
        a FactsError naming it where it belongs (the runtime would call it undeclared for this kind)."""
        inputs, records = self.compiled.inputs, self.compiled.records
        aliases = self.compiled.meta.get('input_aliases')
        owner = {n: k for k, (_d, names) in records.items() for n in names}
        problems = []
        for kind in self.tables:
            mine = set(records[kind][1])
            for i, rec in enumerate(facts[kind], 1):
                for col in rec:
                    name = col if col in inputs else R._declared(col, inputs, aliases)
                    if col == LABEL_KEY or name is None or name in mine:
                        continue
                    where = (f'是{owner[name]}的输入，应写在{owner[name]}表（--records {owner[name]}=…）'
                             f'或只有一个{owner[name]}时写在申请人表中' if name in owner
                             else '是申请人的输入，应写在申请人表（--facts）中')
                    problems.append((f'{kind}[{i}].{col}', f'{where}，不能写在{kind}表'))
        if problems:
            raise R.FactsError(problems)

    def evaluate(self, facts):
        """The per-row engine's step for one applicant: the runtime's result dict."""
        return self.compiled.evaluate_raw(facts, self.day, explain=False)

    def go(self, in_path, out_path, dests, skip_bad, rejects_path, progress, allocation_path, sheet, records_out,
           engine=None):
        """``engine``: None for the per-row engine; else an object whose ``check(facts, n, ident, rows)``
        checks one applicant (raising FactsError) and whose ``results()`` then yields the result dicts
        of the accepted applicants in table order (the DuckDB engine, compiler/sql/records_engine.py)."""
        summary = BatchSummary(totals={n: Decimal(0) for n in self.names}, firms=0,
                               record_recipients={k: 0 for k in self.tables})
        claims: dict = {n: [] for n in self.limited}
        ceiling_claims: dict = {n: set() for n in self.limited}
        labels: dict = {}                  # claim index -> record label, per item
        idents: dict = {}
        seen: dict = {}
        # with quotas or pools, each row's 实发合计 is known only once the whole table is shared (as the
        # per-row engine for flat tables does): the rows wait in a spool
        from polc.compiler.tables.rowwise import _Spool
        writer = _Spool() if self.limited else Writer(out_path, self.columns, dests[out_path])
        rec_writer = None
        rejects = LineFile(rejects_path, dests[rejects_path]) if rejects_path else None
        try:
            if records_out:
                rec_columns = ['行号', self.id_column, RECORD_COLUMN, RECORD_ROW, LABEL_KEY]
                for n, _k in self.per_record:
                    rec_columns += [f'{n}.结果', f'{n}.计算金额', f'{n}.金额']
                rec_writer = Writer(records_out, rec_columns, dests[records_out])
            meter = Meter() if progress is not None else None
            for n, raw in read_rows(in_path, meter, sheet):
                summary.rows += 1
                if not isinstance(raw, dict):
                    raise BatchError(f'{in_path}：第 {n} 行：应为一个对象（列名到值）')
                ident = raw.pop(self.id_column, None)
                key = None if ident is None else _key(ident)
                if not key:
                    raise BatchError(f'{in_path}：第 {n} 行：没有编号列「{self.id_column}」的值（该列缺失或为空）；'
                                     f'有{"、".join(self.tables)}表时，每个申请人都要有编号')
                if key in seen:
                    raise BatchError(f'{in_path}：第 {n} 行：编号「{key}」重复（第 {seen[key]} 行已出现）；'
                                     f'{"、".join(self.tables)}表按编号归属申请人，编号必须唯一')
                seen[key] = n
                for kind in self.tables:
                    if kind in raw:
                        raise BatchError(f'{in_path}：第 {n} 行：「{kind}」：{kind}已由 --records 的{kind}表'
                                         f'（{self.tables[kind]}）给出，申请人表中不能再有这一列')
                facts, rows = self.facts_of(raw, key)
                try:
                    try:
                        self.misplaced(facts)
                        result = self.evaluate(facts) if engine is None else engine.check(facts, n, ident, rows)
                    except ArithmeticError:
                        raise R.FactsError([('', R.too_large_message('、'.join(self.names)))]) from None
                except R.FactsError as exc:
                    msg = self.problem_text(in_path, n, exc.problems, rows)
                    if not skip_bad:
                        raise BatchError(msg) from None
                    summary.rejected += 1
                    if rejects is not None:
                        data = jsonable({self.id_column: ident, **raw})
                        data.update({k: [jsonable(r) for r in v] for k, v in facts.items() if k in self.tables})
                        rejects.write(json.dumps({'行号': n, '错误': msg, '数据': data}, ensure_ascii=False) + '\n')
                    continue
                if engine is None:
                    self.write_row(writer, rec_writer, summary, n, ident, result, rows, claims, ceiling_claims,
                                   labels, idents)
                if progress is not None and summary.rows % 20000 == 0:
                    progress(summary.rows, meter.fraction)
            self.check_orphans()
            if engine is not None:
                for n, ident, rows, result in engine.results():
                    self.write_row(writer, rec_writer, summary, n, ident, result, rows, claims, ceiling_claims,
                                   labels, idents)
        except BaseException:
            writer.abort()
            if rec_writer is not None:
                rec_writer.abort()
            raise
        else:
            writer.close()
            if rec_writer is not None:
                rec_writer.close()
        finally:
            if rejects is not None:
                rejects.close()
        grants = self.allocate(summary, claims, ceiling_claims, labels, idents, allocation_path, dests)
        if self.limited:
            self.write_paid(writer, grants, ceiling_claims, out_path, dests)
        return summary

    def write_paid(self, spool, grants, ceiling_claims, out_path, dests):
        """The spooled rows with 实发合计: 应得合计（削减前） less what the quotas and pools took off the row's
        amounts (claims that are ceilings do not count), the text kept where nothing was taken."""
        cut: dict = {}
        for name, gs in grants.items():
            for i, g in enumerate(gs):
                if g.granted < g.claimed and i not in ceiling_claims[name]:
                    cut[g.row] = cut.get(g.row, Decimal(0)) + (g.claimed - g.granted)
        spool.write_paid(cut, out_path, self.columns, dests[out_path])

    def check_orphans(self):
        for kind, by_id in self.index.items():
            for ident, recs in by_id.items():
                raise BatchError(f'{self.tables[kind]}：第 {recs[0][0]} 行：编号「{ident}」不在申请人表中'
                                 f'（{kind}的编号列「{self.id_column}」应是申请人表中某个申请人的编号）')

    def write_row(self, writer, rec_writer, summary, n, ident, result, rows, claims, ceiling_claims, labels, idents):
        cells = [str(n), '' if ident is None else cell_text(ident)]
        by_name = {r['name']: r for r in result['items']}
        awarded: dict = {k: set() for k in self.tables}
        firm = False
        for name in self.names:
            r = by_name[name]
            o = r['outcome']
            v = r['paid'] if o == R.AMOUNT else r['ceiling'] if o == R.CEILING else None
            cells += [o, '' if v is None else cell_text(v)]
            if o == R.AMOUNT:
                summary.totals[name] += v
            shares = record_shares(r, v) if o in (R.AMOUNT, R.CEILING) else [None] * len(r.get('records') or ())
            r['shares'] = shares
            firm = firm or (v is not None and v > 0)
            kind = self.infos[name].get('per_record')
            if r.get('records') and kind in awarded:
                awarded[kind].update(j for j, x in enumerate(shares) if x is not None and x > 0)
            for m, kind in self.per_record:
                if m == name:
                    cells.append(str(sum(1 for x in shares if x is not None and x > 0)))
            if name in self.limited and v is not None and v > 0:
                if r.get('records'):        # a quota or pool of a per-record item counts records
                    for x, share in zip(r['records'], shares):
                        if share is not None and share > 0:
                            self._claim(name, n, share, o, x['label'], claims, ceiling_claims, labels)
                else:
                    self._claim(name, n, v, o, '', claims, ceiling_claims, labels)
                idents[n] = ident
        cells.append(cell_text(result['total']))
        summary.firms += firm
        for k, js in awarded.items():
            summary.record_recipients[k] += len(js)
        summary.total += result['total']
        writer.write_cells(cells)
        summary.written += 1
        if rec_writer is not None:
            self.write_records(rec_writer, n, ident, by_name, rows)

    def _claim(self, name, n, value, outcome, label, claims, ceiling_claims, labels):
        i = len(claims[name])
        claims[name].append((n, value))
        labels[(name, i)] = label
        if outcome != R.AMOUNT:
            ceiling_claims[name].add(i)

    def write_records(self, rec_writer, n, ident, by_name, rows):
        for kind in self.tables:
            items = [m for m, k in self.per_record if k == kind]
            for j, row in enumerate(rows[kind]):
                cells = {'行号': str(n), self.id_column: cell_text(ident), RECORD_COLUMN: kind, RECORD_ROW: str(row)}
                for m in items:
                    r = by_name[m]
                    x = r['records'][j]
                    cells[LABEL_KEY] = x['label']
                    cells[f'{m}.结果'] = x['outcome']
                    cells[f'{m}.计算金额'] = cell_text(x['amount'])
                    cells[f'{m}.金额'] = cell_text(r['shares'][j])
                rec_writer.write_cells([cells.get(c, '') for c in rec_writer.columns])

    def allocate(self, summary, claims, ceiling_claims, labels, idents, allocation_path, dests):
        from polc.compiler.tables.allocation import allocate, shared
        grants = {}
        for name, info in self.limited.items():
            pool = Decimal(info['pool']) if info.get('pool') else None
            grants[name] = allocate(claims[name], info.get('quota'), pool, info.get('allocation', ''))
            summary.allocations[name] = shared(grants[name])
            summary.cuts[name] = sum((g.claimed - g.granted for i, g in enumerate(grants[name])
                                      if i not in ceiling_claims[name]), Decimal(0))
        summary.grants = grants
        self._write_allocations(grants, labels, idents, allocation_path, dests)
        return grants

    def _write_allocations(self, grants, labels, idents, allocation_path, dests):
        if allocation_path:
            cols = ALLOCATION_COLUMNS[:2] + [self.id_column, RECORD_COLUMN] + ALLOCATION_COLUMNS[2:]
            w = Writer(allocation_path, cols, dests[allocation_path])
            try:
                for name, gs in grants.items():
                    for i, g in enumerate(gs):
                        w.write({'项': name, '行号': g.row, self.id_column: idents.get(g.row),
                                 RECORD_COLUMN: labels.get((name, i), ''), '计算金额': g.claimed,
                                 '分配金额': g.granted, '说明': g.reason})
            finally:
                w.close()
