"""The project's settings with one extra URL, `/bench/trivial`, for `bench/http_load.py`."""

from config.settings import *  # noqa: F403 - the project's settings, one of them changed below

ROOT_URLCONF = "bench.urls"
