"""No-silent-corruption campaign: many random fault mixtures, each run exact or failed cleanly.

python -m benchmarks.campaign [RUNS] [BYTES]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.test_reader_faults import PROFILES, RATE_KINDS, one_run


def random_spec(r: random.Random) -> str:
    items = [
        f"{k}={r.choice([1e-5, 1e-4, 5e-4, 2e-3])}" for k in r.sample(RATE_KINDS, r.randint(1, 4))
    ]
    if r.random() < 0.5:
        kind = r.choice(["stall", "reset", "disconnect", "garbage", "drop"])
        param = {"stall": ":0.2", "disconnect": ":0.1", "garbage": ":20"}.get(kind, "")
        items.append(f"{kind}@{r.randint(0, 200000)}{param}")
    return ",".join(items)


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    length = int(sys.argv[2], 0) if len(sys.argv) > 2 else 0x4000
    r = random.Random(20261126)
    outcomes: Counter[str] = Counter()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as d:
        for i in range(runs):
            profile = r.choice(sorted(PROFILES))
            spec = random_spec(r)
            seed = r.randrange(1 << 30)
            try:
                outcomes[one_run(Path(d), profile, spec, seed, length)] += 1
            except AssertionError as exc:
                outcomes["CORRUPT"] += 1
                print(f"run {i}: {exc}", flush=True)
            if (i + 1) % 100 == 0:
                print(f"{i + 1} runs: {dict(outcomes)} ({time.monotonic() - t0:.0f} s)", flush=True)
    print(f"campaign: {runs} runs of {length} bytes: {dict(outcomes)}")
    print(f"{outcomes['exact'] + outcomes['failed']} passed, {outcomes['CORRUPT']} failed")
    return 1 if outcomes["CORRUPT"] else 0


if __name__ == "__main__":
    sys.exit(main())
