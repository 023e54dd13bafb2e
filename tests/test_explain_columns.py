"""`polc eval --facts TABLE --out RESULTS --explain`: after each item's amount a column 项名.说明 with
that applicant's derivation for the item — the lines single-applicant `polc eval` shows — made by the
per-row engine; every other column exactly as without --explain."""
import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

import polc
from polc.compiler.cli import cli
from polc.compiler.engines import evaluate_table
from polc.compiler.tables.io import BatchError

from test_table_engine import _text_table

ROOT = Path(__file__).resolve().parent.parent
XIAMEN = ROOT / 'policies' / 'xiamen.pol'
DATE = '2025-06-01'


def _rows(path):
    with open(path, newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


def test_the_column_shows_the_derivation_worked_by_hand(tmp_path):
    """厦门（一）: 市级揭榜挂帅项目 up to 30% of the R&D spend, at most 1000万元 per project.
    1200万元 × 30% = 360万元, under the cap, a maximum (最高可获); 5000万元 × 30% = 1500万元, cut to
    1000万元; a firm with no such spend is 不适用, saying the spend was not given."""
    src = tmp_path / 'in.csv'
    src.write_text('主體類型,市級揭榜掛帥項目研發投入\n企業,1200万元\n企業,"50,000,000"\n企業,\n', encoding='utf-8')
    out = tmp_path / 'out.csv'
    r = CliRunner().invoke(cli, ['eval', str(XIAMEN), '--facts', str(src), '--out', str(out), '--explain',
                                 '--date', DATE])
    assert r.exit_code == 0, r.output
    rows = _rows(out)
    item = '市級揭榜掛帥項目補助'
    assert [row[f'{item}.金额'] for row in rows] == ['3600000.00', '10000000.00', '']
    first, second, third = (row[f'{item}.说明'] for row in rows)
    assert '1200萬元 × 30% = 360萬元' in first and '最高可獲 360萬元' in first
    assert '5000萬元 × 30% = 1500萬元' in second and '按 1000萬元 計' in second
    assert third.startswith('不滿足條件') and '未填' in third
    header = list(rows[0])
    assert header.index(f'{item}.说明') == header.index(f'{item}.金额') + 1


@pytest.mark.parametrize('name', ['xiamen', 'langfang'])
def test_the_column_is_what_single_eval_says_and_nothing_else_changes(tmp_path, name):
    compiled = polc.load(ROOT / 'policies' / f'{name}.pol')
    src = tmp_path / 'in.csv'
    _text_table(src, compiled, 60, seed=5)
    plain, said = tmp_path / 'plain.csv', tmp_path / 'said.csv'
    evaluate_table(compiled, str(src), str(plain), DATE, engine='python')
    evaluate_table(compiled, str(src), str(said), DATE, explain=True)
    facts = _rows(src)
    base, explained = _rows(plain), _rows(said)
    assert len(explained) == len(facts) == 60
    for raw, a, b in zip(facts, base, explained):
        assert {k: v for k, v in b.items() if not k.endswith('.说明')} == a
        one = compiled.evaluate({k: v for k, v in raw.items() if v != ''}, date=DATE)
        for it in one.items:
            text = b[f'{it.name}.说明']
            for line in (*it.steps, it.detail):
                assert line in text
            assert text                                  # every item says something


def test_explain_on_the_table_engine_is_refused(tmp_path):
    src = tmp_path / 'in.csv'
    src.write_text('市級揭榜掛帥項目研發投入\n1200万元\n', encoding='utf-8')
    r = CliRunner().invoke(cli, ['eval', str(XIAMEN), '--facts', str(src), '--out', str(tmp_path / 'o.csv'),
                                 '--explain', '--engine', 'duckdb'])
    assert r.exit_code == 2 and 'E-USAGE' in r.output and '逐行引擎' in r.output
    assert not (tmp_path / 'o.csv').exists()
    with pytest.raises(BatchError, match='--engine duckdb'):
        evaluate_table(XIAMEN, str(src), str(tmp_path / 'o.csv'), DATE, engine='duckdb', explain=True)


def test_the_default_engine_says_it_uses_the_per_row_engine(tmp_path):
    src = tmp_path / 'in.csv'
    src.write_text('市級揭榜掛帥項目研發投入\n1200万元\n', encoding='utf-8')
    r = CliRunner().invoke(cli, ['eval', str(XIAMEN), '--facts', str(src), '--out', str(tmp_path / 'o.csv'),
                                 '--explain', '--date', DATE])
    assert r.exit_code == 0 and '提示：--explain 的说明由逐行引擎' in r.output


def test_explain_is_for_tables(tmp_path):
    r = CliRunner().invoke(cli, ['eval', str(XIAMEN), '--facts', str(ROOT / 'policies' / 'examples' / 'xiamen.json'),
                                 '--explain'])
    assert r.exit_code == 2 and '--explain 只用于批量计算' in r.output
