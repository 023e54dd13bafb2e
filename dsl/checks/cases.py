"""Checks of test cases (案例) and of the numbers in each item's original text (原文)."""
from __future__ import annotations

import difflib
from decimal import Decimal


from polc.dsl import ast as A
from polc.dsl.diagnostics import Diagnostic, error, warning
from polc.dsl.symbols import Symbols
from polc.dsl.checks.typecheck import type_name


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
            if d.default is None and d.name.text not in given and not (
                    d.record and any(r.kind.text == d.record for r in c.records)):
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
    from polc.dsl.numbers import numbers_in_text
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
