"""Simplified and traditional spellings are one language (issue 14 §5).

Names, enumeration values, item names and table headers are folded with OpenCC; the policy's own
spelling is kept in all output, and polc's own words follow the policy's script."""
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import polc
from polc.compiler.cli import cli
from polc.dsl.analysis import analyze
from polc.dsl.script import fold, to_policy_script

ROOT = Path(__file__).resolve().parent.parent
XIAMEN = ROOT / 'policies' / 'xiamen.pol'

TRAD = '''政策：繁體測試
輸入 年度營業收入：金額 "年度營業收入" 默認 0元
輸入 主體類型：枚舉（企業、高校） "申請主體" 默認 高校
條款 （一） 測試
  項 收入獎勵
    類別：獎勵
    條件：主体类型 是 企业
    金額：年度营业收入 × 1% 最高 500萬元
'''


def test_fold_is_opencc_t2s():
    assert fold('年度營業收入') == '年度营业收入'
    assert fold('企業') == '企业'
    assert fold('年度营业收入') == '年度营业收入'


def test_references_in_the_other_script_resolve_to_the_declaration():
    a = analyze(TRAD, 't.pol')
    assert a.ok, a.diagnostics
    item = next(it for _c, it in a.policy.items())
    # the condition and the amount now name the declared (traditional) spellings
    refs = {n.name for n in __import__('polc.dsl.ast', fromlist=['walk']).walk(item) if type(n).__name__ == 'Ref'}
    assert '年度營業收入' in refs and '主體類型' in refs and '年度营业收入' not in refs


def test_facts_and_enum_values_in_simplified_for_a_traditional_policy():
    p = polc.loads(TRAD, 't.pol')
    r = p.evaluate({'年度营业收入': '1亿元', '主体类型': '企业'}, '2025-06-01')
    it = r.item('收入獎勵')
    assert it.outcome == 'amount' and it.paid == 1000000     # 1亿 × 1% = 100万, under 500萬
    # a mixture of the two scripts is folded too
    r = p.evaluate({'年度營业收入': '3亿元', '主體类型': '企業'}, '2025-06-01')
    assert r.item('收入獎勵').paid == 3000000


def test_the_same_input_in_both_scripts_is_an_error():
    p = polc.loads(TRAD, 't.pol')
    with pytest.raises(polc.FactsError) as exc:
        p.evaluate({'年度营业收入': '1亿元', '年度營業收入': '2亿元'}, '2025-06-01')
    assert any('同一输入' in m for _n, m in exc.value.problems)


def test_an_undeclared_name_is_still_rejected():
    p = polc.loads(TRAD, 't.pol')
    with pytest.raises(polc.FactsError) as exc:
        p.evaluate({'年度利润': '1亿元'}, '2025-06-01')
    assert exc.value.problems == [('年度利润', '未声明的输入（政策中没有这一项）')]


def test_output_follows_the_policy_script_and_keeps_its_names():
    p = polc.loads(TRAD, 't.pol')
    r = p.evaluate({'年度营业收入': '1亿元', '主体类型': '企业'}, '2025-06-01')
    from polc.compiler.python.explain import render_text
    text = render_text(r)
    assert '應得合計' in text and '应得合计' not in text
    assert '未超過上限 500萬元' in text            # was "未超过上限 500萬元"
    assert '年度營業收入 1亿元' in text or '年度營業收入 1億元' in text
    # the condition as written in the policy (simplified there) is kept as written
    assert '主体类型 是 企业' in text


def test_a_simplified_policy_keeps_simplified_output():
    p = polc.loads(TRAD.replace('輸入', '输入').replace('條款', '条款').replace('項', '项')
                   .replace('類別', '类别').replace('條件', '条件').replace('金額', '金额')
                   .replace('默認', '默认').replace('枚舉', '枚举'), 's.pol')
    from polc.compiler.python.explain import render_text
    text = render_text(p.evaluate({'年度营业收入': '1亿元', '主体类型': '企业'}, '2025-06-01'))
    assert '应得合计' in text and '應得合計' not in text


def test_protected_texts_are_not_converted():
    assert to_policy_script('满足条件「采购额 不低于 10万元」', True, ['采购额 不低于 10万元']) == \
        '滿足條件「采购额 不低于 10万元」'
    assert to_policy_script('满足条件', False) == '满足条件'


def test_build_md_example_runs(tmp_path, monkeypatch):
    """docs/commands/build.md: a stand-alone module of 厦门 takes simplified fact names."""
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, ['build', str(XIAMEN), '-o', str(tmp_path / 'xiamen_rules.py')])
    assert r.exit_code == 0, r.output
    import subprocess
    code = ("import xiamen_rules; r = xiamen_rules.evaluate({'年度营业收入': '5亿元', '算力服务费用': '100万元', "
            "'主体类型': '企业'}, '2025-06-01'); print(r['ceiling_total'])")
    out = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # 5亿 is in 1亿–10亿: 最高 100万 × 40% = 40万 (企業算力券); nothing else applies
    assert out.stdout.strip() == '400000.00'


def test_explain_finds_an_item_in_the_other_script():
    r = CliRunner().invoke(cli, ['explain', str(XIAMEN), '--facts', '-', '企业算力券', '--date', '2025-06-01'],
                           input=json.dumps({'年度营业收入': '5亿元', '算力服务费用': '100万元'}))
    assert r.exit_code == 0, r.output
    assert '企業算力券' in r.output and '最高可獲 40萬元' in r.output


@pytest.mark.parametrize('engine', ['python', 'duckdb'])
def test_table_headers_and_values_in_the_other_script(tmp_path, engine):
    src = tmp_path / 'in.csv'
    src.write_text('编号,年度营业收入,算力服务费用,主体类型\nA,5亿元,100万元,企业\nB,20亿元,100萬元,企業\n',
                   encoding='utf-8')
    out = tmp_path / 'out.csv'
    r = CliRunner().invoke(cli, ['eval', str(XIAMEN), '--facts', str(src), '--out', str(out), '--id-column', '编号',
                                 '--date', '2025-06-01', '--engine', engine])
    assert r.exit_code == 0, r.output
    import csv
    rows = {x['编号']: x for x in csv.DictReader(Path(out).read_text(encoding='utf-8').splitlines())}
    # A: 5亿 → 40% of 100万 = 40万; B: 20亿 (≥10亿) → 30% of 100万 = 30万
    assert rows['A']['企業算力券.金额'] == '400000.00' and rows['B']['企業算力券.金额'] == '300000.00'


@pytest.mark.parametrize('engine', ['python', 'duckdb'])
def test_a_header_in_both_scripts_is_an_error(tmp_path, engine):
    src = tmp_path / 'in.csv'
    src.write_text('年度营业收入,年度營業收入\n5亿元,5亿元\n', encoding='utf-8')
    r = CliRunner().invoke(cli, ['eval', str(XIAMEN), '--facts', str(src), '--out', str(tmp_path / 'o.csv'),
                                 '--date', '2025-06-01', '--engine', engine])
    assert r.exit_code != 0 and '同一输入' in r.output


def test_schema_accepts_both_spellings_but_not_both_at_once():
    import jsonschema
    from polc.compiler.schema import schema_of
    p = polc.load(XIAMEN)
    v = jsonschema.Draft202012Validator(schema_of(p.meta, p.inputs))
    assert v.is_valid({'年度营业收入': '5亿元', '主体类型': '企业'})
    assert v.is_valid({'年度營業收入': '5億元', '主體類型': '企業'})
    assert not v.is_valid({'年度营业收入': '5亿元', '年度營業收入': '5亿元'})
    assert not v.is_valid({'年度利潤': '5亿元'})
    assert not v.is_valid({'主体类型': '公司'})
