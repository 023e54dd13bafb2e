"""Type inference: the type of every expression node, and type errors."""
from __future__ import annotations

import difflib
from decimal import Decimal
from typing import Optional


from polc.dsl import ast as A
from polc.dsl.diagnostics import Diagnostic, error
from polc.dsl.keywords import glued_keyword
from polc.dsl.symbols import Symbols


TYPE_NAMES = {'money': '金额', 'percent': '百分比', 'int': '整数', 'number': '数',
              'bool': '是否', 'date': '日期', 'enumval': '枚举值'}


NUMERIC = {'int', 'number'}


def type_name(t: Optional[str]) -> str:
    if t is None:
        return '未知'
    if t.startswith('enum:'):
        return f'枚举（{t[5:]}）'
    return TYPE_NAMES.get(t, t)


# ------------------------------------------------------------------ constants
def const_value(e) -> Optional[Decimal]:
    """The value of a literal number, money or percent (with negation), else None."""
    if isinstance(e, (A.Money, A.Percent, A.Number)):
        return e.value
    if isinstance(e, A.Neg):
        v = const_value(e.operand)
        return -v if v is not None else None
    return None


# ------------------------------------------------------------------ typing
class _Typer:
    def __init__(self, policy: A.Policy, sym: Symbols):
        self.policy = policy
        self.sym = sym
        self.types: dict[int, str] = {}
        self.diags: list[Diagnostic] = []
        self.used: set[str] = set()
        self._define_types: dict[str, Optional[str]] = {}
        self._defining: set[str] = set()

    def _set(self, node, t):
        if t is not None:
            self.types[id(node)] = t
        return t

    def _suggest(self, name: str, candidates) -> str:
        g = glued_keyword(name)
        if g:
            a, kw, b = g
            split = ' '.join(x for x in (a, kw, b) if x)
            return (f'「{name}」中连着关键字「{kw}」；关键字与名称之间要用空格隔开，例如「{split}」')
        close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.5)
        if close:
            return f'是否指「{close[0]}」？'
        return ''

    def ref_type(self, e: A.Ref) -> Optional[str]:
        name = e.name
        if name in self.sym.inputs:
            self.used.add(name)
            d = self.sym.inputs[name]
            return f'enum:{name}' if d.type.kind == 'enum' else d.type.kind
        if name in self.sym.defines:
            self.used.add(name)
            if name in self._defining:
                self.diags.append(error('E-CYCLE', f'定义「{name}」引用了自身', e.span))
                return None
            if name not in self._define_types:
                self._defining.add(name)
                self._define_types[name] = self.expr(self.sym.defines[name].expr)
                self._defining.discard(name)
            return self._define_types[name]
        if name in self.sym.all_enum_values:
            return 'enumval'
        self.diags.append(error('E-UNDEFINED', f'名称「{name}」未定义', e.span,
                                self._suggest(name, self.sym.value_names())))
        return None

    def expr(self, e) -> Optional[str]:
        return self._set(e, self._expr(e))

    def _mismatch(self, what: str, a, b, span) -> None:
        self.diags.append(error('E-TYPE', f'{what}：{type_name(a)}与{type_name(b)}不相容', span))

    def _expr(self, e) -> Optional[str]:
        if isinstance(e, A.Money):
            return 'money'
        if isinstance(e, A.Percent):
            return 'percent'
        if isinstance(e, A.Number):
            return 'int' if e.is_int else 'number'
        if isinstance(e, A.DateLit):
            return 'date'
        if isinstance(e, A.Bool):
            return 'bool'
        if isinstance(e, A.Ref):
            return self.ref_type(e)
        if isinstance(e, A.Neg):
            t = self.expr(e.operand)
            if t not in (None, 'money', 'percent', 'int', 'number'):
                self.diags.append(error('E-TYPE', f'{type_name(t)}不能取负', e.span))
                return None
            return t
        if isinstance(e, A.BinOp):
            return self.binop(e)
        if isinstance(e, A.Compare):
            a, b = self.expr(e.left), self.expr(e.right)
            self.comparable(a, b, e, ordering=e.op not in ('==', '!='))
            return 'bool'
        if isinstance(e, A.Range):
            a = self.expr(e.subject)
            for bd in (e.low, e.high):
                if bd is not None:
                    b = self.expr(bd.value)
                    self.comparable(a, b, e, ordering=True)
            return 'bool'
        if isinstance(e, (A.Is, A.In)):
            a = self.expr(e.subject)
            values = (e.value,) if isinstance(e, A.Is) else e.values
            if a is not None and not a.startswith('enum:'):
                self.diags.append(error('E-TYPE', f'「是」「属于」只用于枚举输入，这里是{type_name(a)}',
                                        e.span))
            elif a is not None:
                allowed = self.sym.enum_values[a[5:]]
                for v in values:
                    if v.text not in allowed:
                        self.diags.append(error(
                            'E-ENUM-VALUE', f'「{v.text}」不是「{a[5:]}」的取值',
                            v.span, self._suggest(v.text, allowed) or
                            '可选值：' + '、'.join(sorted(allowed))))
            return 'bool'
        if isinstance(e, (A.And, A.Or)):
            for side in (e.left, e.right):
                t = self.expr(side)
                if t not in (None, 'bool'):
                    self.diags.append(error('E-TYPE', f'「且」「或」连接的应是条件，这里是{type_name(t)}',
                                            getattr(side, 'span', None) or e.span))
            return 'bool'
        if isinstance(e, A.Not):
            t = self.expr(e.operand)
            if t not in (None, 'bool'):
                self.diags.append(error('E-TYPE', f'「非」后应是条件，这里是{type_name(t)}', e.span))
            return 'bool'
        if isinstance(e, A.Cap):
            a, b = self.expr(e.value), self.expr(e.limit)
            if a and b and not _same_numeric(a, b):
                self._mismatch('上限与被限金额的类型不同', a, b, e.span)
            va, vb = const_value(e.value), const_value(e.limit)
            if va is not None and vb is not None and va > vb:
                self.diags.append(error('E-CAP-BELOW-FIXED',
                                        f'上限 {e.limit.text} 低于固定金额 {e.value.text}，上限永远生效',
                                        e.span))
            return a
        if isinstance(e, A.PerStep):
            a, s, w = self.expr(e.base), self.expr(e.step), self.expr(e.award)
            if a and s and not _same_numeric(a, s):
                self._mismatch('「每满」的基数与步长类型不同', a, s, e.span)
            sv = const_value(e.step)
            if sv is not None and sv <= 0:
                self.diags.append(error('E-STEP', '步长必须大于零', e.step.span))
            return w
        if isinstance(e, A.Schedule):
            it = self.expr(e.index)
            if it not in (None, 'int'):
                self.diags.append(error('E-TYPE', f'「按年」的年份应为整数，这里是{type_name(it)}',
                                        e.index.span))
            seen: dict[int, str] = {}
            t = None
            for en in e.entries:
                for y in en.years:
                    if y in seen:
                        self.diags.append(error('E-SCHEDULE-OVERLAP',
                                                f'第{y}年在「{seen[y]}」和「{en.label}」中都出现', en.span))
                    seen[y] = en.label
                t2 = self.expr(en.value)
                if t is None:
                    t = t2
                elif t2 and not _same_numeric(t, t2):
                    self._mismatch('各年份的值类型不同', t, t2, en.span)
            return t
        if isinstance(e, A.Progressive):
            b = self.expr(e.base)
            prev = None
            t = 'money'
            for st in e.steps:
                tt = self.expr(st.threshold)
                if b and tt and not _same_numeric(b, tt):
                    self._mismatch('晋级门槛与基数类型不同', b, tt, st.span)
                ta = self.expr(st.award)
                if ta not in (None, 'money'):
                    self.diags.append(error('E-TYPE', f'晋级奖励应为金额，这里是{type_name(ta)}',
                                            st.award.span))
                v = const_value(st.threshold)
                if prev is not None and v is not None and v <= prev:
                    self.diags.append(error('E-PROGRESSIVE-ORDER', '晋级门槛应从低到高排列', st.span))
                prev = v if v is not None else prev
            if e.received is not None:
                tr = self.expr(e.received)
                if tr not in (None, 'money'):
                    self.diags.append(error('E-TYPE', f'「已获」应为金额，这里是{type_name(tr)}',
                                            e.received.span))
            return t
        if isinstance(e, A.ByCategory):
            a = self.expr(e.subject)
            if a is not None and not a.startswith('enum:'):
                self.diags.append(error('E-TYPE', f'「分别」按枚举输入取值，这里是{type_name(a)}',
                                        e.subject.span))
            allowed = self.sym.enum_values.get(a[5:], set()) if a and a.startswith('enum:') else set()
            seen_c: set[str] = set()
            t = None
            for en in e.entries:
                if allowed and en.category.text not in allowed:
                    self.diags.append(error('E-ENUM-VALUE', f'「{en.category.text}」不是「{a[5:]}」的取值',
                                            en.category.span, '可选值：' + '、'.join(sorted(allowed))))
                if en.category.text in seen_c:
                    self.diags.append(error('E-DUPLICATE-CATEGORY', f'「{en.category.text}」写了两次',
                                            en.category.span))
                seen_c.add(en.category.text)
                t2 = self.expr(en.value)
                if t is None:
                    t = t2
                elif t2 and not _same_numeric(t, t2):
                    self._mismatch('各类别的值类型不同', t, t2, en.span)
            return t
        if isinstance(e, (A.MaxOf, A.MinOf)):
            ts = [self.expr(v) for v in e.values]
            t = next((x for x in ts if x), None)
            for x, v in zip(ts, e.values):
                if x and t and not _same_numeric(t, x):
                    self._mismatch('取高/取低的各项类型不同', t, x, v.span)
            return t
        return None

    def comparable(self, a, b, e, ordering: bool) -> None:
        if a is None or b is None:
            return
        if a.startswith('enum:') or b.startswith('enum:'):
            enum_t = a if a.startswith('enum:') else b
            other = b if enum_t is a else a
            if ordering:
                self.diags.append(error('E-TYPE', '枚举值不能比较大小', e.span))
            elif other not in ('enumval', enum_t):
                self._mismatch('比较', a, b, e.span)
            else:
                side = e.right if enum_t is a else e.left
                if isinstance(side, A.Ref) and side.name not in self.sym.enum_values[enum_t[5:]]:
                    allowed = self.sym.enum_values[enum_t[5:]]
                    self.diags.append(error('E-ENUM-VALUE', f'「{side.name}」不是「{enum_t[5:]}」的取值',
                                            side.span, '可选值：' + '、'.join(sorted(allowed))))
            return
        if not _same_numeric(a, b):
            hint = ''
            if {a, b} == {'money', 'number'} or {a, b} == {'money', 'int'}:
                hint = '金额要带单位，例如 1000万元'
            self.diags.append(error('E-TYPE', f'不能把{type_name(a)}与{type_name(b)}比较', e.span, hint))
        elif ordering and a == 'bool':
            self.diags.append(error('E-TYPE', '「是否」不能比较大小', e.span))

    def binop(self, e: A.BinOp) -> Optional[str]:
        a, b = self.expr(e.left), self.expr(e.right)
        if a is None or b is None:
            return None
        num = {'int', 'number'}
        if a in ('bool', 'date', 'enumval') or a.startswith('enum:') or \
                b in ('bool', 'date', 'enumval') or b.startswith('enum:'):
            self._mismatch('算术运算', a, b, e.span)
            return None
        if e.op in '+-':
            if a == b:
                return a
            if a in num and b in num:
                return 'number'
            self.diags.append(error('E-TYPE', f'{type_name(a)}与{type_name(b)}不能相加减', e.span))
            return None
        if e.op == '*':
            if a == 'money' and b == 'money':
                self.diags.append(error('E-TYPE', '金额不能乘以金额', e.span,
                                        '比例应写作百分比，例如 交易额 × 30%'))
                return None
            if 'money' in (a, b):
                return 'money'
            if 'percent' in (a, b):
                return 'percent'
            return 'int' if a == b == 'int' else 'number'
        # division
        rv = const_value(e.right)
        if rv is not None and rv == 0:
            self.diags.append(error('E-DIV-ZERO', '除数为零', e.right.span))
        if a == 'money' and b == 'money':
            return 'percent'
        if a == 'money':
            return 'money'
        if a == 'percent' and b == 'percent':
            return 'number'
        if a == 'percent':
            return 'percent'
        if b in ('money', 'percent'):
            self.diags.append(error('E-TYPE', f'{type_name(a)}不能除以{type_name(b)}', e.span))
            return None
        return 'number'

    def amount(self, am) -> None:
        if am is None:
            return
        if isinstance(am, A.Ceiling):
            self._money(am.value, am.span)
        elif isinstance(am, A.Tiers):
            for t in am.tiers:
                ct = self.expr(t.condition)
                if ct not in (None, 'bool'):
                    self.diags.append(error('E-TYPE', f'「当」后应是条件，这里是{type_name(ct)}',
                                            t.condition.span))
                self.amount(t.amount)
            if am.otherwise is not None:
                self.amount(am.otherwise)
        elif isinstance(am, (A.CaseByCase, A.Deferred, A.NonCash, A.NoAmount, A.ExplicitNA)):
            pass
        else:
            self._money(am, getattr(am, 'span', None))

    def _money(self, e, span) -> None:
        t = self.expr(e)
        if t not in (None, 'money'):
            hint = '比例要乘以基数，例如 交易额 × 30%' if t == 'percent' else ''
            if t in NUMERIC:
                hint = '金额要带单位，例如 100万元'
            self.diags.append(error('E-TYPE', f'金额应为金额类型，这里是{type_name(t)}', span, hint))


def _same_numeric(a: str, b: str) -> bool:
    return a == b or (a in NUMERIC and b in NUMERIC)


# ------------------------------------------------------------------ entry point
def typecheck(p: A.Policy, sym: Symbols) -> _Typer:
    ty = _Typer(p, sym)
    for d in p.defines:
        ty.expr(d.expr)
        ty._define_types.setdefault(d.name.text, ty.types.get(id(d.expr)))
    for _, it in p.items():
        for cond in it.conditions:
            t = ty.expr(cond)
            if t not in (None, 'bool'):
                ty.diags.append(error('E-TYPE', f'「条件」应是条件（比较、是否……），这里是{type_name(t)}',
                                      cond.span))
        ty.amount(it.amount)
        if it.firm_cap is not None:
            ty.amount(it.firm_cap)
    for gu in p.guarantees:
        if gu.bound is not None:
            ty.expr(gu.bound)
        if gu.input is not None and gu.input.text in sym.inputs:
            ty.used.add(gu.input.text)
    for g in p.groups:
        if g.cap is not None:
            ty.expr(g.cap)
            if ty.types.get(id(g.cap)) not in (None, 'money'):
                pass  # reported in check_groups
    for d in p.inputs:
        if d.default is not None and isinstance(d.default, A.Ref):
            pass      # enum default: checked in check_inputs
    return ty
