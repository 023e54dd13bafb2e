"""The fast path of the public ``evaluate`` (generated coercion, the typed path, a light result) gives
exactly what the full path gives: the same values read from every spelling of a fact, the same
error messages for bad facts, the same amounts with and without explanations, the same document."""
import datetime as dt
import decimal
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polc
import polc.testing
from polc.compiler.python import fast as fast_module
from polc.compiler.python.fast import LightResult, coerce_lines
from polc.compiler.python.runtime import CONTEXT
from polc.compiler.python.runtime_facts import _PLAIN_MONEY, FactsError, coerce_facts
from polc.dsl.money import parse_money, parse_percent

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted((ROOT / 'policies').glob('*.pol')) + [ROOT / 'bench' / 'clauses.pol',
                                                        ROOT / 'bench' / 'clauses2.pol',
                                                        ROOT / 'tests' / 'data' / 'sample.pol',
                                                        ROOT / 'tests' / 'data' / 'xiamen_one_project.pol']
# the policies that have the fast path (the seed policies declare records: the full path)
FAST = [ROOT / 'bench' / 'clauses.pol', ROOT / 'bench' / 'clauses2.pol', ROOT / 'tests' / 'data' / 'sample.pol',
        ROOT / 'tests' / 'data' / 'xiamen_one_project.pol']
SETTINGS = dict(deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

INPUTS = {
    '金额': ('money', (), Decimal(0), ''),
    '比例': ('percent', (), Decimal('0.00'), ''),
    '年度': ('int', (), 1, ''),
    '领先': ('bool', (), False, ''),
    '类型': ('enum', ('企业', '高校'), '企业', ''),
    '必填金额': ('money', (), None, ''),
    '日期': ('date', (), dt.date(2025, 1, 1), ''),
}


def _generated_coercion():
    """The generated coercion alone (the head of evaluate_json), returning what it read."""
    specs = [(f'_v{i}', name, kind) for i, (name, (kind, *_rest)) in enumerate(INPUTS.items())]
    src = '\n'.join(coerce_lines(specs)) + '\n    return (' + ', '.join(v for v, _n, _k in specs) + ',)\n'
    ns = {'INPUTS': INPUTS, '_D': Decimal}
    exec(compile(src, '<test-coerce>', 'exec'), ns)
    return ns['evaluate_json']


GENERATED = _generated_coercion()

DIGITS = st.text('0123456789', min_size=1, max_size=24)
MONEY_TEXT = st.one_of(
    st.builds(lambda w, f, u: w + ('.' + f if f is not None else '') + u, DIGITS,
              st.none() | st.text('0123456789', max_size=12), st.sampled_from(['', '元', '万元', '万', '亿元', '萬元'])),
    st.from_regex(r'[ \u3000]?[+-]?[0-9０-９,，]{1,12}([.．][0-9]{0,4})?[ ]?(万元|元|亿)?[ ]?', fullmatch=True),
    st.text('0123456789.,万元亿 -+%eE_１２．', max_size=14),
)
PERCENT_TEXT = st.one_of(
    st.builds(lambda s, w, f: s + w + ('.' + f if f is not None else '') + '%', st.sampled_from(['', '-', '+']),
              DIGITS, st.none() | st.text('0123456789', max_size=11)),
    st.text('0123456789.,%-+ ％', max_size=12),
)
ANY = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 13, 10 ** 13),
                st.decimals(allow_nan=True, allow_infinity=True, places=None) | st.decimals(places=3),
                st.floats(allow_nan=False, max_value=1e6, min_value=-1e6), st.lists(st.integers(), max_size=1),
                st.sampled_from(['企业', '高校', '企業', '是', '否', 'true', '2025-03-01', '2025年3月1日', '']))


def _compare(facts):
    """The generated coercion and the runtime's coerce_facts read the same values, or both refuse."""
    try:
        with __import__('decimal').localcontext(CONTEXT):
            expected = coerce_facts(INPUTS, facts)
    except FactsError:
        expected = None
    try:
        with __import__('decimal').localcontext(CONTEXT):
            got = GENERATED(facts, None)
    except (ValueError, ArithmeticError):
        got = 'refused'
    if expected is None:
        assert got in (None, 'refused'), (facts, got)
        return None
    if got is None:                      # the full path reads these facts (other spellings …)
        return None
    assert got != 'refused', facts
    values = tuple(expected[n] for n in INPUTS)
    # the same values and the same representation (an explanation prints them)
    assert [(type(v), str(v)) for v in got] == [(type(v), str(v)) for v in values], facts
    return got


@settings(max_examples=3000, **SETTINGS)
@given(money=MONEY_TEXT | ANY, pct=PERCENT_TEXT | ANY, year=ANY, flag=ANY, kind=ANY, req=MONEY_TEXT | ANY)
def test_generated_coercion_reads_what_the_runtime_reads(money, pct, year, flag, kind, req):
    _compare({'金额': money, '比例': pct, '年度': year, '领先': flag, '类型': kind, '必填金额': req})


@settings(max_examples=1500, **SETTINGS)
@given(text=MONEY_TEXT)
def test_money_spellings_against_the_money_grammar(text):
    """Every money spelling: the generated coercion's value is dsl/money.py's, digit for digit."""
    try:
        with __import__('decimal').localcontext(CONTEXT):
            expected = parse_money(text)
    except ValueError:
        expected = None
    got = _compare({'金额': text, '必填金额': '1'})
    if got is not None:
        assert expected is not None and str(got[0]) == str(expected), text


@settings(max_examples=800, **SETTINGS)
@given(text=PERCENT_TEXT)
def test_percent_spellings_against_the_money_grammar(text):
    try:
        expected = parse_percent(text)
    except ValueError:
        expected = None
    got = _compare({'比例': text, '必填金额': '0'})
    if got is not None:
        assert expected is not None and str(got[1]) == str(expected), text


def test_the_plain_spellings_take_the_inline_reading():
    """The common spellings are read by the generated code itself (not sent to the full path)."""
    got = GENERATED({'金额': '1200万元', '比例': '12.5%', '年度': 2, '领先': True, '类型': '高校',
                     '必填金额': '12000000.50', '日期': '2025-03-01'}, None)
    assert got == (Decimal(12000000), Decimal('0.125'), 2, True, '高校', Decimal('12000000.50'),
                   dt.date(2025, 3, 1))
    assert str(got[0]) == '12000000' and str(got[1]) == '0.125'
    assert GENERATED({'金额': '1'}, None) is None                      # a required input is missing
    assert GENERATED({'金額': '1', '必填金额': '1'}, None) is None      # another spelling: the full path


def _warm(compiled):
    compiled._build_fast()              # (evaluate builds it on a policy's second evaluation)
    return compiled


def _json_style(compiled, facts, spelling):
    """Typed facts as a portal sends them: money as "1234.5", "1234.5元" or "0.12345万元"."""
    out = {}
    for name, v in facts.items():
        kind = compiled.inputs[name][0] if name in compiled.inputs else None
        if kind == 'money' and isinstance(v, Decimal):
            out[name] = (f'{v:f}', f'{v:f}元', f'{v / 10000:f}万元')[spelling]
        elif kind == 'percent' and isinstance(v, Decimal):
            out[name] = f'{(v * 100).normalize():f}%'
        else:
            out[name] = v
    return out


def same_answers(*calls):
    """The results of ``calls`` (functions of no argument, evaluating the same facts), or None when
    the first refuses the facts — each other call then refuses them with the same problems."""
    try:
        first = calls[0]()
    except FactsError as exc:
        for call in calls[1:]:
            with pytest.raises(FactsError) as other:
                call()
            assert other.value.problems == exc.problems
        return None
    return (first, *(call() for call in calls[1:]))


def _view(r):
    """What the light result computes itself, values with their representation (0 vs 0.00)."""
    return [(i.name, i.outcome, str(i.paid), str(i.ceiling)) for i in r.items], str(r.total), r.date, r.valid


@pytest.mark.parametrize('path', POLICIES, ids=lambda p: p.stem)
def test_fast_path_gives_the_full_document(path):
    compiled = _warm(polc.load(path))

    @settings(max_examples=150, **SETTINGS)
    @given(facts=polc.testing.facts(compiled), date=polc.testing.dates(compiled), explain=st.booleans(),
           spelling=st.integers(0, 2))
    def check(facts, date, explain, spelling):
        facts = _json_style(compiled, facts, spelling)
        fast = compiled.evaluate(facts, date=date, explain=explain)
        full = compiled.evaluate_full(facts, date=date, explain=explain)
        assert _view(fast) == _view(full)
        # the document (polc eval --format json, the serve API) is the full path's, byte for byte
        assert json.dumps(fast.to_dict(), ensure_ascii=False) == json.dumps(full.to_dict(), ensure_ascii=False)
        # explanations change no amount
        other = compiled.evaluate(facts, date=date, explain=not explain)
        assert _view(other) == _view(fast)
        assert [i.amount for i in other.items] == [i.amount for i in full.items]

    check()


@pytest.mark.parametrize('path', POLICIES[:4], ids=lambda p: p.stem)
def test_bad_facts_give_the_same_messages(path):
    compiled = _warm(polc.load(path))
    money = [n for n, v in compiled.inputs.items() if v[0] == 'money']

    @settings(max_examples=200, **SETTINGS)
    @given(values=st.lists(MONEY_TEXT | ANY, min_size=len(money), max_size=len(money)),
           date=st.sampled_from(['2025-06-01', None, '2025-13-01', 'tomorrow']))
    def check(values, date):
        facts = dict(zip(money, values))
        answers = same_answers(lambda: compiled.evaluate_full(facts, date=date, explain=False),
                               lambda: compiled.evaluate(facts, date=date, explain=False))
        if answers is not None:
            full, fast = answers
            assert fast.to_dict() == full.to_dict()

    check()


def test_the_fast_path_is_taken_and_light():
    compiled = polc.load(ROOT / 'bench' / 'clauses2.pol')
    facts = {'年度营业收入': '5亿元', '算力服务费用': '100万元', '年度算力服务费': '20万元', '享受年度': 2}
    for _ in range(3):
        r = compiled.evaluate(facts, '2025-06-01', explain=False)
    assert isinstance(r, LightResult) and r._full is None
    # 厦门（八）: 5亿元 is in the 1亿–10亿 tier: 40% of 100万元 = 40万元 (cap 500万元), a ceiling;
    # 漳州（二）: 20万元 in the 10万–30万 tier, second year 40% = 8万元
    assert [(i.name, i.outcome, i.paid, i.ceiling) for i in r.items] == [
        ('企业算力券', 'ceiling', 0, Decimal(400000)), ('首版次软件奖励', 'not_applicable', 0, None),
        ('算力服务补助', 'amount', Decimal(80000), None)]
    assert r.total == Decimal(80000) and r._full is None
    assert r.ceiling_total == Decimal(400000) and r._full is not None      # read from the full result
    assert r.item('算力服务补助').steps == ()                                  # explain=False
    assert compiled.evaluate(facts, '2025-06-01').item('算力服务补助').steps   # explanations when asked
    # strict mode, other spellings and bad facts take the full path
    assert not isinstance(compiled.evaluate(facts, '2025-06-01', strict=True), LightResult)
    assert not isinstance(compiled.evaluate({'年度營業收入': '5亿元'}, '2025-06-01'), LightResult)


def test_today_is_read_once_a_day_and_rolls_over_at_midnight(monkeypatch):
    from polc.compiler.python import fast
    before = dt.datetime(2026, 3, 1, 23, 59, 59).timestamp()      # local time, as date.today()
    now = [before]
    monkeypatch.setattr(fast, '_clock', lambda: now[0])
    monkeypatch.setattr(fast, '_TODAY', (None, 0.0))
    assert fast.today() == dt.date(2026, 3, 1)
    now[0] = before + 0.5
    assert fast.today() == dt.date(2026, 3, 1)
    now[0] = before + 1.5                                           # 00:00:00.5 the next day
    assert fast.today() == dt.date(2026, 3, 2)
    # the public evaluate without a date evaluates on that day (clauses2 runs 2025-04-21 to 2027-12-31)
    compiled = polc.load(ROOT / 'bench' / 'clauses2.pol')
    facts = {'年度算力服务费': '200000', '享受年度': 2}
    for _ in range(3):
        r = compiled.evaluate(facts, explain=False)
    assert isinstance(r, LightResult) and r.date == dt.date(2026, 3, 2) and r.valid
    now[0] = dt.datetime(2028, 1, 1, 0, 0, 1).timestamp()           # after the expiry
    r = compiled.evaluate(facts, explain=False)
    assert r.date == dt.date(2028, 1, 1) and not r.valid and r.total == 0


@pytest.mark.parametrize('amounts', [
    ('5000000000', '1000000.5', '0.01', '200000'),         # all plain: read in one match
    ('5000000000', '100万元', '0.01', '200000'),             # one in 万元: each on its own
    ('5000000000', 1000000, '0.01', '200000'),              # one an integer
    ('5000000000', '1000000\x00200000', '0.01', '200000'),  # a NUL inside an amount: not two amounts
    ('5000000000', '1000000.505', '0.01', '200000'),        # three decimals: not plain
    ('123456789012345678901', '1000000', '0.01', '200000'),  # 21 digits: beyond the range
])
def test_amounts_read_together_as_the_full_path_reads_them(amounts):
    compiled = polc.load(ROOT / 'bench' / 'clauses2.pol')
    names = ('年度营业收入', '算力服务费用', '首版次软件首年度销售收入', '年度算力服务费')
    facts = dict(zip(names, amounts), 主体类型='企业', 首版次软件国内领先=True, 享受年度=1)
    for _ in range(3):
        answers = same_answers(lambda: compiled.evaluate(facts, '2025-06-01', explain=False),
                               lambda: compiled.evaluate_full(facts, '2025-06-01', explain=False))
        if answers is None:
            continue
        fast, full = answers
        assert [(i.name, i.outcome, i.paid, i.ceiling) for i in fast.items] == \
            [(i.name, i.outcome, i.paid, i.ceiling) for i in full.items]
        assert fast.total == full.total
    if amounts == ('5000000000', '1000000.5', '0.01', '200000'):
        # 厦门（八）: 50亿元 ≥ 10亿元: up to 1000000.5 × 30% = 300000.15 (cap 1000万元), a ceiling;
        # 厦门（三）: 0.01 元 < 100万元, not applicable; 漳州（二）: 200000 in 10万–30万, first year 50%
        assert isinstance(fast, LightResult)
        assert [(i.outcome, i.paid, i.ceiling) for i in fast.items] == [
            ('ceiling', 0, Decimal('300000.15')), ('not_applicable', 0, None), ('amount', Decimal(100000), None)]
        assert fast.total == Decimal(100000)


SIGNALS = [decimal.Clamped, decimal.DivisionByZero, decimal.Inexact, decimal.Overflow, decimal.Rounded,
           decimal.Subnormal, decimal.Underflow, decimal.InvalidOperation, decimal.FloatOperation]
ROUNDINGS = [decimal.ROUND_DOWN, decimal.ROUND_HALF_UP, decimal.ROUND_HALF_EVEN, decimal.ROUND_CEILING,
             decimal.ROUND_FLOOR, decimal.ROUND_UP, decimal.ROUND_HALF_DOWN, decimal.ROUND_05UP]
CALLER_CONTEXTS = st.builds(
    lambda prec, rounding, emax, traps, clamp: decimal.Context(prec=prec, rounding=rounding, Emin=-emax, Emax=emax,
                                                               traps=traps, flags=[], clamp=clamp),
    st.integers(1, 30), st.sampled_from(ROUNDINGS), st.integers(1, 40), st.lists(st.sampled_from(SIGNALS)),
    st.integers(0, 1))


@pytest.mark.parametrize('path', FAST, ids=lambda p: p.stem)
def test_the_callers_decimal_context_changes_nothing(path):
    """Whatever decimal context the caller has made current (a precision of 1, any rounding, a tiny
    exponent range, Inexact or Rounded trapped), the fast path gives what it gives in the default
    context, takes the fast path just as often, sets no flag of the caller's context and leaves it
    current."""
    compiled = _warm(polc.load(path))

    @settings(max_examples=120, **SETTINGS)
    @given(facts=polc.testing.facts(compiled), date=polc.testing.dates(compiled), spelling=st.integers(0, 2),
           as_text=st.booleans(), caller=CALLER_CONTEXTS)
    def check(facts, date, spelling, as_text, caller):
        facts = _json_style(compiled, facts, spelling)
        when = date.isoformat() if as_text else date
        expected = compiled.evaluate(facts, date=when, explain=False)
        with decimal.localcontext(caller) as current:
            got = compiled.evaluate(facts, date=when, explain=False)
            assert decimal.getcontext() is current
            assert not [s for s in SIGNALS if current.flags[s]], current.flags
            assert isinstance(got, LightResult) == isinstance(expected, LightResult)
            assert _view(got) == _view(expected)
        assert _view(expected) == _view(compiled.evaluate_full(facts, date=date, explain=False))

    check()


def test_the_fast_path_is_taken_and_context_free_for_the_benchmark_clauses():
    """Both clause sets are written without a switch of the decimal context (the one place that
    does switch, a policy with definitions, still gives the full path's amounts: the test above)."""
    for name in ('clauses.pol', 'clauses2.pol'):
        compiled = _warm(polc.load(ROOT / 'bench' / name))
        assert compiled._fast.__code__.co_name == 'evaluate_json'
        assert '_evaluate_json' not in compiled.namespace
    sample = _warm(polc.load(ROOT / 'tests' / 'data' / 'sample.pol'))
    assert '_evaluate_json' in sample.namespace          # 定义 (definitions): in the exact context


MONEY_FIELDS = st.lists(
    st.one_of(st.text('0123456789', min_size=1, max_size=23),
              st.builds(lambda a, b: a + '.' + b, st.text('0123456789', max_size=22), st.text('0123456789', max_size=3)),
              st.text('0123456789.\x00 _eE+-１٣', max_size=8)),
    min_size=1, max_size=5)


@settings(max_examples=3000, **SETTINGS)
@given(fields=MONEY_FIELDS)
def test_all_amounts_in_one_match_is_each_amount_plain(fields):
    """The one match over every amount (joined by NUL) holds exactly when each amount is a plain
    spelling as runtime_facts._PLAIN_MONEY reads it."""
    import re
    match = re.compile(fast_module._plain_money_all(len(fields))).match
    assert bool(match('\x00'.join(fields))) == all(_PLAIN_MONEY(f) for f in fields), fields


NAMES = ['年度营业收入', '算力服务费用', '首版次软件首年度销售收入', '年度算力服务费', '主体类型',
         '首版次软件国内领先', '享受年度']
OTHER_NAMES = ['年度營業收入', '未知事实', '享受年度 ', '']


@settings(max_examples=400, **SETTINGS)
@given(given_names=st.lists(st.sampled_from(NAMES), unique=True), nulls=st.sets(st.sampled_from(NAMES)),
       others=st.lists(st.sampled_from(OTHER_NAMES), unique=True, max_size=2))
def test_a_name_not_declared_always_takes_the_full_path(given_names, nulls, others):
    """Every declared input given, some left out, some null, with or without names that are not
    declared (another script, a typo, as many as were left out): the fast path answers only when
    every name is declared, and then exactly as the full path."""
    compiled = _warm(polc.load(ROOT / 'bench' / 'clauses2.pol'))
    values = {'年度营业收入': '500000000', '算力服务费用': '1000000.5', '首版次软件首年度销售收入': '2000000',
              '年度算力服务费': '200000', '主体类型': '企业', '首版次软件国内领先': True, '享受年度': 2}
    facts = {n: (None if n in nulls else values[n]) for n in given_names}
    facts.update({n: '1' for n in others})
    answers = same_answers(lambda: compiled.evaluate_full(facts, '2025-06-01', explain=False),
                           lambda: compiled.evaluate(facts, '2025-06-01', explain=False))
    if answers is None:
        return
    full, fast = answers
    if others:
        assert not isinstance(fast, LightResult)
    else:
        assert isinstance(fast, LightResult)
    assert _view(fast) == _view(full)
    assert fast.to_dict() == full.to_dict()


def test_date_texts_are_remembered_only_within_the_validity():
    compiled = _warm(polc.load(ROOT / 'bench' / 'clauses2.pol'))      # 2025-04-21 to 2027-12-31
    facts = {'年度算力服务费': '200000', '享受年度': 1}
    # 漳州（二）: 200000 in 10万–30万, first year 50% = 100000.00
    for _ in range(2):
        before = compiled.evaluate(facts, '2025-04-20', explain=False)
        inside = compiled.evaluate(facts, '2025-04-21', explain=False)
        after = compiled.evaluate(facts, '2028-01-01', explain=False)
        assert (before.valid, before.total, before.date) == (False, 0, dt.date(2025, 4, 20))
        assert [i.outcome for i in before.items] == ['not_applicable'] * 3
        assert (inside.valid, inside.total, inside.date) == (True, Decimal('100000.00'), dt.date(2025, 4, 21))
        assert (after.valid, after.total) == (False, 0)
        assert before.to_dict() == compiled.evaluate_full(facts, '2025-04-20', explain=False).to_dict()
    assert set(compiled.namespace['_VD']) == {'2025-04-21'}
    with pytest.raises(FactsError):
        compiled.evaluate(facts, '2025-13-01', explain=False)
