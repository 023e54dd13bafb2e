"""The portable SQL on a real Spark (pyspark in local mode): every seed policy's query, run over the
typed facts table `polc prepare` writes, gives the same cells as the DuckDB path — under the
settings docs/commands/sql.md gives, under Spark's defaults, and with ANSI mode off.

The tables are boundary tables: every money threshold of the policy and one fen either side, in
every money input; ratios a hair under, at and over every percentage written in the policy (for
the inputs a policy divides by, such as 同比增速); amounts up to the loader's limit of 10^20 元.
The DuckDB path is itself compared with the per-row path on the same tables.

Needs pyspark and a Java runtime; skipped when they are missing, unless POLC_REQUIRE_SPARK=1
(.ci/run installs both and sets it).  Long mode: POLC_LONG=1 runs 1,000,000 applicants
(200,000 per policy) through Spark under the documented settings.
"""
import datetime as dt
import os
import random
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

import polc
from polc.dsl import ast as A

duckdb = pytest.importorskip('duckdb')
pytest.importorskip('sqlglot')

from polc.compiler.sql.engine import run_duckdb  # noqa: E402
from polc.compiler.sql.dialects import to_dialect  # noqa: E402
from polc.compiler.sql.generate import policy_sql  # noqa: E402
from polc.compiler.sql.prepare import prepare_facts  # noqa: E402
from polc.compiler.tables.rowwise import run_batch  # noqa: E402

from test_batch import POLICIES, _rows  # noqa: E402
from test_sql import _write_csv  # noqa: E402

REQUIRED = os.environ.get('POLC_REQUIRE_SPARK') == '1'
LONG = os.environ.get('POLC_LONG') == '1'
DATE = '2025-06-01'
FEN = Decimal('0.01')
# Spark settings: as docs/commands/sql.md gives them; Spark's own defaults (4.x: ANSI on,
# allowPrecisionLoss on); and the pre-4.0 defaults (ANSI off: overflow gives NULL, not an error)
SETTINGS = {
    'documented': {'spark.sql.decimalOperations.allowPrecisionLoss': 'false', 'spark.sql.ansi.enabled': 'true'},
    'defaults': {},
    'ansi_off': {'spark.sql.ansi.enabled': 'false'},
}
COUNTS = {'cells': 0, 'differing': 0}


def _need_spark():
    missing = None
    try:
        import pyspark  # noqa: F401
    except ImportError:
        missing = "pyspark 未安装（pip install 'polc[spark]'）"
    if missing is None and shutil.which('java') is None and not os.environ.get('JAVA_HOME'):
        missing = '没有 Java 运行环境（Debian: apt-get install openjdk-17-jre-headless）'
    if missing:
        if REQUIRED:
            pytest.fail(f'POLC_REQUIRE_SPARK=1 but {missing}')
        pytest.skip(missing)


@pytest.fixture(scope='module')
def spark():
    _need_spark()
    from pyspark.sql import SparkSession
    session = (SparkSession.builder.master('local[2]').appName('polc-test')
               .config('spark.ui.enabled', 'false').config('spark.ui.showConsoleProgress', 'false')
               .config('spark.sql.shuffle.partitions', '2').config('spark.sql.session.timeZone', 'UTC')
               .getOrCreate())
    session.sparkContext.setLogLevel('ERROR')
    yield session
    session.stop()
    print(f"\nSpark vs DuckDB: {COUNTS['cells']:,} cells compared, {COUNTS['differing']} differing")


def _divided_inputs(compiled) -> set:
    """Money inputs inside a division by an input (a ratio such as 同比增速), defines expanded."""
    p = compiled.analysis.checked.policy
    defines = {d.name.text: d.expr for d in p.defines}
    money = {n for n, (k, *_r) in compiled.inputs.items() if k == 'money'}

    def refs(e, seen=()):
        out = set()
        for n in A.walk(e):
            if isinstance(n, A.Ref):
                if n.name in money:
                    out.add(n.name)
                elif n.name in defines and n.name not in seen:
                    out |= refs(defines[n.name], seen + (n.name,))
        return out

    found = set()
    for e in [d.expr for d in p.defines] + [n for n in A.walk(p)]:
        for n in A.walk(e):
            if isinstance(n, A.BinOp) and n.op == '/' and refs(n.right):
                found |= refs(n)
    return found


def _boundary_rows(compiled, seed=1):
    """Every money threshold ± 1 fen in every money input; ratios a hair around every percentage
    between the divided inputs; the largest amounts the loader accepts."""
    import polc.testing as T
    th = T.thresholds(compiled)
    rnd = random.Random(seed)
    base = _rows(compiled, 200, seed=seed)
    money = [n for n, (k, *_r) in compiled.inputs.items() if k == 'money']
    rows = list(base)
    for name in money:
        for t in th['money']:
            for v in (t - FEN, t, t + FEN):
                if v >= 0:
                    row = dict(rnd.choice(base))
                    row[name] = str(v)
                    rows.append(row)
    divided = sorted(_divided_inputs(compiled))
    for a in divided:
        for b in divided:
            if a == b:
                continue
            for c in th['percent']:
                for _ in range(4):
                    prev = Decimal(rnd.randrange(1, 10 ** rnd.randint(3, 12))) / 100
                    for target in (prev * (1 + c), prev * c):          # a = b(1 + c): growth c; a = bc
                        exact = target.quantize(FEN)
                        for v in (exact - FEN, exact, exact + FEN):
                            if v >= 0:
                                row = dict(rnd.choice(base))
                                row[a], row[b] = str(v), str(prev)
                                rows.append(row)
    for name in money:                                   # very large amounts, to the loader's limit
        for v in (Decimal(10) ** 20, Decimal(10) ** 20 - FEN, Decimal('98765432109876543.21')):
            row = dict(rnd.choice(base))
            row[name] = str(v)
            rows.append(row)
    if compiled.name.startswith('廊坊'):                  # issue 13: growth 9.99999999 %, 296,296.30 元 paid
        rows.append({'AI领域上下游企业': '是', '主营业务收入': '108641976.67', '上年主营业务收入': '98765433.34'})
    return rows


def _compare(con, spark_dir, duck_parquet, columns) -> tuple[int, list]:
    """Cells compared and the first differing rows (as text, NULL as NULL)."""
    a = f"read_parquet('{spark_dir}/*.parquet')"
    b = f"read_parquet('{duck_parquet}')"
    diff = ' OR '.join(f'CAST(s."{c}" AS VARCHAR) IS DISTINCT FROM CAST(d."{c}" AS VARCHAR)' for c in columns)
    n_s = con.execute(f'SELECT count(*) FROM {a}').fetchone()[0]
    n_d = con.execute(f'SELECT count(*) FROM {b}').fetchone()[0]
    assert n_s == n_d, (n_s, n_d)
    bad = con.execute(f'SELECT d."行号", ' + ', '.join(f's."{c}", d."{c}"' for c in columns[1:]) +
                      f' FROM {a} s FULL JOIN {b} d ON s."行号" = d."行号" WHERE {diff} ORDER BY 2 LIMIT 5').fetchall()
    count = con.execute(f'SELECT count(*) FROM {a} s FULL JOIN {b} d ON s."行号" = d."行号" WHERE {diff}').fetchone()[0]
    per_cell = sum(con.execute(f'SELECT count(*) FILTER (WHERE CAST(s."{c}" AS VARCHAR) IS DISTINCT FROM '
                               f'CAST(d."{c}" AS VARCHAR)) FROM {a} s FULL JOIN {b} d ON s."行号" = d."行号"').fetchone()[0]
                   for c in columns) if count else 0
    COUNTS['cells'] += n_s * len(columns)
    COUNTS['differing'] += per_cell
    return n_s * len(columns), bad


def _run_everywhere(spark, compiled, rows, tmp_path, settings):
    src = tmp_path / 'in.csv'
    _write_csv(src, compiled, rows)
    typed = tmp_path / 'typed.parquet'
    s = prepare_facts(compiled, str(src), str(typed))
    assert s.written == len(rows) and s.rejected == 0
    duck = tmp_path / 'duck.parquet'
    run_duckdb(compiled, str(src), str(duck), DATE)
    # with the quotas and pools (`--with-allocation`): extra columns 项.分配金额, checked by the callers
    query = to_dialect(policy_sql(compiled.analysis.checked, dt.date.fromisoformat(DATE), 'facts',
                                  allocation=True), 'spark')
    spark.read.parquet(str(typed)).createOrReplaceTempView('facts')
    con = duckdb.connect()
    columns = [d[0] for d in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{duck}')").fetchall()]
    results = {}
    for label in settings:
        for key in ('spark.sql.decimalOperations.allowPrecisionLoss', 'spark.sql.ansi.enabled'):
            spark.conf.unset(key)
        for key, value in SETTINGS[label].items():
            spark.conf.set(key, value)
        out = tmp_path / f'spark-{label}'
        spark.sql(query).write.mode('overwrite').parquet(str(out))
        results[label] = _compare(con, out, duck, columns)
    for key in ('spark.sql.decimalOperations.allowPrecisionLoss', 'spark.sql.ansi.enabled'):
        spark.conf.unset(key)
    return src, results


def _allocations(compiled, src, tmp_path):
    """{(item, 行号): 分配金额} as `polc eval --allocation` (allocate()) writes them."""
    import csv
    run_batch(compiled, str(src), str(tmp_path / 'row.csv'), DATE, allocation_path=str(tmp_path / 'alloc.csv'))
    with open(tmp_path / 'alloc.csv', newline='', encoding='utf-8') as f:
        return {(r['项'], int(r['行号'])): r['分配金额'] for r in csv.DictReader(f)}


def _spark_allocations(tmp_path, label, items):
    if not items:
        return {}
    cols = ', '.join(f'"行号", CAST("{i}.分配金额" AS VARCHAR)' for i in items)
    got = {}
    for row in duckdb.sql(f"SELECT {cols} FROM read_parquet('{tmp_path}/spark-{label}/*.parquet')").fetchall():
        for k, item in enumerate(items):
            if row[2 * k + 1] is not None:
                got[(item, row[2 * k])] = row[2 * k + 1]
    return got


@pytest.mark.parametrize('path', POLICIES, ids=lambda p: p.stem)
def test_spark_computes_every_cell_as_duckdb_does(spark, tmp_path, path):
    compiled = polc.load(path)
    rows = _boundary_rows(compiled)
    src, results = _run_everywhere(spark, compiled, rows, tmp_path, list(SETTINGS))
    for label, (cells, bad) in results.items():
        assert cells >= len(rows) * 4
        assert not bad, (label, bad)
    # the quotas and pools: per claim what allocate() grants, rows without a claim NULL
    want = _allocations(compiled, src, tmp_path)
    items = sorted({k[0] for k in want})
    for label in SETTINGS:
        got = _spark_allocations(tmp_path, label, items)
        COUNTS['cells'] += len(rows) * len(items)
        COUNTS['differing'] += sum(1 for k in set(got) | set(want) if got.get(k) != want.get(k))
        assert got == want, label
    # and the DuckDB path is the per-row path on these tables, byte for byte
    run_duckdb(compiled, str(src), str(tmp_path / 'duck.csv'), DATE)
    assert (tmp_path / 'row.csv').read_bytes() == (tmp_path / 'duck.csv').read_bytes()


def test_the_langfang_growth_case_of_issue_13(spark, tmp_path):
    """增量 9,876,543.33 on 上年 98,765,433.34 is a growth of 9.99999999…% < 10%: 营收增量奖励
    does not apply (worked by hand: 10% × 98,765,433.34 = 9,876,543.334 > 9,876,543.33).  Spark
    with the old SQL paid 296,296.30 元 (it compared 9,876,543.33 with 9,876,543.334 rounded to
    9,876,543.33).  At 9,876,543.34 the growth is over 10%: 3% × 9,876,543.34 = 296,296.3002 →
    296,296.30 元."""
    compiled = polc.load(Path(__file__).resolve().parent.parent / 'policies' / 'langfang.pol')
    rows = [{'AI领域上下游企业': '是', '主营业务收入': '108641976.67', '上年主营业务收入': '98765433.34'},
            {'AI领域上下游企业': '是', '主营业务收入': '108641976.68', '上年主营业务收入': '98765433.34'}]
    _src, _results = _run_everywhere(spark, compiled, rows, tmp_path, list(SETTINGS))
    for label in SETTINGS:
        got = duckdb.sql(f"SELECT \"营收增量奖励.结果\", CAST(\"营收增量奖励.金额\" AS VARCHAR) FROM "
                         f"read_parquet('{tmp_path}/spark-{label}/*.parquet') ORDER BY \"行号\"").fetchall()
        assert got == [('not_applicable', None), ('amount', '296296.30')], label


def test_whole_steps_and_products_past_six_decimals(spark, tmp_path):
    """Products with more than 6 decimals, which Spark's default allowPrecisionLoss used to cut.

    厦门 爆款產品獎勵 (每 1000万元 给予 50万元, in proportion, 最高 300万元), worked by hand:
    10,000,000.10 × 50万 ÷ 1000万 = 500,000.005 → 500,000.01 (half up; the old SQL cut
    1.00000001 to 1.000000 and paid 500,000.00); 19,999,999.99 → 999,999.9995 → 1,000,000.00;
    60,000,000.00 → 3,000,000.00 (the cap).
    Whole steps (每满 10万元 给予 1万元): 199,999.99 元 is 1 whole step → 10,000.00 (the old SQL cut
    1.9999999 to 2.000000 and paid 2 steps); 200,000.00 → 2 steps → 20,000.00."""
    compiled = polc.load(Path(__file__).resolve().parent.parent / 'policies' / 'xiamen.pol')
    rows = [{'評定為爆款產品': '是', '爆款產品年銷售額': v} for v in ('10000000.10', '19999999.99', '60000000.00')]
    _run_everywhere(spark, compiled, rows, tmp_path, list(SETTINGS))
    for label in SETTINGS:
        got = [r[0] for r in duckdb.sql(f"SELECT CAST(\"爆款產品獎勵.金额\" AS VARCHAR) FROM read_parquet("
                                          f"'{tmp_path}/spark-{label}/*.parquet') ORDER BY \"行号\"").fetchall()]
        assert got == ['500000.01', '1000000.00', '3000000.00'], label
    pol = tmp_path / 'steps.pol'
    pol.write_text('政策：整步\n输入 销售额：金额 "销售额"\n\n条款 （一） 甲\n  项 乙\n'
                   '    金额：销售额 每满 10万元 给予 1万元\n', encoding='utf-8')
    compiled = polc.load(pol)
    sub = tmp_path / 'steps'
    sub.mkdir()
    _run_everywhere(spark, compiled, [{'销售额': '199999.99'}, {'销售额': '200000.00'}], sub, list(SETTINGS))
    for label in SETTINGS:
        got = [r[0] for r in duckdb.sql(f"SELECT CAST(\"乙.金额\" AS VARCHAR) FROM read_parquet("
                                          f"'{sub}/spark-{label}/*.parquet') ORDER BY \"行号\"").fetchall()]
        assert got == ['10000.00', '20000.00'], label


ALLOCATION_POLICY = """政策：名额与资金池
输入 甲额：金额 "甲"
输入 乙额：金额 "乙"
输入 丙额：金额 "丙"

条款 （一） 名额
  项 甲
    金额：甲额 × 30%
    每年名额：5
    分配：按金额
  项 乙
    金额：乙额
    每年总额：100万元
    分配：按比例
  项 丙
    金额：丙额 × 50%
    每年名额：7
    每年总额：50万元
"""


def test_quotas_and_pools_by_every_rule_on_spark(spark, tmp_path):
    """`polc sql --with-allocation` on Spark and on DuckDB: per claim, the 分配金额 of `polc eval
    --allocation` (allocate()), rows without a claim NULL — 按金额 (quota), 按比例 (pool), and
    按申请顺序 with both a quota and a pool.  (The seeds, all 按申请顺序, are checked on their
    boundary tables above.)"""
    (tmp_path / 'rules.pol').write_text(ALLOCATION_POLICY, encoding='utf-8')
    compiled = polc.load(tmp_path / 'rules.pol')
    rnd = random.Random(7)
    rows = [{k: str(Decimal(rnd.choice([0, rnd.randrange(1, 10 ** rnd.randint(2, 8))])) / 100)
             for k in ('甲额', '乙额', '丙额')} for _ in range(120)]
    src, results = _run_everywhere(spark, compiled, rows, tmp_path, list(SETTINGS))
    assert not any(bad for _c, bad in results.values())
    want = _allocations(compiled, src, tmp_path)
    assert {k[0] for k in want} == {'甲', '乙', '丙'}
    assert any(v == '0.00' for v in want.values()) and any(v != '0.00' for v in want.values())
    for label in SETTINGS:
        got = _spark_allocations(tmp_path, label, ['甲', '乙', '丙'])
        COUNTS['cells'] += len(rows) * 3
        COUNTS['differing'] += sum(1 for k in set(got) | set(want) if got.get(k) != want.get(k))
        assert got == want, label
    # the same query on DuckDB
    query = policy_sql(compiled.analysis.checked, dt.date.fromisoformat(DATE), allocation=True)
    con = duckdb.connect()
    con.execute(f"CREATE VIEW facts AS SELECT * FROM read_parquet('{tmp_path / 'typed.parquet'}')")
    got = {}
    for n, *vals in con.execute(f'SELECT "行号", ' + ', '.join(f'CAST("{i}.分配金额" AS VARCHAR)' for i in '甲乙丙')
                                + f' FROM ({query})').fetchall():
        got.update({(i, n): v for i, v in zip('甲乙丙', vals) if v is not None})
    assert got == want


@pytest.mark.skipif(not LONG, reason='POLC_LONG=1: a million applicants through Spark')
def test_a_million_applicants_on_spark(spark, tmp_path):
    cells = 0
    for path in POLICIES:
        compiled = polc.load(path)
        rows = _rows(compiled, 200_000, seed=21)
        sub = tmp_path / path.stem
        sub.mkdir()
        _src, results = _run_everywhere(spark, compiled, rows, sub, ['documented'])
        c, bad = results['documented']
        assert not bad, (path.stem, bad)
        cells += c
    assert cells > 1_000_000
