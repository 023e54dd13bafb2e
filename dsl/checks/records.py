"""Checks of records (一个申请人、多个项目): declared kinds, which rules may use a record's inputs,
per-applicant caps, 就高 per record, and the record lines of cases."""
from __future__ import annotations

import difflib

from polc.dsl import ast as A
from polc.dsl.diagnostics import Diagnostic, error
from polc.dsl.symbols import Symbols
from polc.dsl.checks.cases import literal_problem


def _record_refs(node, sym: Symbols, seen=None) -> list[A.Ref]:
    """References to record inputs in ``node``, through definitions."""
    seen = set() if seen is None else seen
    out = []
    for n in A.walk(node):
        if isinstance(n, A.Ref):
            d = sym.inputs.get(n.name)
            if d is not None and d.record:
                out.append(n)
            elif n.name in sym.defines and n.name not in seen:
                seen.add(n.name)
                out.extend(A.Ref(r.name, span=n.span) for r in _record_refs(sym.defines[n.name].expr, sym, seen))
    return out


def check_records(p: A.Policy, sym: Symbols) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    kinds: dict[str, A.RecordDecl] = {}
    for r in p.records:
        if r.name.text in kinds:
            out.append(error('E-RECORD-DUPLICATE', f'记录「{r.name.text}」声明了两次', r.name.span))
        elif r.name.text in sym.inputs or r.name.text in sym.items:
            out.append(error('E-RECORD-DUPLICATE', f'记录「{r.name.text}」与一个输入或项同名', r.name.span))
        kinds.setdefault(r.name.text, r)

    def known(kind: str, span) -> bool:
        if kind in kinds:
            return True
        close = difflib.get_close_matches(kind, list(kinds), n=1, cutoff=0.3)
        out.append(error('E-RECORD-UNKNOWN', f'「每个 {kind}」中的「{kind}」不是已声明的记录',
                         span, f'是否指「{close[0]}」？' if close else f'先写「记录 {kind}」声明它'))
        return False

    for d in p.inputs:
        if d.record:
            known(d.record, d.span)
    for _c, it in p.items():
        if it.per_record and not known(it.per_record, it.name.span):
            continue
        parts = list(it.conditions) + ([it.amount] if it.amount is not None else [])
        for node in parts:
            for ref in _record_refs(node, sym):
                kind = sym.inputs[ref.name].record
                if kind != it.per_record:
                    where = f'每个{it.per_record}计算' if it.per_record else '按申请人计算'
                    out.append(error(
                        'E-RECORD-INPUT', f'项「{it.name.text}」{where}，不能用「{kind}」的输入「{ref.name}」',
                        ref.span, f'在项名后写「每个 {kind}」，使本项按每个{kind}计算' if not it.per_record else ''))
        if it.firm_cap is not None:
            if not it.per_record:
                out.append(error('E-FIRM-CAP', f'项「{it.name.text}」不是按记录计算（没有写「每个 …」），'
                                 f'「{it.firm_cap_word}」无从合计', it.name.span,
                                 '写「每个 项目」等，或把上限写进「金额」'))
            for ref in _record_refs(it.firm_cap, sym):
                out.append(error('E-FIRM-CAP', f'「{it.firm_cap_word}」是对申请人的上限，不能用记录的输入'
                                 f'「{ref.name}」', ref.span))
    for g in p.groups:
        if not g.per_record or not known(g.per_record, g.name.span):
            continue
        for m in g.members:
            entry = sym.items.get(m.text)
            if entry is not None and entry[1].per_record != g.per_record:
                out.append(error('E-RECORD-GROUP', f'组「{g.name.text}」按每个{g.per_record}就高，'
                                 f'成员「{m.text}」却不是按每个{g.per_record}计算的项', m.span))
            elif entry is None and m.text in sym.groups:
                out.append(error('E-RECORD-GROUP', f'组「{g.name.text}」按每个{g.per_record}就高，'
                                 f'成员只能是项，「{m.text}」是组', m.span))
    for c in p.cases:
        flat = {a.name.text for a in c.inputs if a.name.text in sym.inputs and sym.inputs[a.name.text].record}
        for r in c.records:
            kind = r.kind.text
            if not known(kind, r.kind.span):
                continue
            if flat and any(sym.inputs[n].record == kind for n in flat):
                out.append(error('E-CASE-RECORD', f'案例「{c.title}」既在「输入」里给了{kind}的输入，'
                                 f'又逐个列出了{kind}', r.span, f'把{kind}的输入都写在「{kind}：」行里'))
            given: set[str] = set()
            for a in r.inputs:
                name = a.name.text
                d = sym.inputs.get(name)
                if d is None or d.record != kind:
                    out.append(error('E-CASE-UNKNOWN-INPUT',
                                     f'案例「{c.title}」的{kind}给出了不属于{kind}的输入「{name}」', a.name.span))
                    continue
                if name in given:
                    out.append(error('E-CASE-DUPLICATE', f'案例「{c.title}」的一个{kind}中输入「{name}」给了两次',
                                     a.name.span))
                given.add(name)
                problem = literal_problem(a.value, d, sym)
                if problem:
                    out.append(error('E-CASE-TYPE', f'案例「{c.title}」中{kind}的输入「{name}」{problem}', a.value.span))
            for d in p.record_inputs(kind):
                if d.default is None and d.name.text not in given:
                    out.append(error('E-CASE-MISSING-INPUT', f'案例「{c.title}」的一个{kind}缺少必填输入'
                                     f'「{d.name.text}」（该输入没有默认值）', r.span))
    return out
