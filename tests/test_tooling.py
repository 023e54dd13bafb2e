"""fmt, build (stand-alone), schema, explain, the pytest plugin, Pygments and TextMate."""
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polc
import polc.testing
from polc.compiler.cli import cli
from polc.dsl.formatter import format_policy
from polc.dsl.parser import parse

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / 'tests' / 'data' / 'sample.pol'
POLICY_FILES = sorted((ROOT / 'policies').glob('*.pol')) + [SAMPLE]


def _fmt(text):
    r = parse(text)
    assert r.policy is not None, r.diagnostics
    return format_policy(r.policy, text)


@pytest.mark.parametrize('path', POLICY_FILES, ids=lambda p: p.stem)
def test_fmt_is_idempotent_and_keeps_the_ast(path):
    text = path.read_text(encoding='utf-8')
    once = _fmt(text)
    assert _fmt(once) == once
    assert parse(once).policy == parse(text).policy
    # every comment survives
    assert sorted(l.split('#', 1)[1].strip() for l in text.splitlines() if '#' in l and '"' not in l) == \
        sorted(l.split('#', 1)[1].strip() for l in once.splitlines() if '#' in l and '"' not in l)


def _variant(text: str, seed: int) -> str:
    """The same policy written differently: half/full-width punctuation, extra spaces and newlines,
    outside strings and comments."""
    import random
    rnd = random.Random(seed)
    swaps = {'：': ':', '，': ',', '（': '(', '）': ')', '；': ';'}
    out = []
    in_str = in_comment = False
    for i, ch in enumerate(text):
        rest_of_line = text[i:text.find('\n', i) if '\n' in text[i:] else len(text)]
        if ch == '\n':
            in_comment = False
        elif ch == '#' and not in_str:
            in_comment = True
        elif ch == '"' and not in_comment:
            in_str = not in_str
        plain = not in_str and not in_comment
        if plain and ch in swaps and rnd.random() < 0.5:
            ch = swaps[ch]
        if plain and ch == ' ' and rnd.random() < 0.25:
            # a new line before a trailing comment would make it a comment of its own line
            ch = rnd.choice(['  ', '\u3000'] if '#' in rest_of_line else ['  ', '\n    ', '\u3000'])
        out.append(ch)
    return ''.join(out)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(POLICY_FILES), seed=st.integers(0, 2 ** 32))
def test_fmt_of_a_variant_equals_fmt_of_the_original(path, seed):
    text = path.read_text(encoding='utf-8')
    variant = _variant(text, seed)
    pv = parse(variant)
    assert pv.policy == parse(text).policy
    assert _fmt(variant) == _fmt(text)


def test_fmt_check_reports_unformatted_files(tmp_path):
    messy = tmp_path / 'messy.pol'
    messy.write_text('政策:甲\n输入   收入:金额 默认 0元\n条款 (一)\n 项 乙\n   金额:收入×30%\n', encoding='utf-8')
    r = CliRunner().invoke(cli, ['fmt', '--check', str(messy)])
    assert r.exit_code == 1 and 'messy.pol' in r.output
    r = CliRunner().invoke(cli, ['fmt', '-w', str(messy)])
    assert r.exit_code == 0
    assert messy.read_text(encoding='utf-8') == (
        '政策：甲\n\n输入 收入：金额 默认 0元\n\n条款 （一）\n  项 乙\n    金额：收入 × 30%\n')
    assert CliRunner().invoke(cli, ['fmt', '--check', str(messy)]).exit_code == 0


def test_fmt_keeps_traditional_keywords(tmp_path):
    text = '政策：甲\n輸入 收入：金額 默認 0元\n條款 （一）\n  項 乙\n    金額：收入 × 30%\n'
    out = _fmt(text)
    assert '輸入' in out and '金額' in out and '條款' in out and '输入' not in out


def test_standalone_module_runs_without_polc_and_agrees(tmp_path):
    mod = tmp_path / 'sample_rules.py'
    r = CliRunner().invoke(cli, ['build', str(SAMPLE), '-o', str(mod)])
    assert r.exit_code == 0, r.output
    compiled = polc.load(SAMPLE)
    facts_list = [
        {'营业收入': '120000000', '上年营业收入': '100000000', '已获晋级奖励': '800000', '企业类别': '新增',
         '年销售额': '35000000', '运营年度': 2, '成交额': '20000000', '攻关算力成本': '1000000',
         '使用算力费用': '1000000', '落户': True},
        {'营业收入': '29999999.99', '年销售额': '9999999.99', '使用算力费用': '1234567.89'},
        {},
    ]
    script = (
        'import json, sys\n'
        'try:\n    import polc\n    print("POLC-IMPORTABLE"); sys.exit(1)\n'
        'except ImportError:\n    pass\n'
        'import sample_rules\n'
        'out = []\n'
        'for f in json.loads(sys.stdin.read()):\n'
        '    r = sample_rules.evaluate(f, "2025-06-01")\n'
        '    out.append({i["name"]: [i["outcome"], str(i["paid"])] for i in r["items"]})\n'
        'print(json.dumps(out, ensure_ascii=False))\n')
    env = {'PATH': os.environ.get('PATH', ''), 'PYTHONPATH': str(tmp_path)}
    # -I: isolated mode, no site-packages of this venv, so polc cannot be imported
    proc = subprocess.run([sys.executable, '-I', '-S', '-c',
                           f'import sys; sys.path.insert(0, {str(tmp_path)!r})\n' + script],
                          input=json.dumps(facts_list, ensure_ascii=False), capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = json.loads(proc.stdout)
    for facts, standalone in zip(facts_list, got):
        res = compiled.evaluate(facts, date='2025-06-01')
        assert {i.name: [i.outcome, str(i.paid)] for i in res.items} == standalone


def test_schema_describes_the_inputs_and_validates_facts():
    jsonschema = pytest.importorskip('jsonschema')
    r = CliRunner().invoke(cli, ['schema', str(SAMPLE)])
    assert r.exit_code == 0, r.output
    schema = json.loads(r.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    assert v.is_valid({'营业收入': '1.2亿元', '企业类别': '新增', '落户': True, '运营年度': 2})
    assert not v.is_valid({'企业类别': '外星企业'})
    assert not v.is_valid({'营业收入': -5})
    assert not v.is_valid({'不存在的输入': 1})
    assert schema['properties']['营业收入']['description'] == '上一年度营业收入'


@pytest.mark.parametrize('path', sorted((ROOT / 'policies' / 'examples').glob('*.json')),
                         ids=lambda p: p.stem)
def test_schema_validates_the_bundled_examples(path):
    jsonschema = pytest.importorskip('jsonschema')
    compiled = polc.load(ROOT / 'policies' / f'{path.stem}.pol')
    from polc.compiler.schema import schema_of
    facts = json.loads(path.read_text(encoding='utf-8'))
    jsonschema.Draft202012Validator(schema_of(compiled.meta, compiled.inputs)).validate(facts)
    compiled.evaluate(facts, date='2025-06-01')


def test_explain_one_item():
    facts = ROOT / 'tests' / 'data' / 'sample_facts.json'
    r = CliRunner().invoke(cli, ['explain', str(SAMPLE), '--facts', str(facts), '攻关算力券',
                                 '--date', '2025-06-01'])
    assert r.exit_code == 0, r.output
    assert '攻关算力成本 100万元 × 60% = 60万元' in r.output
    assert '就高不重复' in r.output
    r = CliRunner().invoke(cli, ['explain', str(SAMPLE), '--facts', str(facts), '没有这一项'])
    assert r.exit_code == 2 and '没有名为' in r.output


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_testing_strategies_give_facts_that_the_policy_accepts(data):
    compiled = polc.load(SAMPLE)
    facts = data.draw(polc.testing.facts(compiled))
    date = data.draw(polc.testing.dates(compiled))
    res = compiled.evaluate(facts, date=date)
    assert res.total >= 0
    assert all(isinstance(i.paid, Decimal) for i in res.items)


def test_thresholds_are_read_from_the_policy():
    th = polc.testing.thresholds(polc.load(SAMPLE))
    assert Decimal('10000000') in th['money'] and Decimal('0.03') in th['percent']


def test_pytest_plugin_collects_cases(tmp_path):
    pol = tmp_path / 'p.pol'
    pol.write_text(SAMPLE.read_text(encoding='utf-8') + '\n案例 "故意失败"\n  输入：落户 = 是\n'
                   '  期望：落户算力券 = 40万元\n', encoding='utf-8')
    proc = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', str(pol)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert '1 failed, 1 passed' in proc.stdout, proc.stdout + proc.stderr
    assert '期望 40万元，实际 50万元' in proc.stdout


def test_pygments_lexer_is_registered_and_covers_the_policies():
    pygments = pytest.importorskip('pygments')
    from pygments.lexers import get_lexer_by_name
    from pygments.token import Error, Keyword
    lexer = get_lexer_by_name('pol')
    for path in POLICY_FILES:
        tokens = list(lexer.get_tokens(path.read_text(encoding='utf-8')))
        assert not [t for t in tokens if t[0] is Error], path
        assert any(t[0] in Keyword and t[1] in ('条款', '條款') for t in tokens)


def test_textmate_grammar_is_in_step_with_the_keywords():
    sys.path.insert(0, str(ROOT / 'editors'))
    try:
        import gen_textmate
    finally:
        sys.path.pop(0)
    committed = (ROOT / 'editors' / 'vscode' / 'syntaxes' / 'pol.tmLanguage.json').read_text(encoding='utf-8')
    assert committed == gen_textmate.render(), 'run: python editors/gen_textmate.py'
    grammar = json.loads(committed)
    assert any('晋级补差' in p.get('match', '') for p in grammar['patterns'])


@pytest.mark.parametrize('pol', sorted((ROOT / 'policies').glob('*.pol')), ids=lambda p: p.stem)
def test_standalone_modules_agree_with_polc_on_generated_facts(tmp_path, pol):
    """Each seed policy built stand-alone, run where polc cannot be imported, on generated
    applicants (thresholds ± 1 fen, every enum value, defaults left out): the same outcomes,
    amounts, ceilings and totals as polc, on two dates."""
    from test_batch import _rows
    mod = tmp_path / 'rules.py'
    r = CliRunner().invoke(cli, ['build', str(pol), '-o', str(mod)])
    assert r.exit_code == 0, r.output
    compiled = polc.load(pol)
    facts_list = _rows(compiled, 300, seed=31)
    dates = ['2025-06-01', '2026-06-01']
    script = (
        'import json, sys\n'
        'try:\n    import polc\n    print("POLC-IMPORTABLE"); sys.exit(1)\n'
        'except ImportError:\n    pass\n'
        'import rules\n'
        'facts = json.loads(sys.stdin.read())\n'
        'out = []\n'
        f'for d in {dates!r}:\n'
        '    for f in facts:\n'
        '        r = rules.evaluate(f, d)\n'
        '        out.append([str(r["total"]), {i["name"]: [i["outcome"], str(i["paid"]), str(i.get("ceiling"))]\n'
        '                                      for i in r["items"]}])\n'
        'print(json.dumps(out, ensure_ascii=False))\n')
    proc = subprocess.run([sys.executable, '-I', '-S', '-c', f'import sys; sys.path.insert(0, {str(tmp_path)!r})\n' + script],
                          input=json.dumps(facts_list, ensure_ascii=False), capture_output=True, text=True,
                          env={'PATH': os.environ.get('PATH', '')}, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    got = iter(json.loads(proc.stdout))
    for d in dates:
        for facts in facts_list:
            total, items = next(got)
            res = compiled.evaluate(facts, date=d, explain=False)
            assert Decimal(total) == res.total
            want = {i.name: [i.outcome, str(i.paid), str(i.ceiling)] for i in res.items}
            assert items == want, facts
