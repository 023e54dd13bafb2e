# The golden .pol files hold deliberate mistakes: they are inputs of tests, not policies to run.
collect_ignore_glob = ['golden/*', 'golden/**/*']
