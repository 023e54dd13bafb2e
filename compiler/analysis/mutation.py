"""Mutation testing of a policy file: derive wrong versions of the rules and see that the
file's own cases (or its guarantees, through ``polc verify``) notice each one.

Mutants: raise a rate by 5 percentage points; drop a cap (最高 X); flip a written range end
（含）↔（不含）; move a threshold in a condition by one fen; drop an applicant's cap (每家最高);
make a 就高 per record (每个 项目) a 就高 per applicant.  A mutant survives when every case
still passes and no guarantee fails: that is a missing case or guarantee.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterator

import attrs

from polc.dsl import ast as A
from polc.dsl.formatter import format_policy

from polc.compiler.analysis.cases import run_cases
from polc.compiler.python.loader import PolcError, loads


@attrs.frozen
class Mutant:
    description: str
    text: str
    item: str = ''          # the item whose rules were changed


@attrs.frozen
class MutantResult:
    description: str
    caught_by: str          # 'cases', 'verify', or '' when it survived
    detail: str


def _replace(node, target, new):
    """A copy of ``node`` with the node ``target`` (by identity) replaced by ``new``."""
    return A.rebuild(node, lambda n: new if n is target else n)


def _where(policy: A.Policy, node) -> tuple[str, str]:
    for c, it in policy.items():
        if any(n is node for n in A.walk(it)):
            return f'{c.number}「{it.name.text}」', it.name.text
    return '', ''


def mutants(policy: A.Policy, source: str) -> Iterator[Mutant]:
    in_condition: set[int] = set()
    for _c, it in policy.items():
        for cond in it.conditions:
            in_condition.update(id(n) for n in A.walk(cond))
        for n in A.walk(it.amount) if it.amount is not None else ():
            if isinstance(n, A.Tier):
                in_condition.update(id(m) for m in A.walk(n.condition))
    items = [it for _c, it in policy.items()]
    for it in items:
        for n in A.walk(it):
            where, item = _where(policy, n)
            if isinstance(n, A.Percent) and id(n) not in in_condition and n.value <= Decimal('0.95'):
                v = n.value + Decimal('0.05')
                new = A.Percent(v, f'{(v * 100).normalize():f}%')
                yield Mutant(f'{where} 比例 {n.text} → {new.text}', _text(policy, source, n, new), item)
            elif isinstance(n, A.Cap):
                yield Mutant(f'{where} 去掉上限「最高 {getattr(n.limit, "text", "…")}」',
                             _text(policy, source, n, n.value), item)
            elif isinstance(n, A.Bound) and n.explicit:
                new = attrs.evolve(n, inclusive=not n.inclusive)
                word = '（含）→（不含）' if n.inclusive else '（不含）→（含）'
                yield Mutant(f'{where} 区间端点 {getattr(n.value, "text", "")}{word}',
                             _text(policy, source, n, new), item)
            elif isinstance(n, A.Money) and id(n) in in_condition and n.value > 0:
                new = A.Money(n.value + Decimal('0.01'), f'{n.value + Decimal("0.01")}元')
                yield Mutant(f'{where} 条件中的门槛 {n.text} → {new.text}', _text(policy, source, n, new),
                             item)


    # records: the applicant's cap dropped; 就高 per record made 就高 per applicant (named by the item
    # or the group; :func:`equivalent` never calls these equivalent: its solver sees one record)
    for c, it in policy.items():
        if it.firm_cap is not None:
            yield Mutant(f'{c.number}「{it.name.text}」 去掉「{it.firm_cap_word}」',
                         _text(policy, source, it, attrs.evolve(it, firm_cap=None, firm_cap_word='')),
                         it.name.text)
    for g in policy.groups:
        if g.per_record:
            yield Mutant(f'组「{g.name.text}」 就高按申请人而不是每个{g.per_record}',
                         _text(policy, source, g, attrs.evolve(g, per_record='')), f'组「{g.name.text}」')


def _text(policy, source, target, new) -> str:
    return format_policy(_replace(policy, target, new), source)


def run(policy_text: str, file: str, verify_examples: int = 100, progress=None) -> list[MutantResult]:
    """Try every mutant; ``progress``, when given, is called as ``progress(done, total)``."""
    from polc.compiler.analysis.verify import verify
    original = loads(policy_text, file)
    out = []
    every = list(mutants(original.policy, policy_text))
    for k, m in enumerate(every):
        if progress is not None:
            progress(k, len(every))
        try:
            compiled = loads(m.text, f'{file}#mutant')
        except PolcError as exc:
            out.append(MutantResult(m.description, 'check', str(exc).splitlines()[0]))
            continue
        failed = [r for r in run_cases(compiled) if not r.passed]
        if failed:
            out.append(MutantResult(m.description, 'cases', f'案例「{failed[0].title}」'))
            continue
        report = verify(compiled, examples=verify_examples)
        bad = [o for o in report.outcomes if o.status == 'failed']
        if bad:
            out.append(MutantResult(m.description, 'verify', bad[0].guarantee.label))
        elif equivalent(original, compiled, m.item):
            out.append(MutantResult(m.description, 'equivalent', '求解器证明：对任何申请人结果都不变'))
        else:
            out.append(MutantResult(m.description, '', ''))
    return out


def equivalent(a, b, item: str) -> bool:
    """Does the item compute the same outcome and amount in both policies, for every applicant?
    (Proved with z3 for linear rules; False when it cannot be proved.)  An item computed per record
    is the same when its per-record rule and its applicant's cap (每家最高) are both the same."""
    from polc.compiler.analysis.solver import NotLinear, _Z3
    try:
        import z3
    except ImportError:
        return False
    try:
        ia, ib = a.analysis.checked.symbols.items[item][1], b.analysis.checked.symbols.items[item][1]
        if ia.per_record != ib.per_record or (ia.firm_cap is None) != (ib.firm_cap is None):
            return False
        pairs = [(ia, ib)]
        if ia.firm_cap is not None:         # the cap as an amount of its own, compared the same way
            pairs.append(tuple(A.Item(x.name, x.kind, (), (), (), x.firm_cap, None, None) for x in (ia, ib)))
        for xa, xb in pairs:
            ta, tb = _Z3(a), _Z3(b)
            va, ka = ta.item_kind(xa)
            vb, kb = tb.item_kind(xb)
            s = z3.Solver()
            s.set('timeout', 10000)
            s.add(ta.constraints + tb.constraints)
            # different outcome kinds, or the same amount-bearing kind with a different amount
            s.add(z3.Or(ka != kb, z3.And(z3.Or(ka == 1, ka == 2), va != vb)))
            if s.check() != z3.unsat:
                return False
        return True
    except (NotLinear, z3.Z3Exception, KeyError, ValueError, TypeError):
        return False


def render(file: str, results: list[MutantResult]) -> str:
    caught = sum(1 for r in results if r.caught_by and r.caught_by != 'equivalent')
    equiv = sum(1 for r in results if r.caught_by == 'equivalent')
    real = len(results) - equiv
    lines = [f'{file}：{len(results)} 个变异体（其中 {equiv} 个经证明与原规则等价），'
             f'其余 {real} 个发现 {caught} 个（{caught / real:.0%}）' if real
             else f'{file}：没有可生成的变异体']
    for r in results:
        if r.caught_by == 'equivalent':
            lines.append(f'  等价：{r.description}')
    for r in results:
        if not r.caught_by:
            lines.append(f'  存活：{r.description}')
    return '\n'.join(lines) + '\n'
