"""The held-out diverse evaluation: base vs HAMburger over the running server, per task type.

    python -m hamburger_train.heldout run --url http://127.0.0.1:8391 \
        --configs base,0.6,0.8,0.3/p0.8 --out training/runs/heldout/results.json
    python -m hamburger_train.heldout report --inputs training/runs/heldout/results.json \
        --md training/runs/heldout/report.md --png training/report-heldout.png

The items (`training/heldout/*.jsonl`, written by hand for this project, see ../DATA.md) are six task types
that no training generator produces: short factual QA with accepted answers, arithmetic and word problems
with one numeric answer, instruction following with programmatic checks, rewriting/summarising, short
Python functions checked by running asserts, and open chat.

`run` sends every item to /v1/chat/completions (temperature 0, `MAX_TOKENS[type]`, 16 requests in flight)
once per configuration, configurations one after another: "base" = `decoding: autoregressive`; "C" =
HAMburger at confidence C (and the server's default probability floor, if it has one); "C/pP" = confidence
C with the micro-decoder probability floor `hamburger_min_probability` P ("C/p0": explicitly no floor). Tokens per base pass come from the server's /metrics counters read before
and after each configuration. At the end the base model (Python, float32) scores each chat answer: its
mean NLL, and on the base's own answers its mean predictive entropy (the yardstick of `choose`).

`report` scores the texts (no server needed), compares each configuration with the base on the same items,
picks the default by `choose` and draws accuracy vs tokens per step.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .qa import is_correct

HELDOUT_DIR = Path(__file__).resolve().parents[1] / "heldout"
TYPES = ("qa", "arith", "instruct", "rewrite", "code", "chat")
MIN_COUNTS = {"qa": 150, "arith": 60, "instruct": 60, "rewrite": 40, "code": 40, "chat": 60}
MAX_TOKENS = {"qa": 48, "arith": 64, "instruct": 48, "rewrite": 96, "code": 96, "chat": 96}
# Types scored against an answer key (accuracy / pass rate); `choose` holds each of them to the base.
KEYED = ("qa", "arith", "instruct", "code")
TYPE_NAMES = {"qa": "factual QA", "arith": "arithmetic", "instruct": "instructions", "rewrite": "rewrite ROUGE-L",
              "code": "code", "chat": "chat NLL"}
CODE_TIMEOUT_S = 5.0


# ----------------------------------------------------------------------------------------------- items

def load_items(root: Path | str = HELDOUT_DIR) -> list[dict]:
    items = []
    for t in TYPES:
        with open(Path(root) / f"{t}.jsonl") as f:
            items += [json.loads(line) for line in f if line.strip()]
    return items


def items_digest(items: list[dict]) -> str:
    return hashlib.sha256(json.dumps(items, sort_keys=True).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------- scorers

# A number: optional sign, digits with optional thousands commas, optional decimals; "5:00" (a clock time
# on the hour) reads as 5.
_NUM = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?::00)?")


def numbers(text: str) -> list[float]:
    out = []
    for m in _NUM.finditer(text):
        s = m.group(0).replace(",", "")
        if s.endswith(":00"):
            s = s[:-3]
        out.append(float(s))
    return out


def arith_correct(text: str, answer: float) -> bool:
    """The rule: the LAST number in the answer equals the key (answers restate the question's numbers first and
    end with the result; an answer cut off before its result is wrong). Numbers written as words do not count."""
    ns = numbers(text)
    return bool(ns) and abs(ns[-1] - float(answer)) < 1e-6


def qa_correct(text: str, answers: list[str]) -> bool:
    """An accepted answer occurs, case-insensitive, word-bounded (the rule of qa.py)."""
    return is_correct(text, answers)


_WORD = re.compile(r"[A-Za-z0-9]+(?:['\u2019-][A-Za-z0-9]+)*")
_QUOTES = "\"'`\u201c\u201d\u2018\u2019*"


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def _norm(s: str) -> str:
    s = " ".join(s.strip().strip(_QUOTES).split()).lower()
    return s.rstrip(".!?").strip(_QUOTES).strip()


def _json_value(text: str):
    a, b = text.find("{"), text.rfind("}")
    if a < 0 or b < a:
        return None
    try:
        return json.loads(text[a:b + 1])
    except ValueError:
        return None


def check(kind: str, arg, text: str) -> bool:
    """One instruction check on an answer text."""
    t = text.strip()
    w = words(t)
    low = t.lower()
    if kind == "words":
        return len(w) == arg
    if kind == "max_words":
        return 0 < len(w) <= arg
    if kind == "min_words":
        return len(w) >= arg
    if kind == "starts_with":
        return bool(w) and w[0].lower() == arg.lower()
    if kind == "ends_with":
        return t.rstrip(_QUOTES).endswith(arg)
    if kind == "contains":  # word-bounded at the start, so plurals and other endings count
        return re.search(r"(?<![a-z0-9])" + re.escape(arg.lower()), low) is not None
    if kind == "not_contains":
        return re.search(r"(?<![a-z0-9])" + re.escape(arg.lower()) + r"(?![a-z0-9])", low) is None
    if kind == "yes_no":
        return bool(w) and w[0].lower() == arg
    if kind == "dash_list":
        return sum(1 for line in t.splitlines() if re.match(r"\s*-\s+\S", line)) == arg
    if kind == "numbered_list":
        return sum(1 for line in t.splitlines() if re.match(r"\s*\d+[.)]\s+\S", line)) == arg
    if kind == "lowercase":
        return any(c.isalpha() for c in t) and t == t.lower()
    if kind == "uppercase":
        return any(c.isalpha() for c in t) and t == t.upper()
    if kind == "number":
        s = t.rstrip(".").strip()
        return _NUM.fullmatch(s) is not None and numbers(s) == [float(arg)]
    if kind == "repeat":
        return _norm(t) == _norm(arg)
    if kind == "one_line":
        return bool(t) and "\n" not in t
    if kind == "no_comma":
        return bool(t) and "," not in t
    if kind == "json_key":
        v = _json_value(t)
        return isinstance(v, dict) and arg[0] in v and v[arg[0]] == arg[1]
    raise ValueError(f"unknown instruction check {kind!r}")


def instruct_pass(text: str, checks: list) -> bool:
    return all(check(k, a, text) for k, a in checks)


def rouge_l_text(cand: str, ref: str) -> float:
    """ROUGE-L F1 over lower-cased words (1.0 when both are empty)."""
    from .evaluate import rouge_l

    c, r = [x.lower() for x in words(cand)], [x.lower() for x in words(ref)]
    if not c and not r:
        return 1.0
    return rouge_l(c, r)


def extract_code(text: str, stub: str, entry: str) -> str:
    """The program an answer gives: the first ```python block (an unclosed one runs to the end), else the text
    from `def entry(`; a bare body (no `def entry(`) is indented under the stub."""
    m = re.search(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)(?:```|\Z)", text, re.S)
    code = m.group(1) if m else text
    d = re.search(r"^[ \t]*def\s+" + re.escape(entry) + r"\s*\(", code, re.M)
    if d:
        return textwrap.dedent(code[d.start():]) if not m else code
    body = textwrap.dedent(code).strip("\n")
    return stub + textwrap.indent(body, "    ") + "\n"


def run_code(program: str, tests: str, timeout: float = CODE_TIMEOUT_S) -> bool:
    """True when the program and then the asserts run without error in a fresh, isolated Python process
    within `timeout` seconds (killed after it)."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "prog.py"
        path.write_text(program + "\n\n" + tests + "\n")
        try:
            r = subprocess.run([sys.executable, "-I", str(path)], cwd=d, capture_output=True, timeout=timeout,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return False
        return r.returncode == 0


def code_pass(text: str, item: dict) -> bool:
    return run_code(extract_code(text, item["stub"], item["entry_point"]), item["tests"])


def code_pass_any_name(text: str, item: dict) -> bool:
    """A diagnostic, not the score: `code_pass` after renaming the answer's first function to the asked name
    (separates a wrong name from a wrong body)."""
    m = re.search(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)(?:```|\Z)", text, re.S)
    code = m.group(1) if m else text
    if not re.search(r"^[ \t]*def\s+" + re.escape(item["entry_point"]) + r"\s*\(", code, re.M):
        code = re.sub(r"^([ \t]*def\s+)\w+(\s*\()", lambda g: g.group(1) + item["entry_point"] + g.group(2), code,
                      count=1, flags=re.M)
    return code_pass(f"```python\n{code}\n```", item)


def score_keyed(item: dict, text: str) -> bool:
    t = item["type"]
    if t == "qa":
        return qa_correct(text, item["answers"])
    if t == "arith":
        return arith_correct(text, item["answer"])
    if t == "instruct":
        return instruct_pass(text, item["checks"])
    if t == "code":
        return code_pass(text, item)
    raise ValueError(t)


# ------------------------------------------------------------------------------------------------- run

def parse_config(c: str) -> dict:
    """Request fields of a configuration name: "base", "0.6", "0.3/p0.8"."""
    if c == "base":
        return {"decoding": "autoregressive"}
    conf, _, p = c.partition("/")
    f = {"decoding": "hamburger", "hamburger_confidence": float(conf)}
    if p:
        if not p.startswith("p"):
            raise ValueError(f"config {c!r}: expected CONFIDENCE/pMIN_PROBABILITY")
        f["hamburger_min_probability"] = float(p[1:])
    return f


def _post(url: str, body: dict, timeout: float = 600) -> tuple[int, dict]:
    req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read())
        except ValueError:
            return e.code, {}


def read_metrics(url: str) -> dict[str, float]:
    """The unlabelled sample of every metric on /metrics (labelled samples are summed under their name)."""
    with urllib.request.urlopen(url + "/metrics", timeout=60) as r:
        text = r.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, rest = line.partition(" ")
        name = name.split("{")[0]
        try:
            out[name] = out.get(name, 0.0) + float(rest.split()[0])
        except (ValueError, IndexError):
            pass
    return out


def supports_min_probability(url: str) -> bool:
    """Whether the server knows `hamburger_min_probability`: an out-of-range value must be refused (400); a
    server that ignores unknown fields answers 200."""
    code, _ = _post(url, {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1, "temperature": 0,
                          "decoding": "hamburger", "hamburger_min_probability": 5.0})
    return code == 400


def generate(url: str, item: dict, fields: dict) -> dict:
    body = {"messages": [{"role": "user", "content": item["prompt"]}], "temperature": 0,
            "max_tokens": MAX_TOKENS[item["type"]], **fields}
    code, r = 0, {}
    for _ in range(3):
        code, r = _post(url, body)
        if code == 200 or code == 400:
            break
        time.sleep(1)
    if code != 200:
        return {"id": item["id"], "error": f"HTTP {code}: {json.dumps(r)[:200]}", "text": "", "completion_tokens": 0}
    ch = r["choices"][0]
    return {"id": item["id"], "text": ch["message"]["content"] or "", "finish_reason": ch.get("finish_reason"),
            "completion_tokens": r.get("usage", {}).get("completion_tokens", 0)}


def run_config(url: str, items: list[dict], name: str, concurrency: int) -> dict:
    fields = parse_config(name)
    if "hamburger_min_probability" in fields and not supports_min_probability(url):
        print(f"heldout: config {name}: the server does not support hamburger_min_probability", flush=True)
        return {"fields": fields, "supported": False}
    m0, t0 = read_metrics(url), time.time()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(lambda it: generate(url, it, fields), items))
    secs = time.time() - t0
    m1 = read_metrics(url)
    errors = [r for r in results if "error" in r]
    if errors and all("HTTP 400" in r["error"] for r in errors) and len(errors) == len(results):
        print(f"heldout: config {name}: refused by the server ({errors[0]['error']})", flush=True)
        return {"fields": fields, "supported": False, "error": errors[0]["error"]}
    d = {k: m1.get(k, 0.0) - m0.get(k, 0.0) for k in ("hamburger:macro_steps_total", "hamburger:generation_tokens_total")}
    return {"fields": fields, "supported": True, "seconds": secs, "macro_steps": d["hamburger:macro_steps_total"],
            "generation_tokens": d["hamburger:generation_tokens_total"],
            "usage_tokens": sum(r["completion_tokens"] for r in results), "errors": len(errors), "results": results}


def nll_scores(data: dict, gguf: str, threads: int) -> None:
    """Adds nll_sum / ent_sum / n (the base's NLL of the answer's tokens and its entropy at the same positions)
    to every chat result. The answer text is re-tokenized (the server returns text, not token ids)."""
    import torch

    from .base import chat_ids, load_base
    from .evaluate import base_score

    torch.set_num_threads(threads)
    base, tok, _ = load_base(gguf)
    prompts = {it["id"]: it["prompt"] for it in load_items() if it["type"] == "chat"}
    for res in data["configs"].values():
        for r in res.get("results", []):
            if r["id"] in prompts and "nll_sum" not in r:
                gen = tok(r["text"], add_special_tokens=False).input_ids
                r["nll_sum"], r["ent_sum"], r["n"] = base_score(base, chat_ids(tok, prompts[r["id"]]), gen)


def cmd_run(a):
    items = load_items(a.items)
    if a.types:
        items = [it for it in items if it["type"] in a.types.split(",")]
    out = Path(a.out)
    data = json.loads(out.read_text()) if a.resume and out.exists() else {
        "url": a.url, "items": items_digest(load_items(a.items)), "max_tokens": MAX_TOKENS, "configs": {}}
    out.parent.mkdir(parents=True, exist_ok=True)
    for c in a.configs.split(","):
        if data["configs"].get(c, {}).get("supported"):
            continue
        print(f"heldout: config {c}: {len(items)} items", flush=True)
        res = run_config(a.url, items, c, a.concurrency)
        data["configs"][c] = res
        if res.get("supported"):
            tps = tokens_per_step(res)
            print(f"heldout: config {c} done in {res['seconds']:.0f}s, {res['usage_tokens']} tokens, "
                  f"{tps:.3f} tokens/step, {res['errors']} errors", flush=True)
        out.write_text(json.dumps(data))
    if not a.no_nll:
        nll_scores(data, a.gguf, a.threads)
        out.write_text(json.dumps(data))
    print(f"heldout: wrote {out}", flush=True)


def cmd_rescore(a):
    for f in a.inputs:
        data = json.loads(Path(f).read_text())
        nll_scores(data, a.gguf, a.threads)
        Path(f).write_text(json.dumps(data))
        print(f"heldout: rescored {f}", flush=True)


# ---------------------------------------------------------------------------------------------- report

def tokens_per_step(res: dict) -> float:
    if res["fields"].get("decoding") == "autoregressive":
        return 1.0
    return res["generation_tokens"] / res["macro_steps"] if res.get("macro_steps") else float("nan")


def summarize(res: dict, base: dict, items: list[dict]) -> dict:
    """Per-type scores of one configuration and the base on the same items (ids present in both)."""
    by_id = {it["id"]: it for it in items}
    got = {r["id"]: r for r in res["results"]}
    ref = {r["id"]: r for r in base["results"]}
    row: dict = {"tokens_per_step": tokens_per_step(res), "seconds": res.get("seconds", float("nan")),
                 "errors": res.get("errors", 0), "tokens": res.get("usage_tokens", 0)}
    row["kv_per_token"] = 1 / row["tokens_per_step"]
    for t in KEYED:
        ids = [i for i in got if i in ref and by_id.get(i, {}).get("type") == t]
        mine = [score_keyed(by_id[i], got[i]["text"]) for i in ids]
        theirs = mine if res is base else [score_keyed(by_id[i], ref[i]["text"]) for i in ids]
        n = max(len(ids), 1)
        row[t] = sum(mine) / n
        row[f"base_{t}"] = sum(theirs) / n
        row[f"n_{t}"] = len(ids)
        row[f"lost_{t}"] = sum(b and not m for m, b in zip(mine, theirs))
        row[f"gained_{t}"] = sum(m and not b for m, b in zip(mine, theirs))
        row[f"{t}_rel"] = row[t] / row[f"base_{t}"] if row[f"base_{t}"] > 0 else float("nan")
    code_ids = [i for i in got if by_id.get(i, {}).get("type") == "code"]
    row["code_any_name"] = sum(code_pass_any_name(got[i]["text"], by_id[i]) for i in code_ids) / max(len(code_ids), 1)
    ids = [i for i in got if i in ref and by_id.get(i, {}).get("type") == "rewrite"]
    row["rewrite"] = sum(rouge_l_text(got[i]["text"], ref[i]["text"]) for i in ids) / max(len(ids), 1)
    row["rewrite_identical"] = sum(got[i]["text"] == ref[i]["text"] for i in ids)
    row["n_rewrite"] = len(ids)
    all_ids = [i for i in got if i in ref]
    row["identical"] = sum(got[i]["text"] == ref[i]["text"] for i in all_ids)
    row["n_items"] = len(all_ids)
    chat = [got[i] for i in got if by_id.get(i, {}).get("type") == "chat" and "nll_sum" in got[i]]
    bchat = [ref[i] for i in ref if by_id.get(i, {}).get("type") == "chat" and "ent_sum" in ref[i]]
    row["chat_nll"] = sum(r["nll_sum"] for r in chat) / max(sum(r["n"] for r in chat), 1) if chat else float("nan")
    row["base_chat_entropy"] = (sum(r["ent_sum"] for r in bchat) / max(sum(r["n"] for r in bchat), 1)
                                if bchat else float("nan"))
    return row


DEFAULT_RULE = ("the most tokens per step whose accuracy is >= 98% of the base's on every task type with an answer "
                "key (factual QA, arithmetic, instructions, code) and whose chat NLL under the base is no higher than "
                "the base's own mean entropy along its greedy chat answers")


def choose(rows: dict, threshold: float = 0.98, keyed=KEYED) -> str | None:
    """The default configuration by DEFAULT_RULE; `rows` maps "base" and configuration names to `summarize`
    rows. A type on which the base scores 0 carries no signal and is skipped. None when nothing qualifies."""
    limit = rows["base"]["base_chat_entropy"]

    def ok(r):
        rels = [r[f"{t}_rel"] for t in keyed if not math.isnan(r[f"{t}_rel"])]
        return all(x >= threshold for x in rels) and not math.isnan(r["chat_nll"]) and r["chat_nll"] <= limit

    cands = [c for c, r in rows.items() if c != "base" and ok(r)]
    return max(cands, key=lambda c: rows[c]["tokens_per_step"]) if cands else None


def _cfg_sort_key(c: str):
    if c == "base":
        return (0, 0.0, 0.0)
    f = parse_config(c)
    return (1 if "hamburger_min_probability" not in f else 2, -f["hamburger_confidence"],
            f.get("hamburger_min_probability", 0.0))


def cmd_report(a):
    items = load_items(a.items)
    configs: dict = {}
    for f in a.inputs:
        configs.update(json.loads(Path(f).read_text())["configs"])
    if "base" not in configs:
        raise SystemExit("report: the inputs must include the 'base' configuration")
    names = sorted((c for c in configs if configs[c].get("supported")), key=_cfg_sort_key)
    unsupported = [c for c in configs if not configs[c].get("supported")]
    rows = {c: summarize(configs[c], configs["base"], items) for c in names}
    b = rows["base"]

    def pct(r, t):
        return f"{r[t]:.3f} ({r[t + '_rel']:.2f})" if t != "rewrite" else f"{r[t]:.3f}"

    lines = ["| config | tokens/step | KV entries/token | factual QA (vs base) | arithmetic | instructions | code | "
             "rewrite ROUGE-L vs base | chat NLL under base (vs base) | identical answers | wall s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in names:
        r = rows[c]
        label = "base (autoregressive)" if c == "base" else c
        lines.append(f"| {label} | {r['tokens_per_step']:.3f} | {r['kv_per_token']:.3f} | {pct(r, 'qa')} | "
                     f"{pct(r, 'arith')} | {pct(r, 'instruct')} | {pct(r, 'code')} | {r['rewrite']:.3f} | "
                     f"{r['chat_nll']:.3f} ({r['chat_nll'] / b['chat_nll']:.2f}) | {r['identical']}/{r['n_items']} | "
                     f"{r['seconds']:.0f} |")
    flips = ["| config | " + " | ".join(f"{TYPE_NAMES[t]} lost / gained" for t in KEYED) + " |",
             "|---|" + "---|" * len(KEYED)]
    for c in names[1:]:
        flips.append(f"| {c} | " + " | ".join(f"{rows[c]['lost_' + t]} / {rows[c]['gained_' + t]}" for t in KEYED) + " |")
    flips += ["", "Code with the answer's function renamed to the asked name (a diagnostic, not the score): " +
              ", ".join(f"{c} {rows[c]['code_any_name']:.3f}" for c in names) + "."]
    pick = choose(rows) if len(names) > 1 else None
    counts = ", ".join(f"{TYPE_NAMES[t].split(' ')[0] if t != 'instruct' else 'instructions'} "
                       f"{b['n_' + t]}" for t in ("qa", "arith", "instruct", "code", "rewrite"))
    md = ["\n".join(lines), "",
          f"Items: {counts}, chat {sum(1 for it in items if it['type'] == 'chat')}. Scores are accuracy / pass rate "
          f"with the ratio to the base's in brackets; the base's mean entropy along its own greedy chat answers is "
          f"{b['base_chat_entropy']:.3f} nats/token.", "",
          "Answers that differ from the base's in correctness (lost = base right, config wrong; gained = the reverse):",
          "", "\n".join(flips), "",
          f"Default by the rule ({DEFAULT_RULE}): **{pick if pick else 'none qualifies'}**."]
    if unsupported:
        md += ["", "Not run (the server refused or ignored a field): " + ", ".join(unsupported) + "."]
    Path(a.md).write_text("\n".join(md) + "\n")
    if a.json:
        Path(a.json).write_text(json.dumps({"rows": rows, "default": pick}, indent=1))
    if a.png and len(names) > 1:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        hb = sorted(names[1:], key=lambda c: rows[c]["tokens_per_step"])
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for t, mk in zip(KEYED, "os^D"):
            ax.plot([1.0] + [rows[c]["tokens_per_step"] for c in hb], [1.0] + [rows[c][f"{t}_rel"] for c in hb],
                    mk, ls="none", label=f"{TYPE_NAMES[t]} / base", alpha=0.8)
        ax.plot([1.0] + [rows[c]["tokens_per_step"] for c in hb], [1.0] + [rows[c]["rewrite"] for c in hb], "v",
                ls="none", label="rewrite ROUGE-L vs base", alpha=0.8)
        for c in hb:
            ax.annotate(c, (rows[c]["tokens_per_step"], min(rows[c][f"{t}_rel"] for t in KEYED
                                                            if not math.isnan(rows[c][f"{t}_rel"]))),
                        fontsize=7, textcoords="offset points", xytext=(3, -10))
        ax.axhline(0.98, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("tokens per base pass (1 / KV entries per token)")
        ax.set_ylabel("score / base (1 = base)")
        ax.set_title("HAMburger SmolLM2-135M on the held-out diverse set")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(a.png, dpi=110)
    print("\n".join(md))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--url", default="http://127.0.0.1:8000")
    r.add_argument("--configs", default="base,0.6,0.8,0.9,0.95,0.3")
    r.add_argument("--out", required=True)
    r.add_argument("--items", default=str(HELDOUT_DIR))
    r.add_argument("--types", help="comma-separated subset of " + ",".join(TYPES))
    r.add_argument("--concurrency", type=int, default=16)
    r.add_argument("--resume", action="store_true",
                   help="keep the configurations already in --out (those the server refused are run again)")
    r.add_argument("--no-nll", action="store_true", help="skip the chat NLL scoring (add it later with rescore)")
    r.add_argument("--gguf", default=str(Path(__file__).resolve().parents[2] / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"))
    r.add_argument("--threads", type=int, default=1)
    p = sub.add_parser("report")
    p.add_argument("--inputs", nargs="+", required=True)
    p.add_argument("--items", default=str(HELDOUT_DIR))
    p.add_argument("--md", required=True)
    p.add_argument("--json")
    p.add_argument("--png")
    q = sub.add_parser("rescore")
    q.add_argument("--inputs", nargs="+", required=True)
    q.add_argument("--gguf", default=str(Path(__file__).resolve().parents[2] / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"))
    q.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    {"run": cmd_run, "report": cmd_report, "rescore": cmd_rescore}[a.cmd](a)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
