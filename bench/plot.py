#!/usr/bin/env python3
"""Draws bench/benchmarks.png from the newest bench/results/bench-*.json (or the file given):

* left: added latency at c=1, percentile by percentile (clawgate's paths and LiteLLM's, each
  minus the direct series of the same run), log scale;
* right: the throughput frontier, p99 latency against the offered rate (direct, clawgate pinned
  to one core, LiteLLM pinned to one core), with the 1 / 5 / 50 ms thresholds.

Run it with bench/run (which makes a venv with matplotlib), or any python that has matplotlib.
"""

import glob
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def newest_results():
    files = sorted(glob.glob(os.path.join(HERE, "results", "bench-*.json")))
    if not files:
        sys.exit("plot.py: no bench/results/bench-*.json: run the benchmark first")
    return files[-1]


def plot_latency(ax, results):
    series = []
    for phase in ("latency_clawgate", "latency_litellm"):
        p = results.get(phase)
        if p:
            series.extend(p["paths"])
    if not series:
        ax.set_title("added latency: not measured")
        return
    for path in series:
        points = [(q, us) for q, us in path["added_distribution"] if 1 <= q <= 99.9]
        qs = [q for q, _ in points]
        ms = [max(us, 1.0) / 1000.0 for _, us in points]
        style = "--" if path["label"].startswith("LiteLLM") else "-"
        ax.plot(qs, ms, style, label=path["label"])
    ax.set_yscale("log")
    ax.set_xlabel("percentile")
    ax.set_ylabel("added latency vs. direct (ms, log)")
    ax.set_title("added latency at c=1 (non-streaming chat)")
    ax.axhline(0.1, color="grey", linewidth=0.8, linestyle=":")
    ax.text(2, 0.11, "target p50 0.1 ms", color="grey", fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)


def plot_frontier(ax, results):
    frontiers = results.get("throughput") or []
    if not frontiers:
        ax.set_title("throughput: not measured")
        return
    for f in frontiers:
        steps = f["steps"]
        rates = [s["offered_rps"] for s in steps]
        p99 = [max(s["p99_ms"], 0.01) for s in steps]
        ax.plot(rates, p99, "o-", label=f["label"])
        for s in steps:
            if s["errors"]:
                ax.annotate("errors", (s["offered_rps"], max(s["p99_ms"], 0.01)), fontsize=7)
    for t in (1, 5, 50):
        ax.axhline(t, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("offered rate (req/s, log)")
    ax.set_ylabel("p99 latency (ms, log)")
    ax.set_title("throughput frontier (gateway pinned to one core)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else newest_results()
    with open(path) as f:
        results = json.load(f)
    machine = results["machine"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    plot_latency(left, results)
    plot_frontier(right, results)
    fig.suptitle(
        f"clawgate-bench {machine['date']}: {machine['cores']} cores, "
        f"load {machine['load_average']} at start, {results.get('load_average_end', '?')} at end",
        fontsize=10,
    )
    fig.tight_layout()
    out = os.path.join(HERE, "benchmarks.png")
    fig.savefig(out, dpi=110)
    print(f"plot: {out} (from {path})")


if __name__ == "__main__":
    main()
