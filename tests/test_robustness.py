"""Bad input never crashes polc: fuzzed policy text, broken facts, hostile names; output is
deterministic.  Long mode: POLC_LONG=1 runs the fuzzers on 100,000+ inputs (docs/robustness.md).
"""
import json
import os
import random
import signal
import subprocess
import sys
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import polc
from polc.compiler.cli import cli
from polc.dsl.analysis import analyze
from polc.dsl.keywords import SPELLING_TO_TYPE

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / 'policies').glob('*.pol')) + [ROOT / 'tests' / 'data' / 'sample.pol']
LONG = os.environ.get('POLC_LONG') == '1'
N = 100_000 if LONG else 600
MUTANTS = 4_000 if LONG else 60       # per seed policy (a whole analysis each)


@contextmanager
def no_hang(seconds=60):
    """A hang guard (not a speed test): fail instead of blocking the suite forever."""
    def handler(signum, frame):
        raise AssertionError(f'no answer within {seconds} s')
    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _must_answer(text: str):
    """analyze() returns diagnostics (with positions for syntax errors) or a clean policy."""
    a = analyze(text, 'fuzz.pol')
    for d in a.diagnostics:
        assert d.message and d.code
        assert '__ANON' not in d.message and '_COLON' not in d.message and 'Token(' not in d.message
        if d.code == 'E-SYNTAX':
            assert d.span is not None
    if a.ok:
        polc.loads(text, 'fuzz.pol')         # a clean policy also compiles
    return a


TOKENS = (list(SPELLING_TO_TYPE) + ['：', ':', '，', '、', '（', '）', '(', ')', '；', '=', '≥', '×', '÷', '+',
          '-', '%', '"原文"', '「名称」', '100万元', '30%', '3', '2.5', '10亿', '2024-08-13', '（含）',
          '（不含）', '#注释\n', '\n', ' ', '甲', '收入', '乙项', '(二)', '二、', '1.'])


def test_random_token_sequences():
    rnd = random.Random(1)
    for _ in range(N):
        with no_hang(30):
            _must_answer(' '.join(rnd.choice(TOKENS) for _ in range(rnd.randint(1, 40))))


def _mutate(text: str, rnd: random.Random) -> str:
    lines = text.split('\n')
    op = rnd.randrange(12)
    if op == 0 and lines:                                  # delete a span
        i = rnd.randrange(len(text))
        return text[:i] + text[i + rnd.randint(1, 200):]
    if op == 1 and lines:                                  # duplicate a line
        i = rnd.randrange(len(lines))
        return '\n'.join(lines[:i + 1] + [lines[i]] + lines[i + 1:])
    if op == 2 and len(lines) > 1:                         # swap two lines
        i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return '\n'.join(lines)
    if op == 3:                                            # truncate
        return text[:rnd.randrange(len(text) + 1)]
    if op == 4:                                            # insert a keyword or punctuation
        i = rnd.randrange(len(text) + 1)
        return text[:i] + rnd.choice(TOKENS) + text[i:]
    if op == 5:                                            # a huge number
        return text.replace('100万元', '1' + '0' * 40 + '元', 1)
    if op == 6:                                            # full-width digits
        return text.translate({ord(c): ord(c) + 0xFEE0 for c in '0123456789'})
    if op == 7:
        return text.replace('\n', '\r\n')
    if op == 8:
        return '\ufeff' + text
    if op == 9:
        i = rnd.randrange(len(text) + 1)
        return text[:i] + '\x00' + text[i:]
    if op == 10:                                           # unbalanced brackets
        i = rnd.randrange(len(text) + 1)
        return text[:i] + rnd.choice(['（', '）', '「', '」', '"']) + text[i:]
    i = rnd.randrange(len(text) + 1)                       # a random character
    return text[:i] + chr(rnd.randrange(0x20, 0x9FFF)) + text[i:]


@pytest.mark.parametrize('seed', SEEDS, ids=lambda p: p.stem)
def test_mutated_seed_policies(seed):
    rnd = random.Random(seed.stem)
    text = seed.read_text(encoding='utf-8')
    for _ in range(MUTANTS):
        t = text
        for _k in range(rnd.randint(1, 3)):
            t = _mutate(t, rnd)
        with no_hang(60):
            _must_answer(t)


def _check_cli(tmp_path, data: bytes):
    p = tmp_path / 'x.pol'
    p.write_bytes(data)
    r = CliRunner().invoke(cli, ['check', str(p)])
    assert r.exit_code in (0, 1, 2), r.output
    assert 'Traceback' not in r.output and r.exception is None or isinstance(r.exception, SystemExit)
    return r


def test_random_bytes(tmp_path):
    rnd = random.Random(7)
    for _ in range(max(N // 20, 30)):
        with no_hang(30):
            _check_cli(tmp_path, bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 400))))


def test_encodings_are_named(tmp_path):
    text = (ROOT / 'tests' / 'data' / 'sample.pol').read_text(encoding='utf-8')
    r = _check_cli(tmp_path, text.encode('gbk'))
    assert r.exit_code == 2 and 'GBK' in r.output and 'UTF-8' in r.output
    r = _check_cli(tmp_path, text.encode('utf-16'))
    assert r.exit_code == 2 and 'UTF-16' in r.output
    r = _check_cli(tmp_path, b'\xef\xbb\xbf' + text.encode('utf-8'))          # a BOM is fine
    assert r.exit_code == 0


def test_deep_nesting_and_long_lines():
    head = '政策：甲\n输入 甲：金额 默认 0元\n条款 （一）\n  项 乙\n    金额：'
    with no_hang(300):
        a = _must_answer(head + '（' * 10000 + '甲' + '）' * 10000 + '\n')
        assert a.ok
        a = _must_answer(head + ' + '.join(['甲'] * 3000) + '\n')
        assert a.ok
        a = _must_answer(head + '（' * 10000 + '甲\n')                       # unclosed
        assert not a.ok and a.diagnostics[0].span is not None
        cond = '政策：甲\n输入 甲：金额 默认 0元\n条款 （一）\n  项 乙\n    条件：' + ' 且 '.join(
            ['甲 > 0元'] * 3000) + '\n    金额：甲\n'
        res = polc.loads(cond).evaluate({'甲': 5}, date='2025-01-01')
        assert res.total == Decimal(5)


def test_a_ten_megabyte_policy():
    clause = '条款 {n}. 甲\n  项 项{m}\n    原文："' + '很长的原文。' * 50 + '"\n    金额：收入 × 30% 最高 100万元\n'
    digits = '零一二三四五六七八九'
    parts = ['政策：大\n输入 收入：金额 默认 0元\n']
    size = 0
    n = 0
    while size < 10 * 2 ** 20:
        n += 1
        c = clause.format(n=n, m=''.join(digits[int(d)] for d in str(n)))
        parts.append(c)
        size += len(c.encode('utf-8'))
    with no_hang(900):
        a = analyze(''.join(parts), 'big.pol')
    assert a.ok and len(a.policy.clauses) == n


# ------------------------------------------------------------------ facts
FACTS_POLICY = ('政策：甲\n施行日期：2024-01-01\n输入 收入：金额 "年收入"\n输入 年度：整数 "第几年" 默认 1\n'
                '输入 类型：枚举（企业、高校） "主体" 默认 企业\n输入 日：日期 "日期" 默认 2024-01-01\n'
                '输入 增速：百分比 "增速" 默认 0%\n输入 落户：是否 "是否落户" 默认 否\n'
                '条款 （一）\n  项 乙\n    条件：年度 ≥ 1 且 类型 是 企业 且 日 ≥ 2024-01-01 且 增速 ≥ 0% 且 非 落户\n'
                '    金额：收入 × 30%\n')

BAD_FACTS = [
    ('{"收入": ', 'JSON'),
    ('[1, 2]', '对象'),
    ('"字符串"', '对象'),
    ('{}', '收入'),                                     # missing required
    ('{"收入": 1, "未知": 2}', '未知'),
    ('{"收入": "很多"}', '收入'),
    ('{"收入": NaN}', 'NaN'),
    ('{"收入": Infinity}', 'Infinity'),
    ('{"收入": -5}', '收入'),
    ('{"收入": 1e400}', '收入'),
    ('{"收入": 1, "年度": 1.5}', '年度'),
    ('{"收入": 1, "类型": "外星企业"}', '类型'),
    ('{"收入": 1, "日": "2024/13/45"}', '日'),
    ('{"收入": 1, "落户": "也许"}', '落户'),
    ('{"收入": 1, "增速": "很快"}', '增速'),
    ('{"收入": 0.001}', '收入'),
    ('{"收入": 1, "收入": 2}', '收入'),
    ('收入: [1, 2]', '收入'),
    ('收入: .nan', 'nan'),
    ('{"收入": ' + '[' * 100000 + ']' * 100000 + '}', '嵌套'),
]


@pytest.mark.parametrize('facts,named', BAD_FACTS, ids=range(len(BAD_FACTS)))
def test_bad_facts_exit_2_naming_the_fact(tmp_path, facts, named):
    pol = tmp_path / 'p.pol'
    pol.write_text(FACTS_POLICY, encoding='utf-8')
    f = tmp_path / 'f.json'
    f.write_text(facts, encoding='utf-8')
    r = CliRunner().invoke(cli, ['eval', str(pol), '--facts', str(f), '--date', '2025-01-01'])
    assert r.exit_code == 2, r.output
    assert named in r.output
    assert 'Traceback' not in r.output


def test_money_with_units_is_accepted_exactly():
    p = polc.loads(FACTS_POLICY)
    for raw, want in (('100万元', '300000.00'), ('１００万', '300000.00'), ('1.5亿元', '45000000.00'),
                      ('3000元', '900.00'), ('1,000,000', '300000.00'), (1000000, '300000.00')):
        assert str(p.evaluate({'收入': raw}, date='2025-01-01').total.quantize(Decimal('0.01'))) == want


def test_missing_facts_file_and_stdin(tmp_path):
    pol = tmp_path / 'p.pol'
    pol.write_text(FACTS_POLICY, encoding='utf-8')
    r = CliRunner().invoke(cli, ['eval', str(pol), '--facts', str(tmp_path / 'none.json')])
    assert r.exit_code == 2 and '不存在' in r.output
    r = CliRunner().invoke(cli, ['eval', str(pol), '--facts', '-', '--date', '2025-01-01'], input='{"收入": "1万元"}')
    assert r.exit_code == 0 and '3000元' in r.output


# ------------------------------------------------------------------ determinism
def test_output_is_identical_across_hash_seeds(tmp_path):
    pol = str(ROOT / 'tests' / 'data' / 'sample.pol')
    facts = str(ROOT / 'tests' / 'data' / 'sample_facts.json')
    commands = [['check', pol], ['eval', pol, '--facts', facts, '--date', '2025-06-01', '--format', 'json'],
                ['eval', pol, '--facts', facts, '--date', '2025-06-01'], ['build', pol], ['fmt', pol],
                ['verify', pol, '--examples', '60'], ['schema', pol]]
    outputs = {}
    for seed in ('0', '1', '12345'):
        env = dict(os.environ, PYTHONHASHSEED=seed, POLC_NO_CACHE='1')
        for cmd in commands:
            r = subprocess.run([sys.executable, '-m', 'polc.compiler.cli', *cmd], capture_output=True,
                               env=env, timeout=300)
            outputs.setdefault(tuple(cmd), set()).add((r.returncode, r.stdout, r.stderr))
    for cmd, seen in outputs.items():
        assert len(seen) == 1, f'output of {cmd} depends on the hash seed'


# ------------------------------------------------------------------ code generation
HOSTILE = ['"); import os; os.system("touch /tmp/polc-pwned") #', '\\', '"""', "'''", '__import__("os")',
           'class', 'def', 'None', 'ｘ', '豈', '\u202e反向\u202c', '零\u200b宽', '\\n换行', '{F}', '%s', '\x7f']


@pytest.mark.parametrize('bad', HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_in_names_strings_and_sources_executes_nothing(tmp_path, bad):
    marker = Path('/tmp/polc-pwned')
    if marker.exists():
        marker.unlink()
    esc = bad.replace('\\', '\\\\').replace('"', '\\"')
    name = '「' + bad.replace('「', '').replace('」', '').replace('\n', '') + '收入」'
    item = '「' + bad.replace('「', '').replace('」', '').replace('\n', '') + '项」'
    text = (f'政策："{esc}"\n施行日期：2024-01-01\n原文："{esc}"\n'
            f'输入 {name}：金额 "{esc}" 默认 0元\n'
            f'输入 类型：枚举（「{bad}甲」、乙） "{esc}" 默认 乙\n'
            f'条款 （一） "{esc}"\n  牵头单位："{esc}"\n  项 {item}\n    类别："{esc}"\n'
            f'    原文："{esc}"\n    解读："{esc}"\n    条件：类型 是 乙\n    金额：{name} × 30% 最高 100万元\n'
            f'  项 丙\n    金额：按规定享受 "{esc}"\n'
            f'案例 "{esc}"\n  输入：{name} = 10万元\n  期望：{item} = 3万元\n')
    compiled = polc.loads(text, 'hostile.pol')
    src = compiled.python_source
    compile(src, 'x', 'exec')
    facts = {n: '10万元' for n, (k, *_r) in compiled.inputs.items() if k == 'money'}
    res = compiled.evaluate(facts, date='2025-01-01')
    from polc.dsl.text import normalize
    assert res.item(normalize(item[1:-1])).amount == Decimal('30000.00')     # 10万元 × 30%
    # strings keep the text exactly as written, whatever it holds
    want = bad
    assert res.item('丙').detail == '按规定享受' + want
    assert res.policy == want
    from polc.compiler.analysis.cases import run_cases
    assert all(r.passed for r in run_cases(compiled))
    # the stand-alone module: it too imports and runs without executing anything
    pol = tmp_path / 'h.pol'
    pol.write_text(text, encoding='utf-8')
    r = CliRunner().invoke(cli, ['build', str(pol), '-o', str(tmp_path / 'hostile_rules.py')])
    assert r.exit_code == 0, r.output
    proc = subprocess.run([sys.executable, '-I', '-c', 'import sys; sys.path.insert(0, sys.argv[1]); '
                           'import hostile_rules; print(len(hostile_rules.ITEMS))', str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == '2', proc.stderr
    assert not marker.exists()
