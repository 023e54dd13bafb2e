"""Running the 案例 written in a policy file."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

import attrs

from polc.dsl import ast as A
from polc.dsl.units import format_money

from polc.compiler.python.loader import CompiledPolicy
from polc.compiler.python.results import EvalResult
from polc.compiler.python.runtime import FactsError, OUTCOME_LABELS

_EXPECT_LABEL = {'not_applicable': '不适用', 'case_by_case': '一事一议', 'deferred': '按规定享受',
                 'non_cash': '非现金', 'no_amount': '不设金额', 'set_aside': '未采用'}


@attrs.frozen
class CaseResult:
    title: str
    file: str
    line: Optional[int]
    passed: bool
    failures: tuple[str, ...]
    result: Optional[EvalResult]

    def to_dict(self) -> dict:
        return {'title': self.title, 'file': self.file, 'line': self.line, 'passed': self.passed,
                'failures': list(self.failures)}


def literal_value(e):
    if isinstance(e, (A.Money, A.Percent)):
        return e.value
    if isinstance(e, A.Number):
        return int(e.value) if e.is_int else e.value
    if isinstance(e, (A.Bool, A.DateLit)):
        return e.value
    if isinstance(e, A.Ref):
        return e.name
    raise TypeError(e)


def case_date(compiled: CompiledPolicy, case: A.Case):
    """A case's date, or the policy's effective (or issue) date when the case gives none."""
    if case.date is not None:
        return case.date.value
    meta = compiled.meta
    return meta.get('effective') or meta.get('issued')


def _describe(res: EvalResult, name: str) -> str:
    try:
        it = res.item(name)
    except KeyError:
        return ''
    if it.outcome == 'amount':
        return format_money(it.paid) + ('（未采用）' if it.set_aside else '')
    if it.outcome == 'ceiling':
        return f'最高 {format_money(it.ceiling)}' + ('（未采用）' if it.set_aside else '')
    return OUTCOME_LABELS.get(it.outcome, it.outcome) + (f'（{it.detail}）' if it.detail else '')


def check_expectation(res: EvalResult, exp: A.Expectation) -> Optional[str]:
    """None if the expectation holds, else a Chinese description of the difference."""
    name = exp.target.text
    want_value = literal_value(exp.value) if exp.value is not None else None
    if name in ('合计', '合計'):
        got = res.total
        if exp.kind != 'amount' or got != want_value:
            return f'合计：期望 {format_money(want_value) if want_value is not None else exp.kind}，实际 {format_money(got)}'
        return None
    group = next((g for g in res.groups if g.name == name), None)
    if group is not None:
        if exp.kind == 'amount' and group.total == want_value:
            return None
        return f'组「{name}」：期望 {format_money(want_value) if want_value is not None else exp.kind}，实际 {format_money(group.total or Decimal(0))}'
    it = res.item(name)
    ok = False
    if exp.kind == 'amount':
        ok = it.outcome == 'amount' and not it.set_aside and it.paid == want_value
        want = format_money(want_value)
    elif exp.kind == 'ceiling':
        ok = it.outcome == 'ceiling' and not it.set_aside and it.ceiling == want_value
        want = f'最高 {format_money(want_value)}'
    elif exp.kind == 'set_aside':
        ok = it.set_aside
        want = '未采用'
    else:
        ok = it.outcome == exp.kind
        want = _EXPECT_LABEL[exp.kind]
    if ok:
        return None
    lines = [f'「{name}」（条款 {it.clause}{it.title}）：期望 {want}，实际 {_describe(res, name)}']
    lines += [f'      · {step}' for step in it.steps]
    lines += [f'      调整：{n}' for n in it.notes]
    return '\n'.join(lines)


def case_facts(case: A.Case) -> dict:
    """The facts of a case: its inputs, and a list per record kind it lists (产品：… lines)."""
    facts: dict = {a.name.text: literal_value(a.value) for a in case.inputs}
    for r in case.records:
        rec = {a.name.text: literal_value(a.value) for a in r.inputs}
        if r.label:
            rec['名称'] = r.label
        facts.setdefault(r.kind.text, []).append(rec)
    return facts


def run_case(compiled: CompiledPolicy, case: A.Case) -> CaseResult:
    facts = case_facts(case)
    line = case.span.line if case.span else None
    file = compiled.analysis.file
    try:
        res = compiled.evaluate(facts, date=case_date(compiled, case))
    except FactsError as exc:
        return CaseResult(case.title, file, line, False, (f'事实有误：{exc}',), None)
    failures = [f for f in (check_expectation(res, e) for e in case.expects) if f]
    return CaseResult(case.title, file, line, not failures, tuple(failures), res)


def run_cases(compiled: CompiledPolicy, pattern: Optional[str] = None) -> list[CaseResult]:
    cases = compiled.policy.cases
    if pattern:
        cases = [c for c in cases if pattern in c.title]
    return [run_case(compiled, c) for c in cases]
