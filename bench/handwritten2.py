"""bench/clauses2.pol written by hand in plain Python from the policy texts (厦门（八）（三）, 漳州（二）).

Typed facts (Decimal money, int, bool, str), every amount rounded to the fen half up once.
The reference of the second clause set in bench/evaluate.py."""
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal('0.01')
YI = Decimal(100000000)
TEN_YI = Decimal(1000000000)
RATE_YEAR = {1: Decimal('0.50'), 2: Decimal('0.40'), 3: Decimal('0.30')}
_30, _40, _50 = Decimal('0.30'), Decimal('0.40'), Decimal('0.50')
CAP_1000W, CAP_500W, CAP_300W, CAP_200W = (Decimal(10000000), Decimal(5000000), Decimal(3000000),
                                           Decimal(2000000))
W100, W10, W30 = Decimal(1000000), Decimal(100000), Decimal(300000)
ZERO = Decimal(0)


def evaluate(f):
    out = {}
    # 厦门（八）：年度营业收入 10亿元（含）以上 30%、1000万；1亿（含）—10亿 40%、500万；1亿以下 50%、200万
    fee = f['算力服务费用']
    if f['主体类型'] == '企业' and fee > 0:
        rev = f['年度营业收入']
        if rev >= TEN_YI:
            v = min(fee * _30, CAP_1000W)
        elif rev >= YI:
            v = min(fee * _40, CAP_500W)
        else:
            v = min(fee * _50, CAP_200W)
        out['企业算力券'] = ('ceiling', v.quantize(FEN, ROUND_HALF_UP))
    else:
        out['企业算力券'] = ('not_applicable', None)
    # 厦门（三）：国内领先、首年度销售总额不低于100万元，最高 30%，单个项目最高 300万元
    sales = f['首版次软件首年度销售收入']
    if f['首版次软件国内领先'] and sales >= W100:
        out['首版次软件奖励'] = ('ceiling', min(sales * _30, CAP_300W).quantize(FEN, ROUND_HALF_UP))
    else:
        out['首版次软件奖励'] = ('not_applicable', None)
    # 漳州（二）：企业；10万元（含）至30万元（不含）按年 50%/40%/30%；30万元（含）以上按省级政策
    spend = f['年度算力服务费']
    if f['主体类型'] != '企业':
        out['算力服务补助'] = ('not_applicable', None)
    elif W10 <= spend < W30:
        rate = RATE_YEAR.get(f['享受年度'])
        out['算力服务补助'] = ('amount', (spend * rate).quantize(FEN, ROUND_HALF_UP)) if rate is not None \
            else ('not_applicable', None)
    elif spend >= W30:
        out['算力服务补助'] = ('deferred', None)
    else:
        out['算力服务补助'] = ('not_applicable', None)
    total = sum((a for k, a in out.values() if k == 'amount'), ZERO)
    return out, total
