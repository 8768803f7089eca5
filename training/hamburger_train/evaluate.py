"""Quality evaluation of an exported adapter against its base, written to training/REPORT.md sections.

    python -m hamburger_train.evaluate run --adapter models/hamburger-smollm2-135m.json \
        --configs base,0.5,0.7 --out training/runs/full/eval-a.json
    python -m hamburger_train.evaluate report --inputs training/runs/full/eval-*.json \
        --md training/runs/full/eval.md --png training/report-curve.png

`run` decodes (greedy, batch 1, the reference decoder) the held-out prompts and the QA set for each
configuration ("base" = autoregressive, a number = HAMburger at that confidence); `report` merges the
results, computes the metrics, picks the default confidence and draws tokens/step against quality;
`rescore` recomputes the base's NLL and entropy of the outputs in existing results files.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from .base import DEFAULT_GGUF, chat_ids, load_base, load_tokenizer
from .datagen import split_prompts
from .decoder import HamburgerDecoder
from .export import load_adapter
from .llama import causal_mask
from .qa import QA_ITEMS, is_correct


def lcs(a: list[int], b: list[int]) -> int:
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(cand: list[int], ref: list[int]) -> float:
    l = lcs(cand, ref)
    if l == 0:
        return 0.0
    p, r = l / len(cand), l / len(ref)
    return 2 * p * r / (p + r)


def prefix_fraction(cand: list[int], ref: list[int], n: int = 32) -> float:
    """Fraction of the first n reference tokens that the candidate reproduces as an identical prefix."""
    m = min(n, len(ref))
    k = 0
    while k < m and k < len(cand) and cand[k] == ref[k]:
        k += 1
    return k / max(m, 1)


@torch.no_grad()
def base_score(base, prompt_ids: list[int], gen: list[int]) -> tuple[float, float, int]:
    """The base's view of generated text: the sum of its NLL (nats) of the tokens given the prompt, the sum of
    its entropy at the same positions, and their count. On the base's own greedy text, the mean entropy is the
    NLL its temperature-1 samples would have there: the fluency yardstick of `choose_default`."""
    if not gen:
        return 0.0, 0.0, 0
    seq = torch.tensor([prompt_ids + gen])
    T = seq.shape[1]
    final, _ = base(base.embed[seq], torch.arange(T)[None], causal_mask(torch.ones(1, T, dtype=torch.bool)),
                    keep_layers=())
    lp = base.logits(final[0, len(prompt_ids) - 1:T - 1]).float().log_softmax(-1)
    ent = -(lp.exp() * lp).sum(-1)
    return float(-lp.gather(-1, torch.tensor(gen)[:, None]).sum()), float(ent.sum()), len(gen)


def cmd_run(a):
    torch.set_num_threads(a.threads)
    base, tok, _ = load_base(a.gguf)
    ad = load_adapter(a.adapter, base, a.gguf)
    dec = HamburgerDecoder(base, ad)
    _, held = split_prompts(a.n_train_prompts)
    held = held[:a.n_prompts]
    qa = QA_ITEMS[:a.n_qa]
    out = {"adapter": a.adapter, "configs": {}}
    for c in a.configs.split(","):
        conf = None if c == "base" else float(c)
        t0 = time.time()
        res = {"held": [], "qa": []}
        for n_done, p in enumerate(held):
            if n_done % 20 == 0:
                print(f"evaluate: config {c}: {n_done}/{len(held)} prompts, {time.time() - t0:.0f}s", flush=True)
            ids = chat_ids(tok, p)
            g = dec.generate(ids, a.max_new_tokens, conf)
            nll, ent, n = base_score(base, ids, g.tokens)
            res["held"].append({"prompt": p, "tokens": g.tokens, "groups": g.group_sizes, "nll_sum": nll,
                                "ent_sum": ent, "n": n})
        for q, ans in qa:
            ids = chat_ids(tok, q)
            g = dec.generate(ids, a.qa_tokens, conf)
            text = tok.decode(g.tokens, skip_special_tokens=True)
            res["qa"].append({"q": q, "text": text, "correct": is_correct(text, ans), "groups": g.group_sizes,
                              "tokens": g.tokens})
        res["seconds"] = time.time() - t0
        out["configs"][c] = res
        print(f"evaluate: config {c} done in {res['seconds']:.0f}s", flush=True)
        Path(a.out).write_text(json.dumps(out))


def cmd_rescore(a):
    """Recompute the base's NLL and entropy sums of every held-out output in results files (results written
    before `ent_sum` existed are reused rather than decoded again)."""
    torch.set_num_threads(a.threads)
    base, tok, _ = load_base(a.gguf)
    for f in a.inputs:
        data = json.loads(Path(f).read_text())
        for res in data["configs"].values():
            for h in res["held"]:
                h["nll_sum"], h["ent_sum"], h["n"] = base_score(base, chat_ids(tok, h["prompt"]), h["tokens"])
        Path(f).write_text(json.dumps(data))
        print(f"evaluate: rescored {f}", flush=True)


def summarize(cfg_res: dict, base_res: dict) -> dict:
    """Metrics of one configuration against the base on the same prompts (a configuration may have been
    run on the first n prompts / QA items only: the base is then cut to the same subset)."""
    held, bheld = cfg_res["held"], base_res["held"][:len(cfg_res["held"])]
    bqa = base_res["qa"][:len(cfg_res["qa"])]
    toks = sum(len(h["tokens"]) for h in held)
    steps = sum(len(h["groups"]) for h in held)
    qa_toks = sum(len(x["tokens"]) for x in cfg_res["qa"])
    qa_steps = sum(len(x["groups"]) for x in cfg_res["qa"])
    return {
        "tokens_per_step": toks / max(steps, 1),
        "tokens_per_step_qa": qa_toks / max(qa_steps, 1),
        "kv_per_token": steps / max(toks, 1),
        "prefix32": sum(prefix_fraction(h["tokens"], b["tokens"]) for h, b in zip(held, bheld)) / len(held),
        "identical": sum(h["tokens"] == b["tokens"] for h, b in zip(held, bheld)),
        "rouge_l": sum(rouge_l(h["tokens"], b["tokens"]) for h, b in zip(held, bheld)) / len(held),
        "nll": sum(h["nll_sum"] for h in held) / max(sum(h["n"] for h in held), 1),
        "entropy": (sum(h["ent_sum"] for h in held) / max(sum(h["n"] for h in held), 1)
                    if all("ent_sum" in h for h in held) else float("nan")),
        "qa_acc": sum(x["correct"] for x in cfg_res["qa"]) / max(len(cfg_res["qa"]), 1),
        "base_qa_acc": sum(x["correct"] for x in bqa) / max(len(bqa), 1),
        "n_prompts": len(held), "n_qa": len(cfg_res["qa"]),
    }


DEFAULT_RULE = ("the most tokens/step whose QA accuracy is >= 90% of the base's and whose text is fluent: its NLL "
                "under the base no higher than the base's own mean entropy, i.e. the NLL of the base's "
                "temperature-1 samples; if none qualifies, the most conservative confidence")


def choose_default(rows: dict) -> str:
    """The default confidence from the measured curve, by DEFAULT_RULE. `rows` maps "base" and confidence
    strings to `summarize` results with "qa_rel" added."""
    confs = [c for c in rows if c != "base"]
    limit = rows["base"]["entropy"]
    ok = [c for c in confs if rows[c]["qa_rel"] >= 0.9 and rows[c]["nll"] <= limit]
    return max(ok, key=lambda c: rows[c]["tokens_per_step"]) if ok else max(confs, key=float)


def cmd_report(a):
    configs: dict = {}
    for f in a.inputs:
        configs.update(json.loads(Path(f).read_text())["configs"])
    if "base" not in configs:
        raise SystemExit("report: the inputs must include the 'base' configuration")
    names = ["base"] + sorted((c for c in configs if c != "base"), key=float)
    rows = {c: summarize(configs[c], configs["base"]) for c in names}
    for r in rows.values():
        r["qa_rel"] = r["qa_acc"] / r["base_qa_acc"] if r["base_qa_acc"] else float("nan")
    lines = ["| config | tokens/step | KV entries/token | first-32 identical prefix | identical outputs | ROUGE-L vs base | NLL under base (nats/token) | QA accuracy | QA vs base (same questions) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for c in names:
        r = rows[c]
        rel = r["qa_rel"]
        lines.append(f"| {'base (autoregressive)' if c == 'base' else 'confidence ' + c} | {r['tokens_per_step']:.3f} | "
                     f"{r['kv_per_token']:.3f} | {r['prefix32']:.3f} | {r['identical']}/{r['n_prompts']} | "
                     f"{r['rouge_l']:.3f} | {r['nll']:.3f} | {r['qa_acc']:.3f} ({round(r['qa_acc'] * r['n_qa'])}/{r['n_qa']}) | {rel:.2f} |")
    if len(names) < 2:
        raise SystemExit("report: the inputs must include at least one HAMburger confidence besides 'base'")
    if rows["base"]["entropy"] != rows["base"]["entropy"]:  # NaN: results written before ent_sum existed
        raise SystemExit("report: the base results have no entropies (written by an older `evaluate run`); "
                         "add them with `python -m hamburger_train.evaluate rescore --inputs FILE`")
    pick = choose_default(rows)
    md = ["\n".join(lines), "", f"Chosen default confidence: **{pick}** ({DEFAULT_RULE}). The base's mean "
          f"entropy along its own greedy text: {rows['base']['entropy']:.3f} nats/token."]
    if a.tokenizer_gguf:
        tok = load_tokenizer(a.tokenizer_gguf)
        md += ["", "Samples (held-out prompts, the generated tokens):", ""]
        for i in range(min(a.samples, len(configs["base"]["held"]))):
            md.append(f"- Prompt: `{configs['base']['held'][i]['prompt'][:120]}`")
            for c in names:
                h = configs[c]["held"][i]
                t = tok.decode(h["tokens"], skip_special_tokens=True).replace("\n", " ")
                md.append(f"  - {c} ({len(h['tokens']) / max(len(h['groups']), 1):.2f} tok/step): {t}")
    Path(a.md).write_text("\n".join(md) + "\n")
    Path(a.json).write_text(json.dumps({"rows": rows, "default_confidence": pick}, indent=1)) if a.json else None
    if a.png:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        names = sorted(names, key=lambda c: rows[c]["tokens_per_step"])  # draw lines left to right
        xs = [rows[c]["tokens_per_step"] for c in names]
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(xs, [rows[c]["qa_rel"] for c in names], "o-", label="QA accuracy / base")
        ax.plot(xs, [rows[c]["prefix32"] for c in names], "s-", label="first-32 identical prefix")
        ax.plot(xs, [rows[c]["rouge_l"] for c in names], "^-", label="ROUGE-L vs base")
        for c, x in zip(names, xs):
            ax.annotate(c, (x, rows[c]["prefix32"]), fontsize=7, textcoords="offset points", xytext=(3, 3))
        ax.set_xlabel("tokens per macro step")
        ax.set_ylabel("quality (1 = base)")
        ax.set_title("HAMburger SmolLM2-135M: speed vs quality across confidences")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(a.png, dpi=110)
    print("\n".join(md[:3]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--adapter", default="models/hamburger-smollm2-135m.json")
    r.add_argument("--gguf", default=str(DEFAULT_GGUF))
    r.add_argument("--configs", default="base,0.5,0.7,0.8,0.9,0.95")
    r.add_argument("--n-prompts", type=int, default=100)
    r.add_argument("--n-train-prompts", type=int, default=4200, help="as given to datagen (defines the held-out split)")
    r.add_argument("--n-qa", type=int, default=len(QA_ITEMS))
    r.add_argument("--max-new-tokens", type=int, default=48)
    r.add_argument("--qa-tokens", type=int, default=32)
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--out", required=True)
    p = sub.add_parser("report")
    p.add_argument("--inputs", nargs="+", required=True)
    p.add_argument("--md", required=True)
    p.add_argument("--json")
    p.add_argument("--png")
    p.add_argument("--tokenizer-gguf", default=str(DEFAULT_GGUF))
    p.add_argument("--samples", type=int, default=4)
    q = sub.add_parser("rescore")
    q.add_argument("--inputs", nargs="+", required=True)
    q.add_argument("--gguf", default=str(DEFAULT_GGUF))
    q.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    {"run": cmd_run, "report": cmd_report, "rescore": cmd_rescore}[a.cmd](a)


if __name__ == "__main__":
    main()
