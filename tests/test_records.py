"""One applicant, several projects (记录): language, evaluation, explanation, schema, stand-alone
module, tables.  Every expected number is worked by hand from tests/data/records.pol or the seeds."""
from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

import polc
from polc.compiler.analysis.interpreter import Interpreter
from polc.compiler.python.runtime import FactsError
from polc.compiler.python.standalone import generate_standalone
from polc.compiler.python.explain import render_text
from polc.compiler.tables.io import BatchError
from polc.dsl.analysis import analyze
from polc.dsl.formatter import format_policy
from polc.dsl.parser import parse

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / 'tests' / 'data' / 'records.pol'
DATE = '2025-06-01'
W = Decimal(10000)          # 1万元


@pytest.fixture(scope='module')
def policy():
    return polc.load(RECORDS)


def three_projects():
    return {'企业规模': '大型', '项目': [
        {'名称': '甲', '研发投入': '300万元', '算力费用': '100万元', '已验收': True},
        {'名称': '乙', '研发投入': '1000万元', '已验收': '是'},
        {'名称': '丙', '算力费用': '200万元'},
    ]}


# ---------------------------------------------------------------- language
@pytest.mark.parametrize('path', [RECORDS] + sorted((ROOT / 'policies').glob('*.pol')), ids=lambda p: p.stem)
def test_formatting_keeps_the_tree(path):
    src = path.read_text(encoding='utf-8')
    tree = parse(src).policy
    again = parse(format_policy(tree, src)).policy
    assert again == tree
    assert format_policy(tree, src) == src          # the seeds and the test policy are formatted


def test_the_tree_records_the_constructs():
    p = parse(RECORDS.read_text(encoding='utf-8')).policy
    assert [r.name.text for r in p.records] == ['项目']
    assert [d.name.text for d in p.record_inputs('项目')] == ['研发投入', '算力费用', '已验收']
    items = {it.name.text: it for _c, it in p.items()}
    assert items['研发补助'].per_record == '项目' and items['研发补助'].firm_cap_word == '每家每年最高'
    assert items['算力补助'].firm_cap_word == '每家最高'
    assert items['落户奖励'].per_record == '' and items['落户奖励'].firm_cap is None
    assert [g.per_record for g in p.groups] == ['项目', '']


def test_traditional_keywords():
    src = ('政策：測試\n施行日期：2025-01-01\n\n記錄 產品\n每個 產品 輸入 銷售額：金額 默認 0元\n\n'
           '條款 （一） 獎勵\n  項 產品獎勵 每個 產品\n    金額：銷售額 × 5% 最高 300萬元\n    每家最高：500萬元\n')
    p = parse(src).policy
    assert p.records[0].name.text == '產品'
    it = p.clauses[0].items[0]
    assert it.per_record == '產品' and it.firm_cap is not None
    assert format_policy(p, src) == src


def _codes(src: str) -> list[str]:
    return [d.code for d in analyze(src, '<测试>').diagnostics if d.severity == 'error']


HEAD = '政策：测试\n施行日期：2025-01-01\n记录 项目\n每个 项目 输入 投入：金额 默认 0元\n输入 规模：金额 默认 0元\n'


def test_an_applicant_item_cannot_use_a_record_input():
    src = HEAD + '条款 （一） 甲\n  项 补助\n    金额：投入 × 10%\n'
    assert _codes(src) == ['E-RECORD-INPUT']


def test_unknown_record_kind():
    src = HEAD + '条款 （一） 甲\n  项 补助 每个 产品\n    金额：投入 × 10%\n'
    assert 'E-RECORD-UNKNOWN' in _codes(src)


def test_applicant_cap_needs_a_per_record_item_and_applicant_facts():
    src = HEAD + '条款 （一） 甲\n  项 补助\n    金额：规模 × 10%\n    每家最高：10万元\n'
    assert _codes(src) == ['E-FIRM-CAP']
    src = HEAD + '条款 （一） 甲\n  项 补助 每个 项目\n    金额：投入 × 10%\n    每家最高：投入\n'
    assert _codes(src) == ['E-FIRM-CAP']


def test_a_case_record_line_gives_only_that_records_inputs():
    src = HEAD + ('条款 （一） 甲\n  项 补助 每个 项目\n    金额：投入 × 10%\n'
                  '案例 "甲"\n  项目：规模 = 10万元\n  期望：补助 = 0元\n')
    assert _codes(src) == ['E-CASE-UNKNOWN-INPUT']


# ---------------------------------------------------------------- evaluation
def test_three_projects_worked_by_hand(policy):
    r = policy.evaluate(three_projects(), date=DATE)
    research, compute, settle = r.item('研发补助'), r.item('算力补助'), r.item('落户奖励')
    # 甲 300万 × 20% = 60万 beats its 算力 100万 × 50% = 50万 (就高 in the project);
    # 乙 1000万 × 20% = 200万 → 100万 per project; sum 160万 > 150万 per 大型 applicant
    assert research.amount == 150 * W
    assert [x.amount for x in research.records] == [60 * W, 100 * W, None]
    assert [x.outcome for x in research.records] == ['amount', 'amount', 'not_applicable']
    # 丙 200万 × 50% = 100万 → 60万; 甲's 50万 set aside; the yearly group 30 + 150 + 60 = 240 > 200
    assert compute.records[0].set_aside and compute.records[0].paid == 0
    assert compute.records[2].amount == 60 * W
    assert compute.paid == 20 * W
    assert settle.paid == 30 * W
    assert r.total == 200 * W


def test_the_explanation_shows_each_project_and_the_cut(policy):
    text = render_text(policy.evaluate(three_projects(), date=DATE))
    assert '项目1「甲」：60万元' in text
    assert '项目2「乙」：100万元（计算为 100万元）' not in text     # paid equals the computed amount
    assert '项目2「乙」：100万元' in text
    assert '项目3「丙」：不适用' in text
    assert '各项目合计 160万元' in text
    assert '每家每年最高 150万元：各项目合计 160万元 超过上限，按 150万元 计' in text
    assert '同一项目就高：已按「研发补助」执行' in text


def test_results_json_lists_the_records(policy):
    d = policy.evaluate(three_projects(), date=DATE).to_dict()
    research = next(i for i in d['items'] if i['name'] == '研发补助')
    assert [x['label'] for x in research['records']] == ['项目1「甲」', '项目2「乙」', '项目3「丙」']
    assert research['records'][1]['amount'] == '1000000.00'
    assert research['amount'] == '1500000.00'
    json.dumps(d, ensure_ascii=False)
    flat = policy.evaluate({'研发投入': '600万元', '已验收': True}, date=DATE).to_dict()
    assert all('records' not in i for i in flat['items'])       # flat facts: the result looks as before


def test_flat_facts_are_one_project(policy):
    # 600万 × 20% = 120万 → 100万 per project → 80万 per 中小 applicant
    flat = policy.evaluate({'研发投入': '600万元', '已验收': True}, date=DATE)
    listed = policy.evaluate({'项目': [{'研发投入': '600万元', '已验收': True}]}, date=DATE)
    assert flat.item('研发补助').paid == listed.item('研发补助').paid == 80 * W
    assert flat.total == listed.total == 80 * W


def test_the_quota_counts_projects(policy):
    # 5 accepted projects of 100万: 20万 each; the quota (3 a year) keeps three: 60万 ≤ 80万 (中小)
    facts = {'项目': [{'研发投入': '100万元', '已验收': True}] * 5}
    it = policy.evaluate(facts, date=DATE).item('研发补助')
    assert it.paid == 60 * W
    assert [x.paid for x in it.records] == [20 * W] * 3 + [0, 0]
    assert '超过每年名额 3 个' in '\n'.join(it.steps)


def test_no_projects_listed(policy):
    it = policy.evaluate({'项目': []}, date=DATE).item('研发补助')
    assert it.outcome == 'not_applicable' and it.detail == '没有填写任何项目'


@pytest.mark.parametrize('facts, where', [
    ({'项目': {'研发投入': '1万元'}}, '项目'),
    ({'项目': ['x']}, '项目[1]'),
    ({'项目': [{}, {'研发投入': '一百万'}]}, '项目[2].研发投入'),
    ({'项目': [{'规模': 1}]}, '项目[1].规模'),
    ({'项目': [{}], '研发投入': '1万元'}, '研发投入'),
    ({'项目': [{'名称': 3}]}, '项目[1].名称'),
])
def test_bad_record_facts_name_the_place(policy, facts, where):
    with pytest.raises(FactsError) as e:
        policy.evaluate(facts, date=DATE)
    assert where in [n for n, _m in e.value.problems]


def test_interpreter_agrees_on_several_projects(policy):
    interp = Interpreter(policy.analysis.checked, policy.analysis.source)
    for facts in (three_projects(), {'项目': [{'研发投入': '100万元', '已验收': True}] * 5},
                  {'研发投入': '600万元', '已验收': True}):
        a, b = policy.evaluate(facts, date=DATE), interp.evaluate(facts, date=DATE)
        assert [(i.name, i.outcome, i.amount, i.paid, i.records) for i in a.items] == \
               [(i.name, i.outcome, i.amount, i.paid, i.records) for i in b.items]


def test_standalone_module_handles_records(policy, tmp_path):
    src = generate_standalone(policy.analysis.checked, policy.analysis.source)
    assert 'import polc' not in src and 'from polc' not in src.replace('from polc.dsl.units', '')
    ns = {'__name__': 'standalone_records'}
    exec(compile(src, 'standalone_records', 'exec'), ns)
    raw = ns['evaluate'](three_projects(), DATE)
    assert raw['total'] == 200 * W
    assert [r['amount'] for r in next(i for i in raw['items'] if i['name'] == '研发补助')['records']] == \
        [60 * W, 100 * W, None]


def test_schema_accepts_lists_and_flat_facts(policy):
    jsonschema = pytest.importorskip('jsonschema')
    from polc.compiler.schema import schema_of
    v = jsonschema.Draft202012Validator(schema_of(policy.meta, policy.inputs, policy.records))
    v.validate(three_projects())
    v.validate({'研发投入': '600万元', '已验收': True})
    assert not v.is_valid({'项目': [{'研发投入': '1万元'}], '研发投入': '1万元'})    # both at once
    assert not v.is_valid({'项目': [{'企业规模': '大型'}]})                            # not a project's input


# ---------------------------------------------------------------- seeds, by hand
def test_xiamen_applicant_cap_cuts_compute_vouchers():
    p = polc.load(ROOT / 'policies' / 'xiamen.pol')
    facts = {'年度營業收入': '20億元', '項目': [{'算力服務費用': '2000萬元'}, {'算力服務費用': '3000萬元'}]}
    it = p.evaluate(facts, date=DATE).item('企業算力券')
    # 2000萬 × 30% = 600萬, 3000萬 × 30% = 900萬; 1500萬 > 1000萬 a year per applicant
    assert it.outcome == 'ceiling' and it.ceiling == 1000 * W
    assert [x.amount for x in it.records] == [600 * W, 900 * W]
    assert [x.paid for x in it.records] == [600 * W, 400 * W]


# ---------------------------------------------------------------- tables
ROWS = [['企业规模', '研发投入', '算力费用', '已验收'],
        ['中小', '600万元', '0', '是'],          # 120万 → 100万 → 中小 80万
        ['大型', '1000万元', '300万元', '是'],   # 研发 100万 beats 算力 60万; + 落户 30万 = 130万
        ['中小', '0', '250万元', '否']]          # 算力 125万 → 60万 (≤ 90万)


@pytest.mark.parametrize('engine', ['python', 'duckdb'])
def test_tables_take_flat_rows(policy, tmp_path, engine):
    if engine == 'duckdb':
        pytest.importorskip('duckdb')
    src = tmp_path / 'rows.csv'
    with open(src, 'w', newline='', encoding='utf-8') as f:
        csv.writer(f).writerows(ROWS)
    out = tmp_path / f'out_{engine}.csv'
    polc.evaluate_table(policy, str(src), str(out), date=DATE, engine=engine)
    rows = list(csv.DictReader(Path(out).read_text(encoding='utf-8').splitlines()))
    assert [r['应得合计（削减前）'] for r in rows] == ['800000.00', '1300000.00', '600000.00']   # has a quota
    assert rows[1]['算力补助.金额'] == '0.00'            # set aside by 就高 in the (one) project


@pytest.mark.parametrize('engine', ['python', 'duckdb'])
def test_tables_refuse_lists_of_records(policy, tmp_path, engine):
    if engine == 'duckdb':
        pytest.importorskip('duckdb')
    src = tmp_path / 'rows.jsonl'
    src.write_text(json.dumps({'企业规模': '大型', '项目': [{'研发投入': '300万元'}]}, ensure_ascii=False) + '\n',
                   encoding='utf-8')
    with pytest.raises(BatchError) as e:
        polc.evaluate_table(policy, str(src), str(tmp_path / 'out.csv'), date=DATE, engine=engine)
    assert '尚不支持' in str(e.value) and '「项目」' in str(e.value)


# ---------------------------------------------------------------- verify
VERIFY_SRC = '''政策：测试
施行日期：2025-01-01

记录 项目
每个 项目 输入 投入：金额 默认 0元

条款 （一） 甲
  项 补助 每个 项目
    条件：投入 > 0元
    金额：投入 × 50% 最高 60万元
{cap}
保证：补助 不超过 90万元
'''


@pytest.mark.parametrize('cap, holds', [('', False), ('    每家最高：90万元\n', True)])
def test_verify_searches_several_projects(cap, holds):
    from polc.compiler.analysis.verify import verify
    compiled = polc.loads(VERIFY_SRC.format(cap=cap))
    report = verify(compiled, examples=300)
    written = next(o for o in report.outcomes if o.guarantee.origin == 'written')
    # one project is at most 60万 (the solver would prove that for one record); two projects of
    # 60万 are 120万 > 90万 unless 每家最高 90万元 cuts the sum
    assert written.method == 'search'
    assert (written.status == 'passed') is holds
    if not holds:
        assert len(written.counterexample['项目']) >= 2
    labels = [o.guarantee.label for o in report.outcomes]
    assert ('「补助」每家最高 90万元：无论几个项目，合计不超过' in labels) is holds
    assert '「补助」每个项目不超过上限 60万元' in labels


# ---------------------------------------------------------------- LSP hover
def test_hover_on_records():
    pytest.importorskip('pygls')
    from polc.lsp import DocumentIndex
    index = DocumentIndex(RECORDS.read_text(encoding='utf-8'), str(RECORDS))
    assert '每个项目的输入：研发投入、算力费用、已验收' in index.hover('项目')
    assert '（每个项目各填一个）' in index.hover('研发投入')
    text = index.hover('研发补助')
    assert '每个项目分别计算，再按申请人合计' in text
    assert '每家每年最高：分档（ 当 企业规模 是 大型：150万元； 否则：80万元 ）' in text
    assert '每个项目就高' in index.hover('同一项目就高')
    assert index.definition_span('项目').line == 6


# ---------------------------------------------------------------- the tutorial's step 9
def test_tutorial_step_on_several_events_runs_as_shown(tmp_path):
    import re
    from click.testing import CliRunner
    from polc.compiler.cli import cli
    md = (ROOT / 'docs' / 'tutorial.md').read_text(encoding='utf-8').split('## 第 9 步', 1)[1]
    pol = re.search(r'```pol\n(.*?)```', md, re.S).group(1)
    facts = re.search(r'```json\n(.*?)```', md, re.S).group(1)
    (tmp_path / 'huodong.pol').write_text(pol, encoding='utf-8')
    (tmp_path / 'events.json').write_text(facts, encoding='utf-8')
    runner = CliRunner()
    for args in (['check', 'huodong.pol'], ['test', 'huodong.pol'], ['fmt', '--check', 'huodong.pol']):
        r = runner.invoke(cli, [args[0]] + [str(tmp_path / a) if a.endswith('.pol') else a for a in args[1:]])
        assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ['eval', str(tmp_path / 'huodong.pol'), '--facts', str(tmp_path / 'events.json'),
                            '--date', '2025-03-01'])
    assert r.exit_code == 0, r.output
    shown = md.split('$ polc eval huodong.pol --facts events.json --date 2025-03-01\n', 1)[1].split('\n```', 1)[0]
    assert r.output.rstrip('\n') == shown.rstrip('\n')
    assert '最高可获 16万元' in shown          # 10万（30万 × 50% = 15万，每场封顶）+ 6万；沙龙 19家不适用


def test_mutation_knows_records():
    from polc.compiler.analysis.mutation import mutants
    src = RECORDS.read_text(encoding='utf-8')
    found = [m.description for m in mutants(parse(src).policy, src)]
    assert '（一）「算力补助」 去掉「每家最高」' in found
    assert '（一）「研发补助」 去掉「每家每年最高」' in found
    assert '组「同一项目就高」 就高按申请人而不是每个项目' in found
