"""``polc serve``: the policies as an HTTP service (Starlette on uvicorn) with an applicant page."""
from __future__ import annotations

import json
import logging
import os
import sys

import click

from polc.compiler.cli.common import EXIT_DIAG, EXIT_USAGE, echo_err


@click.command()
@click.argument('paths', nargs=-1)
@click.option('--host', default='127.0.0.1', show_default=True, help='监听地址')
@click.option('--port', default=8000, show_default=True, type=click.IntRange(0, 65535), help='监听端口')
@click.option('--workers', default=1, show_default=True, type=click.IntRange(1, 64), help='工作进程数')
@click.option('--reload', 'reload_', is_flag=True, help='政策文件修改后自动换用新版本；未通过检查的修改不生效')
@click.option('--max-body', default=1024 * 1024, show_default=True, type=click.IntRange(1, 1 << 30),
              help='请求体上限（字节），超过回答 413')
@click.option('--no-access-log', is_flag=True, help='不输出每个请求的访问日志')
def serve(paths, host, port, workers, reload_, max_body, no_access_log):
    """把政策作为 HTTP 服务提供：JSON 接口（/v1/policies …）与申请人页面（/）。默认目录 policies/。"""
    try:
        import uvicorn
        from polc.compiler.serve.app import app
        from polc.compiler.serve.registry import ServeError
    except ImportError as exc:
        echo_err(f'错误[E-USAGE]: polc serve 需要 starlette、uvicorn 与 watchfiles：pip install "polc[serve]"（{exc}）')
        sys.exit(EXIT_USAGE)
    paths = list(paths) or ['policies']
    logging.basicConfig(level=logging.INFO, format='%(message)s', stream=sys.stderr)
    if no_access_log:
        logging.getLogger('polc.serve.access').setLevel(logging.WARNING)
    try:
        application = app(paths, reload=reload_, max_body=max_body, access_log=not no_access_log)
    except ServeError as exc:
        echo_err(f'错误[E-SERVE]: {exc}')
        sys.exit(EXIT_DIAG if '政策有错误' in str(exc) else EXIT_USAGE)
    n = len(application.state.registry.entries)
    echo_err(f'polc serve：{n} 项政策，http://{host}:{port}/（接口说明 /openapi.json）')
    options = dict(host=host, port=port, access_log=False, log_level='warning', proxy_headers=True,
                   server_header=False)
    if workers > 1:
        from polc.compiler.serve.hosting import ENV_CONFIG
        os.environ[ENV_CONFIG] = json.dumps({'paths': [os.path.abspath(p) for p in paths], 'reload': reload_,
                                             'max_body': max_body, 'access_log': not no_access_log})
        uvicorn.run('polc.compiler.serve.app:from_env', factory=True, workers=workers, **options)
    else:
        uvicorn.run(application, **options)
