"""Excel tables in and out: exact cell values (never through a rounded float), Excel's own row
numbers, sheet selection, both engines agreeing on text tables with units, separators and
full-width digits, results and summary exports that read back exactly."""
import csv
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

import polc
from polc.compiler.cli import cli
from polc.compiler.tables.io import BatchError
from polc.compiler.tables.rowwise import run_batch

xlsxwriter = pytest.importorskip('xlsxwriter')
pytest.importorskip('python_calamine')
duckdb = pytest.importorskip('duckdb')

from polc.compiler.sql.engine import run_duckdb  # noqa: E402
from polc.compiler.tables.excel import column_letter, number_text, read_excel  # noqa: E402

from test_batch import _rows  # noqa: E402
from test_sql import _spelled  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / 'tests' / 'data' / 'sample.pol'
XIAMEN = ROOT / 'policies' / 'xiamen.pol'
W = Decimal(10000)


# ------------------------------------------------------------------ the exactness rule
def test_number_cells_are_taken_exactly_or_refused():
    assert number_text(1234.56) == '1234.56'
    assert number_text(199581.0) == '199581'
    assert number_text(0.125) == '0.125'
    assert number_text(123456789012345.0) == '123456789012345'          # 15 digits: exact
    assert number_text(1234567890123.45) == '1234567890123.45'
    assert number_text(-0.0) == '0'
    assert number_text(0.1 + 0.2) is None                  # 0.30000000000000004: a formula's double
    assert number_text(1234567890123456.0) is None         # 16 digits: beyond what Excel keeps
    assert number_text(float('nan')) is None and number_text(float('inf')) is None
    assert number_text(12) == '12' and number_text(10 ** 16) is None
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ['A', 'Z', 'AA', 'AB', 'ZZ', 'AAA']


@settings(max_examples=2000, deadline=None)
@given(st.integers(min_value=-(10 ** 15) + 1, max_value=10 ** 15 - 1), st.integers(min_value=0, max_value=14))
def test_every_fifteen_digit_decimal_comes_back_from_its_double(digits, places):
    """The rule's premise: a decimal of at most 15 significant digits (what Excel keeps of a typed
    number) → the nearest double → its shortest repr is that decimal again."""
    d = Decimal(digits).scaleb(-places)
    got = number_text(float(d))
    assert got is not None and Decimal(got) == d


# ------------------------------------------------------------------ helpers
def _book(path, sheets):
    """sheets: {name: (first row index, rows)}; cells: str → text, Decimal/int → number,
    bool → boolean, None → empty."""
    wb = xlsxwriter.Workbook(str(path))
    for name, (start, rows) in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows, start=start):
            for c, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, bool):
                    ws.write_boolean(r, c, v)
                elif isinstance(v, (int, Decimal)):
                    ws.write_number(r, c, v)
                else:
                    ws.write_string(r, c, v)
    wb.close()


def _sheet_xml(path, n=1):
    return zipfile.ZipFile(path).read(f'xl/worksheets/sheet{n}.xml').decode('utf-8')


def _excel_rows(path, sheet=None):
    return [(n, row) for n, row in read_excel(str(path), sheet)]


# ------------------------------------------------------------------ reading
def test_cells_rows_and_sheets(tmp_path):
    book = tmp_path / 'in.xlsx'
    _book(book, {'说明': (0, [['这一页不是数据']]),
                 '申请': (2, [['编号', '年销售额', '落户', '成交额'],          # header in Excel row 3
                             ['甲', '199581萬元', True, Decimal('1234.56')],
                             [None, None, None, None],                        # a blank row: skipped
                             ['乙', '1,234,567', False, 3500]])})
    rows = _excel_rows(book, '申请')
    assert rows == [(4, {'编号': '甲', '年销售额': '199581萬元', '落户': 'true', '成交额': '1234.56'}),
                    (6, {'编号': '乙', '年销售额': '1,234,567', '落户': 'false', '成交额': '3500'})]
    assert _excel_rows(book) == []                                   # the first sheet: a header only
    with pytest.raises(Exception, match='没有名为「其他」的工作表；有：说明、申请'):
        _excel_rows(book, '其他')


def test_a_number_that_is_not_exact_is_refused_with_its_cell(tmp_path):
    book = tmp_path / 'f.xlsx'
    wb = xlsxwriter.Workbook(str(book))
    ws = wb.add_worksheet('表')
    ws.write_row(0, 0, ['编号', '年销售额'])
    ws.write_row(1, 0, ['甲', '3500万元'])
    ws.write_string(2, 0, '乙')
    ws.write_formula(2, 1, '=0.1+0.2', None, 0.30000000000000004)   # a formula's cached double
    wb.close()
    compiled = polc.load(SAMPLE)
    for run in (run_batch, run_duckdb):
        with pytest.raises(BatchError) as e:
            run(compiled, str(book), str(tmp_path / 'o.csv'), '2025-06-01', '编号')
        assert '第 3 行 B 列' in str(e.value) and '15 位有效数字' in str(e.value) and '表' in str(e.value)


@pytest.mark.parametrize('engine', ['python', 'duckdb'])
def test_money_cells_with_more_than_two_decimals_are_refused(tmp_path, engine):
    book = tmp_path / 'm.xlsx'
    _book(book, {'Sheet1': (0, [['年销售额'], [Decimal('3500')], [Decimal('1234.567')]])})
    run = run_duckdb if engine == 'duckdb' else run_batch
    with pytest.raises(BatchError, match='第 3 行') as e:
        run(polc.load(SAMPLE), str(book), str(tmp_path / 'o.csv'), '2025-06-01')
    assert '年销售额' in str(e.value) and '1234.567' in str(e.value)
    assert not (tmp_path / 'o.xlsx').exists()


# ------------------------------------------------------------------ both engines, text tables
def _as_cells(compiled, rows, numbers):
    """Rows for a sheet: money written as text (units, separators, full-width digits) except
    the plain ones turned into number cells when ``numbers``."""
    cols = list(compiled.inputs)
    out = [cols]
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)
            if v is None or v == '':
                cells.append(None)
            elif numbers and compiled.inputs[c][0] in ('money', 'int') and re.fullmatch(r'-?\d+(\.\d{1,2})?', str(v)):
                cells.append(Decimal(str(v)))
            else:
                cells.append(str(v))
        out.append(cells)
    return out


@pytest.mark.parametrize('pol', ['langfang.pol', 'xiamen.pol', 'zhangzhou.pol'])
def test_both_engines_agree_on_an_excel_text_table(tmp_path, pol):
    compiled = polc.load(ROOT / 'policies' / pol)
    rows = _spelled(_rows(compiled, 300, seed=7), compiled)
    book = tmp_path / 'in.xlsx'
    _book(book, {'Sheet1': (0, _as_cells(compiled, rows, numbers=True))})
    # the same table as CSV text: the results must be the same, row numbers apart (Excel: +1)
    src = tmp_path / 'in.csv'
    with open(src, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(list(compiled.inputs))
        for r in rows:
            w.writerow([r.get(c, '') for c in compiled.inputs])
    s0 = run_batch(compiled, str(src), str(tmp_path / 'csv.csv'), '2025-06-01')
    s1 = run_batch(compiled, str(book), str(tmp_path / 'row.csv'), '2025-06-01')
    s2 = run_duckdb(compiled, str(book), str(tmp_path / 'sql.csv'), '2025-06-01')
    assert s1.rows == s2.rows == s0.rows == len(rows)
    assert (tmp_path / 'row.csv').read_bytes() == (tmp_path / 'sql.csv').read_bytes()
    with open(tmp_path / 'csv.csv', encoding='utf-8') as f:
        from_csv = list(csv.DictReader(f))
    with open(tmp_path / 'row.csv', encoding='utf-8') as f:
        from_xlsx = list(csv.DictReader(f))
    for a, b in zip(from_csv, from_xlsx):
        assert int(b.pop('行号')) == int(a.pop('行号')) + 1           # header in Excel row 1
        assert a == b
    assert s0.total == s1.total == s2.total and s0.totals == s1.totals == s2.totals
    assert s0.paid == s1.paid == s2.paid and s0.cuts == s1.cuts == s2.cuts


# ------------------------------------------------------------------ writing
@pytest.mark.parametrize('engine', ['python', 'duckdb'])
def test_excel_round_trip(tmp_path, engine):
    # 甲 新增 → 新增企业奖励 35万; 乙 新上规模 25万, 爆款 年销售额 3500万 → 3 × 50万 = 150万
    # (sample.pol, worked in tests/test_report.py); 丙 年销售额 "１,２３４.５６万元" (full width, with
    # separators) = 1234.56万元 → 爆款 1 × 50万 = 50万; 丁 "２３，４５６，７８９元" (full-width
    # commas too) = 2345.6789万元 → 2 × 50万 = 100万
    book = tmp_path / 'in.xlsx'
    _book(book, {'Sheet1': (0, [['编号', '企业类别', '年销售额'], ['甲', '新增', None],
                                ['乙', '新上规模', Decimal('35000000')], ['丙', '其他', '１,２３４.５６万元'],
                                ['丁', '其他', '２３，４５６，７８９元']])})
    out = tmp_path / f'{engine}.xlsx'
    r = CliRunner().invoke(cli, ['eval', str(SAMPLE), '--facts', str(book), '--out', str(out), '--id-column', '编号',
                                 '--date', '2025-06-01', '--engine', engine])
    assert r.exit_code == 0, r.output
    back = {row['编号']: (n, row) for n, row in read_excel(str(out))}
    assert [back[k][1]['行号'] for k in ('甲', '乙', '丙')] == ['2', '3', '4']         # Excel's rows
    assert back['甲'][1]['新增企业奖励.金额'] == '350000' and back['甲'][1]['应得合计（削减前）'] == '350000'
    assert back['乙'][1]['爆款奖励.金额'] == '1500000' and back['乙'][1]['应得合计（削减前）'] == '1750000'
    assert back['乙'][1]['实发合计'] == '1750000'                 # 3 爆款 claims, within the quota of 10
    assert back['丙'][1]['爆款奖励.金额'] == '500000'
    assert back['丁'][1]['爆款奖励.金额'] == '1000000' and back['丁'][1]['行号'] == '5'
    xml = _sheet_xml(out)
    assert '<v>1750000.00</v>' in xml                 # the exact decimal text, as a number cell
    assert 'num_format' not in xml and re.search(r'<c r="[A-Z]+3" s="\d+"><v>1750000.00</v>', xml)


def test_a_failed_run_leaves_no_excel_output(tmp_path):
    src = tmp_path / 'bad.csv'
    src.write_text('企业类别\n新增\n外星\n', encoding='utf-8')
    for run in (run_batch, run_duckdb):
        with pytest.raises(BatchError, match='第 2 行'):
            run(polc.load(SAMPLE), str(src), str(tmp_path / 'o.xlsx'), '2025-06-01')
        assert not (tmp_path / 'o.xlsx').exists()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith('.o.xlsx')]


def test_cli_sheet_option_and_its_errors(tmp_path):
    book = tmp_path / 'in.xlsx'
    _book(book, {'封面': (0, [['说明']]), '申请': (0, [['企业类别'], ['新增']])})
    out = tmp_path / 'o.csv'
    r = CliRunner().invoke(cli, ['eval', str(SAMPLE), '--facts', str(book), '--sheet', '申请', '--out', str(out),
                                 '--date', '2025-06-01'])
    assert r.exit_code == 0, r.output
    assert '计算了 1 行' in r.output and '35.00万元' in r.output
    r = CliRunner().invoke(cli, ['eval', str(SAMPLE), '--facts', str(book), '--sheet', '无此表', '--out', str(out)])
    assert r.exit_code == 2 and '无此表' in r.output and '封面、申请' in r.output and 'Traceback' not in r.output
    csv_in = tmp_path / 'in.csv'
    csv_in.write_text('企业类别\n新增\n', encoding='utf-8')
    r = CliRunner().invoke(cli, ['eval', str(SAMPLE), '--facts', str(csv_in), '--sheet', '申请', '--out', str(out)])
    assert r.exit_code == 2 and '--sheet 只用于 Excel' in r.output
    (tmp_path / 'broken.xlsx').write_bytes(b'not a zip')
    r = CliRunner().invoke(cli, ['eval', str(SAMPLE), '--facts', str(tmp_path / 'broken.xlsx'), '--out', str(out)])
    assert r.exit_code == 2 and 'broken.xlsx' in r.output and 'Excel' in r.output and 'Traceback' not in r.output


# ------------------------------------------------------------------ the report
QUOTA_TABLE = '編號,評定為爆款產品,爆款產品年銷售額\n' + ''.join(f'P{i},是,{i * 1000}萬元\n' for i in range(1, 13))


@pytest.mark.parametrize('engine', ['python', 'duckdb'])
def test_the_headline_is_the_allocations_paid_total(tmp_path, engine):
    # Twelve 爆款 products of xiamen.pol (worked in tests/test_report.py): claimed 2850萬, the
    # 10-product quota pays rows 1…10 = 2250萬.  The headline is 2250萬, the demand 2850萬 beside it;
    # and the --allocation file's 分配金额 add up to the same 2250萬.
    src = tmp_path / 'in.csv'
    src.write_text(QUOTA_TABLE, encoding='utf-8')
    alloc = tmp_path / 'alloc.csv'
    r = CliRunner().invoke(cli, ['eval', str(XIAMEN), '--facts', str(src), '--out', str(tmp_path / 'res.csv'),
                                 '--allocation', str(alloc), '--date', '2025-06-01', '--engine', engine,
                                 '--id-column', '編號'])
    assert r.exit_code == 0, r.output
    assert '分配后应发合计 2,250.00万元' in r.output and '申请额合计 2,850.00万元' in r.output
    with open(alloc, encoding='utf-8') as f:
        granted = sum(Decimal(row['分配金额']) for row in csv.DictReader(f))
    assert granted == 2250 * W
    r = CliRunner().invoke(cli, ['report', str(XIAMEN), '--facts', str(src), '--out', str(tmp_path / 'r.html'),
                                 '--date', '2025-06-01', '--engine', engine, '--export', str(tmp_path / 'sum.xlsx'),
                                 '--id-column', '編號'])
    assert r.exit_code == 0, r.output
    assert '应发合计 2,250.00万元（名额与资金池分配后；分配前申请额 2,850.00万元）' in r.output
    page = (tmp_path / 'r.html').read_text(encoding='utf-8')
    assert '<td id="total">2,250.00万元</td>' in page
    summary = {row['项目']: row['数值'] for _n, row in read_excel(str(tmp_path / 'sum.xlsx'), '概要')}
    assert Decimal(summary['应发合计（元）']) == granted == 22_500_000
    assert Decimal(summary['申请额合计（元）']) == 28_500_000


def test_report_breakdowns_and_exports(tmp_path):
    # XIAMEN_TABLE of tests/test_report.py: 14475萬 in all — 國家級平臺 6000萬 + 爆款 475萬 (獎勵
    # 6475萬), 智算中心 8000萬 (補助)
    from test_report import XIAMEN_TABLE
    from polc.compiler.budget.report import aggregate
    compiled = polc.load(XIAMEN)
    src = tmp_path / 'in.csv'
    src.write_text(XIAMEN_TABLE, encoding='utf-8')
    s = run_batch(compiled, str(src), str(tmp_path / 'res.csv'), '2025-06-01', '編號')
    rep = aggregate(compiled, str(tmp_path / 'res.csv'), s.allocations, '2025-06-01', '編號')
    kinds = {name: (b, a) for name, _n, b, a in dict(rep.breakdowns)['类别']}
    assert kinds['獎勵'] == (6475 * W, 6475 * W) and kinds['補助'] == (8000 * W, 8000 * W)
    infos = {info['name']: info for info, _f in compiled.namespace['ITEMS']}
    for title, key in (('牵头单位', 'lead'), ('责任单位', 'units')):
        rows = dict(rep.breakdowns)[title]
        expect = {}
        for i in rep.items:          # each item's total under each of its departments
            for d in infos[i.name][key] or ('未注明',):
                expect[d] = expect.get(d, Decimal(0)) + i.total
        assert {name: b for name, _n, b, _a in rows} == expect
    units = {name: b for name, _n, b, _a in dict(rep.breakdowns)['责任单位']}
    assert units['市工信局'] > 0 and '市科技局' in units              # xiamen.pol names its 責任單位
    # the CSV export: one file per table, exact 元
    from polc.compiler.budget.export import export_tables
    files = export_tables(rep, str(tmp_path / 'tables'))
    assert sorted(Path(f).name for f in files) == sorted(
        ['概要.csv', '各项.csv', '按类别.csv', '按牵头单位.csv', '按责任单位.csv', '名额与资金池.csv', '金额分布.csv',
         '应得最多.csv'])
    with open(tmp_path / 'tables' / '按类别.csv', encoding='utf-8-sig') as f:
        got = {row['类别']: row['分配后（元）'] for row in csv.DictReader(f)}
    assert got['獎勵'] == '64750000.00' and got['補助'] == '80000000.00'
    page = (tmp_path / 'r.html')
    from polc.compiler.budget.report import render_html
    html = render_html(rep)
    assert '<h2>按牵头单位合计</h2>' in html and '<h2>按责任单位合计</h2>' in html
    # items with no amount and no ceiling for anyone are folded away, not listed in the main table
    folded = [i for i in rep.items if not (i.recipients or i.ceilings or i.total)]
    assert folded and f'另有 {len(folded)} 项无人获得金额或最高可获（已折叠）' in html
    main = html.split('<details>')[0]
    assert all(f'<td>{i.name}</td>' not in main for i in folded)
    assert not page.exists()


def test_the_duckdb_engine_reports_its_query_progress(tmp_path):
    src = tmp_path / 'in.csv'
    src.write_text(QUOTA_TABLE, encoding='utf-8')
    seen = []
    run_duckdb(polc.load(XIAMEN), str(src), str(tmp_path / 'o.csv'), '2025-06-01', '編號', progress=seen.append)
    # one pass (the facts are read and checked inside the policy query): it ends at its end
    assert seen and seen[-1] == 1.0
    assert seen == sorted(seen) and all(0 <= f <= 1 for f in seen)


@pytest.mark.parametrize('engine', ['python', 'duckdb'])
def test_the_allocation_file_as_excel(tmp_path, engine):
    # the twelve 爆款 products again: 12 claims, rows 11 and 12 cut to 0 by the 10-product quota
    src = tmp_path / 'in.csv'
    src.write_text(QUOTA_TABLE, encoding='utf-8')
    run = run_duckdb if engine == 'duckdb' else run_batch
    s = run(polc.load(XIAMEN), str(src), str(tmp_path / 'o.csv'), '2025-06-01', '編號',
            allocation_path=str(tmp_path / 'alloc.xlsx'))
    rows = [row for _n, row in read_excel(str(tmp_path / 'alloc.xlsx'))]
    assert len(rows) == 12 and sum(Decimal(r['分配金额']) for r in rows) == 2250 * W == s.paid
    assert [r['編號'] for r in rows[-2:]] == ['P11', 'P12']
    assert [r['分配金额'] for r in rows[-2:]] == ['0', '0'] and '名额已满' in rows[-1]['说明']
