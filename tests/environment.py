"""Loaded by pytest before Django is set up (pytest.ini: -p tests.environment).

The test run is a development setting: it needs no production secret.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
