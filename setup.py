"""Build script of jvb-join; the metadata lives in setup.cfg."""

import os
import re

from setuptools import setup


def read_version():
    """``__version__`` from jvbjoin/__init__.py, read as text so the package is not imported."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "jvbjoin", "__init__.py"), encoding="utf-8") as handle:
        match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', handle.read(), re.M)
    if not match:
        raise RuntimeError("no __version__ in jvbjoin/__init__.py")
    return match.group(1)


setup(version=read_version())
