"""The one grammar of numbers in facts (polc.dsl.money): single eval, the per-row engine and the
DuckDB engine accept and refuse exactly the same spellings and read the same values.

Expected values are worked by hand from the rules in docs/language.md (「事实中的数」).
"""
import csv
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polc
from polc.compiler.facts import FactsFileError, parse_facts_text
from polc.compiler.python import runtime as R
from polc.compiler.tables.io import BatchError
from polc.compiler.tables.rowwise import run_batch
from polc.dsl import money as M

duckdb = pytest.importorskip('duckdb')
from polc.compiler.sql.engine import run_duckdb  # noqa: E402
from polc.compiler.sql.grammar import integer_sql, money_sql, percent_sql  # noqa: E402

POLICY = '''政策：测试
施行日期：2024-01-01
有效期至：2026-12-31
输入 营业收入：金额 "年营业收入" 默认 0元
条款 （一） 甲
  项 乙
    金额：营业收入 × 10%
'''


@pytest.fixture(scope='module')
def policy():
    return polc.loads(POLICY, 'p.pol')


# ---------------------------------------------------------------- the rules, by hand
READ = {
    '1,500': Decimal(1500), '1,234,567.89': Decimal('1234567.89'), '１，０００': Decimal(1000),
    '1,000万': Decimal(10000000), '100万元': Decimal(1000000), '1.5亿元': Decimal(150000000),
    '100 万元': Decimal(1000000), ' 3000元 ': Decimal(3000), '\u00a0100\u3000': Decimal(100),
    '0100': Decimal(100), '-0': Decimal(0), '+5': Decimal(5), '100萬': Decimal(1000000),
    '１．５億元': Decimal(150000000), '100000000000000000000': Decimal(10) ** 20,
    '0.10': Decimal('0.1'), '1.5000000000': Decimal('1.5'),
}
REFUSED = {
    '1,5': '逗号只能作千位分隔符', '1,5万元': '逗号只能作千位分隔符', ',,1,,': '逗号只能作千位分隔符',
    '15,00': '逗号只能作千位分隔符', '01,000': '逗号只能作千位分隔符', '1,000,00': '逗号只能作千位分隔符',
    '1，5': '逗号只能作千位分隔符', '1, 000': '逗号只能作千位分隔符',
    '0' * 40 + '1': '数字过长', '1.00000000001': '数字过长', '1' * 22: '数字过长',
    '1 000': '可写', '1e5': '可写', '1_000': '可写', '٣': '可写', '.5': '可写', '5.': '可写',
    '0x10': '可写', '1:30': '可写', '': '可写', '万元': '可写', '100元元': '可写', '100千元': '可写',
    '1\u2009000': '可写', '100\n': '可写',
    '-5': '不能为负数', '-0.01': '不能为负数', '100000000000000000001': '超出可处理的范围',
    '1000000000001亿': '超出可处理的范围', '1.001': '精确到分', '0.0000001万元': '精确到分', '0.000001万元x': '可写',
}


@pytest.mark.parametrize('text', sorted(READ))
def test_money_spellings_that_are_read(text):
    assert M.parse_money(text) == READ[text]
    assert str(M.parse_money(text)).startswith('-') is False


@pytest.mark.parametrize('text', sorted(REFUSED))
def test_money_spellings_that_are_refused_name_the_text(text):
    with pytest.raises(ValueError) as exc:
        M.parse_money(text)
    assert REFUSED[text] in str(exc.value)
    if REFUSED[text] != '超出可处理的范围':
        assert f'「{text}」' in str(exc.value)


def test_percent_and_integer_follow_the_same_discipline():
    assert M.parse_percent('12.5%') == Decimal('0.125')
    assert M.parse_percent('１２．５％') == Decimal('0.125')
    assert M.parse_percent('0.125') == Decimal('0.125')
    assert M.parse_percent('-3 %') == Decimal('-0.03')
    assert M.parse_integer('1,200') == 1200
    assert M.parse_integer('0012') == 12
    for bad in ('1,5%', '12.5%%', '1e2', '٣%', '12.123456789%'):
        with pytest.raises(ValueError):
            M.parse_percent(bad)
    for bad, why in (('1,20', '逗号'), ('1.5', '应为整数'), ('12%', '可写'), ('1' * 14, '数字过长'),
                     ('1000000000001', '超出范围')):
        with pytest.raises(ValueError, match=why):
            M.parse_integer(bad)


def test_negative_zero_is_never_shown(policy):
    r = policy.evaluate({'营业收入': '-0'}, date='2025-01-01')
    text = '\n'.join(r.items[0].steps)
    assert '-0' not in text and '0元 × 10% = 0元' in text
    from polc.dsl.units import format_money, format_number, format_percent
    assert format_money(Decimal('-0.00')) == '0元'
    assert format_percent(Decimal('-0')) == '0%'
    assert format_number(Decimal('-0.0')) == '0'
    assert format_money(Decimal('-1.5')) == '-1.50元'


# ---------------------------------------------------------------- Python and SQL agree
def _python(parse, text):
    try:
        return 'ok', Decimal(parse(text))
    except ValueError as exc:
        return 'error', str(exc)


def _sql(build, texts):
    con = duckdb.connect()
    con.execute('CREATE TABLE t (i INTEGER, x VARCHAR)')
    con.executemany('INSERT INTO t VALUES (?, ?)', list(enumerate(texts)))
    value, problem = build('x')
    rows = con.execute(f'SELECT i, {value}, {problem} FROM t ORDER BY i').fetchall()
    con.close()
    return [('error', p) if p is not None else ('ok', Decimal(v)) for _i, v, p in rows]


def test_sql_reads_the_hand_worked_table_the_same():
    texts = sorted(READ) + sorted(REFUSED)
    assert _sql(money_sql, texts) == [_python(M.parse_money, t) for t in texts]


_SPACES = [' ', '\u3000', '\u00a0', '\t', '\u2009', '']
_UNITS = list(M.MONEY_UNITS) + ['', '', '', '千', '元元', '%', 'RMB', '万 元']
_FULLWIDTH = str.maketrans('0123456789,.+-%', '０１２３４５６７８９，．＋－％')


@st.composite
def spellings(draw):
    """Money spellings, most near the grammar's edges: commas in and out of place, units, full
    width, spaces, signs, long digit strings, decimals."""
    if draw(st.integers(0, 9)) == 0:          # anything from the characters money is written with
        return draw(st.text(alphabet='0123456789,.，万元亿 -+%e\u00a0', max_size=12))
    sign = draw(st.sampled_from(['', '', '', '-', '+', '－']))
    n = draw(st.one_of(st.integers(0, 10 ** 6), st.integers(0, 10 ** 25)))
    style = draw(st.integers(0, 3))
    if style == 0:
        whole = str(n)
    elif style == 1:
        whole = f'{n:,}'
    elif style == 2:                          # a comma somewhere
        digits = str(n)
        cut = draw(st.integers(0, len(digits)))
        whole = digits[:cut] + ',' + digits[cut:]
    else:
        whole = '0' * draw(st.integers(1, 25)) + str(n)
    frac = draw(st.sampled_from(['', '', '.5', '.05', '.50', '.001', '.', '.1234567890', '.12345678901']))
    text = (draw(st.sampled_from(_SPACES)) + sign + whole + frac + draw(st.sampled_from(_SPACES))
            + draw(st.sampled_from(_UNITS)) + draw(st.sampled_from(_SPACES)))
    if draw(st.booleans()):
        text = text.translate(_FULLWIDTH)
    return text


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(spellings(), min_size=1, max_size=40))
def test_python_and_sql_grammars_agree(texts):
    assert _sql(money_sql, texts) == [_python(M.parse_money, t) for t in texts]
    assert _sql(percent_sql, texts) == [_python(M.parse_percent, t) for t in texts]
    assert _sql(integer_sql, texts) == [_python(M.parse_integer, t) for t in texts]


def _fast(kind, texts):
    """The loader's fast reader (compiler/sql/textnumbers.py) on ``texts``: per text, ('bad',) or
    ('ok', value), and whether the full grammar's problem expression agrees about the cell being bad."""
    from polc.compiler.sql.textnumbers import TextColumn
    build = {'money': money_sql, 'percent': percent_sql, 'int': integer_sql}[kind]
    c = TextColumn(kind, 'x', 't', 'v')
    _value, problem = build('x')
    con = duckdb.connect()
    con.execute('CREATE TABLE cells (i INTEGER, x VARCHAR)')
    con.executemany('INSERT INTO cells VALUES (?, ?)', list(enumerate(texts)))
    rows = con.execute(f'SELECT i, {c.typed()}, {c.bad()}, ({problem}) IS NOT NULL FROM '
                       f'(SELECT *, {c.value()} AS v FROM (SELECT *, {c.folded()} AS t FROM cells)) '
                       f'ORDER BY i').fetchall()
    con.close()
    assert [bad for _i, _v, bad, _p in rows] == [p for _i, _v, _b, p in rows]
    return [('bad',) if bad else ('ok', Decimal(v)) for _i, v, bad, _p in rows]


def _python_fast(parse, texts):
    out = []
    for t in texts:
        r = _python(parse, t)
        out.append(('bad',) if r[0] == 'error' else r)
    return out


_PLAIN_CELLS = st.one_of(st.integers(0, 10 ** 21).map(str),
                         st.decimals(0, 10 ** 8, places=2, allow_nan=False).map(lambda d: f'{d:f}'),
                         st.from_regex(r'[0-9]{1,22}(\.[0-9]{1,12})?', fullmatch=True))


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(spellings(), _PLAIN_CELLS), min_size=1, max_size=40))
def test_the_fast_reader_reads_and_refuses_as_the_grammar(texts):
    """Plain cells (cast directly) and every other spelling mixed in one column: the same values as
    polc.dsl.money, and bad exactly where the full grammar has a message."""
    assert _fast('money', texts) == _python_fast(M.parse_money, texts)
    assert _fast('percent', texts) == _python_fast(M.parse_percent, texts)
    assert _fast('int', texts) == [('bad',) if r[0] == 'bad' else ('ok', Decimal(r[1]))
                                   for r in _python_fast(M.parse_integer, texts)]


def test_the_fast_reader_on_the_hand_worked_table():
    texts = sorted(READ) + sorted(REFUSED) + ['99999999999999999999', '100000000000000000000.00',
                                              '1234567.891', '12.5%', '-12.5 %', '1,234,567%', '0.1234567890']
    assert _fast('money', texts) == _python_fast(M.parse_money, texts)
    assert _fast('percent', texts) == _python_fast(M.parse_percent, texts)


def test_the_bounded_pattern_is_the_grammar_within_its_digit_limits():
    import re
    for syntax in (M.MONEY, M.PERCENT_SIGN, M.PERCENT_FRACTION, M.INTEGER):
        bounded = re.compile(syntax.bounded).fullmatch
        for t in sorted(READ) + sorted(REFUSED) + ['1,234,567%', '12,345,678%', '1' * 13, '1' * 14,
                                                   '1,234,567,890,123', '12,345,678,901,234']:
            folded = M.fold(t)
            assert (bounded(folded) is not None) == isinstance(syntax.read(t), tuple), (syntax.what, t)


def _engines(policy, tmp_path, texts, fmt):
    src = tmp_path / f'in.{fmt}'
    if fmt == 'csv':
        with open(src, 'w', newline='', encoding='utf-8') as f:
            w = csv.writer(f)
            w.writerow(['营业收入'])
            for t in texts:
                w.writerow([t])
    else:
        src.write_text(''.join(json.dumps({'营业收入': t}, ensure_ascii=False) + '\n' for t in texts),
                       encoding='utf-8')
    out = {}
    for name, run in (('python', run_batch), ('duckdb', run_duckdb)):
        res, rej = tmp_path / f'{name}.csv', tmp_path / f'{name}.rejects.jsonl'
        run(policy, str(src), str(res), '2025-01-01', skip_bad=True, rejects_path=str(rej))
        with open(res, encoding='utf-8') as f:
            rows = [(int(r['行号']), Decimal(r['乙.金额'])) for r in csv.DictReader(f)]
        rejected = [(r['行号'], r['错误']) for r in map(json.loads, rej.read_text('utf-8').splitlines())] \
            if rej.exists() else []
        out[name] = rows, rejected
    return out


@settings(max_examples=12, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(texts=st.lists(spellings().filter(lambda t: t.strip(' ') != '' and '\n' not in t and '\r' not in t),
                      min_size=1, max_size=30))
def test_single_eval_and_both_engines_accept_the_same_spellings(policy, tmp_path_factory, texts):
    tmp_path = tmp_path_factory.mktemp('money')
    single = []
    for t in texts:
        try:
            r = policy.evaluate({'营业收入': t}, date='2025-01-01', explain=False)
            single.append(('ok', r.items[0].amount))
        except R.FactsError as exc:
            single.append(('error', exc.problems[0][1]))
    for fmt in ('csv', 'jsonl'):
        got = _engines(policy, tmp_path, texts, fmt)
        assert got['python'] == got['duckdb']
        rows, rejected = got['python']
        assert [n for n, _v in rows] == [i + 1 for i, s in enumerate(single) if s[0] == 'ok']
        assert [v for _n, v in rows] == [s[1] for s in single if s[0] == 'ok']
        assert [m for _n, m in rejected] == [f'「营业收入」：{s[1]}' for s in single if s[0] == 'error']


def test_the_reproductions_on_both_engines(policy, tmp_path):
    got = _engines(policy, tmp_path, ['1,5', '1,5万元', ',,1,,', '1,500', '１，０００', '\u00a0100',
                                      '0' * 40 + '1', '-0'], 'csv')
    assert got['python'] == got['duckdb']
    rows, rejected = got['python']
    assert rows == [(4, Decimal('150.00')), (5, Decimal('100.00')), (6, Decimal('10.00')), (8, Decimal('0.00'))]
    assert [n for n, _m in rejected] == [1, 2, 3, 7]


# ---------------------------------------------------------------- tables: rows and keys
def test_blank_lines_of_a_one_column_csv_are_not_applicants(policy, tmp_path):
    src = tmp_path / 'in.csv'
    src.write_text('营业收入\n100\n\n""\n\n200\n\n', encoding='utf-8')
    for run in (run_batch, run_duckdb):
        out = tmp_path / 'out.csv'
        summary = run(policy, str(src), str(out), '2025-01-01')
        with open(out, encoding='utf-8') as f:
            rows = [(r['行号'], r['乙.金额']) for r in csv.DictReader(f)]
        # 100 -> 10; "" is an applicant with the default 0; 200 -> 20
        assert rows == [('1', '10.00'), ('2', '0.00'), ('3', '20.00')], run
        assert summary.rows == 3 and summary.total == Decimal(30)


def test_blank_lines_of_a_wider_csv_agree_too(tmp_path):
    policy = polc.loads(POLICY.replace('输入 营业收入', '输入 其他：金额 默认 0元\n输入 营业收入'), 'p.pol')
    src = tmp_path / 'in.csv'
    src.write_text('营业收入,其他\n100,\n\n,\n"",""\n200,1\n', encoding='utf-8')
    for run in (run_batch, run_duckdb):
        out = tmp_path / 'out.csv'
        run(policy, str(src), str(out), '2025-01-01')
        with open(out, encoding='utf-8') as f:
            rows = [(r['行号'], r['乙.金额']) for r in csv.DictReader(f)]
        assert rows == [('1', '10.00'), ('2', '0.00'), ('3', '0.00'), ('4', '20.00')], run


def test_jsonl_rows_with_a_key_twice_are_refused_on_both_engines(policy, tmp_path):
    src = tmp_path / 'in.jsonl'
    src.write_text('{"营业收入": 1}\n\n{"营业收入": 1, "营业收入": 2}\n', encoding='utf-8')
    for run in (run_batch, run_duckdb):
        with pytest.raises(BatchError, match='第 3 行：键「营业收入」出现了两次'):
            run(policy, str(src), str(tmp_path / 'out.csv'), '2025-01-01')


def test_jsonl_numbers_read_the_same_on_both_engines(policy, tmp_path):
    src = tmp_path / 'in.jsonl'
    src.write_text('{"营业收入": 1e5}\n{"营业收入": 1.000000000000}\n{"营业收入": -0.0}\n'
                   '{"营业收入": 0.001}\n', encoding='utf-8')
    got = {}
    for run in (run_batch, run_duckdb):
        out = tmp_path / 'out.csv'
        run(policy, str(src), str(out), '2025-01-01', skip_bad=True)
        with open(out, encoding='utf-8') as f:
            got[run] = [(r['行号'], r['乙.金额']) for r in csv.DictReader(f)]
    # 1e5 元 × 10% = 10000元; 1 × 10% = 0.10; -0 is 0; 0.001 元 is not a whole fen: refused
    assert got[run_batch] == got[run_duckdb] == [('1', '10000.00'), ('2', '0.10'), ('3', '0.00')]


# ---------------------------------------------------------------- YAML 1.2 facts
@pytest.mark.parametrize('text, value', [
    ('a: 0100', 100), ('a: 0x10', '0x10'), ('a: 0o17', '0o17'), ('a: 1:30', '1:30'), ('a: 1_000', '1_000'),
    ('a: 12.50', Decimal('12.50')), ('a: 1e5', Decimal('1E+5')), ('a: yes', 'yes'), ('a: on', 'on'),
    ('a: true', True), ('a: 2025-03-01', '2025-03-01'), ('a: ~', None), ('a: 1,500', '1,500'),
    ('a: .inf', '.inf'), ('a: -7', -7),
])
def test_yaml_facts_follow_yaml_1_2(text, value):
    got = parse_facts_text(text)['a']
    assert got == value and type(got) is type(value)


def test_yaml_octal_looking_money_is_decimal_and_hex_is_refused(policy):
    assert policy.evaluate(parse_facts_text('营业收入: 0100'), date='2025-01-01').items[0].amount == Decimal(10)
    for text in ('营业收入: 0x10', '营业收入: 1:30'):
        with pytest.raises(R.FactsError, match='无法读作金额'):
            policy.evaluate(parse_facts_text(text), date='2025-01-01')


def test_yaml_keys_given_twice_are_refused_with_their_line():
    with pytest.raises(FactsFileError, match='第 3 行：键「营业收入」出现了两次（第一次在第 1 行）'):
        parse_facts_text('营业收入: 1\n其他: 2\n营业收入: 3\n', 'f.yaml')
    with pytest.raises(FactsFileError, match='键「b」出现了两次'):
        parse_facts_text('a:\n  b: 1\n  b: 2\n', 'f.yaml')


def test_the_json_schema_pattern_is_the_same_grammar():
    import re
    from polc.compiler.schema import MONEY_PATTERN
    for text in READ:
        assert re.search(MONEY_PATTERN, text), text
    for text, why in REFUSED.items():
        if why in ('逗号只能作千位分隔符', '可写'):
            assert not re.search(MONEY_PATTERN, text), text
