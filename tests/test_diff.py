"""polc diff: structural changes, amount differences proved or searched with witnesses, applicants
under both versions, exit codes.  Expected values are worked by hand from the policy text."""
import csv
import json
import re
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import polc
from polc.dsl import ast as A
from polc.dsl.formatter import format_policy
from polc.compiler.cli import cli
from polc.compiler.analysis.diff_render import diff
from polc.compiler.analysis.mutation import _replace, equivalent, mutants

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted((ROOT / 'policies').glob('*.pol'))
# 厦门 as encoded before records (one project per applicant, caps on each amount): the hand-worked
# regions below are about those linear caps
XIAMEN = ROOT / 'tests' / 'data' / 'xiamen_one_project.pol'
XIAMEN_TEXT = XIAMEN.read_text(encoding='utf-8')


def _diff(old_text, new_text):
    return diff(polc.loads(old_text, 'old.pol'), polc.loads(new_text, 'new.pol'), 'old.pol', 'new.pol',
                examples=100)


def _changed(text, old, new, count=1):
    assert text.count(old) == count, old
    return text.replace(old, new)


def _outcome(raw, name):
    it = next((x for x in raw['items'] if x['name'] == name), None)
    if it is None:
        return ('not_applicable', None, '')
    return (it['outcome'], it['amount'] if it['outcome'] in ('amount', 'ceiling') else None,
            it['detail'] if it['outcome'] in ('non_cash', 'deferred') else '')


def _check_witnesses(report, old_text, new_text):
    """Every witness evaluates differently under the two versions, as reported."""
    old, new = polc.loads(old_text, 'old.pol'), polc.loads(new_text, 'new.pol')
    n = 0
    for d in report.semantic.items:
        for r in d.regions:
            n += 1
            fa = {k: v for k, v in r.witness.items() if k in old.inputs or k in old.records}
            fb = {k: v for k, v in r.witness.items() if k in new.inputs or k in new.records}
            if d.kind == 'group':
                name = d.item[2:-1]
                ga = [g['total'] for g in old.evaluate_raw(fa, report.semantic.date, False)['groups']
                      if g['name'] == name]
                gb = [g['total'] for g in new.evaluate_raw(fb, report.semantic.date, False)['groups']
                      if g['name'] == name]
                assert (ga or [None])[0] == r.old_amount and (gb or [None])[0] == r.new_amount
                assert r.old != r.new
                continue
            a = _outcome(old.evaluate_raw(fa, report.semantic.date, False), d.old_name or d.item)
            b = _outcome(new.evaluate_raw(fb, report.semantic.date, False), d.item)
            assert a != b, (d.item, r.witness)
            assert (a[1], b[1]) == (r.old_amount, r.new_amount)
    return n


# ------------------------------------------------------------------ no semantic difference
@pytest.mark.parametrize('path', POLICIES, ids=lambda p: p.stem)
def test_a_seed_and_its_formatted_self_and_a_reworded_copy_show_nothing(path):
    text = path.read_text(encoding='utf-8')
    compiled = polc.loads(text, str(path))
    formatted = format_policy(compiled.policy, text)
    report = _diff(text, formatted)
    assert report.structure.changes == []
    assert not report.differs
    # messy layout, other comments, money written in 元 instead of 万元: wording only
    messy = re.sub(r'^(\s*)#.*$', r'\1# 另一条注释', text, flags=re.M).replace('：', '：  ')
    parts = messy.split('"')        # outside quoted text (原文, 解读, notes)
    messy = '"'.join(re.sub(r'(?<![\d.])(\d+)(万元|萬元)', lambda m: f'{int(m.group(1)) * 10000}元', p)
                     if k % 2 == 0 else p for k, p in enumerate(parts))
    assert messy != text
    report = _diff(text, messy)
    assert not report.differs
    assert report.structure.semantic == []
    assert all(d.status == 'same' for d in report.semantic.items)


def test_comments_and_readings_alone_changed_report_no_amount_difference():
    new = _changed(XIAMEN_TEXT, '解讀："免租是非現金待遇，原文沒有折算金額，最長3年。"',
                   '解讀："免租是非現金待遇，沒有折算金額。"')
    new = new.replace('# （八）---', '# 算力券 ---')
    report = _diff(XIAMEN_TEXT, new)
    assert [(c.where, c.aspect, c.semantic) for c in report.structure.changes] == \
        [('（七）「零租孵化器免租」', '解讀'.replace('讀', '读'), False)]
    assert report.structure.changes[0].old == '免租是非現金待遇，原文沒有折算金額，最長3年。'
    assert not report.differs


def test_a_non_cash_benefit_changed_is_a_difference_in_outcome():
    new = _changed(XIAMEN_TEXT, '金額：非現金 "「零租」孵化器最長3年免租優惠"', '金額：非現金 "「零租」孵化器最長5年免租優惠"')
    report = _diff(XIAMEN_TEXT, new)
    [d] = [d for d in report.semantic.items if d.status == 'differs']
    assert d.item == '零租孵化器免租'
    [r] = d.regions
    assert r.witness.get('入駐零租孵化器') is True
    assert (r.old, r.new) == ('非现金待遇（「零租」孵化器最長3年免租優惠）', '非现金待遇（「零租」孵化器最長5年免租優惠）')
    _check_witnesses(report, XIAMEN_TEXT, new)


def test_a_note_on_not_applicable_is_wording():
    text = (ROOT / 'policies' / 'fuzhou.pol').read_text(encoding='utf-8')
    new = _changed(text, '否则：不适用 "年度购买算力服务总额不足5万元，本措施不予补助"', '否则：不适用 "不足5万元的不补助"')
    report = _diff(text, new)
    assert [(c.aspect, c.semantic) for c in report.structure.changes] == [('否则（措辞）', False)]
    assert not report.differs


def test_a_renamed_item_is_matched_by_its_clause_and_content():
    new = XIAMEN_TEXT.replace('零租孵化器免租 ', '零租孵化器免租優惠 ').replace('零租孵化器免租\n', '零租孵化器免租優惠\n')
    report = _diff(XIAMEN_TEXT, new)
    assert [(c.kind, c.old, c.new) for c in report.structure.changes if c.aspect == '项名'] == \
        [('renamed', '零租孵化器免租', '零租孵化器免租優惠')]
    assert not report.differs


# ------------------------------------------------------------------ hand-worked differences
def test_a_raised_cap_differs_only_above_the_point_where_it_binds():
    # （八）second tier: 算力服務費用 × 40%, capped at 500萬 → 600萬.  The amounts differ exactly when
    # 40% of the fee exceeds 500萬, i.e. fee > 1250萬, for firms with revenue in [1億, 10億).
    new = _changed(XIAMEN_TEXT, '最高 算力服務費用 × 40% 最高 500萬元', '最高 算力服務費用 × 40% 最高 600萬元')
    report = _diff(XIAMEN_TEXT, new)
    [d] = [d for d in report.semantic.items if d.status == 'differs']
    assert (d.item, d.method, d.complete) == ('企業算力券', 'solver', True)
    [r] = d.regions
    assert '算力服務費用 > 1250万元' in r.conditions
    assert '年度營業收入 在 1亿元（含） 至 10亿元（不含）' in r.conditions
    assert '主體類型 是 企業' in r.conditions
    # the witness: revenue 1億 (second tier), fee 2000萬: 800萬 capped at 500萬 / 600萬
    assert r.witness == {'年度營業收入': '100000000.00', '算力服務費用': '20000000.00'}
    assert (r.old_amount, r.new_amount) == (Decimal('5000000.00'), Decimal('6000000.00'))
    assert r.sampled_differ == r.sampled > 0
    assert report.differs
    assert _check_witnesses(report, XIAMEN_TEXT, new) == 1


def test_without_the_solver_the_same_change_is_searched_and_said_to_be():
    new = _changed(XIAMEN_TEXT, '最高 算力服務費用 × 40% 最高 500萬元', '最高 算力服務費用 × 40% 最高 600萬元')
    report = diff(polc.loads(XIAMEN_TEXT, 'old.pol'), polc.loads(new, 'new.pol'), 'old.pol', 'new.pol',
                  examples=100, use_solver=False)
    [d] = [d for d in report.semantic.items if d.status == 'differs']
    assert (d.item, d.method, d.complete) == ('企業算力券', 'search', False)
    assert d.regions[0].conditions == []
    _check_witnesses(report, XIAMEN_TEXT, new)
    text = _render(report)
    assert '「企業算力券」：有申请人的结果不同（搜索 ' in text and '未用求解器：见证由搜索得到' in text


def _render(report):
    from polc.compiler.analysis.diff_render import render
    return render(report)


def test_an_inclusive_end_made_exclusive_differs_at_that_one_value():
    # 1億元（含）→（不含）in the second tier: at revenue exactly 1億 the old version takes the second
    # tier (40%), the new one no tier (the third is 1億元（不含）以下) → 不適用.
    new = _changed(XIAMEN_TEXT, '1億元（含） 至 10億元（不含）', '1億元（不含） 至 10億元（不含）')
    report = _diff(XIAMEN_TEXT, new)
    [d] = [d for d in report.semantic.items if d.status == 'differs']
    [r] = d.regions
    assert '年度營業收入 = 1亿元' in r.conditions
    assert r.old_branch.startswith('第2档') and r.new_branch == '各档均不满足'
    assert r.witness['年度營業收入'] == '100000000.00'
    fee = Decimal(r.witness['算力服務費用'])
    assert r.old == f'最高可获 {polc_money(fee * Decimal("0.4"))}' and r.new == '不适用'
    _check_witnesses(report, XIAMEN_TEXT, new)


def polc_money(v):
    from polc.dsl.units import format_money
    return format_money(v.quantize(Decimal('0.01')))


def test_a_boundary_already_covered_by_an_earlier_tier_is_proved_to_change_nothing():
    # the second tier's upper end 10億（不含）→（含）: 10億 itself goes to the first tier anyway
    new = _changed(XIAMEN_TEXT, '1億元（含） 至 10億元（不含）', '1億元（含） 至 10億元（含）')
    report = _diff(XIAMEN_TEXT, new)
    assert [c.aspect for c in report.structure.semantic] == ['第2档条件']
    d = next(d for d in report.semantic.items if d.item == '企業算力券')
    assert (d.status, d.method, d.complete) == ('same', 'solver', True)
    assert not report.differs


def test_a_schedule_rate_times_an_input_is_solved_not_searched():
    text = (ROOT / 'policies' / 'zhangzhou.pol').read_text(encoding='utf-8')
    new = _changed(text, '第一年 50%，第二年 40%', '第一年 50%，第二年 45%')
    report = _diff(text, new)
    [d] = [d for d in report.semantic.items if d.status == 'differs']
    assert d.method == 'solver'
    assert any('享受年度 = 2' in c for r in d.regions for c in r.conditions)
    _check_witnesses(report, text, new)


def test_validity_moved_is_a_difference_over_the_added_period():
    new = _changed(XIAMEN_TEXT, '有效期至：2027-12-31', '有效期至：2028-12-31')
    report = _diff(XIAMEN_TEXT, new)
    v = report.semantic.validity
    assert [(d.isoformat(), e.isoformat(), a, b) for d, e, a, b in v.dates] == \
        [('2028-01-01', '2028-12-31', False, True)]
    assert report.differs


SMALL = ('政策：甲\n施行日期：2024-01-01\n输入 收入：金额 默认 0元\n输入 骨干：是否 默认 否\n'
         '条款 （一） 乙\n  项 丙\n    金额：收入 × 30% 最高 100万元\n')


def test_an_added_and_a_removed_item():
    new = SMALL + '  项 丁\n    条件：骨干\n    金额：最高 80万元\n'
    report = _diff(SMALL, new)
    assert [(c.kind, c.where) for c in report.structure.changes] == [('added', '（一）「丁」')]
    d = next(d for d in report.semantic.items if d.item == '丁')
    assert (d.status, d.method) == ('differs', 'solver')
    [r] = d.regions
    assert r.conditions == ['骨干 为 是']
    assert (r.old, r.new) == ('（无此项）', '最高可获 80万元')
    back = _diff(new, SMALL)
    [r] = next(d for d in back.semantic.items if d.old_name == '丁').regions
    assert (r.old, r.new) == ('最高可获 80万元', '（无此项）')
    _check_witnesses(back, new, SMALL)


def test_a_changed_default_counts_as_a_difference():
    report = _diff(SMALL, SMALL.replace('收入：金额 默认 0元', '收入：金额 默认 10万元'))
    assert [c.aspect for c in report.structure.semantic] == ['默认值']
    assert report.differs


def test_a_group_cap_lowered_is_found_with_a_witness():
    path = ROOT / 'policies' / 'langfang.pol'
    text = path.read_text(encoding='utf-8')
    new = _changed(text, '攻关与使用算力券就高） 最高 100万元', '攻关与使用算力券就高） 最高 80万元')
    report = _diff(text, new)
    [d] = [d for d in report.semantic.items if d.status == 'differs']
    assert (d.kind, d.item, d.method) == ('group', '组「算力券年度上限」', 'search')
    [r] = d.regions
    # the old group pays more than 80万 (at most 100万), the new one exactly 80万
    assert Decimal('800000') < r.old_amount <= Decimal('1000000') and r.new_amount == Decimal('800000')
    assert report.differs
    assert _check_witnesses(report, text, new) == 1


# ------------------------------------------------------------------ mutants
def _all_mutants():
    for path in POLICIES:
        text = path.read_text(encoding='utf-8')
        compiled = polc.loads(text, str(path))
        for m in mutants(compiled.policy, text):
            yield pytest.param(path, m, id=f'{path.stem}:{m.description}')


@pytest.mark.parametrize('path,mutant', list(_all_mutants()))
def test_every_generated_mutant_is_found_with_a_witness_or_proved_equivalent(path, mutant):
    text = path.read_text(encoding='utf-8')
    old, new = polc.loads(text, 'old.pol'), polc.loads(mutant.text, 'new.pol')
    report = diff(old, new, 'old.pol', 'new.pol', examples=200)
    found = [d for d in report.semantic.items if d.status == 'differs']
    if equivalent(old, new, mutant.item):
        assert not found and not report.differs
        return
    assert [d.item for d in found] == [mutant.item]
    assert report.differs
    assert _check_witnesses(report, text, mutant.text) >= 1


# ------------------------------------------------------------------ properties
_XIAMEN = polc.loads(XIAMEN_TEXT, 'xiamen.pol')
_LITERALS = [n for _c, it in _XIAMEN.policy.items() for n in A.walk(it)
             if isinstance(n, (A.Money, A.Percent)) and n.value > 0]


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(_LITERALS), st.integers(min_value=1, max_value=400))
def test_property_every_witness_really_evaluates_differently(node, percent):
    """Any number in the rules scaled by any factor: each reported witness differs as reported."""
    value = (node.value * percent / 100).quantize(Decimal('0.01') if isinstance(node, A.Money) else Decimal('0.0001'))
    assume(value > 0 and (isinstance(node, A.Money) or value <= 1))
    new_node = attrs.evolve(node, value=value, text=f'{value}元' if isinstance(node, A.Money)
                            else f'{(value * 100).normalize():f}%')
    new_text = format_policy(_replace(_XIAMEN.policy, node, new_node), XIAMEN_TEXT)
    report = _diff(XIAMEN_TEXT, new_text)
    _check_witnesses(report, XIAMEN_TEXT, new_text)
    if value == node.value:
        assert not report.differs


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(POLICIES), st.sampled_from(['  ', '\t']))
def test_property_a_policy_diffed_with_its_formatted_self_shows_nothing(path, indent):
    text = path.read_text(encoding='utf-8')
    reindented = text.replace('\n  ', '\n' + indent) if indent == '  ' else text
    formatted = format_policy(polc.loads(reindented, 'x.pol').policy, reindented)
    report = _diff(text, formatted)
    assert report.structure.changes == [] and not report.differs


# ------------------------------------------------------------------ command line
def test_cli_exit_codes_and_witness_files_that_eval_accepts(tmp_path):
    new = tmp_path / 'new.pol'
    new.write_text(_changed(XIAMEN_TEXT, '服務器採購金額 × 10% 最高 6000萬元', '服務器採購金額 × 12% 最高 6000萬元'),
                   encoding='utf-8')
    same = tmp_path / 'same.pol'
    same.write_text(XIAMEN_TEXT.replace('# （八）---', '# 八 ---'), encoding='utf-8')
    runner = CliRunner()
    assert runner.invoke(cli, ['diff', str(XIAMEN), str(same)]).exit_code == 0
    out = tmp_path / 'w'
    r = runner.invoke(cli, ['diff', str(XIAMEN), str(new), '--out', str(out), '--format', 'json'])
    assert r.exit_code == 1, r.output
    data = json.loads(r.output)
    assert data['differs'] is True
    index = json.loads((out / '见证.json').read_text(encoding='utf-8'))
    [w] = index['witnesses']
    assert w['item'] == '智算中心補助'
    # eval each version on the witness file: the amounts in the index
    for pol, key in ((XIAMEN, 'old_amount'), (new, 'new_amount')):
        e = runner.invoke(cli, ['eval', str(pol), '--facts', str(out / w['file']), '--date', w['date'],
                                '--format', 'json'])
        assert e.exit_code == 0, e.output
        item = next(x for x in json.loads(e.output)['items'] if x['name'] == '智算中心補助')
        assert Decimal(item['amount']) == Decimal(w[key])
    # 10% → 12% below the cap: a 12/10 ratio (hand: 2億 → 2000萬 / 2400萬)
    assert Decimal(w['new_amount']) * 10 == Decimal(w['old_amount']) * 12


def test_cli_read_errors_exit_2(tmp_path):
    runner = CliRunner()
    r = runner.invoke(cli, ['diff', str(XIAMEN), str(tmp_path / 'missing.pol')])
    assert r.exit_code == 2 and '文件不存在' in r.output
    bad = tmp_path / 'bad.pol'
    bad.write_text('政策：甲\n条款 一 乙\n', encoding='utf-8')
    r = runner.invoke(cli, ['diff', str(bad), str(XIAMEN)])
    assert r.exit_code == 2 and '旧版政策有错误' in r.output
    r = runner.invoke(cli, ['diff', str(XIAMEN), str(XIAMEN), '--facts', str(tmp_path / 'none.json')])
    assert r.exit_code == 2 and '找不到申请人文件' in r.output
    table = tmp_path / 't.csv'
    table.write_text('服務器採購金額\n1億元\n一億元\n', encoding='utf-8')
    for engine in ('python', 'duckdb'):
        r = runner.invoke(cli, ['diff', str(XIAMEN), str(XIAMEN), '--facts', str(table), '--engine', engine])
        assert r.exit_code == 2 and '第 2 行' in r.output and '服務器採購金額' in r.output, r.output
    clash = tmp_path / '申请人.csv'
    clash.write_text('服務器採購金額\n1億元\n', encoding='utf-8')
    r = runner.invoke(cli, ['diff', str(XIAMEN), str(XIAMEN), '--facts', str(clash), '--out', str(tmp_path)])
    assert r.exit_code == 2 and '覆盖输入文件' in r.output
    assert clash.read_text(encoding='utf-8') == '服務器採購金額\n1億元\n'
    facts = tmp_path / 'f.json'
    facts.write_text('{"年度營業收入": "三亿"}', encoding='utf-8')
    r = runner.invoke(cli, ['diff', str(XIAMEN), str(XIAMEN), '--facts', str(facts)])
    assert r.exit_code == 2 and '年度營業收入' in r.output


def test_one_applicant_under_both_versions(tmp_path):
    new = tmp_path / 'new.pol'
    new.write_text(_changed(XIAMEN_TEXT, '爆款產品年銷售額 每 1000萬元 給予 50萬元 最高 300萬元',
                            '爆款產品年銷售額 每 1000萬元 給予 60萬元 最高 300萬元'), encoding='utf-8')
    r = CliRunner().invoke(cli, ['diff', str(XIAMEN), str(new), '--facts',
                                 str(ROOT / 'policies' / 'examples' / 'xiamen.json'), '--format', 'json'])
    assert r.exit_code == 1, r.output
    app = json.loads(r.output)['applicants']
    item = next(x for x in app['items'] if x['item'] == '爆款產品獎勵')
    # 2600萬 ÷ 1000萬 × 50萬 = 130萬; × 60萬 = 156萬
    assert (Decimal(item['old_amount']), Decimal(item['new_amount'])) == (Decimal(1300000), Decimal(1560000))
    assert (Decimal(app['old_total']), Decimal(app['new_total'])) == (Decimal(1300000), Decimal(1560000))


@pytest.mark.parametrize('engine', ['python', 'duckdb'])
def test_a_table_budget_impact_per_item_kind_department_and_who_gains(tmp_path, engine):
    new = tmp_path / 'new.pol'
    new.write_text(_changed(XIAMEN_TEXT, '服務器採購金額 × 10% 最高 6000萬元', '服務器採購金額 × 12% 最高 6000萬元'),
                   encoding='utf-8')
    table = tmp_path / 'firms.csv'
    with open(table, 'w', encoding='utf-8', newline='') as f:
        w = csv.writer(f)
        w.writerow(['编号', '智算中心項目符合規定', '服務器採購金額'])
        w.writerow(['甲', '是', '2億元'])      # 2000萬 → 2400萬
        w.writerow(['乙', '是', '8億元'])      # 6000萬 (cap) both
        w.writerow(['丙', '是', '1億元'])      # 1000萬 → 1200萬
        w.writerow(['丁', '否', '1億元'])      # 不適用 both
    r = CliRunner().invoke(cli, ['diff', str(XIAMEN), str(new), '--facts', str(table), '--engine', engine,
                                 '--id-column', '编号', '--date', '2025-06-01', '--format', 'json',
                                 '--out', str(tmp_path / 'out')])
    assert r.exit_code == 1, r.output
    app = json.loads(r.output)['applicants']
    assert app['rows'] == 4 and app['changed_applicants'] == 2
    assert (Decimal(app['old_total']), Decimal(app['new_total'])) == (Decimal(90000000), Decimal(96000000))
    item = next(x for x in app['per_item'] if x['item'] == '智算中心補助')
    assert (Decimal(item['old']), Decimal(item['new'])) == (Decimal(90000000), Decimal(96000000))
    kind = next(x for x in app['per_kind'] if x['kind'] == '補助')
    assert Decimal(kind['new']) - Decimal(kind['old']) == Decimal(6000000)
    deps = {x['department']: Decimal(x['new']) - Decimal(x['old']) for x in app['per_department']}
    assert deps == {'市數據管理局': Decimal(6000000), '發改委': Decimal(6000000), '工信局': Decimal(6000000)}
    assert [g['row'] for g in app['gainers']] == ['甲', '丙'] and app['losers'] == []
    with open(tmp_path / 'out' / '申请人.csv', encoding='utf-8', newline='') as f:
        rows = list(csv.reader(f))
    assert rows == [['编号', '旧版应得合计', '新版应得合计', '变化', '结果有变化的项'],
                    ['甲', '20000000.00', '24000000.00', '4000000.00', '「智算中心補助」2000万元 → 2400万元'],
                    ['乙', '60000000.00', '60000000.00', '0.00', ''],
                    ['丙', '10000000.00', '12000000.00', '2000000.00', '「智算中心補助」1000万元 → 1200万元'],
                    ['丁', '0.00', '0.00', '0.00', '']]


def test_the_diff_page_shows_real_output(monkeypatch):
    monkeypatch.chdir(ROOT)
    md = (ROOT / 'docs' / 'commands' / 'diff.md').read_text(encoding='utf-8')
    shown = md.split('$ polc diff policies/fuzhou.pol docs/examples/fuzhou-final.pol\n', 1)[1].split('```', 1)[0]
    r = CliRunner().invoke(cli, ['diff', 'policies/fuzhou.pol', 'docs/examples/fuzhou-final.pol'])
    assert r.exit_code == 1
    assert r.output == shown
    table = md.split('--id-column 企业 --date 2025-06-01\n…（结构与金额变化同上）\n', 1)[1].split('```', 1)[0]
    r = CliRunner().invoke(cli, ['diff', 'policies/fuzhou.pol', 'docs/examples/fuzhou-final.pol', '--facts',
                                 'docs/examples/fuzhou-applicants.csv', '--id-column', '企业', '--date', '2025-06-01'])
    assert r.exit_code == 1
    assert r.output.endswith(table) and '申请人表格：4 行' in table
    # hand-worked (see the page): +10万 for 甲, +2万 for 乙
    assert '应得合计：37.3万元 → 49.3万元（+12万元）' in table
