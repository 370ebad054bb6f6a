"""How evenly brand-keyed comments load a group of Kafka workers.

`stormwatch produce` keys every comment by its brand, and kafka-python's producer puts a
key on partition murmur2(key) mod partitions (`topics.default_partition`); a consumer
group gives each worker a share of the partitions. The busiest worker bounds the group.
For random sets of brand names this prints the busiest worker's load over the mean
(median and 90th percentile over the sets), with brands of equal volume and of volumes
log-uniform over 40-40,000 comments a day. No broker needed: the same hash, counted.

    python benchmarks/partition_balance.py [--workers 2] [--partitions 4] [--sets 200]
"""

from __future__ import annotations

import argparse

import numpy as np
from rich.console import Console
from rich.table import Table

from stormwatch.kafka.topics import default_partition

BRAND_COUNTS = (8, 20, 100, 1000)


def busiest_over_mean(
    brands: int, partitions: int, workers: int, *, sets: int, mixed_sizes: bool
) -> tuple[float, float]:
    """Median and 90th percentile, over `sets` random sets of brand names, of the
    busiest worker's load over the mean (partitions dealt to workers in turn)."""
    rng = np.random.default_rng(0)
    ratios = []
    for t in range(sets):
        names = [f"brand-{t}-{i}".encode() for i in range(brands)]
        if mixed_sizes:
            volume = np.exp(rng.uniform(np.log(40), np.log(40_000), brands))
        else:
            volume = np.ones(brands)
        partition = np.array([default_partition(n, partitions) for n in names])
        load = np.bincount(partition, weights=volume, minlength=partitions)
        per_worker = np.array([load[w::workers].sum() for w in range(workers)])
        ratios.append(per_worker.max() / per_worker.mean())
    return float(np.median(ratios)), float(np.quantile(ratios, 0.9))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--sets", type=int, default=200)
    args = parser.parse_args()
    table = Table(
        title=f"Busiest of {args.workers} workers over the mean, {args.partitions} "
        f"partitions, {args.sets} sets of brand names: median (90th percentile)"
    )
    for col in ("brands", "equal volumes", "volumes 40-40,000 a day"):
        table.add_column(col, justify="right")
    for brands in BRAND_COUNTS:
        cells = []
        for mixed in (False, True):
            median, p90 = busiest_over_mean(
                brands, args.partitions, args.workers, sets=args.sets, mixed_sizes=mixed
            )
            cells.append(f"{median:.2f} ({p90:.2f})")
        table.add_row(f"{brands:,}", *cells)
    Console().print(table)


if __name__ == "__main__":
    main()
