"""polc report: the budget numbers are right (worked by hand; equal to per-applicant sums and to
the SQL path's totals), the page is self-contained and escaped, and a real browser renders it."""
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import polc
from polc.compiler.cli import cli

duckdb = pytest.importorskip('duckdb')

from polc.compiler.allocation import Shared  # noqa: E402
from polc.compiler.duck import run_duckdb  # noqa: E402
from polc.compiler.report import Report, aggregate, chromium, headless, render_html  # noqa: E402

from test_batch import _rows  # noqa: E402
from test_sql import _write_csv  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / 'tests' / 'data' / 'sample.pol'
W = Decimal(10000)

# Four applicants of tests/data/sample.pol, worked by hand (date 2025-06-01, in validity):
# 甲 新增, 攻关算力成本 100万: 新增企业奖励 35万; 攻关算力券 100万 × 60% = 60万 (就高 over 使用 0,
#    合计 60万 ≤ 100万); 运营奖励 0 × 10% = 0; total 95万
# 乙 新上规模, 年销售额 3500万, 落户, 使用算力费用 300万: 新上规模 25万; 爆款 3 × 50万 = 150万;
#    落户 50万; 使用 300万 × 50% = 150万 wins 就高, but 落户 50万 + 150万 > 100万 → 使用 paid 50万;
#    total 25 + 150 + 50 + 50 = 275万
# 丙 其他, 年销售额 6500万, 成交额 2000万, 运营年度 4: 爆款 6 × 50万 = 300万 = cap 300万;
#    运营 year 4 is outside 前三年 → not applicable; 新增企业奖励 其他 → not applicable; total 300万
# 丁 营业收入 1.2亿, 上年 1亿, 已获 80万: 晋级 1亿档 150万 − 80万 = 70万; 增长 增速 20% ≥ 10%,
#    2000万 × 3% = 60万; total 130万
TABLE = ('编号,企业类别,年销售额,成交额,运营年度,攻关算力成本,使用算力费用,落户,营业收入,上年营业收入,已获晋级奖励\n'
         '甲,新增,,,,100万元,,,,,\n乙,新上规模,3500万元,,,,300万元,是,,,\n丙,其他,6500万元,2000万元,4,,,,,,\n'
         '丁,其他,,,,,,,1.2亿元,1亿元,80万元\n')


def _report(tmp_path, pol, table, id_column=None, engine='duckdb'):
    src = tmp_path / 'in.csv'
    if isinstance(table, str):
        src.write_text(table, encoding='utf-8')
    else:
        _write_csv(src, polc.load(pol), table)
    out = tmp_path / 'report.html'
    args = ['report', str(pol), '--facts', str(src), '--out', str(out), '--date', '2025-06-01', '--engine', engine]
    r = CliRunner().invoke(cli, args + (['--id-column', id_column] if id_column else []))
    assert r.exit_code == 0, r.output
    return out.read_text(encoding='utf-8'), r.output


def _aggregate(tmp_path, pol, table, id_column=None):
    compiled = polc.load(pol)
    src = tmp_path / 'agg.csv'
    src.write_text(table, encoding='utf-8')
    s = run_duckdb(compiled, str(src), str(tmp_path / 'res.csv'), '2025-06-01', id_column)
    return aggregate(compiled, str(tmp_path / 'res.csv'), s.allocations, '2025-06-01', id_column), s


def test_hand_worked_report(tmp_path):
    rep, _s = _aggregate(tmp_path, SAMPLE, TABLE, '编号')
    assert rep.applicants == 4 and rep.total == 800 * W
    by = {i.name: i for i in rep.items}
    assert (by['新增企业奖励'].recipients, by['新增企业奖励'].total) == (2, 60 * W)
    assert (by['爆款奖励'].recipients, by['爆款奖励'].total, by['爆款奖励'].at_cap) == (2, 450 * W, 1)
    assert by['爆款奖励'].cap == 300 * W
    assert (by['晋级奖励'].total, by['增长奖励'].total) == (70 * W, 60 * W)
    assert (by['落户算力券'].total, by['攻关算力券'].total, by['使用算力券'].total) == (50 * W, 60 * W, 50 * W)
    assert (by['运营奖励'].recipients, by['运营奖励'].total, by['运营奖励'].not_applicable) == (0, 0, 1)
    assert by['新增企业奖励'].not_applicable == 2
    assert dict(rep.histogram) == {'0元': 0, '0–10万元': 0, '10万–100万元': 1, '100万–1000万元': 3,
                                   '1000万–1亿元': 0, '1亿元以上': 0}
    assert [(r, i, t, n) for r, i, t, n, _a in rep.top] == [
        (3, '丙', 300 * W, '爆款奖励'), (2, '乙', 275 * W, '爆款奖励'), (4, '丁', 130 * W, '晋级奖励'),
        (1, '甲', 95 * W, '攻关算力券')]
    (name, quota, pool, rule, sh), = rep.shared                       # 爆款奖励: 每年名额 10
    assert (name, quota, pool, sh) == ('爆款奖励', 10, None, Shared(2, 2, 450 * W, 450 * W, 0))
    page = render_html(rep)
    for text in ('800万元', '450万元', '275万元', '丙', '名额'):
        assert text in page


def test_report_equals_per_applicant_sums_and_the_sql_totals(tmp_path):
    pol = ROOT / 'policies' / 'langfang.pol'
    compiled = polc.load(pol)
    rows = _rows(compiled, 400, seed=21)
    src = tmp_path / 'in.csv'
    _write_csv(src, compiled, rows)
    s = run_duckdb(compiled, str(src), str(tmp_path / 'res.parquet'), '2025-06-01')
    rep = aggregate(compiled, str(tmp_path / 'res.parquet'), s.allocations, '2025-06-01')
    # independently: evaluate each applicant alone
    sums, counts, total = {}, {}, Decimal(0)
    for row in rows:
        res = compiled.evaluate(row, date='2025-06-01', explain=False)
        total += res.total
        for it in res.items:
            if it.outcome == 'amount':
                sums[it.name] = sums.get(it.name, Decimal(0)) + it.paid
                counts[it.name] = counts.get(it.name, 0) + (it.paid > 0)
    assert rep.total == total == s.total
    for line in rep.items:
        assert line.total == sums.get(line.name, 0) == s.totals[line.name]
        assert line.recipients == counts.get(line.name, 0)
    assert sum(n for _l, n in rep.histogram) == rep.applicants == len(rows)
    assert sum(v for _k, v in rep.kinds) == rep.total
    assert [t for _r, _i, t, _n, _a in rep.top] == sorted((t for _r, _i, t, _n, _a in rep.top), reverse=True)


def test_both_engines_give_the_same_page(tmp_path):
    a, _ = _report(tmp_path, SAMPLE, TABLE, '编号', engine='duckdb')
    b, _ = _report(tmp_path, SAMPLE, TABLE, '编号', engine='python')
    assert a == b
    c, _ = _report(tmp_path, SAMPLE, TABLE, '编号', engine='duckdb')
    assert a == c                                        # deterministic, byte for byte


def test_the_page_is_self_contained_and_escaped():
    rep = Report('<script>alert(1)</script>', '2025-06-01', 1, Decimal(5), Decimal(0), (), (('"奖&补"', Decimal(5)),),
                 (), (('0元', 1),), ((1, '<img src=x>', Decimal(5), '项', Decimal(5)),), '编号')
    page = render_html(rep)
    assert '<script>' not in page and '<img' not in page and '&lt;script&gt;' in page
    assert '&quot;奖&amp;补&quot;' in page
    assert not re.search(r'(src|href)=["\']?(https?:)?//', page)         # nothing fetched from a network
    assert page.startswith('<!DOCTYPE html>') and '<meta charset="utf-8">' in page


def test_cli_errors(tmp_path):
    r = CliRunner().invoke(cli, ['report', str(SAMPLE), '--facts', str(tmp_path / 'none.csv'),
                                 '--out', str(tmp_path / 'r.html')])
    assert r.exit_code == 2 and 'none.csv' in r.output and '不存在' in r.output
    (tmp_path / 'in.csv').write_text(TABLE, encoding='utf-8')
    r = CliRunner().invoke(cli, ['report', str(SAMPLE), '--facts', str(tmp_path / 'in.csv'),
                                 '--out', str(tmp_path / 'r.txt')])
    assert r.exit_code == 2 and '.html' in r.output
    r = CliRunner().invoke(cli, ['report', str(SAMPLE), '--facts', str(tmp_path / 'in.csv'), '--id-column', '编号',
                                 '--out', str(tmp_path / 'r.html'), '--png', str(tmp_path / 'no' / 'r.png')])
    assert r.exit_code == 2 and '目录不存在' in r.output and 'Traceback' not in r.output
    (tmp_path / 'bad.csv').write_text('企业类别\n外星\n', encoding='utf-8')
    r = CliRunner().invoke(cli, ['report', str(SAMPLE), '--facts', str(tmp_path / 'bad.csv'),
                                 '--out', str(tmp_path / 'r.html')])
    assert r.exit_code == 2 and '第 1 行' in r.output and '企业类别' in r.output


# ------------------------------------------------------------------ a real browser
def _need_chromium():
    if chromium() is None:
        if os.environ.get('POLC_REQUIRE_CHROMIUM') == '1':
            pytest.fail('POLC_REQUIRE_CHROMIUM=1 but Chromium is not installed')
        pytest.skip('Chromium is not installed (Debian: apt-get install chromium)')


def test_chromium_renders_the_page_with_the_sql_totals(tmp_path):
    _need_chromium()
    _page, out = _report(tmp_path, SAMPLE, TABLE, '编号')
    rep, s = _aggregate(tmp_path, SAMPLE, TABLE, '编号')
    r = headless(['--dump-dom', (tmp_path / 'report.html').resolve().as_uri()])
    dom = r.stdout
    assert r.returncode == 0 and '<svg' in dom and dom.count('<rect') >= len([i for i in rep.items if i.total > 0])
    total = re.search(r'<td id="total">([^<]*)</td>', dom).group(1)
    from polc.dsl.units import format_money
    assert total == format_money(s.total) == '800万元'                 # the SQL path's total, as rendered
    for name, amount in s.totals.items():
        if amount > 0:
            assert format_money(amount) in dom, name


def test_png_export(tmp_path):
    _need_chromium()
    (tmp_path / 'in.csv').write_text(TABLE, encoding='utf-8')
    r = CliRunner().invoke(cli, ['report', str(SAMPLE), '--facts', str(tmp_path / 'in.csv'), '--date', '2025-06-01',
                                 '--out', str(tmp_path / 'r.html'), '--png', str(tmp_path / 'r.png'),
                                 '--id-column', '编号'])
    assert r.exit_code == 0, r.output
    data = (tmp_path / 'r.png').read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) > 20_000
    width, height = int.from_bytes(data[16:20], 'big'), int.from_bytes(data[20:24], 'big')
    assert width == 1000 and height > 1000
