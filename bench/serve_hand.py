"""The reference for the service benchmark: a minimal hand-written Starlette endpoint that reads
the same JSON request as ``polc serve`` and calls bench/handwritten.py.

    uvicorn --app-dir bench serve_hand:app --port 8001

What a portal team would write by hand: parse the body (numbers as Decimal), turn the money
strings and percentages into Decimals, call the function, answer the amounts as strings.
No checking of the facts beyond what Decimal() does, no explanations, no validity dates."""
import json
from decimal import Decimal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import handwritten

MONEY = ('首年度销售收入', '年度营业收入', '算力服务费用', '年度算力服务费', '营业收入', '已获晋级奖励',
         '攻关算力成本', '本地算力使用费用')
PERCENT = ('营收增速', '行业平均增速')
DEFAULTS = {'首版次软件国内领先': False, '享受年度': 1, '当年落户': False}
HUNDRED = Decimal(100)


async def evaluate(request: Request):
    doc = json.loads(await request.body(), parse_float=Decimal)
    facts = doc['facts']
    f = dict(DEFAULTS)
    f.update((k, v) for k, v in facts.items() if k not in MONEY and k not in PERCENT)
    for k in MONEY:
        f[k] = Decimal(facts.get(k, 0))
    for k in PERCENT:
        v = facts.get(k, '0%')
        f[k] = Decimal(v[:-1]) / HUNDRED if isinstance(v, str) and v.endswith('%') else Decimal(v)
    out, total = handwritten.evaluate(f)
    body = {'items': {k: [o, None if a is None else f'{a:f}'] for k, (o, a) in out.items()},
            'total': f'{total:.2f}'}
    return Response(json.dumps(body, ensure_ascii=False).encode(), media_type='application/json')


app = Starlette(routes=[Route('/evaluate', evaluate, methods=['POST'])])
