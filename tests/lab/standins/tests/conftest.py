"""pytest set-up for the lab stand-in unit tests: make every daemon's modules importable.

Each stand-in package keeps its daemon under <package>/usr/share/<name>/standin/; all of
those directories go on sys.path (module names must therefore differ between packages).
"""
import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
STANDINS = os.path.dirname(HERE)

for path in sorted(glob.glob(os.path.join(STANDINS, "*", "usr", "share", "*", "standin"))):
    if path not in sys.path:
        sys.path.insert(0, path)
