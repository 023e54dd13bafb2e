"""The README and the tutorial say what polc really does."""
import re
from pathlib import Path

from click.testing import CliRunner

from polc.compiler.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def _tutorial_policy() -> str:
    md = (ROOT / 'docs' / 'tutorial.md').read_text(encoding='utf-8')
    blocks = re.findall(r'```\n(.*?)```', md, re.S)
    parts = [b for b in blocks if not b.startswith('$') and
             any(k in b for k in ('政策：', '输入 ', '条款 ', '案例 '))]
    return '\n'.join(parts)


def test_tutorial_policy_checks_and_its_cases_pass(tmp_path):
    pol = tmp_path / 'shuju.pol'
    pol.write_text(_tutorial_policy(), encoding='utf-8')
    runner = CliRunner()
    r = runner.invoke(cli, ['check', str(pol)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ['test', str(pol)])
    assert r.exit_code == 0, r.output
    assert r.output.strip().endswith('4 passed, 0 failed')


def test_tutorial_eval_output_is_what_the_tutorial_shows(tmp_path):
    md = (ROOT / 'docs' / 'tutorial.md').read_text(encoding='utf-8')
    pol = tmp_path / 'shuju.pol'
    pol.write_text(_tutorial_policy(), encoding='utf-8')
    facts = tmp_path / 'applicant.json'
    facts.write_text('{"数据集交易额": "200万元", "主体类型": "高校"}', encoding='utf-8')
    r = CliRunner().invoke(cli, ['eval', str(pol), '--facts', str(facts), '--date', '2025-03-01'])
    assert r.exit_code == 0, r.output
    shown = md.split('$ polc eval shuju.pol --facts applicant.json --date 2025-03-01\n', 1)[1]
    shown = shown.split('```', 1)[0]
    assert r.output == shown


def test_tutorial_typo_warning_is_what_the_tutorial_shows(tmp_path):
    md = (ROOT / 'docs' / 'tutorial.md').read_text(encoding='utf-8')
    pol = tmp_path / 'shuju.pol'
    pol.write_text(_tutorial_policy().replace('最高 100万元\n', '最高 10万元\n'), encoding='utf-8')
    r = CliRunner().invoke(cli, ['check', str(pol)])
    assert r.exit_code == 1
    shown = md.split('$ polc check shuju.pol\nshuju.pol:', 1)[1].split('```', 1)[0]
    assert r.output.replace(str(pol), 'shuju.pol').startswith('shuju.pol:' + shown)


def test_ci_runs_the_readme_commands_verbatim():
    readme = (ROOT / 'README.md').read_text(encoding='utf-8')
    commands = re.findall(r'```bash\n(.*?)\n```', readme, re.S)
    assert len(commands) == 2, 'README must give exactly two set-up commands'
    ci = (ROOT / '.ci' / 'run').read_text(encoding='utf-8')
    for c in commands:
        assert c.strip() in ci
    assert 'polc eval' in commands[0] and 'pytest' in commands[1]


def test_verify_page_shows_real_output(monkeypatch):
    monkeypatch.chdir(ROOT)
    md = (ROOT / 'docs' / 'verify.md').read_text(encoding='utf-8')
    shown = md.split('$ polc verify docs/examples/verify.pol --examples 200\n', 1)[1].split('```', 1)[0]
    r = CliRunner().invoke(cli, ['verify', 'docs/examples/verify.pol', '--examples', '200'])
    assert r.exit_code == 1
    assert r.output == shown


def test_every_command_has_a_reference_page():
    for name in cli.commands:
        page = ROOT / 'docs' / 'commands' / f'{name}.md'
        assert page.exists(), f'docs/commands/{name}.md is missing'
        text = page.read_text(encoding='utf-8')
        assert f'polc {name}' in text and '```' in text          # usage and an example


CITIES = ['zhangzhou', 'fuzhou', 'langfang', 'xiamen']


def test_policy_pages_and_readings_are_generated_from_the_policies(monkeypatch):
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    for c in CITIES:
        r = runner.invoke(cli, ['doc', f'policies/{c}.pol'])
        assert r.exit_code == 0, r.output
        page = (ROOT / 'docs' / 'policies' / f'{c}.md').read_text(encoding='utf-8')
        assert r.output == page, f'run: polc doc policies/{c}.pol -o docs/policies/{c}.md'
    r = runner.invoke(cli, ['doc', '--readings'] + [f'policies/{c}.pol' for c in CITIES])
    assert r.output == (ROOT / 'docs' / 'readings.md').read_text(encoding='utf-8'), \
        'run: polc doc --readings policies/{zhangzhou,fuzhou,langfang,xiamen}.pol -o docs/readings.md'
    # the known ambiguities are decided and written down
    readings = r.output
    for known in ('每1000萬元', '落户', '5亿', '就高'):
        assert known in readings, known


def test_the_readme_example_runs_on_each_city(monkeypatch):
    monkeypatch.chdir(ROOT)
    for c in CITIES:
        r = CliRunner().invoke(cli, ['eval', f'policies/{c}.pol', '--facts', f'policies/examples/{c}.json',
                                     '--date', '2026-06-01' if c == 'fuzhou' else '2025-06-01'])
        assert r.exit_code == 0, r.output
        # polc's own words follow the policy's script: 厦门 is written in traditional characters
        assert ('應得合計' if c == 'xiamen' else '应得合计') in r.output


def test_tutorial_table_and_budget_steps_run(tmp_path):
    import csv as _csv
    md = (ROOT / 'docs' / 'tutorial.md').read_text(encoding='utf-8')
    pol = tmp_path / 'shuju.pol'
    pol.write_text(_tutorial_policy(), encoding='utf-8')
    table = md.split('## 第 8 步', 1)[1].split('```\n', 1)[1].split('```', 1)[0]
    (tmp_path / 'firms.csv').write_text(table, encoding='utf-8')
    runner = CliRunner()
    for engine in ('python', 'duckdb'):
        r = runner.invoke(cli, ['eval', str(pol), '--facts', str(tmp_path / 'firms.csv'), '--out',
                                str(tmp_path / 'results.csv'), '--id-column', '编号', '--date', '2025-03-01',
                                '--engine', engine])
        assert r.exit_code == 0, r.output
        with open(tmp_path / 'results.csv', newline='', encoding='utf-8') as f:
            rows = {x['编号']: x for x in _csv.DictReader(f)}
        # 200万 × 30% = 60万 and 50万 × 30% = 15万, both 最高可获 (比例均为上限); A003 has no 交易额
        assert [(rows[k]['数据集交易奖励.结果'], rows[k]['数据集交易奖励.金额']) for k in ('A001', 'A002', 'A003')] == \
            [('ceiling', '600000.00'), ('ceiling', '150000.00'), ('not_applicable', '')]
    r = runner.invoke(cli, ['report', str(pol), '--facts', str(tmp_path / 'firms.csv'), '--out',
                            str(tmp_path / 'budget.html'), '--id-column', '编号', '--date', '2025-03-01'])
    assert r.exit_code == 0, r.output
    page = (tmp_path / 'budget.html').read_text(encoding='utf-8')
    assert '<td id="applicants">3</td>' in page and '<td>75.00万元</td>' in page       # 60万 + 15万 最高可获
