"""Checks over a parsed policy.

Each check is a pure function ``policy, context -> list[Diagnostic]``; :func:`check`
runs them all and returns every diagnostic found (it never stops at the first).
Type inference also records the type of every expression node, which the code
generator uses (:class:`Checked`).
"""
from __future__ import annotations

import difflib
from decimal import Decimal
from typing import Callable, Optional

import attrs

from . import ast as A
from .diagnostics import Diagnostic, error, warning
from .keywords import glued_keyword
from .symbols import Symbols, symbols_of

ALLOCATION_RULES = ('按金额', '按申请顺序', '按比例')
TYPE_NAMES = {'money': '金额', 'percent': '百分比', 'int': '整数', 'number': '数',
              'bool': '是否', 'date': '日期', 'enumval': '枚举值'}
NUMERIC = {'int', 'number'}
KNOWN_PRINCIPLES = {
    '就高': 'highest', '从优': 'most_favourable', '從優': 'most_favourable',
    '不重复': 'no_double', '不重複': 'no_double', '就高不重复': 'highest_no_double',
    '就高不重複': 'highest_no_double', '同一企业同一项目仅享受其中一项': 'one_per_project',
    '同一企業同一項目僅享受其中一項': 'one_per_project', '择一': 'one_per_project',
}


def type_name(t: Optional[str]) -> str:
    if t is None:
        return '未知'
    if t.startswith('enum:'):
        return f'枚举（{t[5:]}）'
    return TYPE_NAMES.get(t, t)


@attrs.define
class Checked:
    """A policy with its symbols and the type of every expression (by node id)."""
    policy: A.Policy
    symbols: Symbols
    types: dict[int, str]
    diagnostics: list[Diagnostic]

    def type_of(self, node) -> Optional[str]:
        return self.types.get(id(node))


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


# ------------------------------------------------------------------ individual checks
def check_header(p: A.Policy, sym: Symbols) -> list[Diagnostic]:
    out = []
    seen: dict[str, A.HeaderField] = {}
    for f in p.header:
        if f.key in ('source', 'reading'):
            continue
        if f.key in seen:
            out.append(error('E-DUPLICATE-HEADER', f'政策头中「{_HEADER_LABELS[f.key]}」写了两次', f.span))
        seen[f.key] = f
    if 'name' not in seen:
        out.append(error('E-HEADER-MISSING', '缺少政策名称（政策：……）', None))
    if 'expiry' in seen and 'duration' in seen:
        out.append(error('E-DUPLICATE-HEADER', '「有效期至」与「有效期」只能写一个', seen['duration'].span))
    if 'duration' in seen and seen['duration'].value <= 0:
        out.append(error('E-DATES', '有效期应大于零年', seen['duration'].span))
    if 'duration' in seen and 'effective' not in seen and 'issued' not in seen:
        out.append(warning('W-VALIDITY-UNKNOWN',
                           '写了「有效期」却没有施行日期或印发日期，无法判断评估日期是否在有效期内',
                           seen['duration'].span))
    order = [('issued', 'effective', '印发日期不应晚于施行日期'),
             ('effective', 'expiry', '施行日期应早于有效期截止日'),
             ('issued', 'expiry', '印发日期应早于有效期截止日'),
             ('stats_start', 'expiry', '统计起始日期应早于有效期截止日')]
    for a, b, msg in order:
        if a in seen and b in seen and seen[a].value > seen[b].value:
            out.append(error('E-DATES', f'日期顺序有误：{msg}（{seen[a].value} > {seen[b].value}）',
                             seen[b].span))
    if 'principle' in seen:
        for w in seen['principle'].value:
            if w not in KNOWN_PRINCIPLES:
                out.append(error('E-PRINCIPLE', f'未知的组合原则「{w}」', seen['principle'].span,
                                 '可用：' + '、'.join(sorted(KNOWN_PRINCIPLES))))
    return out


_HEADER_LABELS = {'name': '政策', 'issuer': '发文机关', 'docno': '文号', 'issued': '印发日期',
                  'effective': '施行日期', 'expiry': '有效期至', 'duration': '有效期',
                  'stats_start': '统计起始', 'principle': '组合原则', 'rates_are_maxima': '比例均为上限',
                  'status': '状态', 'source_file': '来源', 'shared_units': '共同责任单位', 'source': '原文', 'reading': '解读'}


def check_duplicates(p: A.Policy, sym: Symbols) -> list[Diagnostic]:
    out = []
    numbers: dict[str, A.Clause] = {}
    for c in p.clauses:
        key = _clause_key(c.number)
        if key in numbers:
            out.append(error('E-DUPLICATE-CLAUSE', f'条款编号「{c.number}」重复', c.span))
        numbers[key] = c
    seen: dict[str, str] = {}
    kinds = ([(d.name, '输入') for d in p.inputs] + [(d.name, '定义') for d in p.defines] +
             [(it.name, '项') for _, it in p.items()] + [(g.name, '组') for g in p.groups])
    for name, kind in kinds:
        if name.text in seen:
            out.append(error('E-DUPLICATE-NAME',
                             f'名称「{name.text}」重复（已作为{seen[name.text]}声明）', name.span))
        else:
            seen[name.text] = kind
        if name.text in sym.all_enum_values and kind != '输入':
            out.append(error('E-DUPLICATE-NAME', f'名称「{name.text}」与枚举值同名', name.span))
    for d in p.inputs:
        if d.type.kind == 'enum':
            vals = [v.text for v in d.type.values]
            for v in d.type.values:
                if vals.count(v.text) > 1:
                    out.append(error('E-DUPLICATE-NAME', f'枚举值「{v.text}」重复', v.span))
                    break
    return out


def _clause_key(number: str) -> str:
    from .text import normalize
    return normalize(number).strip('()、.（） ')


def check_items(p: A.Policy, sym: Symbols) -> list[Diagnostic]:
    out = []
    for c, it in p.items():
        if it.amount is None:
            out.append(error('E-NO-AMOUNT', f'项「{it.name.text}」没有写「金额」', it.span,
                             '非现金待遇写「金额：非现金 "……"」；本措施未定金额写「金额：不设金额」'))
        if it.quota is not None and it.quota <= 0:
            out.append(error('E-QUOTA', '每年名额应大于零', it.span))
        if it.allocation:
            if it.allocation not in ALLOCATION_RULES:
                out.append(error('E-ALLOCATION', f'未知的分配方式「{it.allocation}」', it.span,
                                 '可用：' + '、'.join(ALLOCATION_RULES)))
            elif it.quota is None and it.pool is None:
                out.append(warning('W-ALLOCATION', f'项「{it.name.text}」写了分配方式，但没有名额或总额', it.span))
            elif it.allocation == '按比例' and it.pool is None:
                out.append(error('E-ALLOCATION', '「按比例」只用于每年总额（资金池），名额请按金额或按申请顺序分配',
                                 it.span))
    return out


def check_rates(p: A.Policy, sym: Symbols) -> list[Diagnostic]:
    """A percentage above 100% used as a rate (outside a comparison)."""
    out = []
    in_comparison: set[int] = set()
    for n in A.walk(p):
        if isinstance(n, (A.Compare, A.Range)):
            for m in A.walk(n):
                in_comparison.add(id(m))
    for n in A.walk(p):
        if isinstance(n, A.Percent) and n.value > 1 and id(n) not in in_comparison:
            out.append(error('E-RATE-OVER-100', f'比例 {n.text} 超过 100%', n.span))
        if isinstance(n, A.Money) and n.value < 0:
            out.append(error('E-NEGATIVE-MONEY', f'金额 {n.text} 为负数', n.span))
    return out


# ---- tiers: interval analysis on a single input
@attrs.frozen
class Interval:
    lo: Optional[Decimal]
    lo_incl: bool
    hi: Optional[Decimal]
    hi_incl: bool

    def is_empty(self) -> bool:
        if self.lo is None or self.hi is None:
            return False
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_incl and self.hi_incl))

    def intersect(self, o: 'Interval') -> 'Interval':
        lo, lo_incl = self.lo, self.lo_incl
        if o.lo is not None and (lo is None or o.lo > lo or (o.lo == lo and not o.lo_incl)):
            lo, lo_incl = o.lo, o.lo_incl
        hi, hi_incl = self.hi, self.hi_incl
        if o.hi is not None and (hi is None or o.hi < hi or (o.hi == hi and not o.hi_incl)):
            hi, hi_incl = o.hi, o.hi_incl
        return Interval(lo, lo_incl, hi, hi_incl)


FULL = Interval(None, False, None, False)


def condition_interval(cond) -> Optional[tuple[str, Interval]]:
    """(input name, interval) if ``cond`` constrains one input to an interval of constants."""
    if isinstance(cond, A.Range) and isinstance(cond.subject, A.Ref):
        iv = FULL
        if cond.low is not None:
            v = const_value(cond.low.value)
            if v is None:
                return None
            iv = iv.intersect(Interval(v, cond.low.inclusive, None, False))
        if cond.high is not None:
            v = const_value(cond.high.value)
            if v is None:
                return None
            iv = iv.intersect(Interval(None, False, v, cond.high.inclusive))
        return cond.subject.name, iv
    if isinstance(cond, A.Compare):
        left, right, op = cond.left, cond.right, cond.op
        if not isinstance(left, A.Ref) and isinstance(right, A.Ref):
            left, right = right, left
            op = {'>=': '<=', '<=': '>=', '>': '<', '<': '>'}.get(op, op)
        v = const_value(right)
        if not isinstance(left, A.Ref) or v is None:
            return None
        iv = {'>=': Interval(v, True, None, False), '>': Interval(v, False, None, False),
              '<=': Interval(None, False, v, True), '<': Interval(None, False, v, False),
              '==': Interval(v, True, v, True)}.get(op)
        return (left.name, iv) if iv else None
    if isinstance(cond, A.And):
        a, b = condition_interval(cond.left), condition_interval(cond.right)
        if a and b and a[0] == b[0]:
            return a[0], a[1].intersect(b[1])
    return None


def _fmt_bound(v: Decimal, t: Optional[str]) -> str:
    from .units import format_quantity
    return format_quantity(v, t)


def _covered(iv: Interval, earlier: list[Interval]) -> bool:
    """Is ``iv`` inside the union of ``earlier``?  (Sweep from iv.lo upwards.)"""
    if iv.is_empty():
        return True
    lo, lo_incl = iv.lo, iv.lo_incl
    progress = True
    while progress:
        progress = False
        for e in earlier:
            # does e cover the point just at/after lo?
            starts_ok = e.lo is None or (lo is not None and (
                e.lo < lo or (e.lo == lo and (e.lo_incl or not lo_incl))))
            if not starts_ok or e.is_empty():
                continue
            if e.hi is None:
                return True
            if lo is not None and (e.hi < lo or (e.hi == lo and not (e.hi_incl and lo_incl))):
                continue
            # e extends coverage to e.hi
            if iv.hi is not None and (e.hi > iv.hi or (e.hi == iv.hi and (e.hi_incl or not iv.hi_incl))):
                return True
            if lo is None or e.hi > lo or (e.hi == lo and e.hi_incl and not lo_incl):
                lo, lo_incl = e.hi, not e.hi_incl
                progress = True
    return False


def check_tiers(p: A.Policy, sym: Symbols, types: dict[int, str]) -> list[Diagnostic]:
    out = []
    for n in A.walk(p):
        if not isinstance(n, A.Tiers):
            continue
        ivs = [condition_interval(t.condition) for t in n.tiers]
        if not ivs or any(x is None for x in ivs) or len({x[0] for x in ivs}) != 1:
            continue
        var = ivs[0][0]
        t = next((types.get(id(x)) for x in A.walk(n.tiers[0].condition)
                  if isinstance(x, A.Ref) and x.name == var), None)
        intervals = [x[1] for x in ivs]
        for i, iv in enumerate(intervals):
            if _covered(iv, intervals[:i]):
                out.append(error('E-TIER-UNREACHABLE',
                                 f'第{i + 1}档永远不会被选中：前面的档次已覆盖「{var}」的这一范围',
                                 n.tiers[i].span))
                continue
            for j in range(i):
                inter = iv.intersect(intervals[j])
                if not inter.is_empty():
                    where = (f'在 {_fmt_bound(inter.lo, t)} 处' if inter.lo is not None and inter.lo == inter.hi
                             else '有一段范围')
                    out.append(warning(
                        'W-TIER-OVERLAP',
                        f'第{j + 1}档与第{i + 1}档{where}重叠（「{var}」同时满足两档，按书写顺序取第{j + 1}档）',
                        n.tiers[i].span, '用（含）/（不含）写明边界归属，并用「解读」说明理由'))
        if n.otherwise is None:
            domain = Interval(Decimal(0), True, None, False) if t in ('money', 'int', None) else FULL
            if not _covered(domain, intervals):
                gap = _first_gap(domain, intervals, t)
                out.append(warning(
                    'W-TIER-GAP', f'档次没有覆盖「{var}」的全部取值（{gap}），落在其中的申请人得不到任何一档',
                    n.span, '如属原意，请加「否则：不适用 \"……\"」写明'))
    return out


def _first_gap(domain: Interval, intervals: list[Interval], t: Optional[str]) -> str:
    from .units import format_quantity
    points = sorted({iv.lo for iv in intervals if iv.lo is not None} |
                    {iv.hi for iv in intervals if iv.hi is not None} | {domain.lo or Decimal(0)})
    probes = []
    for i, pt in enumerate(points):
        probes.append(pt)
        if i + 1 < len(points):
            probes.append((pt + points[i + 1]) / 2)
    probes.append(points[-1] + 1)
    for x in probes:
        if domain.lo is not None and x < domain.lo:
            continue
        if not any(_contains(iv, x) for iv in intervals):
            return f'例如 {format_quantity(x, t)}'
    return '边界处'


def _contains(iv: Interval, x: Decimal) -> bool:
    if iv.lo is not None and (x < iv.lo or (x == iv.lo and not iv.lo_incl)):
        return False
    if iv.hi is not None and (x > iv.hi or (x == iv.hi and not iv.hi_incl)):
        return False
    return True


def check_ranges(p: A.Policy, sym: Symbols) -> list[Diagnostic]:
    out = []
    for n in A.walk(p):
        if isinstance(n, A.Range) and n.low is not None and n.high is not None:
            lo, hi = const_value(n.low.value), const_value(n.high.value)
            if lo is not None and hi is not None and lo > hi:
                out.append(error('E-RANGE', '区间下限大于上限', n.span))
            if not (n.low.explicit and n.high.explicit):
                out.append(warning('W-RANGE-ENDS', '区间端点未写明（含）/（不含），按「含」处理', n.span,
                                   '在端点后写（含）或（不含）'))
    return out


def check_groups(p: A.Policy, sym: Symbols, types: dict[int, str]) -> list[Diagnostic]:
    out = []
    parent: dict[str, str] = {}
    for g in p.groups:
        if len(g.members) < 2 and g.mode == 'highest':
            out.append(warning('W-GROUP-SIZE', f'组「{g.name.text}」只有一个成员，「就高」不起作用', g.span))
        for m in g.members:
            if m.text not in sym.items and m.text not in sym.groups:
                close = difflib.get_close_matches(m.text, sym.target_names(), n=1, cutoff=0.5)
                out.append(error('E-UNDEFINED', f'组「{g.name.text}」的成员「{m.text}」不是已声明的项或组',
                                 m.span, f'是否指「{close[0]}」？' if close else ''))
                continue
            if m.text in parent:
                out.append(error('E-GROUP-MEMBERSHIP',
                                 f'「{m.text}」已在组「{parent[m.text]}」中，一项只能直接属于一个组', m.span))
            parent[m.text] = g.name.text
            if m.text == g.name.text:
                out.append(error('E-CYCLE', f'组「{g.name.text}」包含了自身', m.span))
        if g.cap is not None and types.get(id(g.cap)) not in (None, 'money'):
            out.append(error('E-TYPE', '组的合计上限应为金额', g.cap.span))
        if g.cap is not None and any(isinstance(n, A.Ref) for n in A.walk(g.cap)):
            out.append(error('E-GROUP-CAP', '组的合计上限应为固定金额（如 100万元），不能引用输入', g.cap.span))
    # cycles through nested groups
    for g in p.groups:
        seen = {g.name.text}
        cur = g.name.text
        while cur in parent:
            cur = parent[cur]
            if cur in seen:
                out.append(error('E-CYCLE', f'组「{g.name.text}」与其他组相互包含', g.span))
                break
            seen.add(cur)
    return out


def check_inputs(p: A.Policy, sym: Symbols, types: dict[int, str]) -> list[Diagnostic]:
    out = []
    for d in p.inputs:
        if d.default is None:
            continue
        problem = literal_problem(d.default, d, sym)
        if problem:
            out.append(error('E-DEFAULT-TYPE', f'输入「{d.name.text}」的默认值{problem}', d.default.span))
    return out


def literal_problem(value, decl: A.InputDecl, sym: Symbols) -> str:
    """'' if ``value`` (a literal from the file) suits the input's type, else a description."""
    kind = decl.type.kind
    ok = {
        'money': isinstance(value, A.Money),
        'percent': isinstance(value, A.Percent),
        'int': isinstance(value, A.Number) and value.is_int,
        'bool': isinstance(value, A.Bool),
        'date': isinstance(value, A.DateLit),
        'enum': isinstance(value, A.Ref) and value.name in {v.text for v in decl.type.values},
    }[kind]
    if ok:
        if kind == 'money' and value.value < 0:
            return '不能为负数'
        return ''
    if kind == 'enum':
        return f'应为以下之一：{"、".join(v.text for v in decl.type.values)}'
    return f'应为{type_name(kind)}'


def check_cases(p: A.Policy, sym: Symbols) -> list[Diagnostic]:
    out = []
    titles: set[str] = set()
    for c in p.cases:
        if c.title in titles:
            out.append(error('E-DUPLICATE-CASE', f'案例「{c.title}」重复', c.span))
        titles.add(c.title)
        given = set()
        for a in c.inputs:
            name = a.name.text
            if name not in sym.inputs:
                close = difflib.get_close_matches(name, list(sym.inputs), n=1, cutoff=0.5)
                out.append(error('E-CASE-UNKNOWN-INPUT', f'案例「{c.title}」给出了未声明的输入「{name}」',
                                 a.name.span, f'是否指「{close[0]}」？' if close else ''))
                continue
            if name in given:
                out.append(error('E-CASE-DUPLICATE', f'案例「{c.title}」中输入「{name}」给了两次', a.name.span))
            given.add(name)
            problem = literal_problem(a.value, sym.inputs[name], sym)
            if problem:
                out.append(error('E-CASE-TYPE', f'案例「{c.title}」中输入「{name}」{problem}', a.value.span))
        for d in p.inputs:
            if d.default is None and d.name.text not in given:
                out.append(error('E-CASE-MISSING-INPUT',
                                 f'案例「{c.title}」缺少必填输入「{d.name.text}」（该输入没有默认值）', c.span))
        if not c.expects:
            out.append(error('E-CASE-NO-EXPECT', f'案例「{c.title}」没有「期望」', c.span))
        if c.date is None and p.header_value('effective') is None and p.header_value('issued') is None \
                and p.header_value('expiry') is not None:
            out.append(error('E-CASE-DATE', f'案例「{c.title}」没有写「日期」，而政策没有施行日期或印发日期可用',
                             c.span, '给案例写上日期，例如「日期：2025-06-01」，使结果不随运行的日子变化'))
        for e in c.expects:
            name = e.target.text
            if name not in sym.items and name not in sym.groups and name not in ('合计', '合計'):
                close = difflib.get_close_matches(name, sym.target_names(), n=1, cutoff=0.5)
                out.append(error('E-CASE-UNKNOWN-TARGET', f'案例「{c.title}」的期望对象「{name}」不是已声明的项或组',
                                 e.target.span, f'是否指「{close[0]}」？' if close else ''))
            if e.kind in ('amount', 'ceiling') and not isinstance(e.value, A.Money):
                out.append(error('E-CASE-TYPE', '期望的金额应写作金额，例如 10万元', e.span))
    return out


def check_numbers_in_text(p: A.Policy, sym: Symbols) -> list[Diagnostic]:
    """Every number used in an item's rules appears in its 原文 (catches 100万 typed as 10万)."""
    from .numbers import numbers_in_text
    from .units import format_money, format_percent
    out = []
    for c, it in p.items():
        text = ''.join(it.source) or ''.join(c.source)
        if not text:
            continue
        found = numbers_in_text(text)
        nodes = [n for part in (it.conditions, (it.amount,) if it.amount is not None else ())
                 for e in part for n in A.walk(e)]
        for n in nodes:
            if isinstance(n, (A.Money, A.Percent, A.Number)) and n.value != 0 and \
                    abs(n.value) not in found:
                what = {A.Money: '金额', A.Percent: '比例', A.Number: '数'}[type(n)]
                out.append(warning('W-NUMBER-NOT-IN-TEXT',
                                   f'{what} {n.text} 没有出现在项「{it.name.text}」的原文中',
                                   n.span, '核对是否抄错了数字（如把 100万 写成 10万）'))
        if it.quota is not None and Decimal(it.quota) not in found:
            out.append(warning('W-NUMBER-NOT-IN-TEXT',
                               f'名额 {it.quota} 没有出现在项「{it.name.text}」的原文中', it.span))
        if it.pool is not None and it.pool.value not in found:
            out.append(warning('W-NUMBER-NOT-IN-TEXT',
                               f'总额 {it.pool.text} 没有出现在项「{it.name.text}」的原文中', it.pool.span))
    return out


def check_guarantees(p: A.Policy, sym: Symbols, types: dict[int, str]) -> list[Diagnostic]:
    out = []
    for g in p.guarantees:
        if g.target is not None and g.target.text not in sym.items and g.target.text not in sym.groups:
            close = difflib.get_close_matches(g.target.text, sym.target_names(), n=1, cutoff=0.5)
            out.append(error('E-UNDEFINED', f'保证的对象「{g.target.text}」不是已声明的项或组（合计写「合计」）',
                             g.target.span, f'是否指「{close[0]}」？' if close else ''))
        if g.kind == 'bound' and types.get(id(g.bound)) not in (None, 'money'):
            out.append(error('E-TYPE', f'保证的界限应为金额，这里是{type_name(types.get(id(g.bound)))}',
                             g.bound.span))
        if g.kind == 'monotone':
            d = sym.inputs.get(g.input.text)
            if d is None:
                out.append(error('E-UNDEFINED', f'「随」后应是已声明的输入，「{g.input.text}」不是', g.input.span))
            elif d.type.kind not in ('money', 'int', 'percent'):
                out.append(error('E-TYPE', f'「随…不减」只用于金额、整数或百分比输入，「{g.input.text}」是'
                                           f'{type_name(d.type.kind)}', g.input.span))
    return out


def check_unused(p: A.Policy, sym: Symbols, used: set[str]) -> list[Diagnostic]:
    out = []
    for d in p.inputs:
        if d.name.text not in used:
            out.append(warning('W-UNUSED', f'输入「{d.name.text}」没有被任何规则使用', d.name.span))
    for d in p.defines:
        if d.name.text not in used:
            out.append(warning('W-UNUSED', f'定义「{d.name.text}」没有被任何规则使用', d.name.span))
    return out


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


def check(policy: A.Policy) -> Checked:
    """Run every check; return the typed policy and all diagnostics, sorted by place."""
    sym = symbols_of(policy)
    ty = typecheck(policy, sym)
    diags = list(ty.diags)
    simple: list[Callable[[A.Policy, Symbols], list[Diagnostic]]] = [
        check_header, check_duplicates, check_items, check_rates, check_ranges, check_cases,
        check_numbers_in_text]
    for f in simple:
        diags.extend(f(policy, sym))
    diags.extend(check_tiers(policy, sym, ty.types))
    diags.extend(check_groups(policy, sym, ty.types))
    diags.extend(check_inputs(policy, sym, ty.types))
    diags.extend(check_guarantees(policy, sym, ty.types))
    diags.extend(check_unused(policy, sym, ty.used))
    # one diagnostic per (place, code, message)
    unique = {(d.sort_key, d.code): d for d in diags}
    ordered = sorted(unique.values(), key=lambda d: d.sort_key)
    return Checked(policy, sym, ty.types, ordered)
