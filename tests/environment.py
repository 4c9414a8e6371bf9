"""Loaded by pytest before Django is set up (pytest.ini: -p tests.environment).

The test run is a development setting: it needs no production secret. Code under test queues
Celery tasks into an in-memory broker, so a test never leaves tasks on a real Redis for some
other worker to pick up; the integration tests that run a real worker take the Redis address
from TEST_REDIS_URL.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
# The test client and the browser tests speak plain HTTP to the test server.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("TEST_REDIS_URL", os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"))
os.environ["CELERY_BROKER_URL"] = "memory://"
# Most tests sign staff in with a password alone; tests/test_sign_in.py turns the requirement on.
os.environ.setdefault("STAFF_MFA_REQUIRED", "false")
