"""``polc.serve``: the policies as an ASGI application (see docs/commands/serve.md).

    from polc.serve import app
    application = app(['policies/'])       # uvicorn module:application

Needs the ``serve`` extra (Starlette, uvicorn, watchfiles, msgspec): ``pip install 'polc[serve]'``.
"""
from polc.compiler.serve.app import app
from polc.compiler.serve.registry import ServeError

__all__ = ['app', 'ServeError']
