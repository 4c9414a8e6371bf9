"""The settings mypy's Django plugin loads: the project's own, with the development defaults, so
that `mypy` runs without DEBUG or SECRET_KEY in the environment (`make lint`, CI, pre-commit)."""

import os

os.environ.setdefault("DEBUG", "true")

from config.settings import *  # noqa: F403 - the settings themselves, read once DEBUG is set
