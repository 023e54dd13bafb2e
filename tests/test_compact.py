"""`polc eval --compact`: the compact results layout — each outcome as its code, and in Parquet the
amounts in 64-bit DECIMAL(18, 2) where the policy's caps bound them below 10^16 元 — the same on
both engines, the same numbers as the ordinary layout, and never a value beyond its column's type.
"""
import csv
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polc
from polc.compiler.cli import cli
from polc.compiler.engines import compact_layout, evaluate_table
from polc.compiler.tables.io import BatchError, Writer

duckdb = pytest.importorskip('duckdb')
pq = pytest.importorskip('pyarrow.parquet')

from test_table_engine import _text_table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATE = '2025-06-01'
SEEDS = ['xiamen', 'zhangzhou', 'fuzhou', 'langfang']
# the codes as docs/commands/eval.md lists them (written out here, not imported from polc)
CODES = {'0': 'not_applicable', '1': 'amount', '2': 'ceiling', '3': 'deferred', '4': 'case_by_case',
         '5': 'non_cash', '6': 'no_amount'}


def _csv(path):
    with open(path, newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize('name', SEEDS)
def test_both_engines_write_the_same_compact_tables(tmp_path, name):
    compiled = polc.load(ROOT / 'policies' / f'{name}.pol')
    src = tmp_path / 'in.csv'
    _text_table(src, compiled, 300, seed=len(name) + 7)
    out = {}
    for engine in ('python', 'duckdb'):
        for suffix in ('csv', 'parquet'):
            out[engine, suffix] = tmp_path / f'{engine}.{suffix}'
            evaluate_table(compiled, str(src), str(out[engine, suffix]), DATE, engine=engine, compact=True)
    assert out['python', 'csv'].read_bytes() == out['duckdb', 'csv'].read_bytes()
    a, b = pq.read_table(out['python', 'parquet']), pq.read_table(out['duckdb', 'parquet'])
    assert a.schema.names == b.schema.names and a.schema.types == b.schema.types
    assert a.to_pylist() == b.to_pylist() and a.num_rows == 300


@pytest.mark.parametrize('engine', ['python', 'duckdb'])
def test_the_compact_layout_says_what_the_ordinary_one_says(tmp_path, engine):
    """Decoded by the documented code table, each row is the ordinary layout's row; the Parquet
    amounts are the same numbers."""
    compiled = polc.load(ROOT / 'policies' / 'langfang.pol')          # quotas and pools: both totals
    src = tmp_path / 'in.csv'
    _text_table(src, compiled, 300, seed=11)
    plain, compact, typed = tmp_path / 'plain.csv', tmp_path / 'compact.csv', tmp_path / 'compact.parquet'
    evaluate_table(compiled, str(src), str(plain), DATE, engine=engine)
    evaluate_table(compiled, str(src), str(compact), DATE, engine=engine, compact=True)
    evaluate_table(compiled, str(src), str(typed), DATE, engine=engine, compact=True)
    rows, codes = _csv(plain), _csv(compact)
    assert len(rows) == len(codes) == 300 and '实发合计' in rows[0]
    outcomes = set()
    for r, c in zip(rows, codes):
        assert r.keys() == c.keys()
        for k, v in c.items():
            if k.endswith('.结果'):
                assert CODES[v] == r[k]
                outcomes.add(v)
            else:
                assert v == r[k]
    assert {'0', '1'} <= outcomes
    for r, t in zip(rows, pq.read_table(typed).to_pylist()):
        for k, v in t.items():
            if k.endswith('.金额') or k.endswith('合计') or k.endswith('（削减前）'):
                assert (v is None and r[k] == '') or v == Decimal(r[k])


def test_amounts_under_a_cap_are_64_bit_and_uncapped_ones_keep_the_full_width():
    """厦门: 国家级揭榜优胜项目 30%… 最高 1000万元 and the other capped items fit DECIMAL(18, 2); 国家级平台
    (平台数 × 3000万元, a count up to 10^12), the 算力券 (30% of the fees, no cap) and so 合计 do not."""
    types = compact_layout(polc.load(ROOT / 'policies' / 'xiamen.pol'), DATE)
    assert types['國家級揭榜優勝項目補助'] == types['爆款產品獎勵'] == types['骨幹工程師獎勵'] == 'DECIMAL(18, 2)'
    assert types['國家級平臺獎勵'] == types['企業算力券'] == types['合计'] == 'DECIMAL(38, 2)'
    assert types['創新聯合體'] == 'DECIMAL(18, 2)'      # no amount at all (另行支持): bounded by 0


def test_a_policy_whose_every_amount_is_capped_has_a_64_bit_total(tmp_path):
    pol = tmp_path / 'p.pol'
    pol.write_text('政策："上限"\n施行日期：2025-01-01\n\n输入 投入：金额 默认 0元\n输入 收入：金额 默认 0元\n\n'
                   '条款 （一） 甲条\n  项 甲\n    条件：投入 > 0元\n    金额：投入 × 20% 最高 100万元\n\n'
                   '条款 （二） 乙条\n  项 乙\n    条件：收入 不低于 1000万元\n    金额：50万元\n', encoding='utf-8')
    compiled = polc.load(pol)
    assert compact_layout(compiled, DATE) == {'甲': 'DECIMAL(18, 2)', '乙': 'DECIMAL(18, 2)',
                                              '合计': 'DECIMAL(18, 2)'}


_money = st.one_of(st.integers(0, 10 ** 20 - 1), st.integers(0, 10 ** 9)).map(lambda n: Decimal(n) / 100)


@pytest.mark.parametrize('name', SEEDS)
def test_the_bounds_hold_for_any_facts(name):
    """Whatever the facts (money up to the grammar's 10^20 元), an amount typed DECIMAL(18, 2) stays
    below 10^16 元."""
    compiled = polc.load(ROOT / 'policies' / f'{name}.pol')
    types = compact_layout(compiled, DATE)
    narrow = {n for n, t in types.items() if t == 'DECIMAL(18, 2)'}
    inputs = compiled.inputs

    def fact(kind, values):
        made = {'money': _money, 'percent': st.integers(-10 ** 6, 10 ** 6).map(lambda n: f'{n}%'),
                'int': st.integers(0, 10 ** 12), 'bool': st.booleans(), 'date': st.dates().map(str)}
        return made[kind] if kind in made else st.sampled_from(values)

    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.fixed_dictionaries({n: fact(k, v) for n, (k, v, _d, _x) in inputs.items()}))
    def check(facts):
        facts = {k: (f'{v:f}' if isinstance(v, Decimal) else v) for k, v in facts.items()}
        r = compiled.evaluate(facts, date=DATE, explain=False)
        for item in r.items:
            if item.name in narrow:
                assert (item.amount or 0) < Decimal(10) ** 16 and item.paid < Decimal(10) ** 16, item.name
        if '合计' in narrow:
            assert r.total < Decimal(10) ** 16
    check()


def test_a_value_beyond_its_column_type_is_refused_with_a_message(tmp_path):
    out = tmp_path / 'o.parquet'
    w = Writer(str(out), ['行号', '甲.金额'], types={'行号': 'BIGINT', '甲.金额': 'DECIMAL(18, 2)'})
    w.write_cells(['1', '12345678901234567.00'])
    with pytest.raises(BatchError, match='结果超出列的类型'):
        w.close()


def test_compact_is_for_tables_only(tmp_path):
    r = CliRunner().invoke(cli, ['eval', str(ROOT / 'policies' / 'xiamen.pol'), '--facts',
                                 str(ROOT / 'policies' / 'examples' / 'xiamen-ai-company.yaml'), '--compact'])
    assert r.exit_code == 2 and '--compact 只用于批量计算' in r.output


def test_compact_with_record_tables_is_refused(tmp_path):
    apps, prods = tmp_path / 'a.csv', tmp_path / 'p.csv'
    apps.write_text('编号\nA\n', encoding='utf-8')
    prods.write_text('编号\nA\n', encoding='utf-8')
    r = CliRunner().invoke(cli, ['eval', str(ROOT / 'tests' / 'data' / 'records.pol'), '--facts', str(apps),
                                 '--records', f'产品={prods}', '--id-column', '编号', '--out',
                                 str(tmp_path / 'o.csv'), '--compact'])
    assert r.exit_code == 2 and '--compact 只用于每行一个申请人的表格' in r.output
