"""polc report: the budget numbers are right (worked by hand; equal to per-applicant sums and to
the SQL path's totals), the page is self-contained and escaped, the PNG is drawn, and a real
browser renders the page."""
import re
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import polc
from polc.compiler.cli import cli

duckdb = pytest.importorskip('duckdb')

from polc.compiler.tables.allocation import Grant, Shared, allocate  # noqa: E402
from polc.compiler.tables.rowwise import run_batch  # noqa: E402
from polc.compiler.sql.engine import run_duckdb  # noqa: E402
from polc.compiler.budget import report as report_mod  # noqa: E402
from polc.compiler.budget.report import Cut, ItemLine, Report, SharedLine, aggregate, render_html  # noqa: E402

from test_batch import _rows  # noqa: E402
from test_sql import _write_csv  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / 'tests' / 'data' / 'sample.pol'
XIAMEN = ROOT / 'policies' / 'xiamen.pol'
W = Decimal(10000)
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'

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

# Seven applicants of policies/xiamen.pol (traditional characters), date 2025-06-01 (in force
# 2025-04-21 … 2027-12-31).  Only three of its items give an amount (確定金額); the rest are
# 最高可獲 (ceilings, not in the grand total).
# A 新建國家級平臺數 2: 國家級平臺獎勵 2 × 3000萬 = 6000萬 (no cap); total 6000萬
# B 爆款 3500萬: 3500萬 ÷ 1000萬 × 50萬 = 175萬 (比例, 「每」 not 「每滿」) < cap 300萬; total 175萬
# C 爆款 8000萬: 8000萬 ÷ 1000萬 × 50萬 = 400萬 > 300萬 → 300萬 (at cap); total 300萬
# D 爆款 900萬 (< 1000萬 → 爆款 not applicable); 智算中心 服務器 8億 × 10% = 8000萬 > 6000萬 →
#   6000萬 (at cap); total 6000萬
# E 企業: 智算中心 服務器 2億 × 10% = 2000萬 (< 6000萬); 國家級揭榜 800萬 × 50% = 最高 400萬 (< 1000萬);
#   企業算力券 營業收入 3億 in [1億, 10億): 800萬 × 40% = 最高 320萬 (< 500萬); total 2000萬
# F 高校: 高校科研機構算力券 500萬 × 50% = 250萬 > 200萬 → 最高 200萬 (at cap); 骨幹工程師 最高 80萬
#   (a constant ceiling: no cap to hit); 企業算力券 not applicable (高校); total 0
# G nothing: total 0
# Grand total 6000 + 175 + 300 + 6000 + 2000 = 14475萬; ceilings 400 + 320 + 200 + 80 = 1000萬.
XIAMEN_TABLE = (
    '編號,主體類型,新建國家級平臺數,評定為爆款產品,爆款產品年銷售額,智算中心項目符合規定,服務器採購金額,'
    '國家級揭榜優勝項目研發投入,年度營業收入,算力服務費用,骨幹工程師\n'
    'A,,2,,,,,,,,\n'
    'B,,,是,3500萬元,,,,,,\n'
    'C,,,是,8000萬元,,,,,,\n'
    'D,,,是,900萬元,是,8億元,,,,\n'
    'E,企業,,,,是,2億元,800萬元,3億元,800萬元,\n'
    'F,高校,,,,,,,,500萬元,是\n'
    'G,,,,,,,,,,\n')


def _report(tmp_path, pol, table, id_column=None, engine='duckdb', extra=()):
    src = tmp_path / 'in.csv'
    if isinstance(table, str):
        src.write_text(table, encoding='utf-8')
    else:
        _write_csv(src, polc.load(pol), table)
    out = tmp_path / 'report.html'
    args = ['report', str(pol), '--facts', str(src), '--out', str(out), '--date', '2025-06-01', '--engine', engine]
    r = CliRunner().invoke(cli, args + (['--id-column', id_column] if id_column else []) + list(extra))
    assert r.exit_code == 0, r.output
    return out.read_text(encoding='utf-8'), r.output


def _aggregate(tmp_path, pol, table, id_column=None, engine='duckdb', top=10):
    """The brief's path: the batch engine writes a temporary results table, read back to aggregate."""
    compiled = polc.load(pol)
    src = tmp_path / 'agg.csv'
    src.write_text(table, encoding='utf-8')
    with tempfile.TemporaryDirectory() as tmp:
        results = str(Path(tmp) / 'results.csv')
        run = run_duckdb if engine == 'duckdb' else run_batch
        s = run(compiled, str(src), results, '2025-06-01', id_column)
        return aggregate(compiled, results, s.allocations, '2025-06-01', id_column, top), s


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
    line, = rep.shared                                                 # 爆款奖励: 每年名额 10
    assert (line.name, line.quota, line.pool, line.shared, line.cuts) == \
        ('爆款奖励', 10, None, Shared(2, 2, 450 * W, 450 * W, 0), ())
    page = render_html(rep)
    # amounts in 万元 with separators: the headline (no cut: 10 名额, 2 claims) and the item cells
    for text in ('<td id="total">800.00万元</td>', '<td id="demand">800.00万元</td>', '<td>450.00</td>',
                 '<td>275.00</td>', '丙', '名额'):
        assert text in page, text


@pytest.mark.parametrize('engine', ['python', 'duckdb'])
def test_hand_worked_xiamen(tmp_path, engine):
    rep, _s = _aggregate(tmp_path, XIAMEN, XIAMEN_TABLE, '編號', engine=engine)
    assert rep.policy == '廈門市進一步推動人工智能產業發展若干措施' and rep.date == '2025-06-01'
    assert rep.applicants == 7
    assert rep.total == 14475 * W and rep.ceiling_total == 1000 * W
    by = {i.name: i for i in rep.items}
    assert len(by) == len(rep.items) == 27                              # every item of the policy, once

    def line(name):
        i = by[name]
        return (i.clause, i.kind, i.recipients, i.total, i.cap, i.at_cap, i.ceilings, i.ceiling_total,
                i.not_applicable)

    # not applicable: the rows whose conditions fail (A…G minus the ones that qualify)
    assert line('國家級平臺獎勵') == ('（二）', '獎勵', 1, 6000 * W, None, None, 0, 0, 6)
    assert line('爆款產品獎勵') == ('（五）', '獎勵', 2, 475 * W, 300 * W, 1, 0, 0, 5)      # B, C; A D E F G n/a
    assert line('智算中心補助') == ('（十四）', '補助', 2, 8000 * W, 6000 * W, 1, 0, 0, 5)  # D, E
    assert line('國家級揭榜優勝項目補助') == ('（一）', '補助', 0, 0, 1000 * W, 0, 1, 400 * W, 6)
    assert line('企業算力券') == ('（八）', '算力券', 0, 0, None, None, 1, 320 * W, 6)     # tiers: no one cap
    assert line('高校科研機構算力券') == ('（八）', '算力券', 0, 0, 200 * W, 1, 1, 200 * W, 6)
    assert line('骨幹工程師獎勵') == ('（十二）', '獎勵', 0, 0, None, None, 1, 80 * W, 6)
    assert sum(i.total for i in rep.items) == rep.total
    kinds = dict(rep.kinds)
    assert kinds['獎勵'] == 6475 * W and kinds['補助'] == 8000 * W and kinds['算力券'] == 0   # 6000 + 475
    # per-applicant totals: F, G 0; B 175萬, C 300萬; A 6000萬, D 6000萬, E 2000萬
    assert dict(rep.histogram) == {'0元': 2, '0–10万元': 0, '10万–100万元': 0, '100万–1000万元': 2,
                                   '1000万–1亿元': 3, '1亿元以上': 0}
    assert [(r, i, t, n, a) for r, i, t, n, a in rep.top] == [
        (1, 'A', 6000 * W, '國家級平臺獎勵', 6000 * W), (4, 'D', 6000 * W, '智算中心補助', 6000 * W),
        (5, 'E', 2000 * W, '智算中心補助', 2000 * W), (3, 'C', 300 * W, '爆款產品獎勵', 300 * W),
        (2, 'B', 175 * W, '爆款產品獎勵', 175 * W)]
    sl, = rep.shared
    assert (sl.name, sl.quota, sl.rule, sl.shared, sl.cuts) == \
        ('爆款產品獎勵', 10, '按申请顺序', Shared(2, 2, 475 * W, 475 * W, 0), ())


def test_quota_cuts_and_their_reasons(tmp_path):
    # Twelve 爆款 products of xiamen.pol with sales i × 1000萬 (i = 1…12): i × 50萬, capped at 300萬
    # from i = 6 on.  Claimed 50+100+150+200+250 + 7 × 300 = 2850萬.  每年名額 10 by 申請順序:
    # rows 1…10 keep theirs (750 + 5 × 300 = 2250萬), rows 11 and 12 (300萬 each) get nothing.
    table = '編號,評定為爆款產品,爆款產品年銷售額\n' + ''.join(f'P{i},是,{i * 1000}萬元\n' for i in range(1, 13))
    rep, _s = _aggregate(tmp_path, XIAMEN, table, '編號', engine='python')
    item = {i.name: i for i in rep.items}['爆款產品獎勵']
    assert (item.recipients, item.total, item.at_cap) == (12, 2850 * W, 7)
    assert rep.total == 2850 * W                       # before the quota: each applicant computed alone
    sl, = rep.shared
    assert sl.shared == Shared(12, 10, 2850 * W, 2250 * W, 2)
    assert [(c.row, c.ident, c.claimed, c.granted) for c in sl.cuts] == \
        [(11, 'P11', 300 * W, Decimal(0)), (12, 'P12', 300 * W, Decimal(0))]
    assert '名额已满' in sl.cuts[0].reason and '第 11 位' in sl.cuts[0].reason and '第 12 位' in sl.cuts[1].reason
    # ties at 300萬 (rows 6…12) in row order as numbers: 6, 7, 8, 9, 10, 11, 12 (not 10 before 6)
    assert [r for r, *_ in rep.top] == [6, 7, 8, 9, 10, 11, 12, 5, 4, 3]
    page = render_html(rep)
    assert '爆款產品獎勵：被削减的申请' in page and 'P12' in page and '<td>2,250.00</td>' in page
    # the headline is after the quota: 2850萬 claimed − 2 × 300萬 cut = 2250萬; the demand beside it
    assert rep.after_cuts == 2250 * W and item.after_cuts == 2250 * W and sl.amount_cut == 600 * W
    assert '<td id="total">2,250.00万元</td>' in page and '<td id="demand">2,850.00万元</td>' in page
    assert '<td id="cut">600.00万元</td>' in page
    # the allocations given as the Grants themselves (claims worked out above) give the same line
    compiled = polc.load(XIAMEN)
    claims = [(i, min(i * 50 * W, 300 * W)) for i in range(1, 13)]
    grants = allocate(claims, 10, None)
    src = tmp_path / 'cuts.csv'
    src.write_text(table, encoding='utf-8')
    run_batch(compiled, str(src), str(tmp_path / 'res.csv'), '2025-06-01', '編號')
    rep2 = aggregate(compiled, str(tmp_path / 'res.csv'), {'爆款產品獎勵': grants}, '2025-06-01', '編號', top=1)
    assert rep2.shared[0].shared == sl.shared and rep2.shared[0].cuts == sl.cuts[:1]     # top 1 cut shown
    assert isinstance(grants[0], Grant)


def _bin(total):
    """The histogram's bins, written out independently: 0; (0, 10万]; (10万, 100万]; … ; > 1亿."""
    if total == 0:
        return 0
    for k, hi in enumerate((10 ** 5, 10 ** 6, 10 ** 7, 10 ** 8), start=1):
        if total <= hi:
            return k
    return 5


@pytest.mark.parametrize('engine,suffix', [('python', 'csv'), ('duckdb', 'parquet')])
def test_report_equals_per_applicant_sums(tmp_path, engine, suffix):
    pol = ROOT / 'policies' / 'langfang.pol'           # quotas and pools: the allocation section is exercised
    compiled = polc.load(pol)
    rows = _rows(compiled, 400, seed=21)
    src = tmp_path / 'in.csv'
    _write_csv(src, compiled, rows)
    res = tmp_path / f'res.{suffix}'
    run = run_duckdb if engine == 'duckdb' else run_batch
    s = run(compiled, str(src), str(res), '2025-06-01')
    rep = aggregate(compiled, str(res), s.allocations, '2025-06-01', top=5)
    # independently: evaluate each applicant alone
    sums, counts, ceilings, na, total = {}, {}, {}, {}, Decimal(0)
    bins = [0] * 6
    limited = {info['name']: info for info, _f in compiled.namespace['ITEMS']
               if info.get('quota') is not None or info.get('pool') is not None}
    claims = {n: [] for n in limited}
    for n, row in enumerate(rows, start=1):
        res_ = compiled.evaluate(row, date='2025-06-01', explain=False)
        total += res_.total
        bins[_bin(res_.total)] += 1
        for it in res_.items:
            if it.outcome == 'amount':
                sums[it.name] = sums.get(it.name, Decimal(0)) + it.paid
                counts[it.name] = counts.get(it.name, 0) + (it.paid > 0)
            elif it.outcome == 'ceiling':
                ceilings[it.name] = ceilings.get(it.name, Decimal(0)) + it.ceiling
            elif it.outcome == 'not_applicable':
                na[it.name] = na.get(it.name, 0) + 1
            value = it.paid if it.outcome == 'amount' else it.ceiling if it.outcome == 'ceiling' else None
            if it.name in limited and value is not None and value > 0:
                claims[it.name].append((n, value))
    assert rep.total == total == s.total and rep.applicants == len(rows)
    assert total > 0 and any(line.total > 0 for line in rep.items)   # the table exercises something
    for line in rep.items:
        assert line.total == sums.get(line.name, 0) == s.totals[line.name], line.name
        assert line.recipients == counts.get(line.name, 0), line.name
        assert line.ceiling_total == ceilings.get(line.name, 0), line.name
        assert line.not_applicable == na.get(line.name, 0), line.name
    assert [n for _l, n in rep.histogram] == bins
    assert sum(n for _l, n in rep.histogram) == rep.applicants == len(rows)
    assert sum(v for _k, v in rep.kinds) == rep.total
    tops = [t for _r, _i, t, _n, _a in rep.top]
    assert tops == sorted(tops, reverse=True) and len(tops) == 5
    assert tops[0] == max(compiled.evaluate(r, date='2025-06-01', explain=False).total for r in rows)
    assert [sl.name for sl in rep.shared] == list(limited)
    for sl in rep.shared:
        info = limited[sl.name]
        grants = allocate(claims[sl.name], info.get('quota'), Decimal(info['pool']) if info.get('pool') else None,
                          info.get('allocation', ''))
        cut = [g for g in grants if g.granted < g.claimed]
        assert sl.shared.claims == len(claims[sl.name]) and sl.shared.cut == len(cut)
        assert sl.shared.claimed == sum((c for _n, c in claims[sl.name]), Decimal(0))
        assert [(c.row, c.claimed, c.granted, c.reason) for c in sl.cuts] == \
            [(g.row, g.claimed, g.granted, g.reason) for g in cut[:5]]


@pytest.mark.parametrize('engine', ['python', 'duckdb'])
def test_the_headline_is_the_paid_total_of_the_allocation(tmp_path, engine):
    # langfang.pol: a pool of 1000万元 shared by three 算力券 and a quota of 3; 400 generated applicants.
    # What is paid, worked out from the allocation file alone: the before-cut totals less, for every
    # claim whose outcome is an amount (a 最高可获 ceiling is not in the totals), claimed − granted.
    import csv as _csv
    pol = ROOT / 'policies' / 'langfang.pol'
    compiled = polc.load(pol)
    src = tmp_path / 'in.csv'
    _write_csv(src, compiled, _rows(compiled, 400, seed=21))
    res, alloc = tmp_path / 'res.csv', tmp_path / 'alloc.csv'
    run = run_duckdb if engine == 'duckdb' else run_batch
    s = run(compiled, str(src), str(res), '2025-06-01', allocation_path=str(alloc))
    with open(res, newline='', encoding='utf-8') as f:
        rows = {r['行号']: r for r in _csv.DictReader(f)}
    with open(alloc, newline='', encoding='utf-8') as f:
        grants = list(_csv.DictReader(f))
    cut = sum((Decimal(g['计算金额']) - Decimal(g['分配金额']) for g in grants
               if rows[g['行号']][g['项'] + '.结果'] == 'amount'), Decimal(0))
    before = sum((Decimal(r['应得合计（削减前）']) for r in rows.values()), Decimal(0))
    assert cut > 0                                   # the pool and the quota do cut this table
    paid = before - cut
    assert sum((Decimal(r['实发合计']) for r in rows.values()), Decimal(0)) == paid == s.paid
    rep = aggregate(compiled, str(res), s.allocations, '2025-06-01')
    assert rep.after_cuts == paid and rep.total == before
    # the command's page: the headline is what is paid, the demand beside it
    r = CliRunner().invoke(cli, ['report', str(pol), '--facts', str(src), '--out', str(tmp_path / 'b.html'),
                                 '--date', '2025-06-01', '--engine', engine])
    assert r.exit_code == 0, r.output
    page = (tmp_path / 'b.html').read_text(encoding='utf-8')
    from polc.compiler.budget.numbers import headline
    assert f'<td id="total">{headline(paid)}</td>' in page and f'<td id="demand">{headline(before)}</td>' in page


def test_both_engines_give_the_same_page(tmp_path):
    a, _ = _report(tmp_path, SAMPLE, TABLE, '编号', engine='duckdb')
    b, _ = _report(tmp_path, SAMPLE, TABLE, '编号', engine='python')
    assert a == b
    c, _ = _report(tmp_path, SAMPLE, TABLE, '编号', engine='duckdb')
    assert a == c                                        # deterministic, byte for byte


def test_the_page_is_self_contained_and_escaped():
    evil = '<script>alert(1)</script>'
    item = ItemLine('（一）', '<b>项</b>', '"奖&补"', Decimal(100), 1, Decimal(5), 0, 0, Decimal(0), 0)
    cut = Cut(2, '<img src=y>', Decimal(3), Decimal(0), '名额已满 <i>')
    shared_line = SharedLine('<b>项</b>', 1, None, '按申请顺序', Shared(2, 1, Decimal(8), Decimal(5), 1), (cut,))
    rep = Report(evil, '2025-06-01', 2, Decimal(5), Decimal(0), (item,), (('"奖&补"', Decimal(5)),),
                 (shared_line,), (('0元', 1), ('0–10万元', 1)), ((1, '<img src=x>', Decimal(5), '<b>项</b>', Decimal(5)),),
                 '编号')
    page = render_html(rep)
    assert '<script>' not in page and '<img' not in page and '<b>' not in page and '<i>' not in page
    assert '&lt;script&gt;' in page and '&lt;b&gt;项&lt;/b&gt;' in page and '&lt;img src=y&gt;' in page
    assert '&quot;奖&amp;补&quot;' in page
    assert not re.search(r'(src|href)=["\']?(https?:)?//', page)         # nothing fetched from a network
    assert '<script' not in page.lower() and 'http' not in page.replace('http://www.w3.org/2000/svg', '')
    assert page.startswith('<!DOCTYPE html>') and '<meta charset="utf-8">' in page
    # two charts, each with a title and both axis labels
    assert page.count('<svg') == 2
    for text in ('各项应得金额合计', '条款与项', '分配后应得金额（万元）', '申请人数（按每人应得合计分段）', '每人应得合计',
                 '>申请人数<'):
        assert text in page, text


def test_html5_structure_is_well_formed(tmp_path):
    from html.parser import HTMLParser
    page, _ = _report(tmp_path, XIAMEN, XIAMEN_TABLE, '編號')
    void = {'meta', 'br', 'img', 'hr', 'input', 'link', 'rect', 'line'}      # rect/line are self-closed SVG

    class Check(HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack, self.errors = [], []

        def handle_starttag(self, tag, attrs):
            if tag not in void:
                self.stack.append(tag)

        def handle_startendtag(self, tag, attrs):
            pass

        def handle_endtag(self, tag):
            if not self.stack or self.stack.pop() != tag:
                self.errors.append(tag)

    c = Check()
    c.feed(page)
    assert c.errors == [] and c.stack == []
    assert '<html lang="zh-CN">' in page and '<td id="total">1.4475亿元（14,475.00万元）</td>' in page


def test_cli_errors(tmp_path):
    r = CliRunner().invoke(cli, ['report', str(SAMPLE), '--facts', str(tmp_path / 'none.csv'),
                                 '--out', str(tmp_path / 'r.html')])
    assert r.exit_code == 2 and 'none.csv' in r.output and '不存在' in r.output and 'Traceback' not in r.output
    assert not (tmp_path / 'r.html').exists()
    (tmp_path / 'in.csv').write_text(TABLE, encoding='utf-8')
    r = CliRunner().invoke(cli, ['report', str(SAMPLE), '--facts', str(tmp_path / 'in.csv'),
                                 '--out', str(tmp_path / 'r.txt')])
    assert r.exit_code == 2 and '.html' in r.output
    r = CliRunner().invoke(cli, ['report', str(SAMPLE), '--facts', str(tmp_path / 'in.csv'), '--id-column', '编号',
                                 '--out', str(tmp_path / 'r.html'), '--png', str(tmp_path / 'no' / 'r.png')])
    assert r.exit_code == 2 and '目录不存在' in r.output and 'Traceback' not in r.output
    (tmp_path / 'bad.csv').write_text('企业类别\n外星\n', encoding='utf-8')
    for engine in ('python', 'duckdb'):
        r = CliRunner().invoke(cli, ['report', str(SAMPLE), '--facts', str(tmp_path / 'bad.csv'),
                                     '--out', str(tmp_path / 'r.html'), '--engine', engine])
        assert r.exit_code == 2 and '第 1 行' in r.output and '企业类别' in r.output, r.output
    (tmp_path / 'ragged.csv').write_text('企业类别,年销售额\n新增\n', encoding='utf-8')
    r = CliRunner().invoke(cli, ['report', str(SAMPLE), '--facts', str(tmp_path / 'ragged.csv'),
                                 '--out', str(tmp_path / 'r.html'), '--engine', 'python'])
    assert r.exit_code == 2 and 'ragged.csv' in r.output and '第 1 行' in r.output


def test_png_needs_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, 'matplotlib', None)          # `import matplotlib` now fails
    (tmp_path / 'in.csv').write_text(TABLE, encoding='utf-8')
    r = CliRunner().invoke(cli, ['report', str(SAMPLE), '--facts', str(tmp_path / 'in.csv'), '--date', '2025-06-01',
                                 '--out', str(tmp_path / 'r.html'), '--png', str(tmp_path / 'r.png')])
    assert r.exit_code == 2 and "pip install 'polc[report]'" in r.output and 'matplotlib' in r.output
    assert 'Traceback' not in r.output and not (tmp_path / 'r.png').exists()


def _png_size(data):
    assert data[:8] == PNG_MAGIC and data[12:16] == b'IHDR'
    return int.from_bytes(data[16:20], 'big'), int.from_bytes(data[20:24], 'big')


def test_cli_writes_the_page_and_the_png(tmp_path):
    pytest.importorskip('matplotlib', reason="matplotlib is in the test extra: pip install -e '.[test]'")
    (tmp_path / 'in.csv').write_text(XIAMEN_TABLE, encoding='utf-8')
    args = ['report', str(XIAMEN), '--facts', str(tmp_path / 'in.csv'), '--date', '2025-06-01', '--id-column', '編號']
    r = CliRunner().invoke(cli, args + ['--out', str(tmp_path / 'r.html'), '--png', str(tmp_path / 'r.png')])
    assert r.exit_code == 0, r.output
    assert '7 个申请人' in r.output and '1.4475亿元（14,475.00万元）' in r.output
    page = (tmp_path / 'r.html').read_text(encoding='utf-8')
    assert '<td id="total">1.4475亿元（14,475.00万元）</td>' in page
    data = (tmp_path / 'r.png').read_bytes()
    width, height = _png_size(data)
    assert width == 1000 and height > 500 and len(data) > 10_000
    # the same report draws the same bytes
    r = CliRunner().invoke(cli, args + ['--out', str(tmp_path / 'r2.html'), '--png', str(tmp_path / 'r2.png')])
    assert r.exit_code == 0, r.output
    assert (tmp_path / 'r2.png').read_bytes() == data
    assert (tmp_path / 'r2.html').read_text(encoding='utf-8') == page


def test_png_without_a_chinese_font_falls_back_to_ascii(tmp_path, monkeypatch):
    pytest.importorskip('matplotlib', reason="matplotlib is in the test extra: pip install -e '.[test]'")
    import warnings
    rep, _s = _aggregate(tmp_path, XIAMEN, XIAMEN_TABLE, '編號')
    monkeypatch.setattr(report_mod, 'cjk_font', lambda: None)
    with warnings.catch_warnings():
        warnings.simplefilter('error')                 # a missing glyph would warn: there must be none
        report_mod.render_png(rep, str(tmp_path / 'ascii.png'))
    assert _png_size((tmp_path / 'ascii.png').read_bytes())[0] == 1000


# ------------------------------------------------------------------ a real browser
def _headless(exe, args, tmp_path):
    profile = tmp_path / 'profile'
    profile.mkdir(exist_ok=True)
    return subprocess.run([exe, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
                           f'--user-data-dir={profile}'] + args, capture_output=True, text=True, timeout=180)


def test_chromium_renders_the_page(tmp_path):
    from cdp import chromium
    exe = chromium()
    _report(tmp_path, XIAMEN, XIAMEN_TABLE, '編號')
    url = (tmp_path / 'report.html').resolve().as_uri()
    r = _headless(exe, ['--dump-dom', url], tmp_path)
    dom = r.stdout
    assert r.returncode == 0, r.stderr[-2000:]
    # the DOM Chromium built: the grand total and each item total worked out by hand above
    assert re.search(r'<td id="total">([^<]*)</td>', dom).group(1) == '1.4475亿元（14,475.00万元）'
    for amount in ('6,000.00', '475.00', '8,000.00'):          # 國家級平臺, 爆款, 智算中心 (万元)
        assert f'<td>{amount}</td>' in dom, amount
    assert re.search(r'<td id="demand">([^<]*)</td>', dom).group(1) == '1.4475亿元（14,475.00万元）'  # no cut
    for heading in ('按类别合计', '按牵头单位合计', '按责任单位合计'):
        assert f'<h2>{heading}</h2>' in dom, heading
    # 補助: 智算中心 8000萬 (D 6000萬 + E 2000萬); 獎勵 6475萬 — before and after cuts (none here)
    assert '<tr><td>補助</td><td>' in dom and '<td>8,000.00</td><td>8,000.00</td>' in dom
    assert '<details><summary>另有' in dom                         # the items nobody gets, folded
    assert dom.count('<svg') == 2
    assert dom.count('<rect') == 3 + 6                            # three items with a total; six bins
    assert '<title>各项应得金额合计</title>' in dom and '每人应得合计' in dom
    shot = tmp_path / 'shot.png'
    r = _headless(exe, ['--window-size=1000,2400', f'--screenshot={shot}', url], tmp_path)
    assert shot.exists(), r.stderr[-2000:]
    data = shot.read_bytes()
    assert _png_size(data) == (1000, 2400) and len(data) > 50_000       # a drawn page, not a blank one


def test_the_reference_page_example_runs(tmp_path, monkeypatch):
    """docs/commands/report.md: its table is the hand-worked one above, and its command and its
    Python example give what the page shows."""
    import shlex
    md = (ROOT / 'docs' / 'commands' / 'report.md').read_text(encoding='utf-8')
    assert (ROOT / 'docs' / 'examples' / 'xiamen-applicants.csv').read_text(encoding='utf-8') == XIAMEN_TABLE
    for rel in ('policies/xiamen.pol', 'docs/examples/xiamen-applicants.csv'):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    monkeypatch.chdir(tmp_path)
    command, shown = md.split('\n$ ', 1)[1].split('```', 1)[0].split('\n', 1)
    args = shlex.split(command)
    assert args[:2] == ['polc', 'report']
    r = CliRunner().invoke(cli, args[1:])
    assert r.exit_code == 0, r.output
    assert r.output == shown
    page = (tmp_path / 'report.html').read_text(encoding='utf-8')
    assert '<td id="total">1.4475亿元（14,475.00万元）</td>' in page
    code = md.split('```python\n', 1)[1].split('```', 1)[0]
    (tmp_path / 'report.html').unlink()
    exec(compile(code, 'report.md', 'exec'), {})
    assert (tmp_path / 'report.html').read_text(encoding='utf-8') == page     # the same page, from Python
    assert (tmp_path / 'charts.png').read_bytes()[:8] == PNG_MAGIC
