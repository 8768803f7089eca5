"""Self-distillation data: the base's own greedy responses (batched, bf16) with per-token entropies.

Each output line (JSONL): {"prompt": str, "prompt_ids": [...], "response_ids": [...], "entropy": [...]}
where entropy[j] (nats) comes from the logits that predicted response_ids[j] in the same pass.
Resumable: prompts already answered in the output file, or in any other data*.jsonl beside it, are skipped.

    python -m hamburger_train.datagen --out training/runs/full/data.jsonl --n-prompts 4200
    python -m hamburger_train.datagen --out RUN/data-0.jsonl --prompts-file RUN/prompts.jsonl --shard 0/2

With --prompts-file (sources.py) the prompts and their source come from that file, in its order, and a
shard takes the prompts whose hash falls to it (so a rebuilt, larger file keeps every prompt in its shard);
each output line then also has "source".
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from tqdm import tqdm

from .base import DEFAULT_GGUF, EOS_IDS, chat_ids, device, load_hf
from .prompts import build_prompts
from .qa import QA_ITEMS

EVAL_HOLDOUT = 120  # prompts never used for training: the evaluation set (evaluate.py)


def split_prompts(n_train: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """(training prompts, held-out evaluation prompts); QA questions are excluded from both."""
    exclude = {q for q, _ in QA_ITEMS}
    allp = build_prompts(n_train + EVAL_HOLDOUT, seed=seed, exclude=exclude)
    return allp[EVAL_HOLDOUT:], allp[:EVAL_HOLDOUT]


def answered_prompts(folder: Path) -> set[str]:
    """Prompts already answered in any data*.jsonl of a run folder (a line cut by a stopped writer is skipped)."""
    done = set()
    for f in sorted(Path(folder).glob("data*.jsonl")):
        for line in f.open():
            try:
                done.add(json.loads(line)["prompt"])
            except (json.JSONDecodeError, KeyError):
                pass
    return done


def entropy_nats(logits: torch.Tensor) -> torch.Tensor:
    lp = torch.log_softmax(logits.float(), dim=-1)
    return -(lp.exp() * lp).sum(-1)


@torch.no_grad()
def generate_batch(model, batch_ids: list[list[int]], max_new: int, dev) -> list[tuple[list[int], list[float]]]:
    """Left-padded batched greedy generation; returns (response ids up to and incl. EOS, entropies)."""
    L = max(len(x) for x in batch_ids)
    pad = EOS_IDS[0]
    inp = torch.full((len(batch_ids), L), pad, dtype=torch.long)
    att = torch.zeros((len(batch_ids), L), dtype=torch.long)
    for i, x in enumerate(batch_ids):
        inp[i, L - len(x):] = torch.tensor(x)
        att[i, L - len(x):] = 1
    out = model.generate(input_ids=inp.to(dev), attention_mask=att.to(dev), max_new_tokens=max_new,
                         do_sample=False, output_logits=True, return_dict_in_generate=True,
                         pad_token_id=pad, eos_token_id=list(EOS_IDS))
    seqs = out.sequences[:, L:].cpu()
    ents = torch.stack([entropy_nats(l) for l in out.logits], dim=1).cpu()  # [B, T]
    res = []
    for i in range(len(batch_ids)):
        ids, hs = [], []
        for j in range(seqs.shape[1]):
            t = int(seqs[i, j])
            ids.append(t)
            hs.append(round(float(ents[i, j]), 4))
            if t in EOS_IDS:
                break
        res.append((ids, hs))
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", default=str(DEFAULT_GGUF))
    ap.add_argument("--out", required=True)
    ap.add_argument("--n-prompts", type=int, default=4200)
    ap.add_argument("--max-new-tokens", type=int, default=112)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--time-budget", type=float, default=1e9, help="seconds; stop cleanly after this")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shard", default="0/1", help="i/n: this process takes prompts i, i+n, ...")
    ap.add_argument("--prompts-file", help="JSONL of {prompt, source} (sources.py) instead of the v1 templates")
    ap.add_argument("--limit", type=int, default=0, help="answer at most this many prompts (0: all)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads; 1 is much faster than 2 on a machine shared with other work")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    si, sn = (int(x) for x in a.shard.split("/"))

    dev = device()
    dtype = torch.bfloat16
    model, tok = load_hf(a.gguf, dtype=dtype)
    model.to(dev)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and out.stat().st_size > 0:  # drop a last line cut by a stopped writer before appending
        data = out.read_bytes()
        if not data.endswith(b"\n"):
            out.write_bytes(data[:data.rfind(b"\n") + 1])
    done = answered_prompts(out.parent)
    if a.prompts_file:
        from .sources import prompt_hash, read_prompts_file

        rows = read_prompts_file(a.prompts_file)
        source = {r["prompt"]: r.get("source", "") for r in rows}
        todo = [r["prompt"] for r in rows if prompt_hash(r["prompt"]) % sn == si and r["prompt"] not in done]
    else:
        train_prompts, _ = split_prompts(a.n_prompts, a.seed)
        source = {}
        todo = [p for k, p in enumerate(train_prompts) if k % sn == si and p not in done]
    if a.limit:
        todo = todo[:a.limit]
    enc = [(p, chat_ids(tok, p)) for p in todo]
    # Random order (a time budget then still gives a representative subset), sorted by length inside
    # windows of 8 batches so that a batch has little padding.
    win = 8 * a.batch_size
    enc = [e for i in range(0, len(enc), win) for e in sorted(enc[i:i + win], key=lambda x: len(x[1]))]
    t0 = time.time()
    n_tok = 0
    bar = tqdm(total=len(enc), desc="datagen", mininterval=10)
    with out.open("a") as f:
        for i in range(0, len(enc), a.batch_size):
            if time.time() - t0 > a.time_budget:
                print(f"datagen: time budget reached after {i} prompts")
                break
            chunk = enc[i:i + a.batch_size]
            res = generate_batch(model, [c[1] for c in chunk], a.max_new_tokens, dev)
            for (p, ids), (rid, hs) in zip(chunk, res):
                rec = {"prompt": p, "prompt_ids": ids, "response_ids": rid, "entropy": hs}
                if p in source:
                    rec["source"] = source[p]
                f.write(json.dumps(rec) + "\n")
                n_tok += len(rid)
            f.flush()
            bar.update(len(chunk))
            bar.set_postfix(tok_s=f"{n_tok / (time.time() - t0):.0f}")
    bar.close()
    print(f"datagen: {len(done) + len(enc)} prompts total, {n_tok} new tokens in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
