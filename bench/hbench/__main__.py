"""Entry point: `python -m hbench [options]` (see options.py or --help)."""
from __future__ import annotations

import os
import shlex
import signal
import sys

from . import options, report, runner


def _terminate(signum, _frame):
    # Turn SIGTERM/SIGHUP into an exception so that every `with ServerProcess(...)` stops its server.
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str]) -> int:
    args = options.parse(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    if "ours" in args.servers and not args.hamburger_bin.exists():
        print(f"hbench: {args.hamburger_bin} not found; run `swift build -c release` first", file=sys.stderr)
        return 2
    if not args.model.exists():
        print(f"hbench: model {args.model} not found; run `make setup` first", file=sys.stderr)
        return 2
    try:
        results = runner.run_all(args)
    except KeyboardInterrupt as stop:
        print(f"hbench: interrupted ({stop}); servers stopped", file=sys.stderr)
        return 130
    # scripts/bench.sh passes its own command line, which is what a reader should rerun.
    argv_line = os.environ.get("HBENCH_INVOCATION") or "python -m hbench " + " ".join(shlex.quote(a) for a in argv)
    path = report.write(results, args, argv_line.strip())
    print(f"hbench: wrote {path} in {results['duration_s'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
