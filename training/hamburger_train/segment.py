"""Entropy segmentation of a response into groups of 1..K tokens (HAMBURGER.md, Training 2).

Greedy, left to right ("sliding" rule): token j joins the open group if H_j < tau and the group has
fewer than K tokens; otherwise it opens a new group. The first response token always opens a group.
A group never continues past an end-of-sequence token (it is the last token of the response anyway).
"""
from __future__ import annotations

import math
from collections import Counter


def segment(entropies: list[float], tau: float, max_steps: int) -> list[int]:
    """Group sizes (summing to len(entropies))."""
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    sizes: list[int] = []
    for j, h in enumerate(entropies):
        if j > 0 and h < tau and sizes[-1] < max_steps:
            sizes[-1] += 1
        else:
            sizes.append(1)
    return sizes


def tau_from_confidence(p: float, rest: int) -> float:
    """Entropy (nats) of a distribution with top probability p and the rest spread uniformly over `rest`
    tokens: a way to state tau as a confidence."""
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    return -p * math.log(p) - (1 - p) * math.log((1 - p) / rest)


def size_histogram(all_sizes: list[list[int]], max_steps: int) -> dict:
    c = Counter(s for sizes in all_sizes for s in sizes)
    n_groups = sum(c.values())
    n_tok = sum(k * v for k, v in c.items())
    return {"groups": n_groups, "tokens": n_tok, "tokens_per_group": n_tok / max(n_groups, 1),
            "fraction_by_size": {k: c.get(k, 0) / max(n_groups, 1) for k in range(1, max_steps + 1)}}
