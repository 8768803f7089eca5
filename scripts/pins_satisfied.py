"""Exit 0 when every pin (`name==version`, extras allowed) is installed at exactly that version, else 1.

Arguments are pins or requirements files (one pin per line, `#` comments). The set-up scripts call it
to skip `pip install` on reruns, which keeps them fast and offline-friendly.
"""
import re
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def pins(args):
    for arg in args:
        lines = Path(arg).read_text().splitlines() if "==" not in arg else [arg]
        for line in lines:
            line = line.split("#")[0].strip()
            if line:
                yield re.sub(r"\[.*\]", "", line).split("==")


for name, wanted in pins(sys.argv[1:]):
    try:
        if version(name) != wanted:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
