"""Training loop: time budget, resumable checkpoints, progress bar with loss and per-micro-step accuracy.

    python -m hamburger_train.train --run training/runs/full --time-budget 3600

Reads every `data*.jsonl` in the run directory (datagen.py), segments by entropy, holds out a validation
slice, trains embedder + merge-only LoRA + micro decoder + stop head jointly, and writes
`<run>/ckpt.pt` (latest, resumable, with the optimizer state), `<run>/best.pt` (lowest validation loss) and
`<run>/log.jsonl`.

Data that grows while training runs (datagen beside it): the validation prompts are chosen once and kept in
`<run>/val-prompts.json`; the training order is a hash of (epoch, prompt), so a reload (`--reload-every`) or
a resume on more data slots the new samples into the rest of the current epoch without repeating any.
Runs on CUDA when torch sees a GPU (`--device auto`), else on the CPU; bf16 autocast on both.
"""
from __future__ import annotations

import argparse
import bisect
import dataclasses
import hashlib
import json
import math
import random
import signal
import time
from contextlib import nullcontext
from pathlib import Path

import torch
from tqdm import tqdm

from .adapter import HamburgerAdapter
from .base import DEFAULT_GGUF, autocast_dtype, device, load_base
from .batch import Example, collate
from .config import AdapterConfig, SegmentConfig, TrainConfig
from .objective import forward_losses, micro_losses
from .segment import segment, size_histogram


def load_examples(run: Path, seg: SegmentConfig, max_response: int | None = None, skip=None) -> list[Example]:
    """Every answered prompt in <run>/data*.jsonl once; `skip(prompt)` True leaves a sample out."""
    seen, out = set(), []
    for f in sorted(run.glob("data*.jsonl")):
        for line in f.open():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by an interrupted writer
            if r["prompt"] in seen or not r["response_ids"] or (skip is not None and skip(r["prompt"])):
                continue
            seen.add(r["prompt"])
            resp, ent = r["response_ids"], r["entropy"]
            if max_response:
                resp, ent = resp[:max_response], ent[:max_response]
            out.append(Example(r["prompt_ids"], resp, segment(ent, seg.tau, seg.max_steps), key=r["prompt"]))
    out.sort(key=lambda e: len(e.prompt) + len(e.response))
    random.Random(1234).shuffle(out)
    return out


def split_val(examples: list[Example], run: Path, n_val: int) -> tuple[list[Example], list[Example]]:
    """(val, train). The validation prompts are chosen on the first call and kept in <run>/val-prompts.json,
    so that validation figures stay comparable when the data grows or the run resumes."""
    vf = run / "val-prompts.json"
    if vf.exists():
        keys = set(json.loads(vf.read_text()))
    else:
        keys = {e.key for e in examples[:n_val]}
        vf.write_text(json.dumps(sorted(keys), indent=0))
    return [e for e in examples if e.key in keys], [e for e in examples if e.key not in keys]


def order_key(epoch: int, key: str) -> str:
    return hashlib.sha1(f"{epoch}:{key}".encode()).hexdigest()


class EpochOrder:
    """Training order: epoch e visits the samples by sha1("e:prompt"); `cursor` is the last key visited.
    Stable when samples are added: they fall into the current epoch if their key is past the cursor."""

    def __init__(self, examples: list[Example], epoch: int = 0, cursor: str = ""):
        self.epoch, self.cursor = epoch, cursor
        self.set_examples(examples)

    def set_examples(self, examples: list[Example]):
        self.examples = examples
        self._sort()

    def _sort(self):
        self.order = sorted((order_key(self.epoch, e.key), i) for i, e in enumerate(self.examples))
        self.keys = [k for k, _ in self.order]
        self.i = bisect.bisect_right(self.keys, self.cursor) if self.cursor else 0

    def next_batch(self, n: int) -> list[Example]:
        if self.i >= len(self.order):
            self.epoch, self.cursor = self.epoch + 1, ""
            self._sort()
        take = self.order[self.i:self.i + n]
        self.i += len(take)
        self.cursor = take[-1][0]
        return [self.examples[j] for _, j in take]


def autocast(dev):
    return torch.autocast(device_type=dev.type, dtype=autocast_dtype(dev))


def param_groups(ad: HamburgerAdapter, tc: TrainConfig):
    micro = list(ad.micro.parameters())
    ids = {id(p) for p in micro}
    rest = [p for p in ad.parameters() if id(p) not in ids]
    return [{"params": rest, "lr": tc.lr}, {"params": micro, "lr": tc.micro_lr}]


def save_ckpt(path: Path, ad, opt, step, epoch_pos, acfg, scfg, tc, best_val, elapsed):
    """epoch_pos: (epoch, cursor) of EpochOrder."""
    tmp = path.with_suffix(".tmp")
    torch.save({"adapter": ad.state_dict(), "opt": opt.state_dict() if opt else None, "step": step,
                "epoch": epoch_pos[0], "cursor": epoch_pos[1], "adapter_cfg": acfg.to_dict(),
                "segment_cfg": dataclasses.asdict(scfg), "train_cfg": dataclasses.asdict(tc), "best_val": best_val,
                "elapsed": elapsed}, tmp)
    tmp.replace(path)


@torch.no_grad()
def validate(base, ad, val: list[Example], tc: TrainConfig, dev, K: int) -> dict:
    ad.eval()
    acc: dict[str, list] = {}
    for i in range(0, len(val), tc.batch_size):
        bt = collate(val[i:i + tc.batch_size], K)
        with autocast(dev):
            _, m, _ = forward_losses(base, ad, bt, tc)
        for k, v in m.items():
            acc.setdefault(k, []).append(v)
    ad.train()
    return {k: sum(v) / len(v) for k, v in acc.items()}


def lr_decay(frac: float, decay_last: float, final_scale: float) -> float:
    """Learning-rate factor at `frac` of the time budget: 1 until the last `decay_last` of it, then a straight
    line down to `final_scale` at the end (a run that ends on a low rate settles into a better point)."""
    if decay_last <= 0 or frac <= 1 - decay_last:
        return 1.0
    return max(final_scale, 1 - (1 - final_scale) * (frac - (1 - decay_last)) / decay_last)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="run directory holding data*.jsonl")
    ap.add_argument("--gguf", default=str(DEFAULT_GGUF))
    ap.add_argument("--time-budget", type=float, default=3600, help="seconds of training (resumes add to it)")
    ap.add_argument("--max-steps", type=int, default=1_000_000)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--micro-lr", type=float, default=1e-3)
    ap.add_argument("--tau", type=float, default=SegmentConfig.tau, help="segmentation entropy threshold (nats)")
    ap.add_argument("--K", type=int, default=4)
    ap.add_argument("--lora-rank", type=int, default=16)
    ap.add_argument("--micro-layers", type=int, default=2)
    ap.add_argument("--feature-layers", default="7,15,23", help="base layers whose outputs are features 1..F-1")
    ap.add_argument("--val", type=int, default=32, help="held-out validation samples")
    ap.add_argument("--eval-every", type=int, default=30)
    ap.add_argument("--max-response", type=int, default=96)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (ignored on a GPU)")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                    help="auto: CUDA when torch sees a GPU, else the CPU")
    ap.add_argument("--calib-mix", type=float, default=0.0,
                    help="stop-head calibration in [0, 1] (0: off): how much the stop target after token i says "
                         "'the micro decoder's token i+1 is wrong' (objective.py)")
    ap.add_argument("--reload-every", type=float, default=1800,
                    help="seconds between re-reads of <run>/data*.jsonl (data generated beside training); 0: never")
    ap.add_argument("--ckpt-every", type=float, default=300, help="seconds between resumable checkpoints")
    ap.add_argument("--eval-at-start", action="store_true",
                    help="validate before the first step (the starting point's figures on this run's validation slice)")
    ap.add_argument("--grow-lora-rank", type=int, help="with --init-from: raise the LoRA rank (adapter.grow; the "
                                                        "grown adapter starts computing exactly what the old one did)")
    ap.add_argument("--grow-micro-layers", type=int, help="with --init-from: add micro-decoder layers (adapter.grow)")
    ap.add_argument("--resume", action="store_true", help="continue from <run>/ckpt.pt")
    ap.add_argument("--init-from", help="start from an exported adapter (its JSON), e.g. the committed "
                                        "models/hamburger-smollm2-135m.json, with a fresh optimizer")
    ap.add_argument("--micro-updates", type=int, default=2,
                    help="extra micro-decoder/stop-head updates per step on the step's (detached) features")
    ap.add_argument("--no-micro-on-teacher", action="store_true",
                    help="train the micro decoder on the student's features only")
    ap.add_argument("--no-hidden-all-layers", action="store_true", help="hidden MSE on feature layers only")
    ap.add_argument("--decay-last", type=float, default=0.0,
                    help="fraction of this invocation's time budget over which both learning rates fall linearly "
                         "to --final-lr-scale of their value (0: constant after warm-up)")
    ap.add_argument("--final-lr-scale", type=float, default=0.1)
    ap.add_argument("--reset-best", action="store_true",
                    help="on --resume, forget the checkpoint's best validation loss (use after adding data: the "
                         "validation slice changes with the data, so the old figure is not comparable)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = device(a.device)
    run = Path(a.run)

    scfg = SegmentConfig(tau=a.tau, max_steps=a.K)
    acfg = AdapterConfig(max_steps=a.K, micro_layers=a.micro_layers, lora_rank=a.lora_rank,
                         feature_layers=tuple(int(x) for x in a.feature_layers.split(",")),
                         lora_alpha=2.0 * a.lora_rank)
    tc = TrainConfig(lr=a.lr, micro_lr=a.micro_lr, batch_size=a.batch_size, time_budget_s=a.time_budget,
                     max_steps=a.max_steps, eval_every=a.eval_every, hidden_all_layers=not a.no_hidden_all_layers,
                     micro_on_teacher=not a.no_micro_on_teacher, micro_updates=a.micro_updates,
                     calib_mix=a.calib_mix, ckpt_every_s=a.ckpt_every)
    ck = None
    init_meta = None
    if a.init_from:
        init_meta = json.loads(Path(a.init_from).read_text())
        acfg = AdapterConfig.from_dict({**acfg.to_dict(), "max_steps": init_meta["max_steps"],
                                        "feature_layers": init_meta["feature_layers"],
                                        "micro_layers": init_meta["micro_layers"],
                                        "lora_rank": init_meta["lora"]["rank"], "lora_alpha": init_meta["lora"]["alpha"]})
        scfg = SegmentConfig(**init_meta.get("training", {}).get("segment", dataclasses.asdict(scfg)))
    if a.resume and (run / "ckpt.pt").exists():
        ck = torch.load(run / "ckpt.pt", map_location=dev, weights_only=False)
        acfg = AdapterConfig.from_dict(ck["adapter_cfg"])
        scfg = SegmentConfig(**ck["segment_cfg"])

    from .sources import Excluder

    # held-out evaluation prompts never train, even where a data file answered them (sources.py excludes them
    # from the prompt set; data generated before an exclusion was known still holds them)
    excl = Excluder.default([run / "heldout-items"])
    examples = load_examples(run, scfg, a.max_response, skip=excl.hit)
    if len(examples) < 2:
        raise SystemExit(f"train: need data in {run}/data*.jsonl (run hamburger_train.datagen first)")
    n_val = min(a.val, max(1, len(examples) // 10))
    val, train = split_val(examples, run, n_val)
    hist = size_histogram([e.sizes for e in examples], scfg.max_steps)
    print(f"train: {len(train)} train / {len(val)} val samples on {dev} "
          f"({autocast_dtype(dev)} autocast); tau={scfg.tau}: {json.dumps(hist)}", flush=True)
    (run / "segmentation.json").write_text(json.dumps({"tau": scfg.tau, "K": scfg.max_steps, **hist}, indent=1))

    base, _, _ = load_base(a.gguf)
    base.to(dev)
    ad = HamburgerAdapter(base, acfg).to(dev)
    if init_meta is not None and ck is None:
        from .export import load_adapter

        ad.load_state_dict(load_adapter(a.init_from, base, a.gguf).state_dict())
        if a.grow_lora_rank or a.grow_micro_layers:
            from .adapter import grow

            ad = grow(ad, base, a.grow_lora_rank, a.grow_micro_layers)
            acfg = ad.cfg
        ad.requires_grad_(True)
        ad.train()
        print(f"train: initialised from {a.init_from} (LoRA rank {acfg.lora_rank}, {acfg.micro_layers} micro layers)",
              flush=True)
    opt = torch.optim.AdamW(param_groups(ad, tc), weight_decay=0.0)
    step, best_val, elapsed0 = 0, math.inf, 0.0
    order = EpochOrder(train)
    if ck is not None:
        ad.load_state_dict(ck["adapter"])
        if ck["opt"]:
            opt.load_state_dict(ck["opt"])
        step, best_val, elapsed0 = ck["step"], ck["best_val"], ck.get("elapsed", 0.0)
        order = EpochOrder(train, ck.get("epoch", 0), ck.get("cursor", ""))
        if a.reset_best:
            best_val = math.inf
        print(f"train: resumed at step {step} (epoch {order.epoch}, {order.i}/{len(train)} of it done, optimizer "
              f"state {'restored' if ck['opt'] else 'absent'})", flush=True)
    scaler = torch.amp.GradScaler(dev.type, enabled=autocast_dtype(dev) == torch.float16)
    base_lrs = [tc.lr, tc.micro_lr]  # the command line wins over a resumed optimizer's

    log = (run / "log.jsonl").open("a")
    t0 = time.time()
    last_ck = last_reload = t0
    budget = a.time_budget + elapsed0
    bar = tqdm(desc="train", mininterval=5)
    ema: dict[str, float] = {}
    if a.eval_at_start:
        vm = validate(base, ad, val, tc, dev, acfg.max_steps)
        print(f"val at start (step {step}): {json.dumps({k: round(v, 4) for k, v in vm.items()})}", flush=True)
        log.write(json.dumps({"step": step, "t": round(elapsed0, 1), "start_val": vm}) + "\n")
        log.flush()
    ad.train()
    stop = []  # SIGTERM / SIGINT: finish the step, write ckpt.pt, exit (a stopped session resumes from there)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop.append(signum))
    while step < tc.max_steps and elapsed0 + time.time() - t0 < budget and not stop:
        if a.reload_every > 0 and time.time() - last_reload > a.reload_every:
            last_reload = time.time()
            fresh = load_examples(run, scfg, a.max_response, skip=excl.hit)
            vkeys = {e.key for e in val}
            new_train = [e for e in fresh if e.key not in vkeys]
            if len(new_train) > len(train):
                print(f"\ntrain: reloaded data: {len(train)} -> {len(new_train)} training samples", flush=True)
                train = new_train
                order.set_examples(train)
        bt = collate(order.next_batch(tc.batch_size), acfg.max_steps)
        scale = min(1.0, (step + 1) / 20) * lr_decay((time.time() - t0) / a.time_budget, a.decay_last,
                                                      a.final_lr_scale)
        for g, lr in zip(opt.param_groups, base_lrs):
            g["lr"] = lr * scale
        with autocast(dev):
            loss, m, fc = forward_losses(base, ad, bt, tc)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(ad.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
        for _ in range(tc.micro_updates):  # cheap extra updates of the micro decoder and stop head
            with autocast(dev):
                ce_mu, bce, _ = micro_losses(base, ad, *fc, tc.calib_mix)
                l2 = ce_mu + tc.stop_weight * bce
            opt.zero_grad(set_to_none=True)
            scaler.scale(l2).backward()
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(ad.parameters(), 1.0)
            scaler.step(opt)
            scaler.update()
        step += 1
        for k, v in m.items():
            ema[k] = v if k not in ema else 0.9 * ema[k] + 0.1 * v
        bar.update(1)
        bar.set_postfix({k: f"{ema[k]:.3f}" for k in ("loss", "kl", "mse", "s1", "s2", "s3", "s4", "stop_acc") if k in ema})
        rec = {"step": step, "t": round(elapsed0 + time.time() - t0, 1), "lr_scale": round(scale, 4), **{k: round(v, 4) for k, v in m.items()}}
        if step % tc.eval_every == 0:
            vm = validate(base, ad, val, tc, dev, acfg.max_steps)
            rec["val"] = {k: round(v, 4) for k, v in vm.items()}
            print(f"\nval step {step}: {json.dumps(rec['val'])}", flush=True)
            if vm["loss"] < best_val:
                best_val = vm["loss"]
                save_ckpt(run / "best.pt", ad, None, step, (order.epoch, order.cursor), acfg, scfg, tc, best_val, elapsed0 + time.time() - t0)
        log.write(json.dumps(rec) + "\n")
        log.flush()
        if time.time() - last_ck > tc.ckpt_every_s:
            save_ckpt(run / "ckpt.pt", ad, opt, step, (order.epoch, order.cursor), acfg, scfg, tc, best_val, elapsed0 + time.time() - t0)
            last_ck = time.time()
    bar.close()
    if stop:
        save_ckpt(run / "ckpt.pt", ad, opt, step, (order.epoch, order.cursor), acfg, scfg, tc, best_val,
                  elapsed0 + time.time() - t0)
        print(f"train: stopped by signal {stop[0]} at step {step}; ckpt.pt written (resume with --resume)", flush=True)
        return
    vm = validate(base, ad, val, tc, dev, acfg.max_steps)
    print(f"final val step {step}: {json.dumps(vm)}", flush=True)
    log.write(json.dumps({"step": step, "final_val": vm}) + "\n")
    if vm["loss"] < best_val:
        best_val = vm["loss"]
        save_ckpt(run / "best.pt", ad, None, step, (order.epoch, order.cursor), acfg, scfg, tc, best_val, elapsed0 + time.time() - t0)
    save_ckpt(run / "ckpt.pt", ad, opt, step, (order.epoch, order.cursor), acfg, scfg, tc, best_val, elapsed0 + time.time() - t0)
    print(f"train: done at step {step}; checkpoints in {run}", flush=True)


if __name__ == "__main__":
    main()
