"""``polc diff --facts``: real applicants under both versions — one applicant's amounts, or for a
table (either engine) the budget impact per item, per kind and per department, and who gains and
who loses."""
from __future__ import annotations

import csv
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Optional

import attrs

from polc.dsl.units import format_money

from polc.compiler.python import runtime as R
from polc.compiler.analysis.diff_semantic import _outcome, describe, item_of

TABLE_SUFFIXES = ('.csv', '.jsonl', '.parquet')


class ApplicantsError(Exception):
    """Facts that one of the versions cannot read (message in Chinese)."""


def _names(pairs) -> list:
    """(label, old item name or None, new item name or None) for every matched item."""
    out = []
    for _oc, it, _nc, nit in pairs:
        o = it.name.text if it is not None else None
        n = nit.name.text if nit is not None else None
        out.append((n or o if o in (None, n) else f'{o}→{n}', o, n))
    return out


def _m(v) -> str:
    return format_money(v) if v is not None else '—'


def _signed(v: Decimal) -> str:
    return ('+' if v > 0 else '−' if v < 0 else '±') + format_money(abs(v))


# ------------------------------------------------------------------ one applicant
@attrs.define
class OneApplicant:
    rows: list                  # (label, old text, new text, old amount, new amount)
    old_total: Decimal
    new_total: Decimal
    date: object

    @property
    def differs(self) -> bool:
        return any(r[1] != r[2] for r in self.rows) or self.old_total != self.new_total

    def to_dict(self) -> dict:
        return {'kind': 'applicant', 'date': self.date.isoformat(), 'differs': self.differs,
                'items': [{'item': r[0], 'old': r[1], 'new': r[2],
                           'old_amount': None if r[3] is None else f'{r[3]:f}',
                           'new_amount': None if r[4] is None else f'{r[4]:f}'} for r in self.rows],
                'old_total': f'{self.old_total:f}', 'new_total': f'{self.new_total:f}'}

    def render(self) -> list:
        lines = [f'这位申请人（评估日期 {self.date.isoformat()}）']
        changed = [r for r in self.rows if r[1] != r[2]]
        for label, a, b, va, vb in changed:
            delta = f'（{_signed(vb - va)}）' if va is not None and vb is not None else ''
            lines.append(f'  「{label}」：{a} → {b}{delta}')
        if not changed:
            lines.append('  各项结果相同')
        lines.append(f'  应得合计：{_m(self.old_total)} → {_m(self.new_total)}'
                     + (f'（{_signed(self.new_total - self.old_total)}）' if self.new_total != self.old_total else ''))
        return lines


def one_applicant(old, new, pairs, facts: dict, date) -> OneApplicant:
    raws = []
    for label, c in (('旧版', old), ('新版', new)):
        try:
            raws.append(c.evaluate_raw(facts, date, False))
        except R.FactsError as exc:
            raise ApplicantsError(f'{label}：' + '；'.join(f'「{k}」：{m}' if k else m
                                                          for k, m in exc.problems)) from None
    ra, rb = raws
    rows = []
    for label, o, n in _names(pairs):
        a, b = item_of(ra, o), item_of(rb, n)
        rows.append((label, describe(a), describe(b), _outcome(a)[1], _outcome(b)[1]))
    return OneApplicant(rows, ra['total'], rb['total'], ra['date'])


# ------------------------------------------------------------------ a table
@attrs.define
class TableImpact:
    engine: str
    rows: int
    per_item: list              # (label, old sum, new sum, old ceilings, new ceilings)
    per_kind: list              # (kind, old, new)
    per_department: list        # (department, old, new)
    old_total: Decimal
    new_total: Decimal
    gainers: list               # (row id, old, new), largest gain first
    losers: list
    changed_outcome: int        # applicants with some item's outcome or amount changed
    applicants: list = attrs.Factory(list)   # (row id, old total, new total, {item: (old, new)} changed)
    key_column: str = '行号'
    top: int = 10

    @property
    def differs(self) -> bool:
        return self.changed_outcome > 0

    def to_dict(self) -> dict:
        d = lambda v: f'{v:f}'
        return {'kind': 'table', 'engine': self.engine, 'rows': self.rows, 'differs': self.differs,
                'changed_applicants': self.changed_outcome,
                'old_total': d(self.old_total), 'new_total': d(self.new_total),
                'per_item': [{'item': a, 'old': d(b), 'new': d(c), 'old_ceilings': d(e), 'new_ceilings': d(f)}
                             for a, b, c, e, f in self.per_item],
                'per_kind': [{'kind': a, 'old': d(b), 'new': d(c)} for a, b, c in self.per_kind],
                'per_department': [{'department': a, 'old': d(b), 'new': d(c)} for a, b, c in self.per_department],
                'gainers': [{'row': r, 'old': d(a), 'new': d(b)} for r, a, b in self.gainers],
                'losers': [{'row': r, 'old': d(a), 'new': d(b)} for r, a, b in self.losers]}

    def render(self) -> list:
        lines = [f'申请人表格：{self.rows} 行（引擎 {self.engine}；金额为名额与资金池分配之前的应得金额）',
                 f'  应得合计：{_m(self.old_total)} → {_m(self.new_total)}（{_signed(self.new_total - self.old_total)}）',
                 f'  结果有变化的申请人：{self.changed_outcome} 个；多得 {len(self.gainers)} 个，少得 {len(self.losers)} 个']
        lines.append('  按项（应得合计；最高可获另计）：')
        for label, a, b, ca, cb in self.per_item:
            if a != b or ca != cb:
                extra = f'；最高可获 {_m(ca)} → {_m(cb)}' if ca != cb else ''
                lines.append(f'    「{label}」：{_m(a)} → {_m(b)}（{_signed(b - a)}）{extra}')
        lines.append('  按类别：')
        for kind, a, b in self.per_kind:
            if a != b:
                lines.append(f'    {kind}：{_m(a)} → {_m(b)}（{_signed(b - a)}）')
        lines.append('  按牵头与责任单位（一项有几个单位时各计一次）：')
        for dep, a, b in self.per_department:
            if a != b:
                lines.append(f'    {dep}：{_m(a)} → {_m(b)}（{_signed(b - a)}）')
        for title, rows in (('多得最多', self.gainers), ('少得最多', self.losers)):
            if rows:
                lines.append(f'  {title}的申请人：')
                for r, a, b in rows[:self.top]:
                    lines.append(f'    {r}：{_m(a)} → {_m(b)}（{_signed(b - a)}）')
        return lines


def _run(run_table, compiled, facts_path, out, date, engine, id_column):
    """Evaluate the table with ``run_table`` (``compiler.engines.evaluate_table``, handed in by the
    caller: analysis depends on the Python back end only) and read its CSV result by row key.
    The engine's own error (BatchError, in Chinese) passes through to the caller."""
    run_table(compiled, facts_path, out, date=date, engine=engine, id_column=id_column)
    with open(out, encoding='utf-8', newline='') as f:
        return {(row[id_column] if id_column else row['行号']): row for row in csv.DictReader(f)}


def _dec(cell) -> Optional[Decimal]:
    return Decimal(cell) if cell not in (None, '') else None


def table_impact(run_table, old, new, pairs, facts_path: str, date, engine: str = 'python',
                 id_column: Optional[str] = None) -> TableImpact:
    """``run_table``: :func:`polc.compiler.engines.evaluate_table`."""
    with tempfile.TemporaryDirectory(prefix='polc-diff-') as tmp:
        ra = _run(run_table, old, facts_path, str(Path(tmp) / 'old.csv'), date, engine, id_column)
        rb = _run(run_table, new, facts_path, str(Path(tmp) / 'new.csv'), date, engine, id_column)
    names = _names(pairs)
    kinds, deps = {}, {}
    for c, side in ((old, 0), (new, 1)):
        for cl, it in c.policy.items():
            kinds[(side, it.name.text)] = it.kind or '（未分类）'
            deps[(side, it.name.text)] = tuple(dict.fromkeys(tuple(it.lead or cl.lead) + tuple(it.units or cl.units))) \
                or ('（未写牵头或责任单位）',)
    per_item = {label: [Decimal(0)] * 4 for label, _o, _n in names}
    per_kind: dict = {}
    per_dep: dict = {}
    gainers, losers, changed, applicants = [], [], 0, []
    totals = [Decimal(0), Decimal(0)]
    for key in list(ra) + [k for k in rb if k not in ra]:
        a, b = ra.get(key, {}), rb.get(key, {})
        # before quotas and pools: 合计, or 应得合计（削减前） beside 实发合计 (compiler/tables/io.py)
        ta = _dec(a.get('合计', a.get('应得合计（削减前）'))) or Decimal(0)
        tb = _dec(b.get('合计', b.get('应得合计（削减前）'))) or Decimal(0)
        totals[0] += ta
        totals[1] += tb
        moved = {}
        for label, o, n in names:
            oa = (a.get(f'{o}.结果'), a.get(f'{o}.金额')) if o else (None, None)
            ob = (b.get(f'{n}.结果'), b.get(f'{n}.金额')) if n else (None, None)
            if oa != ob:
                moved[label] = (_cell(oa), _cell(ob))
            for side, (outcome, amount), name in ((0, oa, o), (1, ob, n)):
                v = _dec(amount)
                if v is None or name is None:
                    continue
                if outcome == R.AMOUNT:
                    per_item[label][side] += v
                    k = kinds[(side, name)]
                    per_kind.setdefault(k, [Decimal(0), Decimal(0)])[side] += v
                    for dep in deps[(side, name)]:
                        per_dep.setdefault(dep, [Decimal(0), Decimal(0)])[side] += v
                elif outcome == R.CEILING:
                    per_item[label][2 + side] += v
        changed += bool(moved)
        applicants.append((key, ta, tb, moved))
        if tb > ta:
            gainers.append((key, ta, tb))
        elif tb < ta:
            losers.append((key, ta, tb))
    gainers.sort(key=lambda r: r[1] - r[2])
    losers.sort(key=lambda r: r[2] - r[1])
    return TableImpact(engine, len(set(ra) | set(rb)),
                       [(label, *per_item[label]) for label, _o, _n in names],
                       [(k, *v) for k, v in per_kind.items()], [(k, *v) for k, v in per_dep.items()],
                       totals[0], totals[1], gainers, losers, changed, applicants, id_column or '行号')


def _cell(cell) -> str:
    outcome, amount = cell
    if outcome is None:
        return '（无此项）'
    v = _dec(amount)
    if outcome == R.AMOUNT:
        return format_money(v)
    if outcome == R.CEILING:
        return f'最高可获 {format_money(v)}'
    return R.OUTCOME_LABELS.get(outcome, outcome)


def write_applicants(impact: TableImpact, path: str) -> None:
    """Each applicant under both versions, one CSV row each: totals, change, and the items whose
    outcome or amount changed.  Written whole (temporary file, then rename)."""
    import os
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix='.' + target.name, suffix='.tmp')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8', newline='') as f:
            w = csv.writer(f)
            w.writerow([impact.key_column, '旧版应得合计', '新版应得合计', '变化', '结果有变化的项'])
            for key, ta, tb, moved in impact.applicants:
                q = lambda v: f'{v.quantize(Decimal("0.01")):f}'
                w.writerow([key, q(ta), q(tb), q(tb - ta),
                            '；'.join(f'「{k}」{a} → {b}' for k, (a, b) in moved.items())])
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
