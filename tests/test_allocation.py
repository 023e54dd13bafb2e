"""Quotas and pools: never overfilled, never exceeded, never more than claimed (hypothesis)."""
import csv
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from polc.compiler.tables.allocation import allocate
from polc.compiler.cli import cli

money = st.integers(1, 10 ** 9).map(lambda f: Decimal(f) / 100)
claims_st = st.lists(money, max_size=60).map(lambda xs: [(i + 1, x) for i, x in enumerate(xs)])


@settings(max_examples=300, deadline=None)
@given(claims=claims_st, quota=st.one_of(st.none(), st.integers(1, 20)),
       pool=st.one_of(st.none(), money), rule=st.sampled_from(['按金额', '按申请顺序', '按比例']))
def test_quota_and_pool_properties(claims, quota, pool, rule):
    if rule == '按比例' and pool is None:
        rule = '按金额'
    grants = allocate(claims, quota, pool, rule)
    assert [g.row for g in grants] == [r for r, _ in claims]
    assert all(Decimal(0) <= g.granted <= g.claimed for g in grants)
    if quota is not None:
        assert sum(1 for g in grants if g.granted > 0) <= quota
    if pool is not None:
        assert sum(g.granted for g in grants) <= pool
    for g in grants:                                    # every cut says why
        assert (g.granted == g.claimed) or g.reason
    if quota is None and pool is None:
        assert all(g.granted == g.claimed for g in grants)


def test_by_amount_quota_keeps_the_largest():
    claims = [(1, Decimal(100)), (2, Decimal(300)), (3, Decimal(200)), (4, Decimal(300))]
    g = allocate(claims, 2, None, '按金额')
    # the two largest: row 2 (300) and row 4 (300, later row); rows 1 and 3 get nothing
    assert [x.granted for x in g] == [0, 300, 0, 300]
    assert '第 3 位' in g[2].reason


def test_pool_in_order_and_pro_rata():
    claims = [(1, Decimal(600)), (2, Decimal(300)), (3, Decimal(300))]
    # in order: 600 + 300 = 900, the third gets the last 100 of the 1000 pool
    assert [x.granted for x in allocate(claims, None, Decimal(1000), '按申请顺序')] == [600, 300, 100]
    # pro rata: 1000 / 1200 = 5/6 → 500, 250, 250
    assert [x.granted for x in allocate(claims, None, Decimal(1000), '按比例')] == [500, 250, 250]
    # pro rata rounds down to the fen: 100 / 3 each → 33.33
    third = allocate([(1, Decimal(100)), (2, Decimal(100)), (3, Decimal(100))], None, Decimal(100), '按比例')
    assert [x.granted for x in third] == [Decimal('33.33')] * 3


def test_batch_writes_the_allocation(tmp_path):
    pol = tmp_path / 'p.pol'
    pol.write_text('政策：甲\n施行日期：2024-01-01\n输入 销售额：金额 默认 0元\n条款 （五） 爆款\n  项 爆款奖励\n'
                   '    条件：销售额 达到 1000万元\n    金额：销售额 每满 1000万元 给予 50万元 最高 300万元\n'
                   '    每年名额：2\n    分配：按金额\n', encoding='utf-8')
    src = tmp_path / 'in.csv'
    src.write_text('编号,销售额\nA,1000万元\nB,5000万元\nC,3000万元\nD,999万元\n', encoding='utf-8')
    r = CliRunner().invoke(cli, ['eval', str(pol), '--facts', str(src), '--out', str(tmp_path / 'o.csv'),
                                 '--id-column', '编号', '--date', '2025-01-01',
                                 '--allocation', str(tmp_path / 'a.csv')])
    assert r.exit_code == 0, r.output
    with open(tmp_path / 'a.csv', newline='', encoding='utf-8') as f:
        rows = list(csv.DictReader(f))
    # claims: A 50万, B 250万, C 150万 (D is below 1000万); quota 2 by amount → B and C
    assert [(x['编号'], x['分配金额']) for x in rows] == [('A', '0.00'), ('B', '2500000.00'),
                                                        ('C', '1500000.00')]
    assert '名额已满' in rows[0]['说明']
    assert '3 个申请，2 个获得' in r.output


@settings(max_examples=150, deadline=None)
@given(claims=claims_st, quota=st.one_of(st.none(), st.integers(1, 20)),
       pool=st.one_of(st.none(), money), rule=st.sampled_from(['按金额', '按申请顺序', '按比例']))
def test_sql_sharing_equals_allocate(claims, quota, pool, rule):
    """The DuckDB path shares quotas and pools in SQL (window functions); same numbers as allocate."""
    import pytest
    duckdb = pytest.importorskip('duckdb')
    from polc.compiler.tables.allocation import shared, shared_sql
    if rule == '按比例' and pool is None:
        rule = '按金额'
    con = duckdb.connect()
    con.execute('CREATE TABLE c ("行号" BIGINT, claimed DECIMAL(38, 2))')
    if claims:
        con.executemany('INSERT INTO c VALUES (?, ?)', [(r, str(v)) for r, v in claims])
    row = con.execute(shared_sql('SELECT * FROM c', quota, pool, rule)).fetchone()
    want = shared(allocate(claims, quota, pool, rule))
    assert (row[0], row[1], Decimal(row[2]), Decimal(row[3]), row[4]) == \
        (want.claims, want.recipients, want.claimed, want.granted, want.cut)


def _quote(name):
    return '"' + name.replace('"', '""') + '"'


@settings(max_examples=150, deadline=None)
@given(claims=st.lists(st.one_of(st.none(), st.just(Decimal(0)), money), max_size=60),
       quota=st.one_of(st.none(), st.integers(1, 20)),
       pool=st.one_of(st.none(), money), rule=st.sampled_from(['按金额', '按申请顺序', '按比例']))
def test_portable_allocation_sql_grants_what_allocate_grants(claims, quota, pool, rule):
    """`polc sql --with-allocation`'s window functions: per row, the same grant as allocate(); rows
    without a claim (NULL or 0) get NULL and do not take a place in the quota."""
    import pytest
    duckdb = pytest.importorskip('duckdb')
    from polc.compiler.tables.allocation import allocation_sql
    if rule == '按比例' and pool is None:
        rule = '按金额'
    con = duckdb.connect()
    con.execute('CREATE TABLE r ("行号" BIGINT, "甲.金额" DECIMAL(38, 2))')
    rows = [(i + 1, None if v is None else str(v)) for i, v in enumerate(claims)]
    if rows:
        con.executemany('INSERT INTO r VALUES (?, ?)', rows)
    q = allocation_sql('SELECT * FROM r', ['行号', '甲.金额'], [('甲', quota, pool, rule)], _quote)
    got = {n: g for n, _c, g in con.execute(q).fetchall()}
    real = [(i + 1, v) for i, v in enumerate(claims) if v is not None and v > 0]
    want = {g.row: g.granted for g in allocate(real, quota, pool, rule)}
    assert got == {i + 1: want.get(i + 1) for i in range(len(claims))}
