"""The training curve of a run: its validation records over training time, as a table and a plot.

    python -m hamburger_train.curve --run /root/hamburger-runs/run4 --every 10 \
        --md training/runs/run4-curve.md --png training/report-run4-curve.png

`train.py` appends one JSON line per step to RUN/log.jsonl; the lines of validation steps carry a "val"
object (and the last one of a run is the step's own record again). Training time is the "t" field: seconds
of training summed over every resumed process, so a curve spans sessions.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

COLUMNS = ("s1", "s2", "s3", "s4", "stop_acc", "micro_wrong", "kl", "mse", "loss")


def validation_rows(log: Path | str) -> list[dict]:
    """One row per validated step, in step order (a step validated twice keeps its last record):
    {"step", "t", "lr_scale", **val metrics}."""
    by_step: dict[int, dict] = {}
    with open(log) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            if "val" not in rec:
                continue
            by_step[int(rec["step"])] = {"step": int(rec["step"]), "t": float(rec["t"]),
                                         "lr_scale": float(rec.get("lr_scale", 1.0)), **rec["val"]}
    return [by_step[s] for s in sorted(by_step)]


def thin(rows: list[dict], every: int) -> list[dict]:
    """Every `every`-th row, always keeping the first and the last."""
    if every <= 1 or len(rows) <= 2:
        return rows
    kept = rows[::every]
    if kept[-1] is not rows[-1]:
        kept.append(rows[-1])
    return kept


def markdown(rows: list[dict]) -> str:
    head = "| step | training h | lr scale | " + " | ".join(COLUMNS) + " |"
    lines = [head, "|" + "---|" * (3 + len(COLUMNS))]
    for r in rows:
        cells = [str(r["step"]), f"{r['t'] / 3600:.2f}", f"{r['lr_scale']:.2f}"]
        cells += [f"{r[c]:.3f}" if c in r else "" for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], png: Path | str, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hours = [r["t"] / 3600 for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.plot(hours, [r["loss"] for r in rows], label="validation loss")
    ax1.set_xlabel("training hours")
    ax1.set_ylabel("loss")
    ax1.grid(alpha=0.3)
    ax1.legend()
    for key in ("s1", "s2", "s3", "s4", "stop_acc"):
        ax2.plot(hours, [r[key] for r in rows], label=key)
    ax2.set_xlabel("training hours")
    ax2.set_ylabel("teacher-forced agreement / accuracy")
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="run directory holding log.jsonl")
    ap.add_argument("--every", type=int, default=10, help="table: every N-th validation")
    ap.add_argument("--md", help="write the table here (default: print it)")
    ap.add_argument("--png", help="write the plot here")
    ap.add_argument("--title", default="HAMburger adapter training: validation")
    a = ap.parse_args(argv)
    rows = validation_rows(Path(a.run) / "log.jsonl")
    if not rows:
        raise SystemExit(f"curve: no validation records in {a.run}/log.jsonl")
    table = markdown(thin(rows, a.every))
    if a.md:
        Path(a.md).parent.mkdir(parents=True, exist_ok=True)
        Path(a.md).write_text(table)
    else:
        print(table, end="")
    if a.png:
        plot(rows, a.png, a.title)
    print(f"curve: {len(rows)} validations, steps {rows[0]['step']}-{rows[-1]['step']}, "
          f"{rows[-1]['t'] / 3600:.2f} h of training")


if __name__ == "__main__":
    main()
