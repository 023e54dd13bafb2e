"""``CompiledPolicy.evaluate_document`` (what `polc serve` answers, made straight from the runtime's
result) is exactly ``evaluate_full(...).to_dict()`` (the `polc eval --format json` document): the
same keys in the same order, the same values, on every seed policy (厦门 in traditional characters),
both benchmark clause sets and a policy with records."""
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polc
import polc.testing
from polc.compiler.python.runtime_facts import FactsError

from test_fast_path import same_answers

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted((ROOT / 'policies').glob('*.pol')) + [ROOT / 'bench' / 'clauses.pol',
                                                        ROOT / 'bench' / 'clauses2.pol',
                                                        ROOT / 'tests' / 'data' / 'sample.pol',
                                                        ROOT / 'tests' / 'data' / 'records.pol']


@pytest.mark.parametrize('path', POLICIES, ids=lambda p: p.stem)
def test_the_document_is_the_full_results_document(path):
    compiled = polc.load(path)

    @settings(max_examples=80, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(facts=polc.testing.facts(compiled), date=polc.testing.dates(compiled), explain=st.booleans())
    def check(facts, date, explain):
        answers = same_answers(lambda: compiled.evaluate_full(facts, date=date, explain=explain).to_dict(),
                               lambda: compiled.evaluate_document(facts, date=date, explain=explain))
        if answers is None:
            return
        expected, got = answers
        assert got == expected
        assert json.dumps(got, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)   # key order

    check()


def test_a_document_by_hand():
    # bench/clauses2.pol, 2025-06-01: 漳州（二）20万元 in the 10万–30万 tier, second year 40% = 8万元
    compiled = polc.load(ROOT / 'bench' / 'clauses2.pol')
    doc = compiled.evaluate_document({'年度算力服务费': '20万元', '享受年度': 2}, '2025-06-01', explain=False)
    assert [(i['name'], i['outcome'], i['paid'], i['ceiling']) for i in doc['items']] == [
        ('企业算力券', 'not_applicable', '0.00', None), ('首版次软件奖励', 'not_applicable', '0.00', None),
        ('算力服务补助', 'amount', '80000.00', None)]
    assert doc['total'] == '80000.00' and doc['date'] == '2025-06-01' and doc['valid'] is True


@pytest.mark.parametrize('path', POLICIES, ids=lambda p: p.stem)
def test_the_served_bytes_are_the_json_modules_bytes(path):
    """polc serve encodes evaluation documents with msgspec (when installed): the same bytes as
    json.dumps(ensure_ascii=False, compact) would give, which `polc eval --format json` also uses."""
    pytest.importorskip('msgspec')
    from polc.compiler.serve.errors import dumps, dumps_plain
    compiled = polc.load(path)

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(facts=polc.testing.facts(compiled), date=polc.testing.dates(compiled), explain=st.booleans())
    def check(facts, date, explain):
        try:
            doc = compiled.evaluate_document(facts, date=date, explain=explain)
        except FactsError:
            return
        assert dumps_plain(doc) == dumps(doc)
        assert dumps_plain([doc, doc]) == dumps([doc, doc])

    check()


def test_plain_encoding_of_every_character_of_the_first_plane():
    pytest.importorskip('msgspec')
    from polc.compiler.serve.errors import dumps, dumps_plain
    text = ''.join(chr(i) for i in range(0xd800)) + ''.join(chr(i) for i in range(0xe000, 0x10000)) + '😀𠀀'
    doc = {'text': text, 'keys': {text[:300]: [1, -2, 10 ** 30, True, False, None, '']}}
    assert dumps_plain(doc) == dumps(doc)
    with pytest.raises(UnicodeEncodeError):       # a lone surrogate is refused by both
        dumps_plain({'x': '\ud800'})
