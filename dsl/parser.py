"""Parsing: source text -> AST (Lark LALR with the contextual lexer).

The text is normalised one character for one character before lexing (full-width
forms become half-width), so every position Lark reports is a position in the
original file.  Strings are read back from the original text, so 原文 keeps its
full-width punctuation.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Optional

import attrs
from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from polc.grammar import grammar_text

from . import ast as A
from .diagnostics import Diagnostic, error
from .keywords import (KEYWORDS, LEGAL_WORDS, POSTFIX_WORDS, KeywordPostLex, describe_terminal,
                       glued_keyword)

KEYWORD_TYPES = frozenset(KEYWORDS) | {'LEGAL_WORD', 'POSTFIX'}
from .numbers import money_value, percent_value, schedule_years, unit_number_value
from .text import line_col, normalize


@attrs.frozen
class ParseResult:
    policy: Optional[A.Policy]
    diagnostics: tuple[Diagnostic, ...]
    source: str


def _read_fingerprint() -> str:
    from pathlib import Path
    here = Path(__file__).resolve().parent
    parts = [grammar_text()] + [(here / f).read_text(encoding='utf-8')
                                for f in ('ast.py', 'parser.py', 'keywords.py', 'text.py', 'numbers.py')]
    return '\0'.join(parts)


# The grammar and the code that builds the AST, read when this module is imported: a cached AST
# is used only by the same code that made it (a process running older code never shares entries).
_FINGERPRINT = _read_fingerprint()


def _fingerprint() -> str:
    return _FINGERPRINT


@lru_cache(maxsize=1)
def _lark() -> Lark:
    from . import cache
    options = dict(parser='lalr', lexer='contextual', postlex=KeywordPostLex(),
                   propagate_positions=True, maybe_placeholders=False)
    d = cache.cache_dir()
    if d is not None:
        path = d / f'grammar-{cache.key(grammar_text())}.lark'
        try:
            return Lark(grammar_text(), cache=str(path), **options)
        except Exception:          # an unreadable cache file: build without it
            pass
    return Lark(grammar_text(), **options)


def _span_of(meta_or_tok) -> Optional[A.Span]:
    m = meta_or_tok
    if isinstance(m, Token):
        if m.line is None:
            return None
        return A.Span(m.line, m.column, m.end_line, m.end_column, m.start_pos, m.end_pos)
    if getattr(m, 'empty', True):
        return None
    return A.Span(m.line, m.column, m.end_line, m.end_column, m.start_pos, m.end_pos)


_DATE_ISO = re.compile(r'^(\d{4})-(\d{1,2})-(\d{1,2})$')
_DATE_CN = re.compile(r'^(\d{4})年(\d{1,2})月(\d{1,2})日$')


class _ToAst(Transformer):
    """Lark tree -> AST.  Problems found while building (bad dates …) go to ``self.diags``.

    :meth:`build` walks the tree iteratively (no recursion limit, and no per-node wrapper
    objects as Lark's ``v_args`` creates); the methods keep Lark's transformer conventions.
    """

    def __init__(self, original: str):
        super().__init__()
        self.original = original
        self.diags: list[Diagnostic] = []

    @classmethod
    def _dispatch(cls) -> dict:
        table = cls.__dict__.get('_TABLE')
        if table is None:
            import inspect
            from lark.visitors import _VArgsWrapper
            table = {}
            for name in dir(cls):
                if name.startswith('_'):
                    continue
                attr = inspect.getattr_static(cls, name)
                if isinstance(attr, _VArgsWrapper):
                    table[name] = (attr.base_func, True)
                elif inspect.isfunction(attr):
                    table[name] = (attr, False)
            cls._TABLE = table
        return table

    def build(self, tree: Tree):
        table = self._dispatch()
        out: list = []
        stack: list = [(tree, 0)]
        while stack:
            node, state = stack.pop()
            if state == 0:
                stack.append((node, 1))
                for c in reversed(node.children):
                    stack.append((c, 0) if isinstance(c, Tree) else (c, 2))
            elif state == 2:
                out.append(node)
            else:
                n = len(node.children)
                args = out[len(out) - n:] if n else []
                if n:
                    del out[len(out) - n:]
                entry = table.get(node.data)
                if entry is None:
                    out.append(Tree(node.data, args, node.meta))
                else:
                    func, wants_meta = entry
                    out.append(func(self, node.meta, args) if wants_meta else func(self, args))
        return out[0]

    # ---------------------------------------------------------------- helpers
    def _string(self, tok: Token) -> str:
        """Decode a "…" string, taking its characters from the original text."""
        norm = str(tok)
        orig = self.original[tok.start_pos:tok.end_pos] if tok.start_pos is not None else norm
        if len(orig) != len(norm):
            orig = norm
        out = []
        i = 1
        while i < len(norm) - 1:
            if norm[i] == '\\' and i + 1 < len(norm) - 1:
                nxt = norm[i + 1]
                out.append({'n': '\n', 't': '\t'}.get(nxt, orig[i + 1]))
                i += 2
            else:
                out.append(orig[i])
                i += 1
        return ''.join(out)

    # ---------------------------------------------------------------- leaves
    @v_args(meta=True)
    def name(self, meta, children):
        tok = children[0]
        text = str(tok)
        if tok.type == 'QNAME':
            text = text[1:-1].strip()
        return A.Name(text, span=_span_of(tok))

    def principle_word(self, children):
        return str(children[0]) if children else '就高'

    def name_list(self, children):
        return tuple(children)

    def text(self, children):
        tok = children[0]
        if isinstance(tok, Token) and tok.type == 'STRING':
            return self._string(tok)
        return str(tok)

    def text_list(self, children):
        return tuple(children)

    def strings(self, children):
        return ''.join(self._string(t) for t in children)

    def date(self, children):
        tok = children[0]
        s = str(tok)
        m = _DATE_ISO.match(s) or _DATE_CN.match(s)
        try:
            value = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except (ValueError, AttributeError):
            self.diags.append(error('E-DATE', f'日期「{s}」不存在', _span_of(tok)))
            value = dt.date(1970, 1, 1)
        return A.DateLit(value, span=_span_of(tok))

    def money(self, children):
        tok = children[0]
        return A.Money(money_value(str(tok)), str(tok), span=_span_of(tok))

    def percent(self, children):
        tok = children[0]
        return A.Percent(percent_value(str(tok)), str(tok), span=_span_of(tok))

    def number_unit(self, children):
        tok = children[0]
        return A.Number(unit_number_value(str(tok)), str(tok), False, span=_span_of(tok))

    def integer(self, children):
        tok = children[0]
        return A.Number(Decimal(str(tok)), str(tok), True, span=_span_of(tok))

    def decimal(self, children):
        tok = children[0]
        return A.Number(Decimal(str(tok)), str(tok), False, span=_span_of(tok))

    @v_args(meta=True)
    def true_(self, meta, children):
        return A.Bool(True, span=_span_of(meta))

    @v_args(meta=True)
    def false_(self, meta, children):
        return A.Bool(False, span=_span_of(meta))

    true_lit = true_
    false_lit = false_

    @v_args(meta=True)
    def neg_lit(self, meta, children):
        op, v = children
        if str(op) == '+':
            return v
        if isinstance(v, (A.Money, A.Percent, A.Number)):
            return attrs.evolve(v, value=-v.value, text='-' + v.text, span=_span_of(meta))
        return A.Neg(v, span=_span_of(meta))

    def literal(self, children):
        v = children[0]
        if isinstance(v, A.Name):
            return A.Ref(v.text, span=v.span)
        return v

    def signed_literal(self, children):
        return children[0]

    # ---------------------------------------------------------------- expressions
    @v_args(meta=True)
    def ref(self, meta, children):
        n = children[0]
        return A.Ref(n.text, span=n.span)

    @v_args(meta=True)
    def binop(self, meta, children):
        left, op, right = children
        o = {'+': '+', '-': '-', '−': '-', '×': '*', '*': '*', '÷': '/', '/': '/'}[str(op)]
        return A.BinOp(o, left, right, span=_span_of(meta))

    @v_args(meta=True)
    def neg(self, meta, children):
        op, v = children
        if str(op) == '+':
            return v
        return A.Neg(v, span=_span_of(meta))

    @v_args(meta=True)
    def compare(self, meta, children):
        left, op, right = children
        o = {'>=': '>=', '≥': '>=', '<=': '<=', '≤': '<=', '>': '>', '<': '<', '=': '==',  # noqa
             '==': '==', '!=': '!=', '≠': '!='}[str(op)]
        return A.Compare(o, left, right, str(op), span=_span_of(meta))

    @v_args(meta=True)
    def legal_compare(self, meta, children):
        left, word, right = children
        return A.Compare(LEGAL_WORDS[str(word)], left, right, str(word), span=_span_of(meta))

    @v_args(meta=True)
    def bound(self, meta, children):
        value = children[0]
        if len(children) > 1:
            incl = str(children[1]) == '(含)'
            return A.Bound(value, incl, True, span=_span_of(meta))
        return A.Bound(value, True, False, span=_span_of(meta))

    @v_args(meta=True)
    def half_range(self, meta, children):
        subject, bound, word = children
        op = POSTFIX_WORDS[str(word)]
        if op == '>=':
            return A.Range(subject, bound, None, str(word), span=_span_of(meta))
        return A.Range(subject, None, bound, str(word), span=_span_of(meta))

    @v_args(meta=True)
    def range(self, meta, children):
        subject, low, _sep, high = children
        return A.Range(subject, low, high, '至', span=_span_of(meta))

    @v_args(meta=True)
    def is_(self, meta, children):
        return A.Is(children[0], children[1], span=_span_of(meta))

    @v_args(meta=True)
    def in_(self, meta, children):
        return A.In(children[0], children[1], span=_span_of(meta))

    @v_args(meta=True)
    def and_(self, meta, children):
        return A.And(children[0], children[1], span=_span_of(meta))

    @v_args(meta=True)
    def or_(self, meta, children):
        return A.Or(children[0], children[1], span=_span_of(meta))

    @v_args(meta=True)
    def not_(self, meta, children):
        return A.Not(children[0], span=_span_of(meta))

    @v_args(meta=True)
    def cap(self, meta, children):
        return A.Cap(children[0], children[1], span=_span_of(meta))

    @v_args(meta=True)
    def per_full_step(self, meta, children):
        return A.PerStep(children[0], children[1], children[2], True, span=_span_of(meta))

    @v_args(meta=True)
    def per_step_pro_rata(self, meta, children):
        return A.PerStep(children[0], children[1], children[2], False, span=_span_of(meta))

    @v_args(meta=True)
    def sched_entry(self, meta, children):
        label = children[0]
        value = children[-1]
        years = schedule_years(label.text)
        if years is None:
            self.diags.append(error(
                'E-SCHEDULE-LABEL', f'「{label.text}」不是年份（应写作 第一年、第二年 或 前三年）',
                label.span))
            years = ()
        return A.ScheduleEntry(label.text, years, value, span=_span_of(meta))

    @v_args(meta=True)
    def schedule(self, meta, children):
        return A.Schedule(children[0], tuple(children[1:]), span=_span_of(meta))

    @v_args(meta=True)
    def prog_entry(self, meta, children):
        return A.ProgressiveStep(children[0], children[1], span=_span_of(meta))

    @v_args(meta=True)
    def progressive(self, meta, children):
        base = children[0]
        steps = tuple(c for c in children[1:] if isinstance(c, A.ProgressiveStep))
        rest = [c for c in children[1:] if not isinstance(c, A.ProgressiveStep)]
        return A.Progressive(base, steps, rest[0] if rest else None, span=_span_of(meta))

    @v_args(meta=True)
    def cat_entry(self, meta, children):
        return A.CategoryEntry(children[0], children[1], span=_span_of(meta))

    @v_args(meta=True)
    def by_category(self, meta, children):
        return A.ByCategory(children[0], tuple(children[1:]), span=_span_of(meta))

    @v_args(meta=True)
    def max_of(self, meta, children):
        return A.MaxOf(tuple(children), span=_span_of(meta))

    @v_args(meta=True)
    def min_of(self, meta, children):
        return A.MinOf(tuple(children), span=_span_of(meta))

    # ---------------------------------------------------------------- amounts
    @v_args(meta=True)
    def ceiling(self, meta, children):
        return A.Ceiling(children[0], span=_span_of(meta))

    @v_args(meta=True)
    def tier(self, meta, children):
        return A.Tier(children[0], children[1], span=_span_of(meta))

    def otherwise(self, children):
        return ('otherwise', children[0])

    @v_args(meta=True)
    def tiers(self, meta, children):
        tiers = tuple(c for c in children if isinstance(c, A.Tier))
        other = [c[1] for c in children if isinstance(c, tuple)]
        return A.Tiers(tiers, other[0] if other else None, span=_span_of(meta))

    @v_args(meta=True)
    def case_by_case(self, meta, children):
        return A.CaseByCase(span=_span_of(meta))

    @v_args(meta=True)
    def deferred(self, meta, children):
        return A.Deferred(children[0], span=_span_of(meta))

    @v_args(meta=True)
    def non_cash(self, meta, children):
        return A.NonCash(children[0], span=_span_of(meta))

    @v_args(meta=True)
    def no_amount(self, meta, children):
        return A.NoAmount(children[0] if children else '', span=_span_of(meta))

    @v_args(meta=True)
    def explicit_na(self, meta, children):
        return A.ExplicitNA(children[0] if children else '', span=_span_of(meta))

    # ---------------------------------------------------------------- header
    def _h(key):
        @v_args(meta=True)
        def f(self, meta, children):
            value = children[0] if children else True
            if isinstance(value, A.DateLit):
                value = value.value
            elif isinstance(value, Token):
                value = int(str(value))
            elif key == 'principle':
                value = tuple(value.children)
            return A.HeaderField(key, value, span=_span_of(meta))
        return f

    h_name = _h('name')
    h_issuer = _h('issuer')
    h_docno = _h('docno')
    h_issued = _h('issued')
    h_effective = _h('effective')
    h_expiry = _h('expiry')
    h_duration = _h('duration')
    h_stats_start = _h('stats_start')
    h_principle = _h('principle')
    h_rates_are_maxima = _h('rates_are_maxima')
    h_status = _h('status')
    h_shared_units = _h('shared_units')
    h_source_text = _h('source')
    h_reading = _h('reading')
    h_source_file = _h('source_file')
    del _h

    def header(self, children):
        return children[0]

    # ---------------------------------------------------------------- declarations
    @v_args(meta=True)
    def t_money(self, meta, c):
        return A.TypeSpec('money', span=_span_of(meta))

    @v_args(meta=True)
    def t_percent(self, meta, c):
        return A.TypeSpec('percent', span=_span_of(meta))

    @v_args(meta=True)
    def t_int(self, meta, c):
        return A.TypeSpec('int', span=_span_of(meta))

    @v_args(meta=True)
    def t_bool(self, meta, c):
        return A.TypeSpec('bool', span=_span_of(meta))

    @v_args(meta=True)
    def t_date(self, meta, c):
        return A.TypeSpec('date', span=_span_of(meta))

    @v_args(meta=True)
    def t_enum(self, meta, c):
        return A.TypeSpec('enum', tuple(c[0]), span=_span_of(meta))

    def default(self, children):
        return ('default', children[0])

    @v_args(meta=True)
    def input_decl(self, meta, children):
        name, type_spec = children[0], children[1]
        desc, default = '', None
        for c in children[2:]:
            if isinstance(c, tuple):
                default = c[1]
            elif isinstance(c, Token):
                desc = self._string(c)
        return A.InputDecl(name, type_spec, desc, default, span=_span_of(meta))

    @v_args(meta=True)
    def define_decl(self, meta, children):
        name, _eq, expr = children[:3]
        desc = self._string(children[3]) if len(children) > 3 else ''
        return A.Define(name, expr, desc, span=_span_of(meta))

    def _prop(key):
        def f(self, children):
            return (key, children[0] if children else None)
        return f

    p_lead = _prop('lead')
    p_units = _prop('units')
    p_source = _prop('source')
    p_reading = _prop('reading')
    p_kind = _prop('kind')
    p_condition = _prop('condition')
    p_amount = _prop('amount')
    p_allocation = _prop('allocation')
    del _prop

    def p_quota(self, children):
        return ('quota', int(str(children[0])))

    def p_pool(self, children):
        tok = children[0]
        return ('pool', A.Money(money_value(str(tok)), str(tok), span=_span_of(tok)))

    def clause_prop(self, children):
        return children[0]

    def item_prop(self, children):
        return children[0]

    @v_args(meta=True)
    def item(self, meta, children):
        name = children[0]
        props = children[1:]
        kind, amount, quota, pool, allocation = '', None, None, None, ''
        source, readings, conds, lead, units = [], [], [], [], []
        for key, value in props:
            if key == 'lead':
                lead.extend(value)
            elif key == 'units':
                units.extend(value)
            elif key == 'kind':
                kind = value
            elif key == 'source':
                source.append(value)
            elif key == 'reading':
                readings.append(value)
            elif key == 'condition':
                conds.append(value)
            elif key == 'amount':
                if amount is not None:
                    self.diags.append(error('E-DUPLICATE-AMOUNT', f'项「{name.text}」写了两次「金额」',
                                            _span_of(meta)))
                amount = value
            elif key == 'quota':
                quota = value
            elif key == 'allocation':
                allocation = value
            elif key == 'pool':
                pool = value
        return A.Item(name, kind, tuple(source), tuple(readings), tuple(conds), amount, quota,
                      pool, tuple(lead), tuple(units), allocation, span=_span_of(meta))

    @v_args(meta=True)
    def clause(self, meta, children):
        number = str(children[0]).strip()          # normalised: (二) / 二、 / 2.
        if number.startswith('(') and number.endswith(')'):
            number = '（' + number[1:-1] + '）'       # written the Chinese way
        rest = children[1:]
        title = ''
        if rest and isinstance(rest[0], str) and not isinstance(rest[0], tuple):
            title = rest[0]
            rest = rest[1:]
        lead, units, source, readings, items = [], [], [], [], []
        for c in rest:
            if isinstance(c, A.Item):
                items.append(c)
            else:
                key, value = c
                {'lead': lead, 'units': units}.get(key, []).extend(value) if key in (
                    'lead', 'units') else {'source': source, 'reading': readings}[key].append(value)
        return A.Clause(number, title, tuple(lead), tuple(units), tuple(source), tuple(readings),
                        tuple(items), span=_span_of(meta))

    @v_args(meta=True)
    def g_highest(self, meta, children):
        return A.Group(children[0], 'highest', tuple(children[1]), None, span=_span_of(meta))

    @v_args(meta=True)
    def g_sum_cap(self, meta, children):
        return A.Group(children[0], 'sum_cap', tuple(children[1]), children[2],
                       span=_span_of(meta))

    # ---------------------------------------------------------------- cases
    @v_args(meta=True)
    def assignment(self, meta, children):
        return A.Assignment(children[0], children[2], span=_span_of(meta))

    def _e(kind):
        @v_args(meta=True)
        def f(self, meta, children):
            return (kind, children[0] if children else None, _span_of(meta))
        return f

    e_not_applicable = _e('not_applicable')
    e_case_by_case = _e('case_by_case')
    e_deferred = _e('deferred')
    e_non_cash = _e('non_cash')
    e_no_amount = _e('no_amount')
    e_set_aside = _e('set_aside')
    e_ceiling = _e('ceiling')
    e_amount = _e('amount')
    del _e

    @v_args(meta=True)
    def etarget(self, meta, children):
        if children:
            n = children[0]
            return A.Name('合计', span=n.span) if n.text == '合計' else n   # one name for the total
        return A.Name('合计', span=_span_of(meta))

    @v_args(meta=True)
    def expectation(self, meta, children):
        target, _eq, (kind, value, _s) = children
        return A.Expectation(target, kind, value, span=_span_of(meta))

    def c_date(self, children):
        return ('date', children[0])

    def c_inputs(self, children):
        return ('inputs', tuple(children))

    def c_expect(self, children):
        return ('expect', tuple(children))

    def case_prop(self, children):
        return children[0]

    @v_args(meta=True)
    def case(self, meta, children):
        title = children[0]
        date, inputs, expects = None, [], []
        for key, value in children[1:]:
            if key == 'date':
                date = value
            elif key == 'inputs':
                inputs.extend(value)
            else:
                expects.extend(value)
        return A.Case(title, date, tuple(inputs), tuple(expects), span=_span_of(meta))

    # ---------------------------------------------------------------- guarantees
    def gtarget(self, children):
        return children[0] if children else None

    @v_args(meta=True)
    def g_bound(self, meta, children):
        title = children[0] if len(children) == 4 else ''
        target, word, bound = children[-3], children[-2], children[-1]
        w = str(word)
        op = LEGAL_WORDS.get(w) or {'>=': '>=', '≥': '>=', '<=': '<=', '≤': '<=', '>': '>', '<': '<',
                                    '==': '==', '!=': '!=', '≠': '!='}.get(w, '==')
        return A.Guarantee(title, target, 'bound', op, w, bound, None, span=_span_of(meta))

    @v_args(meta=True)
    def g_monotone(self, meta, children):
        target, name = children[-2], children[-1]
        title = children[0] if len(children) == 3 else ''
        return A.Guarantee(title, target, 'monotone', '', '', None, name, span=_span_of(meta))

    # ---------------------------------------------------------------- policy
    @v_args(meta=True)
    def start(self, meta, children):
        header = tuple(c for c in children if isinstance(c, A.HeaderField))
        return A.Policy(
            header=header,
            inputs=tuple(c for c in children if isinstance(c, A.InputDecl)),
            defines=tuple(c for c in children if isinstance(c, A.Define)),
            clauses=tuple(c for c in children if isinstance(c, A.Clause)),
            groups=tuple(c for c in children if isinstance(c, A.Group)),
            cases=tuple(c for c in children if isinstance(c, A.Case)),
            guarantees=tuple(c for c in children if isinstance(c, A.Guarantee)),
            span=_span_of(meta))


# -------------------------------------------------------------------- errors
_MAX_EXPECTED_SHOWN = 8


def _describe_token(tok: Token) -> str:
    if tok.type == '$END':
        return '文件结尾'
    v = str(tok)
    if len(v) > 20:
        v = v[:20] + '…'
    return f'「{v}」'


def _expected_text(expected) -> str:
    names = sorted({describe_terminal(e) for e in expected})
    if len(names) > _MAX_EXPECTED_SHOWN:
        names = names[:_MAX_EXPECTED_SHOWN] + ['……']
    return '、'.join(names)


_HAN_RUN = re.compile(r'[A-Za-z_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$')


def _glue_hint(norm: str, pos: int) -> str:
    """If the word just before ``pos`` has a keyword glued to it, suggest the split."""
    before = norm[:pos].rstrip(' \t')
    m = _HAN_RUN.search(before)
    if not m:
        # the offending token itself may be the glued word
        m2 = re.match(r'[A-Za-z_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+', norm[pos:])
        word = m2.group(0) if m2 else ''
    else:
        word = m.group(0)
    g = glued_keyword(word) if word else None
    if not g:
        return ''
    a, kw, b = g
    split = ' '.join(x for x in (a, kw, b) if x)
    return f'「{word}」中连着关键字「{kw}」；关键字与名称之间要用空格或标点隔开，例如「{split}」，或用「」把名称括起来'


def _syntax_diagnostic(exc: UnexpectedInput, norm: str) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        ch = norm[exc.pos_in_stream] if exc.pos_in_stream < len(norm) else ''
        line, col = exc.line, exc.column
        span = A.Span(line, col, line, col + 1, exc.pos_in_stream, exc.pos_in_stream + 1)
        if ch == '"':
            msg = '字符串缺少结尾的引号「"」'
        elif ch in '「」':
            msg = f'「」括起的名称不完整（缺少配对的括号，或名称跨行）'
        else:
            msg = f'无法识别的字符「{ch}」（U+{ord(ch):04X}）' if ch else '无法识别的内容'
        allowed = getattr(exc, 'allowed', None) or ()
        hint = _glue_hint(norm, exc.pos_in_stream)
        if not hint and allowed:
            hint = f'此处应为：{_expected_text(allowed)}'
        return error('E-SYNTAX', msg, span, hint)
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == '$END':
            line, col = line_col(norm, len(norm))
            span = A.Span(line, col, line, col, len(norm), len(norm))
            msg = '文件意外结束'
        else:
            span = _span_of(tok)
            msg = f'此处不应出现{_describe_token(tok)}'
        pos = tok.start_pos if tok.start_pos is not None else len(norm)
        hint = _glue_hint(norm, pos)
        if not hint and tok.type in KEYWORD_TYPES and ('NAME' in (exc.expected or ()) or 'QNAME' in (
                exc.expected or ())):
            hint = f'「{tok}」是关键字；用作名称时请写成「「{tok}」」，或换一个名称'
        if not hint and tok.type == 'LPAR' and pos > 0 and _HAN_RUN.search(norm[:pos]):
            hint = '文字中含有括号时，请用引号把整段文字括起来，例如 "漳州市……措施（节选）"'
        accepts = exc.expected
        try:
            if exc.interactive_parser is not None:
                accepts = exc.interactive_parser.accepts() or accepts
        except Exception:       # accepts() re-runs the parser; fall back to Lark's set
            pass
        expected = _expected_text(accepts) if accepts else ''
        if expected:
            msg += f'；应为：{expected}'
        return error('E-SYNTAX', msg, span, hint)
    if isinstance(exc, UnexpectedEOF):
        line, col = line_col(norm, len(norm))
        return error('E-SYNTAX', '文件意外结束', A.Span(line, col, line, col, len(norm), len(norm)))
    return error('E-SYNTAX', '语法错误', None)


def parse(source: str, file: str = '<输入>') -> ParseResult:
    """Parse ``source``; never raises on bad input: problems come back as diagnostics."""
    from . import cache
    cache_name = f'ast-{cache.key(_fingerprint(), source)}.pickle'
    cached = cache.load(cache_name)
    if isinstance(cached, A.Policy):
        return ParseResult(cached, (), source)
    result = _parse(source, file)
    if result.policy is not None and not result.diagnostics:
        cache.store(cache_name, result.policy)
    return result


def _parse(source: str, file: str) -> ParseResult:
    norm = normalize(source)
    try:
        tree = _lark().parse(norm)
    except UnexpectedInput as exc:
        return ParseResult(None, (_syntax_diagnostic(exc, norm).with_file(file),), source)
    except RecursionError:
        return ParseResult(None, (error('E-TOO-DEEP', '嵌套过深，无法分析', None).with_file(file),),
                           source)
    builder = _ToAst(source)
    try:
        policy = builder.build(tree)
    except (InvalidOperation, ValueError, ArithmeticError) as exc:
        return ParseResult(None, (error('E-NUMBER', f'无法读取的数：{exc}', None).with_file(file),),
                           source)
    return ParseResult(policy, tuple(d.with_file(file) for d in builder.diags), source)
