"""The one timing loop of repr's PyTorch anchors, the twin of cli/bench/measure.ts:
warm-up runs, then rounds of at least 25 ms each for `seconds` (and at least
`min_rounds` rounds); the rate is the median round's runs per second. Peak
bytes are the process's peak resident set (getrusage's maxrss) less the
resident set when timing began, so call `measure` after the set-up it should
not count; in a process that ran another workload first, an earlier, higher
peak hides this one's (then it reads 0), so give each workload its own process
when its peak matters.
"""
import resource
import time


def resident_bytes() -> int:
    """The resident set now, from /proc/self/statm (Linux), in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def peak_resident_bytes() -> int:
    """The process's peak resident set so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(run, seconds: float = 3.0, warmup: int = 3, min_rounds: int = 3, round_ms: float = 25.0, sync=lambda: None) -> dict:
    """Times `run` as the module says: runs per second (median of rounds), rounds and peak bytes.
    `sync` waits for queued work (a GPU's) after the warm-up and at the end of each round."""
    base = resident_bytes()
    for _ in range(warmup):
        run()
    sync()
    rates = []
    start = time.perf_counter()
    while len(rates) < min_rounds or time.perf_counter() - start < seconds:
        n, t0 = 0, time.perf_counter()
        while n == 0 or time.perf_counter() - t0 < round_ms / 1000:
            run()
            n += 1
        sync()
        rates.append(n / (time.perf_counter() - t0))
    rates.sort()
    return {"runs_per_s": round(rates[len(rates) // 2], 2), "rounds": len(rates), "peak_bytes": max(0, peak_resident_bytes() - base)}
