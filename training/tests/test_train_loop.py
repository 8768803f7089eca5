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
