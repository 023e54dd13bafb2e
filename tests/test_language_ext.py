"""Constructs unseen policies needed (issue 14 §2); every expected value worked by hand."""
from decimal import Decimal

import pytest
from click.testing import CliRunner

import polc
from polc.compiler.cli import cli
from polc.dsl.analysis import analyze
from polc.dsl.formatter import format_policy
from polc.dsl.parser import parse

W = Decimal(10000)

POLICY = '''政策：新写法测试
施行日期：2024-01-01
组合原则：从高不重复
适用条件：主体类型 是 企业
输入 主体类型：枚举（企业、高校） "申请主体"
输入 省级奖补额：金额 "省级奖补" 默认 0元
输入 已获累计：金额 "以前年度已获本项奖励" 默认 0元
输入 人数：整数 "引进人数" 默认 0
输入 企业类别：枚举（新增、新上规模、其他） "类别" 默认 其他
定义 规上企业 = 企业类别 属于（新增、新上规模） "是否规上（是否定义）"
条款 一、 总则
  项 说明
    金额：不设金额 "总则"
条款 二（一） "配套"
  条件：省级奖补额 > 0元
  原文："获得省级奖补的，按1:0.5的比例予以配套，单个主体累计最高可给予200万元。"
  项 配套奖励
    金额：省级奖补额 按 1:0.5 配套 累计最高 200万元 已获 已获累计
  项 等额配套
    金额：省级奖补额 按 1:1 配套 最高 100万元
    原文："按1:1的比例予以配套，最高100万元。"
条款 二（二） 人才
  原文："每引进1人给予10万元。"
  项 人才奖励
    条件：人数 > 0
    金额：人数 × 10万元
条款 三（一） 培育
  原文："分别给予新增、新上规模企业最高35万元、25万元奖励。"
  项 培育奖励
    条件：规上企业
    金额：最高 分别（企业类别：新增 35万元，新上规模 25万元）
'''


@pytest.fixture(scope='module')
def policy():
    return polc.loads(POLICY, 'x.pol')


def test_the_policy_checks_clean():
    a = analyze(POLICY, 'x.pol')
    assert [d.code for d in a.diagnostics] == []


def test_matching_and_cumulative_cap(policy):
    r = policy.evaluate({'主体类型': '企业', '省级奖补额': '300万元', '已获累计': '80万元'}, '2025-01-01')
    # 300万 × 0.5 = 150万; 累计 200万 − 已获 80万 = 120万 left → 120万
    assert r.item('配套奖励').paid == 120 * W
    # 300万 × 1 = 300万, 最高 100万
    assert r.item('等额配套').paid == 100 * W
    steps = '\n'.join(r.item('配套奖励').steps)
    assert '1:0.5' in steps and '200万元 − 已获累计 80万元 = 120万元' in steps


def test_cumulative_cap_never_below_zero(policy):
    r = policy.evaluate({'主体类型': '企业', '省级奖补额': '100万元', '已获累计': '250万元'}, '2025-01-01')
    assert r.item('配套奖励').outcome == 'amount' and r.item('配套奖励').paid == 0   # 200万 − 250万 < 0 → 0


def test_policy_wide_and_clause_wide_conditions(policy):
    r = policy.evaluate({'主体类型': '高校', '省级奖补额': '300万元', '人数': 2}, '2025-01-01')
    assert {it.name: it.outcome for it in r.items} == {
        '说明': 'not_applicable', '配套奖励': 'not_applicable', '等额配套': 'not_applicable',
        '人才奖励': 'not_applicable', '培育奖励': 'not_applicable'}
    assert '主体类型 是 企业' in r.item('人才奖励').detail
    r = policy.evaluate({'主体类型': '企业', '人数': 2}, '2025-01-01')
    # clause 二（一）'s 条件 省级奖补额 > 0元 fails for both of its items, not for 人才
    assert r.item('配套奖励').outcome == 'not_applicable' and r.item('等额配套').outcome == 'not_applicable'
    assert r.item('人才奖励').paid == 20 * W                  # 2 × 10万


def test_yes_no_definition_and_ceiling_by_category(policy):
    r = policy.evaluate({'主体类型': '企业', '企业类别': '新上规模'}, '2025-01-01')
    it = r.item('培育奖励')
    assert it.outcome == 'ceiling' and it.ceiling == 25 * W
    r = policy.evaluate({'主体类型': '企业', '企业类别': '其他'}, '2025-01-01')
    assert r.item('培育奖励').outcome == 'not_applicable'


def test_sql_engine_agrees(tmp_path):
    pol = tmp_path / 'x.pol'
    pol.write_text(POLICY, encoding='utf-8')
    src = tmp_path / 'in.csv'
    src.write_text('主体类型,省级奖补额,已获累计,人数\n企业,300万元,80万元,3\n企业,500万元,0元,0\n'
                   '企业,100万元,190万元,2\n高校,300万元,0元,1\n', encoding='utf-8')
    outs = []
    for engine in ('python', 'duckdb'):
        out = tmp_path / f'{engine}.csv'
        r = CliRunner().invoke(cli, ['eval', str(pol), '--facts', str(src), '--out', str(out),
                                     '--date', '2025-01-01', '--engine', engine])
        assert r.exit_code == 0, r.output
        outs.append(out.read_text(encoding='utf-8'))
    assert outs[0] == outs[1]
    # row 2: 500万 × 0.5 = 250万 → 累计最高 200万; row 3: 200万 − 190万 = 10万 left
    assert ',2000000.00,' in outs[0] and ',100000.00,' in outs[0]


def test_fmt_keeps_the_new_constructs():
    text = format_policy(parse(POLICY).policy, POLICY)
    assert parse(text).policy == parse(POLICY).policy
    for piece in ('适用条件：主体类型 是 企业', '按 1:0.5 配套 累计最高 200万元 已获 已获累计', '条款 二（一）',
                  '  条件：省级奖补额 > 0元'):
        assert piece in text


def test_chapter_and_clause_numbers_of_different_levels_do_not_collide():
    text = '''政策：编号
条款 一、 适用对象
  项 甲
    金额：不设金额
条款 （一） 第一项
  项 乙
    金额：不设金额
条款 二（一） 第二章第一项
  项 丙
    金额：不设金额
条款 第三条第二款 条文
  项 丁
    金额：不设金额
'''
    a = analyze(text, 'n.pol')
    assert [d.code for d in a.diagnostics if d.severity == 'error'] == []
    assert [c.number for c in a.policy.clauses] == ['一、', '（一）', '二（一）', '第三条第二款']


def test_a_duplicate_names_the_earlier_clause():
    text = '政策：编号\n条款 二（一） 甲\n  项 甲\n    金额：不设金额\n条款 二(一) 乙\n  项 乙\n    金额：不设金额\n'
    a = analyze(text, 'n.pol')
    msgs = [d.message for d in a.diagnostics if d.code == 'E-DUPLICATE-CLAUSE']
    assert msgs == ['条款编号「二（一）」重复：第 2 行的条款「二（一）甲」已用此编号']


@pytest.mark.parametrize('word', ['从高不重复', '就高从优', '不重复享受', '從高不重複'])
def test_combination_principle_spellings(word):
    a = analyze(f'政策：原则\n组合原则：{word}\n条款 （一） 甲\n  项 甲\n    金额：不设金额\n', 'p.pol')
    assert [d.code for d in a.diagnostics if d.code == 'E-PRINCIPLE'] == []


def test_an_unknown_principle_is_still_an_error():
    a = analyze('政策：原则\n组合原则：随便\n条款 （一） 甲\n  项 甲\n    金额：不设金额\n', 'p.pol')
    assert [d.code for d in a.diagnostics] == ['E-PRINCIPLE']


def test_the_number_check_reads_ratios():
    # 1:0.5 in the 原文 is the fraction 0.5: the rule's 1:0.5 passes (test above: no warnings) …
    text = POLICY.replace('按 1:0.5 配套', '按 1:0.8 配套')
    a = analyze(text, 'x.pol')
    # … and a rule copied wrongly as 1:0.8 is caught
    assert [d.message for d in a.diagnostics if d.code == 'W-NUMBER-NOT-IN-TEXT'] == \
        ['比例 1:0.8 没有出现在项「配套奖励」的原文中']


def test_chapter_conditions_reach_the_clauses_of_the_chapter():
    text = '''政策：章
输入 主体类型：枚举（企业、高校） "申请主体"
输入 投资额：金额 "投资额" 默认 0元
条款 一、 总则
  项 总则说明
    金额：不设金额 "总则"
条款 二、 企业支持
  条件：主体类型 是 企业
条款 （一） 投资
  项 投资奖励
    金额：投资额 × 10%
条款 二（二） 再投资
  项 再投资奖励
    金额：投资额 × 5%
条款 三、 高校支持
条款 （一） 平台
  项 平台奖励
    金额：100万元
'''
    p = polc.loads(text, 'c.pol')
    r = p.evaluate({'主体类型': '高校', '投资额': '100万元'}, '2025-01-01')
    out = {it.name: (it.outcome, it.paid) for it in r.items}
    # chapter 二's condition (企业) holds for （一） and 二（二）; not for 三、's （一）, nor for 一、
    assert out['投资奖励'][0] == 'not_applicable' and out['再投资奖励'][0] == 'not_applicable'
    assert out['平台奖励'] == ('amount', 100 * W) and out['总则说明'][0] == 'no_amount'
    r = p.evaluate({'主体类型': '企业', '投资额': '100万元'}, '2025-01-01')
    assert r.item('投资奖励').paid == 10 * W and r.item('再投资奖励').paid == 5 * W   # 100万 × 10%, × 5%
