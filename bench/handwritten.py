"""The clauses of bench/clauses.pol written by hand in plain Python, from the policy texts.

What a good engineer would write without polc: Decimal money, every item rounded to the fen
half up, the same outcome for every applicant.  Used as the reference in bench/run.py.
"""
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal('0.01')
ZERO = Decimal(0)
WAN = Decimal(10000)
_30 = Decimal('0.30')
_40 = Decimal('0.40')
_50 = Decimal('0.50')
_60 = Decimal('0.60')
SCHEDULE = {1: Decimal('0.50'), 2: Decimal('0.40'), 3: Decimal('0.30')}
LEVELS = ((100000000, 1500000), (80000000, 1000000), (50000000, 800000), (30000000, 500000))
LEVELS = tuple((Decimal(t), Decimal(a)) for t, a in LEVELS)


def _fen(x):
    return x.quantize(FEN, rounding=ROUND_HALF_UP)


def evaluate(f):
    """facts (typed: Decimal money and percentages, int, bool) -> {item: (outcome, amount)}, total."""
    out = {}
    # 厦门（三）首版次软件：最高不超过30%，单个项目最高不超过300万元
    sales = f['首年度销售收入']
    if f['首版次软件国内领先'] and sales >= 1000000:
        out['首版次软件奖励'] = ('ceiling', _fen(min(sales * _30, Decimal(3000000))))
    else:
        out['首版次软件奖励'] = ('not_applicable', None)
    # 厦门（八）算力券：按年度营业收入分档
    fee = f['算力服务费用']
    rev = f['年度营业收入']
    if fee > 0:
        if rev >= 1000000000:
            v = min(fee * _30, Decimal(10000000))
        elif rev >= 100000000:
            v = min(fee * _40, Decimal(5000000))
        else:
            v = min(fee * _50, Decimal(2000000))
        out['算力券补助'] = ('ceiling', _fen(v))
    else:
        out['算力券补助'] = ('not_applicable', None)
    # 漳州（二）：30万元（含）以上按省级政策；10万元（含）至30万元（不含）按年 50%/40%/30%
    spend = f['年度算力服务费']
    if spend >= 300000:
        out['算力服务补助'] = ('deferred', None)
    elif spend >= 100000:
        rate = SCHEDULE.get(f['享受年度'])
        out['算力服务补助'] = ('amount', _fen(spend * rate)) if rate is not None else ('not_applicable', None)
    else:
        out['算力服务补助'] = ('not_applicable', None)
    # 漳州（六）晋级补差
    if f['营收增速'] >= f['行业平均增速']:
        income = f['营业收入']
        for threshold, award in LEVELS:
            if income >= threshold:
                out['晋级奖励'] = ('amount', _fen(max(award - f['已获晋级奖励'], ZERO)))
                break
        else:
            out['晋级奖励'] = ('not_applicable', None)
    else:
        out['晋级奖励'] = ('not_applicable', None)
    # 廊坊 2：落户50万；攻关60%、使用50%就高；每个单位每年最高100万元
    landing = Decimal(500000) if f['当年落户'] else None
    research = _fen(f['攻关算力成本'] * _60) if f['攻关算力成本'] > 0 else None
    usage = _fen(f['本地算力使用费用'] * _50) if f['本地算力使用费用'] > 0 else None
    best_name, best = None, ZERO
    for name, v in (('攻关算力券', research), ('使用算力券', usage)):
        if v is not None and v > best:
            best_name, best = name, v
    paid_landing = landing or ZERO
    room = Decimal(1000000)
    paid_landing = min(paid_landing, room)
    best_paid = min(best, room - paid_landing)
    out['落户算力券'] = ('amount', paid_landing) if landing is not None else ('not_applicable', None)
    for name, v in (('攻关算力券', research), ('使用算力券', usage)):
        if v is None:
            out[name] = ('not_applicable', None)
        elif name == best_name:
            out[name] = ('amount', best_paid)
        else:
            out[name] = ('amount', ZERO)        # set aside: 就高不重复
    total = sum((a for k, a in out.values() if k == 'amount' and a is not None), ZERO)
    return out, total
