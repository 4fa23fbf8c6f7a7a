"""The default sample (2,000 talents / 300 needs, seed 42), generated once per test session.

Imported by the sample and evaluation tests (not a conftest, so that it stays with the files
that use it).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from data.sample import SampleData, generate, write_sample


@lru_cache(maxsize=1)
def default_sample() -> SampleData:
    """The default sample, generated once."""
    return generate()


@lru_cache(maxsize=1)
def default_sample_dir() -> Path:
    """A temporary folder holding every file of the default sample (removed at exit)."""
    folder = Path(tempfile.mkdtemp(prefix="talentmatch-sample-"))
    atexit.register(shutil.rmtree, folder, True)
    write_sample(default_sample(), folder)
    return folder
