"""Differential testing: compiled code and the reference interpreter agree exactly.

Normal suite: a few hundred generated applicants per policy (thousands in all).
Long mode: POLC_LONG=1 python -m pytest tests/test_differential.py  (200,000 per policy).
"""
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polc
import polc.testing
from polc.compiler.analysis.interpreter import Interpreter

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted((ROOT / 'policies').glob('*.pol')) + [ROOT / 'tests' / 'data' / 'sample.pol',
                                                        ROOT / 'tests' / 'data' / 'records.pol']
LONG = os.environ.get('POLC_LONG') == '1'
EXAMPLES = 200_000 if LONG else 300
_NUMBER = re.compile(r'-?\d+(?:\.\d+)?(?:亿元|万元|元|%)?')


def _numbers(lines):
    return [n for line in lines for n in _NUMBER.findall(line)]


def _view(result):
    return [(i.name, i.outcome, i.amount, i.paid, i.ceiling, i.set_aside, _numbers([i.detail]),
             _numbers(i.steps), _numbers(i.notes)) for i in result.items], result.total, result.ceiling_total


@pytest.mark.parametrize('path', POLICIES, ids=lambda p: p.stem)
def test_compiled_and_interpreted_agree(path):
    compiled = polc.load(path)
    interp = Interpreter(compiled.analysis.checked, compiled.analysis.source)

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(facts=polc.testing.facts(compiled), date=polc.testing.dates(compiled), explain=st.booleans())
    def check(facts, date, explain):
        a = compiled.evaluate(facts, date=date, explain=explain)
        b = interp.evaluate(facts, date=date, explain=explain)
        assert _view(a) == _view(b)
        # the typed fast path (no checks, no explanation) gives the same outcomes and amounts;
        # it takes flat facts only (tables have one row per applicant), not lists of records
        if any(k in facts for k in compiled.records):
            return
        raw = compiled.evaluate_raw(facts, date, False)
        typed, total = compiled.evaluate_typed(raw['facts'], raw['date'])
        assert total == a.total
        for it in a.items:
            value = it.paid if it.outcome == 'amount' else it.ceiling if it.outcome == 'ceiling' else None
            assert typed[it.name] == (it.outcome, value)

    check()


def test_interpreter_sees_a_wrong_rate():
    """The differential test can fail: an interpreter over a mutated policy disagrees."""
    text = (ROOT / 'tests' / 'data' / 'sample.pol').read_text(encoding='utf-8')
    compiled = polc.loads(text, 'a.pol')
    mutant = polc.loads(text.replace('攻关算力成本 × 60%', '攻关算力成本 × 61%'), 'b.pol')
    interp = Interpreter(mutant.analysis.checked, mutant.analysis.source)
    facts = {'攻关算力成本': '100万元'}
    assert _view(compiled.evaluate(facts, date='2025-06-01')) != _view(interp.evaluate(facts, date='2025-06-01'))
