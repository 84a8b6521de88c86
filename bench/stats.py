"""What every benchmark here reports: nearest-rank percentiles of measured latencies."""

from __future__ import annotations

import math


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list; NaN for an empty one."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def latency_summary(latencies_s: list[float]) -> dict[str, float]:
    """p50/p90/p95/p99/p99.9, max and mean in ms (3 decimals) of latencies in seconds; NaN for none."""
    ordered = sorted(latencies_s)
    out = {f"p{name}_ms": round(percentile(ordered, q) * 1000, 3) for name, q in (("50", 0.50), ("90", 0.90), ("95", 0.95), ("99", 0.99), ("99.9", 0.999))}
    out["max_ms"] = round(ordered[-1] * 1000, 3) if ordered else math.nan
    out["mean_ms"] = round(sum(ordered) / len(ordered) * 1000, 3) if ordered else math.nan
    return out
