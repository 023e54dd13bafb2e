"""The per-row table engine: a table of applicants in (CSV, JSONL or Parquet), one result row each
out, streamed in constant memory through the compiled Python policy.  A bad row is reported with
its row number; with ``skip_bad`` it goes to a rejects file and the run continues.
"""
from __future__ import annotations

import decimal
import json
from decimal import Decimal
from typing import Optional

from polc.compiler.python import runtime as R
from polc.compiler.tables.io import (ALLOCATION_COLUMNS, BatchError, BatchSummary, LineFile, Meter, Writer,
                                     cell_text, check_id_column, jsonable, outputs, read_rows,
                                     missing_columns, record_list_problem, total_columns, write_allocations,
                                     OUTCOME_CODES, compact_columns)


def run_batch(compiled, in_path: str, out_path: str, date, id_column: Optional[str] = None,
              skip_bad: bool = False, rejects_path: Optional[str] = None, progress=None,
              allocation_path: Optional[str] = None, sheet: Optional[str] = None,
              compact: Optional[dict] = None, explain: bool = False) -> BatchSummary:
    """Evaluate every row of ``in_path`` and write one result row each to ``out_path``; then share
    each quota and pool among the rows (written to ``allocation_path`` when given).

    The outputs are written whole or not at all: a bad row, a full disk or any other failure leaves
    every earlier file in place and no partial file (:func:`polc.compiler.tables.io.outputs`).
    ``rejects_path``, when given, is always written (empty when no row was skipped).  ``sheet``
    chooses the sheet of an Excel input.  ``progress``, when given, is called as
    ``progress(rows, fraction)`` now and then.  ``compact`` ({item or 合计: SQL type of the amounts},
    from :func:`polc.compiler.engines.compact_layout`): the compact layout — outcomes as their codes,
    and in Parquet the columns typed as the DuckDB engine types them.  ``explain``: after each item's
    金额 a column ``项名.说明``, the item's derivation (:func:`explanations`) from the full path."""
    day = R.parse_date(date) if date is not None else None
    if day is None:
        import datetime as dt
        day = dt.date.today() if date is None else None
        if day is None:
            raise BatchError(f'--date：无法读作日期：「{date}」（应为 "2025-03-01"）', 'E-USAGE')
    names = [info['name'] for info, _f in compiled.namespace['ITEMS']]
    totals = total_columns(any(info.get('quota') is not None or info.get('pool') is not None
                               for info, _f in compiled.namespace['ITEMS']))
    parts = ('结果', '金额', '说明') if explain else ('结果', '金额')
    result_columns = ['行号'] + [f'{n}.{part}' for n in names for part in parts] + totals
    check_id_column(id_column, result_columns + (ALLOCATION_COLUMNS if allocation_path else []),
                    compiled.inputs)
    columns = ['行号'] + ([id_column] if id_column else [])
    for n in names:
        columns += [f'{n}.{part}' for part in parts]
    columns += totals
    with outputs(('--out', out_path), ('--rejects', rejects_path), ('--allocation', allocation_path),
                 inputs=[('--facts', in_path), ('政策文件', compiled.analysis.file)]) as outs:
        dests = {p: outs.temp(p) for p in (out_path, rejects_path, allocation_path) if p}
        # the runtime's exact context (60 digits, irregularities trapped) for the whole run: the typed
        # fast path does not set it per row, and the default context's 28 digits would round amounts
        with decimal.localcontext(R.CONTEXT):
            return _run(compiled, names, columns, day, in_path, out_path, dests, id_column, skip_bad,
                        rejects_path, progress, allocation_path, sheet, compact, explain)


def _run(compiled, names, columns, day, in_path, out_path, dests, id_column, skip_bad, rejects_path,
         progress, allocation_path, sheet=None, compact=None, explain=False) -> BatchSummary:
    inputs = compiled.inputs
    aliases, value_aliases = compiled.meta.get('input_aliases'), compiled.meta.get('value_aliases')
    records = compiled.records
    typed = compiled.evaluate_typed
    summary = BatchSummary(totals={n: Decimal(0) for n in names})
    limited = {info['name']: info for info, _f in compiled.namespace['ITEMS']
               if info.get('quota') is not None or info.get('pool') is not None}
    claims: dict = {n: [] for n in limited}
    ceiling_rows: dict = {n: set() for n in limited}     # claims that are a ceiling, not an amount
    idents: dict = {}
    totals, amount = summary.totals, R.AMOUNT
    # with quotas or pools, each row's 实发合计 is known only once the whole table is shared: the
    # rows go to a spool first and are written with it at the end (constant memory still)
    types = compact_columns(names, compact, id_column) if compact else None
    codes = OUTCOME_CODES if compact else {}
    writer = _Spool(types) if limited else Writer(out_path, columns, dests[out_path], types)
    rejects = LineFile(rejects_path, dests[rejects_path]) if rejects_path else None
    try:
        meter = Meter() if progress is not None else None

        def header(names):
            # a column that is no input is the table's error, not each row's: refused as a whole
            # (also when no row follows), as the DuckDB engine refuses it
            problems = header_problems(names, inputs, id_column, records, aliases)
            if problems:
                raise BatchError(f'{in_path}：' + '；'.join(problems))
        for n, raw in read_rows(in_path, meter, sheet, header):
            summary.rows += 1
            ident = None
            if isinstance(raw, dict) and id_column:
                ident = raw.pop(id_column, None)
            if records and isinstance(raw, dict) and any(k in raw for k in records):
                raise BatchError(f'{in_path}：第 {n} 行：' + record_list_problem(next(k for k in records if k in raw)))
            try:
                values = R.coerce_facts(inputs, raw, aliases, value_aliases)
                try:
                    outcomes, total = typed(values, day)
                except ArithmeticError:     # an amount beyond the runtime's 60 exact digits
                    raise R.FactsError([('', R.too_large_message('、'.join(names)))]) from None
            except R.FactsError as exc:
                msg = '；'.join(f'「{k}」：{m}' if k else m for k, m in exc.problems)
                if not skip_bad:
                    raise BatchError(f'{in_path}：第 {n} 行：{msg}') from None
                summary.rejected += 1
                if rejects is not None:
                    rejects.write(json.dumps({'行号': n, '错误': msg, '数据': jsonable(
                        {id_column: ident, **raw} if id_column and ident is not None else raw)},
                                             ensure_ascii=False) + '\n')
                continue
            cells = [str(n), '' if ident is None else str(ident)] if id_column else [str(n)]
            said = explanations(compiled, raw, day) if explain else None
            for name in names:
                o, v = outcomes[name]
                cells.append(codes.get(o, o))
                cells.append('' if v is None else cell_text(v))
                if said is not None:
                    cells.append(said[name])
                if o == amount:
                    totals[name] += v
                if v is not None and name in limited and v > 0:
                    claims[name].append((n, v))
                    if o != amount:
                        ceiling_rows[name].add(n)
                    if id_column:
                        idents[n] = ident
            cells.append(cell_text(total))
            summary.total += total
            writer.write_cells(cells)
            summary.written += 1
            if progress is not None and summary.rows % 20000 == 0:
                progress(summary.rows, meter.fraction)
    except BaseException:
        writer.abort()
        raise
    else:
        writer.close()
    finally:
        if rejects is not None:
            rejects.close()
    from polc.compiler.tables.allocation import allocate, shared
    grants = {}
    for name, info in limited.items():
        pool = Decimal(info['pool']) if info.get('pool') else None
        grants[name] = allocate(claims[name], info.get('quota'), pool, info.get('allocation', ''))
        summary.allocations[name] = shared(grants[name])
        summary.cuts[name] = sum((g.claimed - g.granted for g in grants[name] if g.row not in ceiling_rows[name]),
                                 Decimal(0))
    if limited:
        cut: dict = {}          # row -> what its quotas and pools took off its amounts (not ceilings)
        for name, gs in grants.items():
            for g in gs:
                if g.granted < g.claimed and g.row not in ceiling_rows[name]:
                    cut[g.row] = cut.get(g.row, Decimal(0)) + (g.claimed - g.granted)
        writer.write_paid(cut, out_path, columns, dests[out_path])
    if allocation_path:
        write_allocations(allocation_path, grants, id_column, idents, dests[allocation_path])
    return summary


def explanations(compiled, raw: dict, day) -> dict:
    """{item: its derivation as one line}: the full path's steps for the row's facts (read by the
    same rules as the typed path), then the reason or note, then what its groups did — the lines
    `polc eval` prints under the item, joined by '；'."""
    result = compiled.evaluate_full(raw, day, explain=True)
    return {it.name: '；'.join(x for x in (*it.steps, it.detail, *it.notes) if x) for it in result.items}


class _Spool:
    """Result rows (text cells) kept in an anonymous temporary file until they can be written."""

    def __init__(self, types=None):
        self.types = types
        import csv
        import tempfile
        self.f = tempfile.TemporaryFile('w+', newline='', encoding='utf-8')
        self.csv = csv
        self.writer = csv.writer(self.f, lineterminator='\n')

    def write_cells(self, cells) -> None:
        self.writer.writerow(cells)

    def close(self) -> None:
        self.f.flush()

    def abort(self) -> None:
        self.discard()

    def rows(self):
        self.f.seek(0)
        yield from self.csv.reader(self.f)

    def write_paid(self, cut: dict, out_path: str, columns, dest: str) -> None:
        """The spooled rows to ``out_path`` with 实发合计 after their last cell (应得合计（削减前）):
        that total less ``cut[row]``, what the quotas and pools took off the row's amounts (the
        total's text kept where nothing was taken).  The spool is discarded."""
        out = Writer(out_path, columns, dest, self.types)
        try:
            for cells in self.rows():
                taken = cut.get(int(cells[0]))
                cells.append(cells[-1] if taken is None else cell_text(Decimal(cells[-1]) - taken))
                out.write_cells(cells)
        except BaseException:
            out.abort()
            raise
        finally:
            self.discard()
        out.close()

    def discard(self) -> None:
        self.f.close()


def header_problems(names, inputs, id_column, records, aliases) -> list[str]:
    """The problems of a table's header, in the DuckDB engine's wording and order: columns that are
    not inputs, required inputs with no column, and a missing id column."""
    problems, present = [], set()
    for c in names:
        if c in inputs:
            present.add(c)
        elif c and c != id_column and c != '行号':
            present.add(R._declared(c, inputs, aliases))
        if c == id_column or c == '' or c in inputs:
            continue
        if c == '行号':
            problems.append('「行号」：未声明的输入（政策中没有这一项；行号由 polc 给出）')
        elif records and c in records:
            problems.append(record_list_problem(c))
        elif R._declared(c, inputs, aliases) is None:
            problems.append(f'「{c}」：未声明的输入（政策中没有这一项）')
    return problems + missing_columns(inputs, present, id_column, names)
