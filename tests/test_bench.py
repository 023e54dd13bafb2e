"""The benchmarks' references stay true: the hand-written versions of bench/clauses.pol give
exactly polc's results, so the ratios in docs/performance.md compare equal work."""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'bench'))


def test_hand_written_sql_equals_polc_on_generated_applicants(tmp_path):
    duckdb = pytest.importorskip('duckdb')
    import batch
    import polc
    from polc.compiler.sql.engine import run_duckdb
    clauses = ROOT / 'bench' / 'clauses.pol'
    src = tmp_path / 'in.parquet'
    batch.make_table(clauses, 20_000, src)
    run_duckdb(polc.load(clauses), str(src), str(tmp_path / 'polc.parquet'), '2025-06-01')
    sql = (ROOT / 'bench' / 'handwritten.sql').read_text(encoding='utf-8').replace('$SRC', str(src))
    con = duckdb.connect()
    con.execute(f"COPY ({sql}) TO '{tmp_path / 'hand.parquet'}' (FORMAT PARQUET)")
    assert batch._identical(tmp_path / 'polc.parquet', tmp_path / 'hand.parquet')
    # the generated table exercises the clauses: some of every outcome
    kinds = con.execute(f"SELECT DISTINCT \"算力服务补助.结果\" FROM read_parquet('{tmp_path / 'polc.parquet'}')"
                        ).fetchall()
    assert {k for (k,) in kinds} == {'amount', 'deferred', 'not_applicable'}


def test_hand_written_python_equals_polc():
    import handwritten
    import run
    import polc
    compiled = polc.load(ROOT / 'bench' / 'clauses.pol')
    typed = compiled.evaluate_typed
    import datetime as dt
    day = dt.date(2025, 6, 1)
    for facts in run.applicants(3_000, seed=5):
        out, total = typed(dict(facts), day)
        hand, hand_total = handwritten.evaluate(facts)
        assert out == hand and total == hand_total


def test_second_clause_set_hand_written_equals_polc():
    """bench/handwritten2.py (厦门（八）（三）, 漳州（二）) gives polc's results, through the typed path and
    through the public evaluate with JSON-style facts; the applicants reach every outcome."""
    import handwritten2
    import evaluate as ev
    import polc
    compiled = polc.load(ROOT / 'bench' / 'clauses2.pol')
    outcomes = set()
    for facts in ev.typed_applicants(compiled, 2_000, seed=11):
        hand = handwritten2.evaluate(facts)
        assert compiled.evaluate_typed(dict(facts), ev.DAY) == hand
        assert ev.view(compiled.evaluate(ev.json_style(compiled, facts), ev.DATE, explain=False)) == hand
        outcomes.update(o for o, _v in hand[0].values())
    assert outcomes == {'ceiling', 'amount', 'deferred', 'not_applicable'}


def test_hand_written_endpoint_answers_the_hand_written_totals():
    pytest.importorskip('starlette')
    from starlette.testclient import TestClient
    import evaluate as ev
    import handwritten
    import serve_hand
    import polc
    compiled = polc.load(ROOT / 'bench' / 'clauses.pol')
    with TestClient(serve_hand.app) as c:
        for facts in ev.typed_applicants(compiled, 200, seed=3):
            body = {'facts': ev.json_style(compiled, facts), 'date': ev.DATE}
            r = c.post('/evaluate', content=__import__('json').dumps(body, ensure_ascii=False, default=str))
            assert r.json()['total'] == f'{handwritten.evaluate(facts)[1]:.2f}'
