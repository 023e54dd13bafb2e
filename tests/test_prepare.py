"""`polc prepare` (raw facts → the typed Parquet table the portable SQL reads), `polc sql
--with-allocation`, and the refusal of SQL that 38 digits cannot hold exactly."""
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import polc
from polc.compiler.cli import cli

duckdb = pytest.importorskip('duckdb')
pq = pytest.importorskip('pyarrow.parquet')

from polc.compiler.sql.generate import SqlUnsupported, policy_sql  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / 'tests' / 'data' / 'sample.pol'


def test_prepare_writes_typed_columns_with_row_numbers(tmp_path):
    src = tmp_path / 'raw.csv'
    src.write_text('编号,攻关算力成本,企业类别,落户,运营年度\nA,100万元,新增,是,2\nB,"1,234.5",其他,否,\n'
                   'C,１２元,其他,,1\n', encoding='utf-8')
    out = tmp_path / 'typed.parquet'
    r = CliRunner().invoke(cli, ['prepare', str(SAMPLE), '--facts', str(src), '--out', str(out), '--id-column', '编号'])
    assert r.exit_code == 0, r.output
    assert '3 行' in r.output
    t = pq.read_table(out)
    assert str(t.schema.field('攻关算力成本').type) == 'decimal128(38, 2)'
    assert str(t.schema.field('运营年度').type) == 'int64'
    assert str(t.schema.field('落户').type) == 'bool'
    rows = t.to_pylist()
    assert [x['行号'] for x in rows] == [1, 2, 3]
    assert [x['编号'] for x in rows] == ['A', 'B', 'C']
    # 100万元 = 1,000,000.00; "1,234.5" = 1,234.50; full-width １２元 = 12.00
    assert [x['攻关算力成本'] for x in rows] == [Decimal('1000000.00'), Decimal('1234.50'), Decimal('12.00')]
    assert [x['落户'] for x in rows] == [True, False, None]
    assert [x['运营年度'] for x in rows] == [2, None, 1]
    assert rows[0]['营业收入'] is None                     # a column not in the table: NULL


def test_prepare_names_a_bad_row_and_keeps_the_old_output(tmp_path):
    src = tmp_path / 'raw.csv'
    src.write_text('攻关算力成本,企业类别\n100万元,新增\n很多,新增\n5元,外星\n', encoding='utf-8')
    out = tmp_path / 'typed.parquet'
    out.write_bytes(b'old')
    r = CliRunner().invoke(cli, ['prepare', str(SAMPLE), '--facts', str(src), '--out', str(out)])
    assert r.exit_code == 2
    assert 'E-FACTS' in r.output and '第 2 行' in r.output and '攻关算力成本' in r.output and '很多' in r.output
    assert out.read_bytes() == b'old'                          # written whole or not at all
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.polc-')]
    r = CliRunner().invoke(cli, ['prepare', str(SAMPLE), '--facts', str(src), '--out', str(out), '--skip-bad',
                                 '--rejects', str(tmp_path / 'rej.jsonl')])
    assert r.exit_code == 0 and '跳过有错误的行 2 行' in r.output, r.output
    assert [x['行号'] for x in pq.read_table(out).to_pylist()] == [1]
    assert (tmp_path / 'rej.jsonl').read_text(encoding='utf-8').count('\n') == 2


@pytest.mark.parametrize('args, words', [
    (['--out', 'typed.csv'], '.parquet'),
    (['--out', 'raw.parquet'], '是同一个文件'),
    (['--out', 'no/typed.parquet'], '不存在'),
])
def test_prepare_refuses_bad_outputs(tmp_path, args, words):
    import pyarrow as pa
    pq.write_table(pa.table({'攻关算力成本': ['1元']}), tmp_path / 'raw.parquet')
    args = [str(tmp_path / a) if a.endswith(('.csv', '.parquet')) else a for a in args]
    r = CliRunner().invoke(cli, ['prepare', str(SAMPLE), '--facts', str(tmp_path / 'raw.parquet')] + args)
    assert r.exit_code == 2 and words in r.output, r.output
    assert pq.read_table(tmp_path / 'raw.parquet').num_rows == 1          # the input untouched


def _langfang_claimants_with_allocation(tmp_path):
    """Five 廊坊 大模型算力补助 claimants and a row claiming nothing, prepared as f.parquet; and
    `polc sql --with-allocation`'s result."""
    pol = ROOT / 'policies' / 'langfang.pol'
    src = tmp_path / 'raw.csv'
    src.write_text('大模型参数量,大模型典型应用场景数,大模型算力成本\n' + '7000000000,6,300万元\n' * 5 + '0,0,0\n',
                   encoding='utf-8')
    CliRunner().invoke(cli, ['prepare', str(pol), '--facts', str(src), '--out', str(tmp_path / 'f.parquet')])
    r = CliRunner().invoke(cli, ['sql', str(pol), '--date', '2025-06-01', '--with-allocation'])
    assert r.exit_code == 0, r.output
    return pol, src, r


def test_sql_with_allocation_runs_on_the_prepared_table(tmp_path):
    """廊坊 大模型算力补助: 每年名额 3 (按申请顺序).  Five claimants: the first three get their
    amounts, the last two 0 (worked by hand: 300万 × 50% = 150万 each, cap 200万)."""
    pol, src, r = _langfang_claimants_with_allocation(tmp_path)
    con = duckdb.connect()
    con.execute(f"CREATE VIEW facts AS SELECT * FROM read_parquet('{tmp_path / 'f.parquet'}')")
    got = con.execute(f'SELECT "行号", CAST("大模型算力补助.金额" AS VARCHAR), CAST("大模型算力补助.分配金额" AS VARCHAR) '
                      f'FROM ({r.output}) ORDER BY 1').fetchall()
    assert got == [(1, '1500000.00', '1500000.00'), (2, '1500000.00', '1500000.00'), (3, '1500000.00', '1500000.00'),
                   (4, '1500000.00', '0.00'), (5, '1500000.00', '0.00'), (6, None, None)]


def test_a_product_past_38_digits_is_refused_not_rounded(tmp_path):
    """金额 × 百分比输入: up to 10^20 × 10^6 with 2 + 10 decimals needs 41 digits in Spark's rules;
    refused with E-SQL naming the line, never computed with a cut scale."""
    pol = tmp_path / 'p.pol'
    pol.write_text('政策：比例输入\n输入 收入：金额 "收入"\n输入 比例：百分比 "比例"\n\n条款 （一） 甲\n  项 乙\n'
                   '    金额：收入 × 比例\n', encoding='utf-8')
    compiled = polc.load(pol)
    with pytest.raises(SqlUnsupported, match='38 位'):
        policy_sql(compiled.analysis.checked, dt.date(2025, 1, 1))
    r = CliRunner().invoke(cli, ['sql', str(pol)])
    assert r.exit_code == 1 and 'E-SQL' in r.output and '第 7 行' in r.output and '--engine python' in r.output


def test_sql_with_allocation_has_the_results_layout_of_eval(tmp_path):
    """The same five 廊坊 claimants: `polc sql --with-allocation` gives the columns `polc eval --out`
    writes for a policy with a quota (应得合计（削减前）, 实发合计), then 项.分配金额; the two
    claimants past the quota of 3 are paid their total less the 150万 the quota took."""
    import csv
    pol, src, r = _langfang_claimants_with_allocation(tmp_path)
    e = CliRunner().invoke(cli, ['eval', str(pol), '--facts', str(src), '--date', '2025-06-01',
                                 '--out', str(tmp_path / 'out.csv')])
    assert e.exit_code == 0, e.output
    with open(tmp_path / 'out.csv', newline='', encoding='utf-8') as f:
        rows = list(csv.DictReader(f))
    con = duckdb.connect()
    con.execute(f"CREATE VIEW facts AS SELECT * FROM read_parquet('{tmp_path / 'f.parquet'}')")
    cur = con.execute(f'SELECT * FROM ({r.output}) ORDER BY "行号"')
    names = [d[0] for d in cur.description]
    grants = [n for n in names if n.endswith('.分配金额')]
    assert '大模型算力补助.分配金额' in grants
    assert names[:len(names) - len(grants)] == list(rows[0]) and list(rows[0])[-2:] == ['应得合计（削减前）', '实发合计']
    got = [dict(zip(names, ('' if v is None else str(v) for v in row))) for row in cur.fetchall()]
    for n, (g, w) in enumerate(zip(got, rows), 1):
        before, paid = Decimal(g['应得合计（削减前）']), Decimal(g['实发合计'])
        assert paid == before - (Decimal(1500000) if n in (4, 5) else 0), (n, g)
        assert (g['应得合计（削减前）'], g['实发合计']) == (w['应得合计（削减前）'], w['实发合计'])
