import os
import tempfile

# The golden .pol files hold deliberate mistakes: they are inputs of tests, not policies to run.
collect_ignore_glob = ['golden/*', 'golden/**/*']

# The suite uses its own parse cache, never the user's.
os.environ.setdefault('POLC_CACHE_DIR', tempfile.mkdtemp(prefix='polc-test-cache-'))
