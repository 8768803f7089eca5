"""Device selection, the resumable training order over growing data, and the persistent validation split."""
import pytest
import torch

from hamburger_train import base as base_mod
from hamburger_train.batch import Example
from hamburger_train.train import EpochOrder, split_val


def test_device_selection_on_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert base_mod.device().type == "cpu"
    assert base_mod.device("cpu").type == "cpu"
    with pytest.raises(RuntimeError):
        base_mod.device("cuda")
    with pytest.raises(ValueError):
        base_mod.device("tpu")
    assert base_mod.autocast_dtype(torch.device("cpu")) == torch.bfloat16


def test_device_auto_prefers_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert base_mod.device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert base_mod.autocast_dtype(torch.device("cuda")) == torch.float16


def _ex(k):
    return Example([1], [2], [1], key=f"p{k}")


def test_epoch_order_visits_each_sample_once_and_takes_new_ones():
    exs = [_ex(k) for k in range(20)]
    o = EpochOrder(exs)
    seen = [e.key for e in o.next_batch(8)]
    # data grows mid-epoch: the rest of the epoch covers old and new samples, none twice
    exs2 = exs + [_ex(k) for k in range(20, 30)]
    o.set_examples(exs2)
    while o.epoch == 0:
        b = o.next_batch(8)
        if o.epoch == 0:
            seen += [e.key for e in b]
    assert len(seen) == len(set(seen))
    assert set(e.key for e in exs) <= set(seen)  # every old sample in this epoch
    # the new ones that fell before the cursor wait for the next epoch
    assert len(seen) >= 20


def test_epoch_order_resumes_from_its_cursor():
    exs = [_ex(k) for k in range(25)]
    a = EpochOrder(exs)
    first = [e.key for e in a.next_batch(5) + a.next_batch(5)]
    b = EpochOrder(list(reversed(exs)), a.epoch, a.cursor)  # a resumed run reads the files in any order
    rest = []
    while b.epoch == 0:
        bt = b.next_batch(5)
        if b.epoch == 0:
            rest += [e.key for e in bt]
    assert sorted(first + rest) == sorted(e.key for e in exs)


def test_validation_split_is_kept(tmp_path):
    exs = [_ex(k) for k in range(10)]
    val, train = split_val(exs, tmp_path, 3)
    assert [e.key for e in val] == ["p0", "p1", "p2"] and len(train) == 7
    val2, train2 = split_val([_ex(k) for k in range(9, -1, -1)] + [_ex(10)], tmp_path, 5)
    assert sorted(e.key for e in val2) == ["p0", "p1", "p2"] and len(train2) == 8


def test_train_main_resumes_with_the_optimizer_state(tmp_path, monkeypatch, tiny_hf, tiny_base):
    """train.main on the tiny model (CPU): a run, then a resumed run that continues the step count, the
    epoch position and the optimizer's moments; data added in between joins the resumed run."""
    import json
    import random

    from hamburger_train import train as train_mod

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(train_mod, "load_base", lambda gguf: (tiny_base, None, tiny_hf))
    r = random.Random(0)

    def write(path, n, start):
        with open(path, "w") as f:
            for k in range(start, start + n):
                resp = [r.randrange(3, 90) for _ in range(r.randint(3, 9))] + [2]
                f.write(json.dumps({"prompt": f"p{k}", "prompt_ids": [r.randrange(3, 90) for _ in range(4)],
                                    "response_ids": resp, "entropy": [r.random() for _ in resp]}) + "\n")

    write(tmp_path / "data-0.jsonl", 24, 0)
    args = ["--run", str(tmp_path), "--feature-layers", "0,1,2", "--lora-rank", "4", "--batch-size", "4",
            "--val", "4", "--eval-every", "2", "--micro-updates", "1", "--calib-mix", "0.5", "--time-budget", "600",
            "--device", "cpu"]
    train_mod.main(args + ["--max-steps", "3"])
    ck1 = torch.load(tmp_path / "ckpt.pt", weights_only=False)
    assert ck1["step"] == 3 and ck1["opt"] is not None and ck1["train_cfg"]["calib_mix"] == 0.5
    val_keys = json.loads((tmp_path / "val-prompts.json").read_text())
    write(tmp_path / "data-1.jsonl", 8, 100)  # more data arrives
    train_mod.main(args + ["--resume", "--max-steps", "5"])
    ck2 = torch.load(tmp_path / "ckpt.pt", weights_only=False)
    assert ck2["step"] == 5
    assert json.loads((tmp_path / "val-prompts.json").read_text()) == val_keys
    # Adam's step counters went on from the first run's (3 main + 3 micro updates) instead of restarting
    steps = [s["step"] for s in ck2["opt"]["state"].values()]
    assert max(float(x) for x in steps) == 10.0
    assert (tmp_path / "best.pt").exists()


def test_train_main_writes_a_checkpoint_when_stopped(tmp_path, monkeypatch, tiny_hf, tiny_base):
    import json
    import os
    import signal

    from hamburger_train import train as train_mod

    monkeypatch.setattr(train_mod, "load_base", lambda gguf: (tiny_base, None, tiny_hf))
    with open(tmp_path / "data-0.jsonl", "w") as f:
        for k in range(12):
            resp = [5 + k, 6, 7, 8, 2]
            f.write(json.dumps({"prompt": f"p{k}", "prompt_ids": [1, 2, 3], "response_ids": resp,
                                "entropy": [0.1, 0.2, 0.9, 0.1, 0.1]}) + "\n")
    real_collate = train_mod.collate
    calls = []

    def collate_then_signal(*a, **k):  # a SIGTERM arrives during the second step
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return real_collate(*a, **k)

    monkeypatch.setattr(train_mod, "collate", collate_then_signal)
    old = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        train_mod.main(["--run", str(tmp_path), "--feature-layers", "0,1,2", "--lora-rank", "4", "--batch-size", "2",
                        "--val", "2", "--eval-every", "100", "--micro-updates", "0", "--device", "cpu",
                        "--max-steps", "50"])
    finally:
        signal.signal(signal.SIGTERM, old[0])
        signal.signal(signal.SIGINT, old[1])
    ck = torch.load(tmp_path / "ckpt.pt", weights_only=False)
    assert ck["step"] == 2 and ck["opt"] is not None
