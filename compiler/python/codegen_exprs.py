"""Code generation, part 1: literals, constants and expressions (values with their explanation text)."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Optional

from polc.dsl import ast as A
from polc.dsl.checks import Checked
from polc.compiler.python.emitter import Emitter

_CMP = {'>=': ' >= ', '<=': ' <= ', '>': ' > ', '<': ' < ', '==': ' == ', '!=': ' != '}
COMPARED = ('money', 'percent', 'int', 'number', 'date')    # shown as 「：21.5% ≥ 12%」
COMPARED_PARTS = 16         # a longer chain of 且 lists the values read instead (and compiles flat)
_OP_TEXT = {'+': ' + ', '-': ' − ', '*': ' × ', '/': ' ÷ '}


_SIMPLE = re.compile(r'_[vK][0-9]+').fullmatch     # a variable or a constant
_EXACT_OP = {'+': '_cadd', '-': '_csub', '*': '_cmul'}   # polc.compiler.python.fast
_NUMERIC = ('money', 'percent', 'number', 'int')
EXACT_TERMS = 40            # a longer sum or product is written with operators (flat), in a switched context


class ExprGen:
    """Expressions of a checked policy as Python code; :class:`ItemGen` adds items and groups."""

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
        # exact: arithmetic written with the exact context named (the fast path of evaluate);
        # context_free: nothing written so far needs the exact context to be the current one
        self.exact = False
        self.context_free = True
        self.typed = False          # writing the typed path (min of two without a call)
        self.lazy: dict = {}        # input variable -> code reading it on first use (the fast path)

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

    def is_int(self, node) -> bool:
        """Whether a value is a Python int when the policy runs (an integer input, a whole
        number literal, arithmetic of those): exact with operators, in any context."""
        return self.c.type_of(node) == 'int' or (isinstance(node, A.Number) and node.is_int)

    def exact_operands(self, *nodes) -> bool:
        """In exact mode: whether an operation on ``nodes`` is written with the exact context
        named (else, in exact mode, the code is marked as needing it current)."""
        if not self.exact:
            return False
        if all(self.c.type_of(n) in _NUMERIC or isinstance(n, A.Number) for n in nodes):
            return True
        self.context_free = False
        return False

    def simple(self, code: str) -> bool:
        """Whether code is a variable or a constant (an input read on first use included): cheap
        to repeat, no side effect."""
        return bool(_SIMPLE(code)) or code in self.lazy.values()

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
            if not self.is_int(e.operand) and self.exact_operands(e.operand):
                return f'_cneg({self.pure(e.operand)})'
            return f'(-{self.pure(e.operand)})'
        if isinstance(e, A.BinOp) and e.op != '/':
            # a left-nested chain a + b - c … is written flat, so long sums stay within
            # Python's limit on nested parentheses
            ops = ('+', '-') if e.op in '+-' else ('*',)
            terms, node = [], e
            while isinstance(node, A.BinOp) and node.op in ops:
                terms.append((node.op, node.right))
                node = node.left
            if self.exact and len(terms) <= EXACT_TERMS and self.exact_operands(node, *(r for _o, r in terms)):
                text, whole = self.pure(node), self.is_int(node)
                for op, right in reversed(terms):      # _cadd(_cmul(a, b), c): exact, any context
                    if whole and self.is_int(right):
                        text = f'({text} {op} {self.pure(right)})'
                    else:
                        text, whole = f'{_EXACT_OP[op]}({text}, {self.pure(right)})', False
                return text
            if self.exact and not all(self.is_int(n) for n in (node, *(r for _o, r in terms))):
                self.context_free = False
            text = self.pure(node)
            for op, right in reversed(terms):
                text += f' {op} {self.pure(right)}'
            return f'({text})'
        if isinstance(e, A.BinOp):
            if self.is_int(e.left) and self.is_int(e.right):     # int / int: no context involved
                return f'_R.div({self.pure(e.left)}, {self.pure(e.right)})'
            div = '_xdiv' if self.exact_operands(e.left, e.right) else '_R.div'
            return f'{div}({self.pure(e.left)}, {self.pure(e.right)})'
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
            if self.typed:          # min(a, b), inline: b only when b < a
                a, value = self.new_tmp(), self.pure(e.value)
                limit = self.pure(e.limit)
                if _SIMPLE(limit):
                    return f'({limit} if ({a} := {value}) > {limit} else {a})'
                b = self.new_tmp()
                return f'({b} if ({a} := {value}) > ({b} := {limit}) else {a})'
            return f'min({self.pure(e.value)}, {self.pure(e.limit)})'
        if isinstance(e, A.PerStep):
            if self.exact_operands(e.base, e.step, e.award):
                steps = '_xfloor_div' if e.full_steps else '_xdiv'
                return f'_cmul({steps}({self.pure(e.base)}, {self.pure(e.step)}), {self.pure(e.award)})'
            if e.full_steps:
                return f'(_R.floor_div({self.pure(e.base)}, {self.pure(e.step)}) * {self.pure(e.award)})'
            return f'(_R.div({self.pure(e.base)}, {self.pure(e.step)}) * {self.pure(e.award)})'
        if isinstance(e, A.Schedule):
            table = self.table(', '.join(f'{y}: {self.pure(en.value)}' for en in e.entries for y in en.years),
                               [en.value for en in e.entries])
            labels = '、'.join(f'{en.label}' for en in e.entries)
            index = self.pure(e.index)
            if self.simple(index):            # the common case inline: one dict lookup, no call
                return f'({table}[{index}] if {index} in {table} else _R.pick_year({index}, {table}, {labels!r}))'
            return f'_R.pick_year({index}, {table}, {labels!r})'
        if isinstance(e, A.ByCategory):
            table = self.table(', '.join(f'{en.category.text!r}: {self.pure(en.value)}' for en in e.entries),
                               [en.value for en in e.entries])
            return f'_R.pick_category({self.pure(e.subject)}, {table})'
        if isinstance(e, A.Progressive):
            th = ', '.join(self.pure(s.threshold) for s in e.steps)
            aw = ', '.join(self.pure(s.award) for s in e.steps)
            rec = self.pure(e.received) if e.received is not None else '_D(0)'
            base = self.pure(e.base)
            x = '_x' if self.exact else '_R.'      # award − received, in the exact context
            if self.simple(base):
                # the award of the last threshold reached (as _R.progressive), unrolled: no loop
                chain = ' else '.join(f'{self.pure(s.award)} if {base} >= {self.pure(s.threshold)}'
                                      for s in reversed(e.steps)) + ' else None'
                return f'{x}progressive_award(({chain}), {rec}, {self.pure(e.steps[0].threshold)})'
            return f'{x}progressive({base}, ({th},), ({aw},), {rec})'
        if isinstance(e, A.MaxOf):
            return 'max(' + ', '.join(self.pure(v) for v in e.values) + ')'
        if isinstance(e, A.MinOf):
            return 'min(' + ', '.join(self.pure(v) for v in e.values) + ')'
        raise TypeError(f'cannot compile {type(e).__name__}')

    def ref_pure(self, e: A.Ref) -> str:
        if e.name in self.input_var:
            v = self.input_var[e.name]
            return self.lazy.get(v, v)
        if e.name in self.define_fn:
            if self.exact:               # the full path's function: operators, the current context
                self.context_free = False
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
                return code, f'_R.fmt_input(F, {e.name!r}, {code}, {t!r})'
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
                said = ' − ' if self.src(e.received).lstrip('「').startswith('已获') else ' − 已获 '
                out.line(f'if X: S.append("晋级补差：" + {self.fmt(v, "money")} + {said!r} + {drec} + " = " + '
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
        return f'"不满足条件「" + {self.src(cond)!r} + "」"' + self.condition_shown(cond, False)

    def condition_met(self, cond) -> str:
        """Code of the step saying a condition holds, with the values it read."""
        return f'"满足条件「" + {self.src(cond)!r} + "」"' + self.condition_shown(cond, True)

    def condition_shown(self, cond, met: bool) -> str:
        """Code of what follows a condition: a comparison's values 「：21.5% ≥ 12%」 (with the inputs
        it read that the applicant did not give), else the values it read 「（主体类型 高校）」."""
        shown = self.comparison(cond, met)
        if shown is None:
            values = self.condition_values(cond)
            return f' + {values}' if values else ''
        read = []
        for n in A.walk(cond):
            if isinstance(n, A.Ref) and n.name in self.input_var and n.name not in [r[0] for r in read]:
                read.append((n.name, self.c.type_of(n) or 'number'))
        if read:
            pairs = ', '.join(f'({n!r}, {self.input_var[n]}, {t!r})' for n, t in read)
            shown += f' + _R.unfilled_note(F, ({pairs},))'
        return f' + {shown}'

    def comparison(self, cond, met: bool) -> Optional[str]:
        """Code of 「：21.5% ≥ 12%」 for a comparison or range of numbers, money, percentages or dates,
        or for 且 of such (held: each, joined by 「，」; not held: the first that fails); None for
        other conditions (属于, 是, 或 …)."""
        parts, stack = [], [cond]
        while stack:                      # a chain of 且, left to right
            n = stack.pop()
            if isinstance(n, A.And):
                stack.extend((n.right, n.left))
            else:
                parts.append(n)
        if len(parts) > COMPARED_PARTS:
            return None
        codes = [self._compared(p, met) for p in parts]
        if any(c is None for c in codes):
            return None
        if met:
            return '"：" + ' + ' + "，" + '.join(codes)
        text = codes[-1]
        for p, c in zip(reversed(parts[:-1]), reversed(codes[:-1])):
            text = f'({c} if not {self.pure(p)} else {text})'
        return '"：" + ' + text

    def _compared(self, cond, met: bool) -> Optional[str]:
        if isinstance(cond, A.Compare):
            lt, rt = self.c.type_of(cond.left) or 'number', self.c.type_of(cond.right) or 'number'
            if lt in COMPARED and rt in COMPARED:
                return (f'_R.compared({met}, {self.pure(cond.left)}, {cond.op!r}, {self.pure(cond.right)}, '
                        f'{lt!r}, {rt!r})')
        if isinstance(cond, A.Range):
            t = self.c.type_of(cond.subject) or 'number'
            if t in COMPARED:
                low = self.pure(cond.low.value) if cond.low is not None else 'None'
                high = self.pure(cond.high.value) if cond.high is not None else 'None'
                lop = None if cond.low is None else '>=' if cond.low.inclusive else '>'
                hop = None if cond.high is None else '<=' if cond.high.inclusive else '<'
                return f'_R.ranged({met}, {self.pure(cond.subject)}, {low}, {lop!r}, {high}, {hop!r}, {t!r})'
        return None

    def condition_values(self, cond) -> str:
        """Code of 「（成交额 200万元，主体类型 高校）」: the inputs and defined values a condition
        reads (an input the applicant did not give reads 未填); '' when it reads none."""
        names = []
        for n in A.walk(cond):
            if isinstance(n, A.Ref) and (n.name in self.input_var or n.name in self.define_fn) \
                    and n.name not in names:
                names.append(n.name)
        parts = []
        for n in names:
            type_ = self.c.type_of(self._first_ref(cond, n)) or 'number'
            code = self.ref_pure(A.Ref(n))
            if n in self.input_var:
                parts.append(f'_R.fmt_input(F, {n!r}, {code}, {type_!r})')
            else:
                parts.append(f'{n!r} + " " + {self.fmt(code, type_)}')
        if not parts:
            return ''
        return '"（" + ' + ' + "，" + '.join(parts) + ' + "）"'

    def _first_ref(self, cond, name):
        for n in A.walk(cond):
            if isinstance(n, A.Ref) and n.name == name:
                return n
        return None
