"""Code generation: a checked policy -> Python source.

One function per item (``_item_N(F, X)``: facts, explain flag) and one per
definition; module-level constants for every literal; tables describing inputs,
items and groups; and ``evaluate(facts, date=None, explain=True)``.

Nothing from the .pol file reaches the generated source except through ``repr``
of a ``str``/``int`` or as a ``Decimal`` built from a digit string; every
identifier is mangled to ASCII (``_v3``, ``_item_2``), so no policy text can
inject code, whatever characters it holds.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from polc.dsl import ast as A
from polc.dsl.checks import Checked
from polc.dsl.text import normalize

RUNTIME_IMPORT = 'from polc.compiler.python import runtime as _R'


class Emitter:
    """Lines of Python with indentation."""

    def __init__(self):
        self.lines: list[str] = []
        self.level = 0

    def line(self, text: str = '') -> None:
        self.lines.append('    ' * self.level + text if text else '')

    def indent(self):
        emitter = self

        class _Block:
            def __enter__(self):
                emitter.level += 1

            def __exit__(self, *exc):
                emitter.level -= 1
        return _Block()

    def source(self) -> str:
        return '\n'.join(self.lines) + '\n'


_CMP = {'>=': ' >= ', '<=': ' <= ', '>': ' > ', '<': ' < ', '==': ' == ', '!=': ' != '}
_OP_TEXT = {'+': ' + ', '-': ' − ', '*': ' × ', '/': ' ÷ '}


class _Gen:
    def __init__(self, checked: Checked, source: str):
        self.c = checked
        self.p = checked.policy
        self.source = source
        self.consts: dict[tuple, str] = {}
        self.const_lines: list[str] = []
        self.input_var = {d.name.text: f'_v{i}' for i, d in enumerate(self.p.inputs)}
        self.define_fn = {d.name.text: f'_def{i}' for i, d in enumerate(self.p.defines)}
        self.tmp = 0
        self.rates_are_maxima = bool(self.p.header_value('rates_are_maxima', False))

    # ---------------------------------------------------------------- helpers
    def t(self, node) -> str:
        return self.c.type_of(node) or 'number'

    def const(self, value) -> str:
        if isinstance(value, bool):
            return repr(value)
        if isinstance(value, int):
            return repr(value)
        key = (type(value).__name__, str(value))
        if key not in self.consts:
            name = f'_K{len(self.consts)}'
            self.consts[key] = name
            if isinstance(value, Decimal):
                self.const_lines.append(f'{name} = _D({str(value)!r})')
            else:    # a date
                self.const_lines.append(f'{name} = _dt.date({value.year}, {value.month}, {value.day})')
        return self.consts[key]

    def table(self, body: str, values) -> str:
        """A lookup table; built once at import when every value is a constant."""
        if all(isinstance(v, (A.Money, A.Percent, A.Number)) for v in values):
            key = ('table', body)
            if key not in self.consts:
                name = f'_K{len(self.consts)}'
                self.consts[key] = name
                self.const_lines.append(f'{name} = {{{body}}}')
            return self.consts[key]
        return '{' + body + '}'

    def new_tmp(self) -> str:
        self.tmp += 1
        return f'_t{self.tmp}'

    def src(self, node) -> str:
        """The source text of a node, on one line, full-width forms kept as written."""
        s = getattr(node, 'span', None)
        if s is None:
            return ''
        return ' '.join(self.source[s.start:s.end].split())

    def fmt(self, code: str, type_: str) -> str:
        return f'_R.fmt({code}, {type_!r})'

    def literal_value(self, e):
        """Python value of a literal node (for defaults and constants)."""
        if isinstance(e, (A.Money, A.Percent)):
            return e.value
        if isinstance(e, A.Number):
            return int(e.value) if e.is_int else e.value
        if isinstance(e, A.Bool):
            return e.value
        if isinstance(e, A.DateLit):
            return e.value
        if isinstance(e, A.Ref):
            return e.name
        raise TypeError(e)

    def literal_code(self, e) -> str:
        v = self.literal_value(e)
        if isinstance(v, str):
            return repr(v)
        return self.const(v)

    # ---------------------------------------------------------------- pure expressions (conditions)
    def pure(self, e) -> str:
        if isinstance(e, (A.Money, A.Percent, A.Number, A.Bool, A.DateLit)):
            return self.literal_code(e)
        if isinstance(e, A.Ref):
            return self.ref_pure(e)
        if isinstance(e, A.Neg):
            return f'(-{self.pure(e.operand)})'
        if isinstance(e, A.BinOp) and e.op != '/':
            # a left-nested chain a + b - c … is written flat, so long sums stay within
            # Python's limit on nested parentheses
            ops = ('+', '-') if e.op in '+-' else ('*',)
            terms, node = [], e
            while isinstance(node, A.BinOp) and node.op in ops:
                terms.append((node.op, node.right))
                node = node.left
            text = self.pure(node)
            for op, right in reversed(terms):
                text += f' {op} {self.pure(right)}'
            return f'({text})'
        if isinstance(e, A.BinOp):
            return f'_R.div({self.pure(e.left)}, {self.pure(e.right)})'
        if isinstance(e, A.Compare):
            return f'({self.pure(e.left)}{_CMP[e.op]}{self.pure(e.right)})'
        if isinstance(e, A.Range):
            x = self.pure(e.subject)
            parts = []
            if e.low is not None:
                parts.append(f'{x} {">=" if e.low.inclusive else ">"} {self.pure(e.low.value)}')
            if e.high is not None:
                parts.append(f'{x} {"<=" if e.high.inclusive else "<"} {self.pure(e.high.value)}')
            return '(' + ' and '.join(parts) + ')'
        if isinstance(e, A.Is):
            return f'({self.pure(e.subject)} == {e.value.text!r})'
        if isinstance(e, A.In):
            vals = ', '.join(repr(v.text) for v in e.values)
            return f'({self.pure(e.subject)} in ({vals},))'
        if isinstance(e, (A.And, A.Or)):
            kind, word = type(e), (' and ' if isinstance(e, A.And) else ' or ')
            parts, stack = [], [e]
            while stack:                      # flatten a chain of the same connective
                n = stack.pop()
                if isinstance(n, kind):
                    stack.extend((n.right, n.left))
                else:
                    parts.append(self.pure(n))
            return '(' + word.join(parts) + ')'
        if isinstance(e, A.Not):
            return f'(not {self.pure(e.operand)})'
        if isinstance(e, A.Cap):
            return f'min({self.pure(e.value)}, {self.pure(e.limit)})'
        if isinstance(e, A.PerStep):
            if e.full_steps:
                return f'(_R.floor_div({self.pure(e.base)}, {self.pure(e.step)}) * {self.pure(e.award)})'
            return f'(_R.div({self.pure(e.base)}, {self.pure(e.step)}) * {self.pure(e.award)})'
        if isinstance(e, A.Schedule):
            table = self.table(', '.join(f'{y}: {self.pure(en.value)}' for en in e.entries for y in en.years),
                               [en.value for en in e.entries])
            labels = '、'.join(f'{en.label}' for en in e.entries)
            return f'_R.pick_year({self.pure(e.index)}, {table}, {labels!r})'
        if isinstance(e, A.ByCategory):
            table = self.table(', '.join(f'{en.category.text!r}: {self.pure(en.value)}' for en in e.entries),
                               [en.value for en in e.entries])
            return f'_R.pick_category({self.pure(e.subject)}, {table})'
        if isinstance(e, A.Progressive):
            th = ', '.join(self.pure(s.threshold) for s in e.steps)
            aw = ', '.join(self.pure(s.award) for s in e.steps)
            rec = self.pure(e.received) if e.received is not None else '_D(0)'
            return f'_R.progressive({self.pure(e.base)}, ({th},), ({aw},), {rec})'
        if isinstance(e, A.MaxOf):
            return 'max(' + ', '.join(self.pure(v) for v in e.values) + ')'
        if isinstance(e, A.MinOf):
            return 'min(' + ', '.join(self.pure(v) for v in e.values) + ')'
        raise TypeError(f'cannot compile {type(e).__name__}')

    def ref_pure(self, e: A.Ref) -> str:
        if e.name in self.input_var:
            return self.input_var[e.name]
        if e.name in self.define_fn:
            return f'{self.define_fn[e.name]}(F, False, None)'
        return repr(e.name)          # an enumeration value

    # ---------------------------------------------------------------- stepwise values (amounts)
    def value(self, out: Emitter, e) -> tuple[str, str]:
        """Emit statements computing ``e``; return (code of the value, code of its description)."""
        t = self.t(e)
        if isinstance(e, (A.Money, A.Percent, A.Number)):
            return self.literal_code(e), repr(e.text)
        if isinstance(e, (A.Bool, A.DateLit)):
            code = self.literal_code(e)
            return code, self.fmt(code, t)
        if isinstance(e, A.Ref):
            if e.name in self.define_fn:
                v = self.new_tmp()
                out.line(f'{v} = {self.define_fn[e.name]}(F, X, S)')
                return v, f'{e.name!r} + " " + {self.fmt(v, t)}'
            code = self.ref_pure(e)
            if e.name in self.input_var:
                return code, f'{e.name!r} + " " + {self.fmt(code, t)}'
            return code, repr(e.name)
        if isinstance(e, A.Neg):
            a, da = self.value(out, e.operand)
            v = self.new_tmp()
            out.line(f'{v} = -{a}')
            return v, self.fmt(v, t)
        if isinstance(e, A.BinOp):
            a, da = self.value(out, e.left)
            b, db = self.value(out, e.right)
            v = self.new_tmp()
            if e.op == '/':
                out.line(f'{v} = _R.div({a}, {b})')
            else:
                out.line(f'{v} = {a} {e.op} {b}')
            out.line(f'if X: S.append({da} + {_OP_TEXT[e.op]!r} + {db} + " = " + {self.fmt(v, t)})')
            return v, self.fmt(v, t)
        if isinstance(e, A.Cap):
            a, da = self.value(out, e.value)
            b, db = self.value(out, e.limit)
            v = self.new_tmp()
            out.line(f'if {a} <= {b}:')
            with out.indent():
                out.line(f'{v} = {a}')
                out.line(f'if X: S.append({da} + "，未超过上限 " + {db})')
            out.line('else:')
            with out.indent():
                out.line(f'{v} = {b}')
                out.line(f'if X: S.append({da} + "，超过上限 " + {db} + "，按 " + {self.fmt(v, t)} + " 计")')
            return v, self.fmt(v, t)
        if isinstance(e, A.PerStep):
            base, dbase = self.value(out, e.base)
            step, dstep = self.value(out, e.step)
            award, daward = self.value(out, e.award)
            n, v = self.new_tmp(), self.new_tmp()
            if e.full_steps:
                out.line(f'{n} = _R.floor_div({base}, {step})')
                out.line(f'{v} = {n} * {award}')
                out.line(f'if X: S.append({dbase} + "，每满 " + {dstep} + " 给予 " + {daward} + "：满 " + '
                         f'_R.fmt({n}, "int") + " 个整步 × " + {daward} + " = " + {self.fmt(v, t)})')
            else:
                out.line(f'{n} = _R.div({base}, {step})')
                out.line(f'{v} = {n} * {award}')
                out.line(f'if X: S.append({dbase} + " ÷ " + {dstep} + " × " + {daward} + " = " + '
                         f'{self.fmt(v, t)} + "（按比例计算）")')
            return v, self.fmt(v, t)
        if isinstance(e, A.Schedule):
            idx, didx = self.value(out, e.index)
            v = self.new_tmp()
            first = True
            for en in e.entries:
                cond = ' or '.join(f'{idx} == {y}' for y in en.years) or 'False'
                out.line(f'{"if" if first else "elif"} {cond}:')
                first = False
                with out.indent():
                    a, da = self.value(out, en.value)
                    out.line(f'{v} = {a}')
                    out.line(f'if X: S.append("第" + _R.fmt({idx}, "int") + "年，适用「{en.label}」" + {da})')
            labels = '、'.join(en.label for en in e.entries)
            out.line('else:')
            with out.indent():
                out.line(f'raise _R.Inapplicable("第" + _R.fmt({idx}, "int") + "年不在补助期内（" + {labels!r} + "）")')
            return v, self.fmt(v, t)
        if isinstance(e, A.ByCategory):
            subj, dsubj = self.value(out, e.subject)
            v = self.new_tmp()
            for i, en in enumerate(e.entries):
                out.line(f'{"if" if i == 0 else "elif"} {subj} == {en.category.text!r}:')
                with out.indent():
                    a, da = self.value(out, en.value)
                    out.line(f'{v} = {a}')
                    out.line(f'if X: S.append({dsubj} + "，分别标准：" + {da})')
            cats = '、'.join(en.category.text for en in e.entries)
            out.line('else:')
            with out.indent():
                out.line(f'raise _R.Inapplicable("「" + str({subj}) + "」不在本项所列类别（" + {cats!r} + "）之内")')
            return v, self.fmt(v, t)
        if isinstance(e, A.Progressive):
            base, dbase = self.value(out, e.base)
            v, reached = self.new_tmp(), self.new_tmp()
            steps = list(e.steps)
            for i, st in enumerate(reversed(steps)):
                th, dth = self.value(out, st.threshold) if i == 0 else (self.pure(st.threshold), repr(self.src(st.threshold)))
                out.line(f'{"if" if i == 0 else "elif"} {base} >= {th}:')
                with out.indent():
                    aw = self.pure(st.award)
                    out.line(f'{v} = {aw}')
                    out.line(f'{reached} = {self.src(st.threshold)!r}')
            out.line('else:')
            with out.indent():
                out.line(f'raise _R.Inapplicable({dbase} + "，未达到最低门槛 " + {self.src(steps[0].threshold)!r})')
            out.line(f'if X: S.append({dbase} + "，达到 " + {reached} + " 档，按晋级标准为 " + {self.fmt(v, "money")})')
            if e.received is not None:
                rec, drec = self.value(out, e.received)
                w = self.new_tmp()
                out.line(f'{w} = {v} - {rec}')
                out.line(f'if {w} < 0: {w} = _D(0)')
                out.line(f'if X: S.append("晋级补差：" + {self.fmt(v, "money")} + " − 已获 " + {drec} + " = " + '
                         f'{self.fmt(w, "money")} + ("（不低于 0元）" if {v} < {rec} else ""))')
                return w, self.fmt(w, t)
            return v, self.fmt(v, t)
        if isinstance(e, (A.MaxOf, A.MinOf)):
            parts = [self.value(out, x) for x in e.values]
            v = self.new_tmp()
            fn, word = ('max', '取高') if isinstance(e, A.MaxOf) else ('min', '取低')
            out.line(f'{v} = {fn}({", ".join(p[0] for p in parts)})')
            descs = ' + "、" + '.join(p[1] for p in parts)
            out.line(f'if X: S.append("{word}（" + {descs} + "）= " + {self.fmt(v, t)})')
            return v, self.fmt(v, t)
        # conditions used as values (rare): pure
        code = self.pure(e)
        v = self.new_tmp()
        out.line(f'{v} = {code}')
        return v, self.fmt(v, t)

    # ---------------------------------------------------------------- conditions
    def condition_failure(self, cond) -> str:
        """Code of the not-applicable reason for a failed condition, with the values it read."""
        names = []
        for n in A.walk(cond):
            if isinstance(n, A.Ref) and (n.name in self.input_var or n.name in self.define_fn) \
                    and n.name not in names:
                names.append(n.name)
        parts = ' + "，" + '.join(f'{n!r} + " " + {self.fmt(self.ref_pure(A.Ref(n)), self.c.type_of(self._first_ref(cond, n)) or "number")}'
                                 for n in names)
        text = f'"不满足条件「" + {self.src(cond)!r} + "」"'
        if names:
            text += f' + "（" + {parts} + "）"'
        return text

    def _first_ref(self, cond, name):
        for n in A.walk(cond):
            if isinstance(n, A.Ref) and n.name == name:
                return n
        return None

    # ---------------------------------------------------------------- amounts
    def is_rate_based(self, am) -> bool:
        for n in A.walk(am):
            if isinstance(n, A.BinOp) and n.op == '*' and (
                    self.t(n.left) == 'percent' or self.t(n.right) == 'percent'):
                return True
        return False

    def amount(self, out: Emitter, am, item: A.Item) -> None:
        if isinstance(am, A.Tiers):
            reasons = []
            for i, tier in enumerate(am.tiers):
                out.line(f'{"if" if i == 0 else "elif"} {self.pure(tier.condition)}:')
                with out.indent():
                    out.line(f'if X: S.append("适用第{i + 1}档：「" + {self.src(tier.condition)!r} + "」")')
                    self.amount(out, tier.amount, item)
                reasons.append(tier.condition)
            out.line('else:')
            with out.indent():
                if am.otherwise is not None:
                    out.line('if X: S.append("不满足前列各档，适用「否则」")')
                    self.amount(out, am.otherwise, item)
                else:
                    subject = ' + "；" + '.join(self.condition_failure(c) for c in reasons)
                    out.line(f'return (_R.NOT_APPLICABLE, None, S, "不属于任何一档：" + {subject})')
            return
        if isinstance(am, A.CaseByCase):
            out.line('return (_R.CASE_BY_CASE, None, S, "按“一事一议”原则确定")')
            return
        if isinstance(am, A.Deferred):
            out.line(f'return (_R.DEFERRED, None, S, {("按规定享受" + am.target)!r})')
            return
        if isinstance(am, A.NonCash):
            out.line(f'return (_R.NON_CASH, None, S, {am.benefit!r})')
            return
        if isinstance(am, A.NoAmount):
            out.line(f'return (_R.NO_AMOUNT, None, S, {(am.note or "本措施未设定金额")!r})')
            return
        if isinstance(am, A.ExplicitNA):
            out.line(f'return (_R.NOT_APPLICABLE, None, S, {(am.note or "按本项规定不适用")!r})')
            return
        if isinstance(am, A.Ceiling):
            v, dv = self.value(out, am.value)
            out.line(f'if X: S.append("最高可获 " + {self.fmt(v, "money")})')
            out.line(f'return (_R.CEILING, {v}, S, "原文规定为最高额，实际金额以审核为准")')
            return
        v, dv = self.value(out, am)
        if self.rates_are_maxima and self.is_rate_based(am):
            out.line(f'if X: S.append("本措施规定的奖补百分比均指最高比例：最高可获 " + {self.fmt(v, "money")})')
            out.line(f'return (_R.CEILING, {v}, S, "奖补百分比为最高比例，实际金额以审核为准")')
            return
        if v.startswith('_K') or v.startswith('_v'):
            out.line(f'if X: S.append("给予 " + {dv})')
        out.line(f'return (_R.AMOUNT, {v}, S, "")')

    # ---------------------------------------------------------------- the typed fast path
    def fast_amount(self, out: Emitter, am, i: int) -> None:
        """Statements setting o{i} (outcome) and a{i} (amount or None), without explanation."""
        o, a = f'o{i}', f'a{i}'
        if isinstance(am, A.Tiers):
            for k, tier in enumerate(am.tiers):
                out.line(f'{"if" if k == 0 else "elif"} {self.pure(tier.condition)}:')
                with out.indent():
                    self.fast_amount(out, tier.amount, i)
            out.line('else:')
            with out.indent():
                if am.otherwise is not None:
                    self.fast_amount(out, am.otherwise, i)
                else:
                    out.line(f'{o} = _R.NOT_APPLICABLE; {a} = None')
            return
        simple = {A.CaseByCase: '_R.CASE_BY_CASE', A.Deferred: '_R.DEFERRED', A.NonCash: '_R.NON_CASH',
                  A.NoAmount: '_R.NO_AMOUNT', A.ExplicitNA: '_R.NOT_APPLICABLE'}
        if type(am) in simple:
            out.line(f'{o} = {simple[type(am)]}; {a} = None')
        elif isinstance(am, A.Ceiling):
            out.line(f'{o} = _R.CEILING; {a} = {self.pure(am.value)}')
        elif self.rates_are_maxima and self.is_rate_based(am):
            out.line(f'{o} = _R.CEILING; {a} = {self.pure(am)}')
        else:
            out.line(f'{o} = _R.AMOUNT; {a} = {self.pure(am)}')

    def typed_function(self, out: Emitter, items) -> None:
        before = len(self.const_lines)
        self._typed_function(out, items)
        self.typed_new_consts = len(self.const_lines) - before

    def _typed_function(self, out: Emitter, items) -> None:
        names = tuple(it.name.text for _c, it in items)
        out.line(f'_NAMES = {names!r}')
        out.line('_START, _END = _R.validity_bounds(META)')
        out.line()
        out.line('def evaluate_typed(F, date):')
        with out.indent():
            out.line('"""Typed facts (every input present, Decimal money) and a date -> '
                     '({item: (outcome, value)}, total). No checks, no explanation: the fast path."""')
            out.line('if (_START is not None and date < _START) or (_END is not None and date > _END):')
            with out.indent():
                out.line('return {n: (_R.NOT_APPLICABLE, None) for n in _NAMES}, _D(0)')
            used = []
            for _c, it in items:
                for n in self.used_inputs(it):
                    if n not in used:
                        used.append(n)
            for n in used:
                out.line(f'{self.input_var[n]} = F[{n!r}]')
            for i, (_c, it) in enumerate(items):
                out.line('try:')
                with out.indent():
                    if it.conditions:
                        cond = ' and '.join(self.pure(c) for c in it.conditions)
                        out.line(f'if not ({cond}):')
                        with out.indent():
                            out.line(f'o{i} = _R.NOT_APPLICABLE; a{i} = None')
                        out.line('else:')
                        with out.indent():
                            self.fast_amount(out, it.amount, i)
                    elif it.amount is None:
                        out.line(f'o{i} = _R.NO_AMOUNT; a{i} = None')
                    else:
                        self.fast_amount(out, it.amount, i)
                out.line('except _R.Inapplicable:')
                with out.indent():
                    out.line(f'o{i} = _R.NOT_APPLICABLE; a{i} = None')
                out.line(f'if a{i} is not None:')
                with out.indent():
                    out.line(f'a{i} = _R.round_fen(a{i})')
                    out.line(f'if a{i} < 0: a{i} = _D(0)')
            self.typed_groups(out, items)
            out.line('_t = _D(0)')
            for i in range(len(items)):
                out.line(f'if o{i} is _R.AMOUNT: _t += v{i}')
            entries = ', '.join(
                f'{it.name.text!r}: (o{i}, v{i} if o{i} is _R.AMOUNT or o{i} is _R.CEILING else None)'
                for i, (_c, it) in enumerate(items))
            out.line(f'return {{{entries}}}, _t')

    def typed_groups(self, out: Emitter, items) -> None:
        """Straight-line code for 就高 and 合计…最高 (the runtime's _apply_groups, unrolled).
        v{i}: what item i contributes; g{j}: the current total of group j."""
        index = {it.name.text: i for i, (_c, it) in enumerate(items)}
        for i in range(len(items)):
            out.line(f'v{i} = a{i} if (o{i} is _R.AMOUNT or o{i} is _R.CEILING) and a{i} is not None '
                     f'else _D(0)')
        groups = {g.name.text: g for g in self.p.groups}
        gindex = {g.name.text: j for j, g in enumerate(_group_order(self.p))}

        def val(m: str) -> str:
            return f'v{index[m]}' if m in index else f'g{gindex[m]}'

        def set_aside(m: str) -> None:
            if m in index:
                out.line(f'v{index[m]} = _D(0)')
            else:
                out.line(f'g{gindex[m]} = _D(0)')
                for mm in groups[m].members:
                    set_aside(mm.text)

        def reduce(m: str, amount: str) -> None:
            if m in index:
                out.line(f'v{index[m]} = {amount}')
                return
            j = gindex[m]
            out.line(f'g{j} = {amount}')
            r = self.new_tmp()
            out.line(f'{r} = g{j}')
            sequential(groups[m].members, r)

        def sequential(members, remaining: str) -> None:
            for mm in members:
                v, k = val(mm.text), self.new_tmp()
                out.line(f'{k} = {v} if {v} <= {remaining} else {remaining}')
                out.line(f'if {k} != {v}:')
                with out.indent():
                    reduce(mm.text, k)
                out.line(f'{remaining} -= {k}')

        for g in _group_order(self.p):
            j = gindex[g.name.text]
            members = [m.text for m in g.members]
            if g.mode == 'highest':
                w = self.new_tmp()
                out.line(f'g{j} = _D(0); {w} = -1')
                for k, m in enumerate(members):
                    out.line(f'if {val(m)} > g{j}: g{j} = {val(m)}; {w} = {k}')
                for k, m in enumerate(members):
                    out.line(f'if {w} != {k} and {val(m)} > 0:')
                    with out.indent():
                        set_aside(m)
            else:
                cap = self.pure(g.cap)
                t = self.new_tmp()
                out.line(f'{t} = ' + ' + '.join(val(m) for m in members))
                out.line(f'if {t} > {cap}:')
                with out.indent():
                    r = self.new_tmp()
                    out.line(f'{r} = {cap}')
                    sequential(g.members, r)
                    out.line(f'g{j} = {cap}')
                out.line('else:')
                with out.indent():
                    out.line(f'g{j} = {t}')

    # ---------------------------------------------------------------- functions
    def used_inputs(self, node) -> list[str]:
        names = []
        for n in A.walk(node):
            if isinstance(n, A.Ref) and n.name in self.input_var and n.name not in names:
                names.append(n.name)
        return names

    def item_function(self, out: Emitter, index: int, item: A.Item) -> str:
        fn = f'_item{index}'
        out.line(f'def {fn}(F, X):')
        with out.indent():
            out.line('S = [] if X else None')
            for name in self.used_inputs(item):
                out.line(f'{self.input_var[name]} = F[{name!r}]')
            for cond in item.conditions:
                out.line(f'if not {self.pure(cond)}:')
                with out.indent():
                    out.line(f'return (_R.NOT_APPLICABLE, None, S, {self.condition_failure(cond)})')
                out.line(f'if X: S.append("满足条件「" + {self.src(cond)!r} + "」")')
            if item.amount is None:
                out.line('return (_R.NO_AMOUNT, None, S, "本项未写金额")')
            else:
                self.amount(out, item.amount, item)
        out.line()
        return fn

    def define_function(self, out: Emitter, d: A.Define) -> None:
        fn = self.define_fn[d.name.text]
        out.line(f'def {fn}(F, X, S):')
        with out.indent():
            for name in self.used_inputs(d.expr):
                out.line(f'{self.input_var[name]} = F[{name!r}]')
            t = self.t(d.expr)
            if t == 'bool':
                out.line(f'return {self.pure(d.expr)}')
            else:
                v, dv = self.value(out, d.expr)
                out.line(f'if X: S.append({d.name.text!r} + " = " + {self.fmt(v, t)})')
                out.line(f'return {v}')
        out.line()


def _kind(item: A.Item) -> str:
    return item.kind or '奖补'


def generate(checked: Checked, source: str, runtime_import: str = RUNTIME_IMPORT,
             typed: bool = True) -> str:
    """Python source of a module that evaluates the policy (with the typed fast path unless
    ``typed`` is False; :func:`generate_typed` gives that part alone)."""
    g = _Gen(checked, source)
    p = checked.policy
    body = Emitter()
    for d in p.defines:
        g.define_function(body, d)
    item_fns = []
    for i, (clause, item) in enumerate(p.items()):
        item_fns.append((clause, item, g.item_function(body, i, item)))
    meta = _meta_lines(g, p)

    tables = Emitter()
    shared = tuple(p.header_value('shared_units', ()) or ())
    tables.line('ITEMS = [')
    with tables.indent():
        for clause, item, fn in item_fns:
            info = {
                'name': item.name.text, 'clause': clause.number, 'clause_key': normalize(clause.number),
                'title': clause.title, 'kind': _kind(item),
                'source': tuple(item.source) or tuple(clause.source),
                'readings': tuple(clause.readings) + tuple(item.readings),
                'lead': tuple(item.lead or clause.lead),
                'units': tuple(item.units or clause.units) + tuple(
                    u for u in shared if u not in (item.units or clause.units)),
                'quota': item.quota, 'pool': str(item.pool.value) if item.pool else None,
                'allocation': item.allocation,
            }
            tables.line(f'({info!r}, {fn}),')
    tables.line(']')
    tables.line(f'POLICY_READINGS = {tuple(p.header_values("reading"))!r}')
    tables.line()
    tables.line('GROUPS = [')
    with tables.indent():
        for grp in _group_order(p):
            cap = g.pure(grp.cap) if grp.cap is not None else 'None'
            members = tuple(m.text for m in grp.members)
            tables.line(f'{{"name": {grp.name.text!r}, "mode": {grp.mode!r}, "members": {members!r}, '
                        f'"cap": {cap}}},')
    tables.line(']')

    out = Emitter()
    out.line('# Generated by polc from a .pol policy. Do not edit by hand.')
    out.line('import datetime as _dt')
    out.line('from decimal import Decimal as _D')
    out.line(runtime_import)
    out.line()
    out.lines.extend(g.const_lines)
    out.line()
    out.lines.extend(meta)
    out.line()
    out.lines.extend(body.lines)
    out.lines.extend(tables.lines)
    out.line()
    out.line()
    out.line('def evaluate(facts, date=None, explain=True):')
    with out.indent():
        out.line('return _R.evaluate_policy(META, INPUTS, ITEMS, GROUPS, facts, date, explain)')
    if typed:
        out.line()
        out.line()
        out.lines.extend(_typed_lines(g, p))
    return out.source()


def _typed_lines(g: '_Gen', p: A.Policy) -> list[str]:
    fast = Emitter()
    g.typed_function(fast, list(p.items()))
    # constants first used by the fast path (a cap written only there) go before it
    return g.const_lines[len(g.const_lines) - g.typed_new_consts:] + [''] + fast.lines


def generate_typed(checked: Checked, source: str) -> str:
    """Only the typed fast path, to be run in the namespace of a module made by :func:`generate`
    (with the same policy): compiled on first use, since large policies make it costly."""
    g = _Gen(checked, source)
    generate_into = Emitter()
    for d in checked.policy.defines:                  # register constants in the same order
        g.define_function(generate_into, d)
    for i, (clause, item) in enumerate(checked.policy.items()):
        g.item_function(generate_into, i, item)
    _meta_lines(g, checked.policy)
    for grp in _group_order(checked.policy):
        if grp.cap is not None:
            g.pure(grp.cap)
    return '\n'.join(_typed_lines(g, checked.policy)) + '\n'


def _meta_lines(g: _Gen, p: A.Policy) -> list[str]:
    lines = []
    meta_keys = ['name', 'issuer', 'docno', 'issued', 'effective', 'expiry', 'duration',
                 'stats_start', 'principle', 'rates_are_maxima', 'status']
    lines.append('META = {')
    for k in meta_keys:
        v = p.header_value(k)
        if v is None:
            continue
        if hasattr(v, 'isoformat'):
            lines.append(f'    {k!r}: _dt.date({v.year}, {v.month}, {v.day}),')
        else:
            lines.append(f'    {k!r}: {v!r},')
    lines.append('}')
    lines.append('INPUTS = {')
    for d in p.inputs:
        values = tuple(v.text for v in d.type.values)
        default = 'None'
        if d.default is not None:
            default = g.literal_code(d.default)
        lines.append(f'    {d.name.text!r}: ({d.type.kind!r}, {values!r}, {default}, {d.description!r}),')
    lines.append('}')
    return lines


def _group_order(p: A.Policy) -> list[A.Group]:
    """Groups with inner groups first (members before the groups that contain them)."""
    by_name = {g.name.text: g for g in p.groups}
    done: list[A.Group] = []
    seen: set[str] = set()

    def visit(g: A.Group, path: frozenset):
        if g.name.text in seen or g.name.text in path:
            return
        for m in g.members:
            if m.text in by_name:
                visit(by_name[m.text], path | {g.name.text})
        seen.add(g.name.text)
        done.append(g)

    for g in p.groups:
        visit(g, frozenset())
    return done
