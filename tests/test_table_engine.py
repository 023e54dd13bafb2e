"""The table engine (DuckDB, the default for CSV and Parquet tables) on the text tables bureaus have:
money with units, thousands separators, full-width forms, spaces and empty cells, plain cells and
others mixed in one column — the per-row engine's results byte for byte, the same row numbers and
messages for bad cells, and the default falling back to the per-row engine where SQL cannot go.
"""
import csv
import random
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polc
from polc.compiler.cli import cli
from polc.compiler.tables.io import BatchError
from polc.compiler.tables.rowwise import run_batch

duckdb = pytest.importorskip('duckdb')
from polc.compiler.engines import DEFAULT_ENGINE, choose_engine  # noqa: E402
from polc.compiler.sql.engine import run_duckdb  # noqa: E402

from test_batch import _rows  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATE = '2025-06-01'
FW = str.maketrans('0123456789,.', '０１２３４５６７８９，．')


def _spell(v: Decimal, k: int) -> str:
    """An amount in 元 as people write it, one of eight ways (chosen by ``k``)."""
    choice = k % 8
    if choice == 0 and v % 100 == 0:
        return f'{(v / 10000).normalize():f}万元'
    if choice == 1:
        return f'{v:,}'
    if choice == 2:
        return f'{v:,}'.translate(FW) + '元'
    if choice == 3:
        return f' {v} 元 '
    if choice == 4 and v % 10 ** 8 == 0:
        return f'{(v / 10 ** 8).normalize():f}億元'
    if choice == 5:
        return f'{v}'.translate(FW)
    if choice == 6:
        return f'\u3000{v:,}\u3000'
    return f'{v}'


def _text_table(path, compiled, n, seed):
    rows = _rows(compiled, n, seed=seed)
    columns = list(compiled.inputs)
    rnd = random.Random(seed)
    with open(path, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            out = []
            for c in columns:
                kind = compiled.inputs[c][0]
                v = r.get(c, '')
                if v and kind == 'money':
                    v = _spell(Decimal(v), rnd.randrange(8))
                elif v and kind == 'percent' and rnd.random() < 0.3:
                    v = v.translate(FW).replace('%', '％')
                out.append(v)
            w.writerow(out)


@pytest.mark.parametrize('name', ['xiamen', 'zhangzhou', 'fuzhou', 'langfang'])
def test_text_tables_give_the_same_bytes_on_both_engines(tmp_path, name):
    compiled = polc.load(ROOT / 'policies' / f'{name}.pol')
    src = tmp_path / 'in.csv'
    _text_table(src, compiled, 400, seed=len(name))
    text = src.read_text(encoding='utf-8')
    assert '万元' in text and '，' in text and '\u3000' in text and ',,' in text     # the forms are there
    a, b = tmp_path / 'row.csv', tmp_path / 'sql.csv'
    s1 = run_batch(compiled, str(src), str(a), DATE)
    s2 = run_duckdb(compiled, str(src), str(b), DATE)
    assert a.read_bytes() == b.read_bytes()
    assert (s1.written, s1.total, s1.totals) == (s2.written, s2.total, s2.totals) and s1.written == 400


_PLAIN = st.one_of(st.integers(0, 10 ** 12).map(str),
                   st.decimals(0, 10 ** 9, places=2, allow_nan=False).map(lambda d: f'{d:f}'))
_OTHER = st.one_of(
    st.integers(0, 10 ** 9).map(lambda n: f'{n:,}'),
    st.integers(0, 10 ** 6).map(lambda n: f'{n}万元'),
    st.integers(0, 10 ** 6).map(lambda n: f'{n:,}'.translate(FW) + '元'),
    st.integers(0, 10 ** 6).map(lambda n: f' {n} 萬 '),
    st.sampled_from(['', '1,5', '-5', '1.001', '12元元', '１２３', '1e5', '0100', '1,234.567万元']))


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.one_of(_PLAIN, _PLAIN, _OTHER), min_size=1, max_size=60))
def test_plain_and_other_spellings_mixed_in_one_column(tmp_path_factory, cells):
    """The fast path (plain cells cast directly) and the grammar for the others, in one column:
    the same kept rows, values and rejects (row numbers and messages) as the per-row engine."""
    tmp = tmp_path_factory.mktemp('mix')
    pol = tmp / 'p.pol'
    pol.write_text('政策：测试\n施行日期：2024-01-01\n有效期至：2026-12-31\n'
                   '输入 营业收入：金额 "年营业收入" 默认 0元\n输入 投入：金额 "投入"\n\n'
                   '条款 （一） 甲\n  项 乙\n    金额：营业收入 × 10%\n  项 丙\n    金额：投入 × 5%\n',
                   encoding='utf-8')
    compiled = polc.load(pol)
    src = tmp / 'in.csv'
    with open(src, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(['营业收入', '投入'])
        for i, c in enumerate(cells):
            w.writerow([c, cells[-1 - i] or '1'])
    outs = {}
    for name, run in (('python', run_batch), ('duckdb', run_duckdb)):
        out, rej = tmp / f'{name}.csv', tmp / f'{name}.rejects.jsonl'
        s = run(compiled, str(src), str(out), DATE, skip_bad=True, rejects_path=str(rej))
        outs[name] = (out.read_bytes(), rej.read_bytes() if rej.exists() else b'', s.rejected, s.total)
    assert outs['python'] == outs['duckdb']


def test_a_bad_cell_after_many_good_ones_names_its_row(tmp_path):
    """Row 4,321 of 6,000 has 「1,5」: both engines stop there with the same message, and nothing
    is written (worked by hand: the data rows are counted from 1 after the header)."""
    pol = tmp_path / 'p.pol'
    pol.write_text('政策：测试\n施行日期：2024-01-01\n有效期至：2026-12-31\n'
                   '输入 营业收入：金额 "年营业收入" 默认 0元\n\n'
                   '条款 （一） 甲\n  项 乙\n    金额：营业收入 × 10%\n', encoding='utf-8')
    compiled = polc.load(pol)
    src = tmp_path / 'in.csv'
    cells = [str(1000 + i) if i % 3 else f'{1000 + i:,}元' for i in range(6000)]
    cells[4320] = '1,5'
    with open(src, 'w', newline='', encoding='utf-8') as f:
        csv.writer(f).writerows([['营业收入']] + [[c] for c in cells])
    messages = []
    for run in (run_batch, run_duckdb):
        out = tmp_path / 'o.csv'
        with pytest.raises(BatchError) as e:
            run(compiled, str(src), str(out), DATE)
        assert not out.exists()
        messages.append(str(e.value))
    assert messages[0] == messages[1]
    assert '第 4321 行' in messages[1] and '「1,5」' in messages[1] and '逗号只能作千位分隔符' in messages[1]


def test_the_default_is_the_table_engine_for_csv_and_parquet():
    compiled = polc.load(ROOT / 'policies' / 'xiamen.pol')
    assert DEFAULT_ENGINE == 'duckdb'
    assert choose_engine(compiled, None, DATE, 'a.csv') == ('duckdb', None)
    assert choose_engine(compiled, None, DATE, 'a.parquet') == ('duckdb', None)
    # JSONL and Excel rows are read by Python: the per-row engine streams them
    assert choose_engine(compiled, None, DATE, 'a.jsonl') == ('python', None)
    assert choose_engine(compiled, None, DATE, 'a.xlsx') == ('python', None)
    assert choose_engine(compiled, 'python', DATE, 'a.csv') == ('python', None)


def test_the_default_runs_the_table_engine(tmp_path, monkeypatch):
    import polc.compiler.sql.engine as E
    calls = []
    real = E.run_duckdb

    def spy(*a, **kw):
        calls.append(a[1])
        return real(*a, **kw)

    monkeypatch.setattr(E, 'run_duckdb', spy)
    pol = ROOT / 'policies' / 'xiamen.pol'
    src = tmp_path / 'in.csv'
    _text_table(src, polc.load(pol), 50, seed=2)
    r = CliRunner().invoke(cli, ['eval', str(pol), '--facts', str(src), '--out',
                                                 str(tmp_path / 'o.csv'), '--date', DATE])
    assert r.exit_code == 0, r.output
    assert calls == [str(src)] and r.stderr == ''


def test_the_default_falls_back_to_the_per_row_engine_with_a_notice(tmp_path):
    """A division by an input outside a comparison has no exact SQL: the default computes the table
    row by row (the same rows as --engine python) and says so on stderr; --engine duckdb refuses."""
    pol = tmp_path / 'd.pol'
    pol.write_text('政策：除法\n输入 收入：金额 "收入"\n输入 人数：整数 "人数"\n\n'
                   '条款 （一） 人均\n  项 人均补助\n    金额：收入 ÷ 人数 × 1%\n', encoding='utf-8')
    src = tmp_path / 'in.csv'
    src.write_text('收入,人数\n"1,000万元",4\n300,3\n', encoding='utf-8')
    runner = CliRunner()
    r = runner.invoke(cli, ['eval', str(pol), '--facts', str(src), '--out', str(tmp_path / 'a.csv')])
    assert r.exit_code == 0, r.output + r.stderr
    assert '除以输入值' in r.stderr and '逐行引擎' in r.stderr and '计算了 2 行' in r.stdout
    r2 = runner.invoke(cli, ['eval', str(pol), '--facts', str(src), '--out', str(tmp_path / 'b.csv'),
                             '--engine', 'python'])
    assert r2.exit_code == 0 and r2.stderr == ''
    assert (tmp_path / 'a.csv').read_bytes() == (tmp_path / 'b.csv').read_bytes()
    rows = list(csv.DictReader((tmp_path / 'a.csv').read_text(encoding='utf-8').splitlines()))
    assert [r['人均补助.金额'] for r in rows] == ['25000.00', '1.00']     # 1000万 ÷ 4 × 1%; 300 ÷ 3 × 1%
    r3 = runner.invoke(cli, ['eval', str(pol), '--facts', str(src), '--out', str(tmp_path / 'c.csv'),
                             '--engine', 'duckdb'])
    assert r3.exit_code == 2 and '--engine python' in r3.stderr
    # polc report: the same fallback
    r4 = runner.invoke(cli, ['report', str(pol), '--facts', str(src), '--out', str(tmp_path / 'r.html')])
    assert r4.exit_code == 0, r4.stderr and '逐行引擎' in r4.stderr


def test_duckdb_memory_is_bounded_and_its_spill_directory_removed(tmp_path, monkeypatch):
    """The table engine runs under a memory limit (POLC_DUCKDB_MEMORY, default 1GB) with a private
    spill directory that is gone after the run; a limit too small is said in words, with no file
    written; a value that is no size is refused."""
    import tempfile
    compiled = polc.load(ROOT / 'policies' / 'langfang.pol')
    src = tmp_path / 'in.csv'
    _text_table(src, compiled, 300, seed=4)
    spill_root = tmp_path / 'tmp'
    spill_root.mkdir()
    monkeypatch.setattr(tempfile, 'tempdir', str(spill_root))
    a, b = tmp_path / 'a.csv', tmp_path / 'b.csv'
    run_duckdb(compiled, str(src), str(a), DATE)
    monkeypatch.setenv('POLC_DUCKDB_MEMORY', '300MB')
    run_duckdb(compiled, str(src), str(b), DATE)
    assert a.read_bytes() == b.read_bytes()
    assert list(spill_root.iterdir()) == []
    for limit, words in (('1MB', 'POLC_DUCKDB_MEMORY 调高'), ('lots', '应为如 "4GB" 的大小')):
        monkeypatch.setenv('POLC_DUCKDB_MEMORY', limit)
        out = tmp_path / f'{limit}.csv'
        r = CliRunner().invoke(cli, ['eval', str(ROOT / 'policies' / 'langfang.pol'), '--facts', str(src),
                                     '--out', str(out), '--engine', 'duckdb', '--date', DATE])
        assert r.exit_code == 2 and words in r.output and 'Traceback' not in r.output, r.output
        assert not out.exists() and list(spill_root.iterdir()) == []
