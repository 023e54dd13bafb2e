"""polc.dsl: the .pol language — text, parser, AST and checks.  Never imports polc.compiler."""
