"""The ``polc`` command line.  Thin: every command calls library functions.

Exit codes: 0 success; 1 diagnostics, failed cases; 2 usage, I/O or bad facts;
3 an internal error (a bug in polc, reported without a traceback).
"""
from __future__ import annotations

import sys

import click

from polc.compiler.cli import analysis, diff, evaluate, policy, prepare, serve, tables
from polc.compiler.cli.common import EXIT_INTERNAL, echo_err


@click.group(context_settings={'help_option_names': ['-h', '--help']})
@click.version_option(package_name='polc', prog_name='polc')
def cli():
    """polc：政策语言（.pol）的编译器。check 检查，eval 计算并说明，build 生成 Python 模块，test 运行案例。"""


for _module, _names in ((policy, ('check', 'fmt', 'build', 'doc', 'schema', 'lsp')),
                        (evaluate, ('eval_', 'explain', 'test')), (tables, ('report', 'sql')),
                        (prepare, ('prepare',)), (analysis, ('verify', 'mutate')), (diff, ('diff',)),
                        (serve, ('serve',))):
    for _name in _names:
        cli.add_command(getattr(_module, _name))


def main(argv=None):
    try:
        cli.main(args=argv, prog_name='polc', standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        echo_err('已中断')
        sys.exit(130)
    except Exception as exc:          # a bug in polc: say so, without a traceback
        echo_err(f'polc 内部错误（{type(exc).__name__}: {exc}）。请把命令与输入文件报告给 polc 维护者。')
        sys.exit(EXIT_INTERNAL)


if __name__ == '__main__':
    main()
