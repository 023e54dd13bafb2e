"""A reference interpreter: evaluates the checked AST directly, by walking it.

It shares nothing with the code generator; from the runtime it uses only the
arithmetic and formatting helpers (``round_fen``, ``floor_div``, ``fmt``), the
facts check and ``evaluate_policy`` (validity, groups and totals).  The
differential test (tests/test_differential.py) runs both on generated facts and
requires the same outcomes, amounts, and numbers in the explanations.
"""
from __future__ import annotations

from decimal import Decimal

from polc.dsl import ast as A
from polc.dsl.checks import Checked
from polc.dsl.text import normalize

from polc.compiler.python import runtime as R
from polc.compiler.python import runtime_records as RR
from polc.compiler.python.codegen_exprs import COMPARED, COMPARED_PARTS
from polc.compiler.python.results import from_runtime


class _NA(Exception):
    def __init__(self, reason):
        self.reason = reason


class Interpreter:
    def __init__(self, checked: Checked, source: str):
        self.c = checked
        self.p = checked.policy
        self.source = source
        self.inputs = {d.name.text: d for d in self.p.inputs}
        self.defines = {d.name.text: d for d in self.p.defines}
        self.maxima = bool(self.p.header_value('rates_are_maxima', False))

    # ---------------------------------------------------------------- tables
    def meta(self) -> dict:
        keys = ['name', 'issuer', 'docno', 'issued', 'effective', 'expiry', 'duration', 'stats_start',
                'principle', 'rates_are_maxima', 'status']
        from polc.compiler.python.dependencies import item_inputs
        out = {k: self.p.header_value(k) for k in keys if self.p.header_value(k) is not None}
        out['item_inputs'] = item_inputs(self.p)
        return out

    def input_table(self) -> dict:
        out = {}
        for d in self.p.inputs:
            default = None if d.default is None else self.literal(d.default)
            out[d.name.text] = (d.type.kind, tuple(v.text for v in d.type.values), default, d.description)
        return out

    @staticmethod
    def literal(e):
        if isinstance(e, A.Number):
            return int(e.value) if e.is_int else e.value
        if isinstance(e, (A.Money, A.Percent, A.Bool, A.DateLit)):
            return e.value
        if isinstance(e, A.Ref):
            return e.name
        if isinstance(e, A.Neg):
            return -Interpreter.literal(e.operand)
        raise TypeError(e)

    def item_table(self) -> list:
        shared = tuple(self.p.header_value('shared_units', ()) or ())
        table = []
        for c, it in self.p.items():
            units = tuple(it.units or c.units)
            info = {'name': it.name.text, 'clause': c.number, 'clause_key': normalize(c.number),
                    'title': c.title, 'kind': it.kind or '奖补',
                    'source': tuple(it.source) or tuple(c.source),
                    'readings': tuple(c.readings) + tuple(it.readings),
                    'lead': tuple(it.lead or c.lead), 'units': units + tuple(u for u in shared if u not in units),
                    'quota': it.quota, 'pool': str(it.pool.value) if it.pool else None,
                    'allocation': it.allocation}
            if it.per_record:
                info['per_record'] = it.per_record
            table.append((info, self._item_fn(it)))
        return table

    def group_table(self) -> list:
        by_name = {g.name.text: g for g in self.p.groups}
        order, seen = [], set()

        def visit(g, path):
            if g.name.text in seen or g.name.text in path:
                return
            for m in g.members:
                if m.text in by_name:
                    visit(by_name[m.text], path | {g.name.text})
            seen.add(g.name.text)
            order.append(g)
        for g in self.p.groups:
            visit(g, frozenset())
        order = [g for g in order if g.per_record] + [g for g in order if not g.per_record]
        return [{'name': g.name.text, 'mode': g.mode, 'members': tuple(m.text for m in g.members),
                 'cap': self.value(g.cap, {}, None) if g.cap is not None else None}
                | ({'per_record': g.per_record} if g.per_record else {}) for g in order]

    def evaluate(self, facts, date=None, explain=True, strict=False):
        if self.p.records:
            records = {r.name.text: (r.description, tuple(d.name.text for d in self.p.record_inputs(r.name.text)))
                       for r in self.p.records}
            caps = {it.name.text: (it.firm_cap_word or '每家最高',
                                   self._item_fn(A.Item(it.name, it.kind, (), (), (), it.firm_cap, None, None)))
                    for _c, it in self.p.items() if it.firm_cap is not None}
            raw = RR.evaluate_records(self.meta(), self.input_table(), records, self.item_table(),
                                      self.group_table(), caps, facts, date, explain, strict)
        else:
            raw = R.evaluate_policy(self.meta(), self.input_table(), self.item_table(), self.group_table(),
                                    facts, date, explain, strict)
        if getattr(self, '_script', None) is None:
            from polc.compiler.python.names import Script
            self._script = Script(self.p, self.source)       # polc's words in the policy's script
        return from_runtime(raw, self.item_table(), tuple(self.p.header_values('reading')), self._script)

    # ---------------------------------------------------------------- evaluation
    def _src(self, node) -> str:
        s = node.span
        return ' '.join(self.source[s.start:s.end].split()) if s else ''

    def _t(self, node) -> str:
        return self.c.type_of(node) or 'number'

    def _item_fn(self, item: A.Item):
        def run(values, explain):
            steps = [] if explain else None
            self.facts = values                 # for 未填 in the explanations (R.fmt_input)
            try:
                for cond in item.conditions:
                    if not self.value(cond, values, None):
                        return R.NOT_APPLICABLE, None, steps, self._failure(cond, values)
                    if steps is not None:
                        steps.append(f'满足条件「{self._src(cond)}」' + self._shown(cond, values, True))
                return self.amount(item.amount, values, steps)
            except _NA as exc:
                return R.NOT_APPLICABLE, None, [], exc.reason
        return run

    def _failure(self, cond, values) -> str:
        return f'不满足条件「{self._src(cond)}」' + self._shown(cond, values, False)

    def _shown(self, cond, values, met: bool) -> str:
        """What follows a condition: a comparison's values 「：21.5% ≥ 12%」 (for 且: each when it holds,
        the first that fails when not; with the inputs read that the applicant did not give), else
        the values it read 「（主体类型 高校）」."""
        parts, stack = [], [cond]
        while stack:
            n = stack.pop()
            if isinstance(n, A.And):
                stack.extend((n.right, n.left))
            else:
                parts.append(n)
        if len(parts) > COMPARED_PARTS or not all(self._comparable(p) for p in parts):
            return self._values_read(cond, values)
        if met:
            shown = '，'.join(self._compared(p, values, True) for p in parts)
        else:
            failed = next((p for p in parts[:-1] if not self.value(p, values, None)), parts[-1])
            shown = self._compared(failed, values, False)
        read = []
        for n in A.walk(cond):
            if isinstance(n, A.Ref) and n.name in self.inputs and n.name not in [r[0] for r in read]:
                read.append((n.name, self.value(n, values, None), self._t(n)))
        return '：' + shown + R.unfilled_note(values, read)

    def _comparable(self, cond) -> bool:
        if isinstance(cond, A.Compare):
            return self._t(cond.left) in COMPARED and self._t(cond.right) in COMPARED
        return isinstance(cond, A.Range) and self._t(cond.subject) in COMPARED

    def _compared(self, cond, values, met: bool) -> str:
        if isinstance(cond, A.Compare):
            return R.compared(met, self.value(cond.left, values, None), cond.op,
                              self.value(cond.right, values, None), self._t(cond.left), self._t(cond.right))

        def bound(b):
            return None if b is None else self.value(b.value, values, None)
        return R.ranged(met, self.value(cond.subject, values, None), bound(cond.low),
                        None if cond.low is None else '>=' if cond.low.inclusive else '>', bound(cond.high),
                        None if cond.high is None else '<=' if cond.high.inclusive else '<', self._t(cond.subject))

    def _values_read(self, cond, values) -> str:
        """「（成交额 200万元，…）」: the inputs and defined values a condition reads ('' for none)."""
        names = []
        for n in A.walk(cond):
            if isinstance(n, A.Ref) and (n.name in self.inputs or n.name in self.defines) \
                    and n.name not in [x[0] for x in names]:
                names.append((n.name, n))
        if not names:
            return ''
        return '（' + '，'.join(R.fmt_input(values, name, self.value(n, values, None), self._t(n))
                              if name in self.inputs else f'{name} {R.fmt(self.value(n, values, None), self._t(n))}'
                              for name, n in names) + '）'


    def amount(self, am, values, steps):
        if am is None:
            return R.NO_AMOUNT, None, steps, '本项未写金额'
        if isinstance(am, A.Tiers):
            for i, t in enumerate(am.tiers):
                if self.value(t.condition, values, None):
                    if steps is not None:
                        steps.append(f'适用第{i + 1}档：「{self._src(t.condition)}」')
                    return self.amount(t.amount, values, steps)
            if am.otherwise is not None:
                if steps is not None:
                    steps.append('不满足前列各档，适用「否则」')
                return self.amount(am.otherwise, values, steps)
            reasons = '；'.join(self._failure(t.condition, values) for t in am.tiers)
            return R.NOT_APPLICABLE, None, steps, '不属于任何一档：' + reasons
        if isinstance(am, A.CaseByCase):
            return R.CASE_BY_CASE, None, steps, '按“一事一议”原则确定'
        if isinstance(am, A.Deferred):
            return R.DEFERRED, None, steps, '按规定享受' + am.target
        if isinstance(am, A.NonCash):
            return R.NON_CASH, None, steps, am.benefit
        if isinstance(am, A.NoAmount):
            return R.NO_AMOUNT, None, steps, am.note or '本措施未设定金额'
        if isinstance(am, A.ExplicitNA):
            return R.NOT_APPLICABLE, None, steps, am.note or '按本项规定不适用'
        if isinstance(am, A.Ceiling):
            v = self.value(am.value, values, steps)
            if steps is not None:
                steps.append(f'最高可获 {R.fmt(v, "money")}')
            return R.CEILING, v, steps, '原文规定为最高额，实际金额以审核为准'
        v = self.value(am, values, steps)
        rate = any(isinstance(n, A.BinOp) and n.op == '*' and 'percent' in (self._t(n.left), self._t(n.right))
                   for n in A.walk(am))
        if self.maxima and rate:
            if steps is not None:
                steps.append(f'本措施规定的奖补百分比均指最高比例：最高可获 {R.fmt(v, "money")}')
            return R.CEILING, v, steps, '奖补百分比为最高比例，实际金额以审核为准'
        if steps is not None and isinstance(am, (A.Money, A.Ref)) and not (
                isinstance(am, A.Ref) and am.name in self.defines):
            steps.append(f'给予 {self.describe(am, v)}')
        return R.AMOUNT, v, steps, ''

    def describe(self, e, v) -> str:
        if isinstance(e, (A.Money, A.Percent, A.Number)):
            return e.text
        if isinstance(e, A.Ref) and (e.name in self.inputs or e.name in self.defines):
            if e.name in self.inputs:
                return R.fmt_input(getattr(self, 'facts', None), e.name, v, self._t(e))
            return f'{e.name} {R.fmt(v, self._t(e))}'
        if isinstance(e, A.Ref):
            return e.name
        return R.fmt(v, self._t(e))

    def value(self, e, values, steps):
        """The value of an expression; appends explanation steps when ``steps`` is a list."""
        if isinstance(e, (A.Money, A.Percent, A.Number, A.Bool, A.DateLit)):
            return self.literal(e)
        if isinstance(e, A.Ref):
            if e.name in self.inputs:
                return values[e.name]
            if e.name in self.defines:
                d = self.defines[e.name]
                v = self.value(d.expr, values, steps)
                if steps is not None and self._t(d.expr) != 'bool':
                    steps.append(f'{e.name} = {R.fmt(v, self._t(d.expr))}')
                return v
            return e.name
        if isinstance(e, A.Neg):
            return -self.value(e.operand, values, steps)
        if isinstance(e, A.BinOp):
            a = self.value(e.left, values, steps)
            b = self.value(e.right, values, steps)
            if e.op == '/':
                if b == 0:
                    raise _NA('除数为零，无法计算')
                v = a / b
            else:
                v = {'+': lambda: a + b, '-': lambda: a - b, '*': lambda: a * b}[e.op]()
            if steps is not None:
                sym = {'+': ' + ', '-': ' − ', '*': ' × ', '/': ' ÷ '}[e.op]
                steps.append(f'{self.describe(e.left, a)}{sym}{self.describe(e.right, b)} = {R.fmt(v, self._t(e))}')
            return v
        if isinstance(e, A.Compare):
            a, b = self.value(e.left, values, None), self.value(e.right, values, None)
            return {'>=': a >= b, '<=': a <= b, '>': a > b, '<': a < b, '==': a == b, '!=': a != b}[e.op]
        if isinstance(e, A.Range):
            x = self.value(e.subject, values, None)
            if e.low is not None:
                lo = self.value(e.low.value, values, None)
                if x < lo or (x == lo and not e.low.inclusive):
                    return False
            if e.high is not None:
                hi = self.value(e.high.value, values, None)
                if x > hi or (x == hi and not e.high.inclusive):
                    return False
            return True
        if isinstance(e, A.Is):
            return self.value(e.subject, values, None) == e.value.text
        if isinstance(e, A.In):
            return self.value(e.subject, values, None) in {v.text for v in e.values}
        if isinstance(e, A.And):
            return bool(self.value(e.left, values, None)) and bool(self.value(e.right, values, None))
        if isinstance(e, A.Or):
            return bool(self.value(e.left, values, None)) or bool(self.value(e.right, values, None))
        if isinstance(e, A.Not):
            return not self.value(e.operand, values, None)
        if isinstance(e, A.Cap):
            a = self.value(e.value, values, steps)
            b = self.value(e.limit, values, steps)
            if steps is not None:
                if a <= b:
                    steps.append(f'{self.describe(e.value, a)}，未超过上限 {self.describe(e.limit, b)}')
                else:
                    steps.append(f'{self.describe(e.value, a)}，超过上限 {self.describe(e.limit, b)}，'
                                 f'按 {R.fmt(b, self._t(e))} 计')
            return a if a <= b else b
        if isinstance(e, A.PerStep):
            base = self.value(e.base, values, steps)
            step = self.value(e.step, values, steps)
            award = self.value(e.award, values, steps)
            if e.full_steps:
                n = R.floor_div(base, step)
                v = n * award
                if steps is not None:
                    steps.append(f'{self.describe(e.base, base)}，每满 {self.describe(e.step, step)} 给予 '
                                 f'{self.describe(e.award, award)}：满 {R.fmt(n, "int")} 个整步 × '
                                 f'{self.describe(e.award, award)} = {R.fmt(v, self._t(e))}')
            else:
                if step == 0:
                    raise _NA('除数为零，无法计算')
                v = base / step * award
                if steps is not None:
                    steps.append(f'{self.describe(e.base, base)} ÷ {self.describe(e.step, step)} × '
                                 f'{self.describe(e.award, award)} = {R.fmt(v, self._t(e))}（按比例计算）')
            return v
        if isinstance(e, A.Schedule):
            year = self.value(e.index, values, steps)
            for en in e.entries:
                if year in en.years:
                    v = self.value(en.value, values, steps)
                    if steps is not None:
                        steps.append(f'第{R.fmt(year, "int")}年，适用「{en.label}」{self.describe(en.value, v)}')
                    return v
            raise _NA(f'第{R.fmt(year, "int")}年不在补助期内（{"、".join(en.label for en in e.entries)}）')
        if isinstance(e, A.ByCategory):
            cat = self.value(e.subject, values, steps)
            for en in e.entries:
                if cat == en.category.text:
                    v = self.value(en.value, values, steps)
                    if steps is not None:
                        steps.append(f'{self.describe(e.subject, cat)}，分别标准：{self.describe(en.value, v)}')
                    return v
            raise _NA(f'「{cat}」不在本项所列类别（{"、".join(en.category.text for en in e.entries)}）之内')
        if isinstance(e, A.Progressive):
            base = self.value(e.base, values, steps)
            reached = None
            for st in e.steps:
                if base >= self.value(st.threshold, values, None):
                    reached = st
            if reached is None:
                raise _NA(f'{self.describe(e.base, base)}，未达到最低门槛 {self._src(e.steps[0].threshold)}')
            award = self.value(reached.award, values, None)
            if steps is not None:
                steps.append(f'{self.describe(e.base, base)}，达到 {self._src(reached.threshold)} 档，'
                             f'按晋级标准为 {R.fmt(award, "money")}')
            if e.received is None:
                return award
            rec = self.value(e.received, values, steps)
            v = max(award - rec, Decimal(0))
            if steps is not None:
                said = ' − ' if self._src(e.received).lstrip('「').startswith('已获') else ' − 已获 '
                steps.append(f'晋级补差：{R.fmt(award, "money")}{said}{self.describe(e.received, rec)} = '
                             f'{R.fmt(v, "money")}' + ('（不低于 0元）' if award < rec else ''))
            return v
        if isinstance(e, (A.MaxOf, A.MinOf)):
            vs = [self.value(x, values, steps) for x in e.values]
            v = max(vs) if isinstance(e, A.MaxOf) else min(vs)
            if steps is not None:
                word = '取高' if isinstance(e, A.MaxOf) else '取低'
                steps.append(f'{word}（' + '、'.join(self.describe(x, y) for x, y in zip(e.values, vs)) +
                             f'）= {R.fmt(v, self._t(e))}')
            return v
        raise TypeError(type(e).__name__)
