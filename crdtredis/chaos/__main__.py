"""``python -m crdtredis.chaos [--minutes M | --seconds S] [--seed N] [--out report.json]``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict

from crdtredis.chaos.run import run

DEFAULT_SEED = 1


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m crdtredis.chaos", description=__doc__)
    parser.add_argument("--minutes", type=float, help="length of the faulty part")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", help="write the JSON report here")
    options = parser.parse_args()
    # The regions' own warnings (restarts seen, identities renewed) are expected here.
    logging.basicConfig(level=logging.ERROR)
    seconds = options.minutes * 60 if options.minutes else options.seconds
    report = run(options.seed, seconds)
    print(report.summary())
    if options.out:
        with open(options.out, "w") as out:
            json.dump({**asdict(report), "ok": report.ok}, out, indent=2)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
