"""Building the AST, part 1: leaves, expressions and amounts (a Lark transformer base class)."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Optional

import attrs
from lark import Token, Transformer, v_args


from polc.dsl import ast as A
from polc.dsl.diagnostics import error
from polc.dsl.keywords import (LEGAL_WORDS, POSTFIX_WORDS)
from polc.dsl.numbers import money_value, percent_value, schedule_years, unit_number_value


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


class ExprBuilder(Transformer):
    """Leaves, expressions and amounts; :class:`polc.dsl.build_ast.ToAst` adds declarations."""

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
    def cumulative_cap(self, meta, children):
        return A.CumulativeCap(children[0], children[1], children[2], span=_span_of(meta))

    @v_args(meta=True)
    def matching(self, meta, children):
        from decimal import Decimal
        base, tok = children[0], children[1]
        left, right = (Decimal(x) for x in str(tok).split(':'))
        if left == 0:
            self.diags.append(error('E-NUMBER', f'配套比例「{tok}」的前项不能为 0', _span_of(tok)))
            left = Decimal(1)
        return A.Matching(base, left, right, str(tok), span=_span_of(meta))

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
