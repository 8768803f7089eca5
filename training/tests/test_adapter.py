"""Embedder, merge-only LoRA, micro decoder masking, batching and the objective on a tiny random model."""
import torch

from hamburger_train.adapter import HamburgerAdapter
from hamburger_train.batch import Example, collate
from hamburger_train.config import TrainConfig
from hamburger_train.llama import causal_mask
from hamburger_train.objective import forward_losses

from conftest import randomize, tiny_cfg


def test_embedder_k1_is_the_plain_embedding(tiny_base, tiny_adapter):
    randomize(tiny_adapter)
    E = tiny_base.embed
    toks = torch.tensor([[7, 3, 9, 1]])
    out = tiny_adapter.embedder(E[toks], torch.tensor([1]))
    assert torch.equal(out[0], E[7])


def test_embedder_zero_w_out_gives_the_mean(tiny_base, tiny_adapter):
    E = tiny_base.embed
    toks = torch.tensor([[7, 3, 9, 1], [4, 5, 0, 0]])
    with torch.no_grad():
        out = tiny_adapter.embedder(E[toks], torch.tensor([3, 2]))
    assert torch.allclose(out[0], E[[7, 3, 9]].mean(0), atol=1e-6)
    assert torch.allclose(out[1], E[[4, 5]].mean(0), atol=1e-6)


def test_embedder_ignores_padding_and_sees_order(tiny_base, tiny_adapter):
    randomize(tiny_adapter)
    E = tiny_base.embed
    with torch.no_grad():
        a = tiny_adapter.embedder(E[torch.tensor([[4, 5, 0, 0]])], torch.tensor([2]))
        b = tiny_adapter.embedder(E[torch.tensor([[4, 5, 77, 3]])], torch.tensor([2]))
        c = tiny_adapter.embedder(E[torch.tensor([[5, 4, 0, 0]])], torch.tensor([2]))
    assert torch.allclose(a, b, atol=1e-6)
    assert not torch.allclose(a, c, atol=1e-4)  # position vectors make the merge order-aware


def test_lora_is_off_for_single_token_rows(tiny_base, tiny_adapter):
    randomize(tiny_adapter)
    ids = torch.tensor([[5, 17, 3, 44]])
    T = 4
    mask = causal_mask(torch.ones(1, T, dtype=torch.bool))
    pos = torch.arange(T)[None]
    with torch.no_grad():
        plain, _ = tiny_base(tiny_base.embed[ids], pos, mask)
        off, _ = tiny_base(tiny_base.embed[ids], pos, mask, lora=tiny_adapter.lora, row_mask=torch.zeros(1, T))
        on_last, _ = tiny_base(tiny_base.embed[ids], pos, mask, lora=tiny_adapter.lora,
                               row_mask=torch.tensor([[0.0, 0, 0, 1]]))
    assert torch.equal(plain, off)
    assert torch.allclose(plain[:, :3], on_last[:, :3], atol=1e-6)  # causal: earlier rows untouched
    assert not torch.allclose(plain[:, 3], on_last[:, 3], atol=1e-4)


def test_micro_decoder_is_causal_and_ignores_padding(tiny_base, tiny_adapter):
    randomize(tiny_adapter)
    torch.manual_seed(3)
    x = torch.randn(1, 7, tiny_base.shape.hidden)
    x2 = x.clone()
    x2[0, 5:] = torch.randn(2, tiny_base.shape.hidden)
    valid = torch.ones(1, 7, dtype=torch.bool)
    with torch.no_grad():
        h = tiny_adapter.micro(x, valid)
        h2 = tiny_adapter.micro(x2, valid)
        short = torch.tensor([[True] * 5 + [False] * 2])
        h3 = tiny_adapter.micro(x2, short)
    assert torch.allclose(h[0, :5], h2[0, :5], atol=1e-6)
    assert not torch.allclose(h[0, 5:], h2[0, 5:], atol=1e-4)
    assert torch.allclose(h3[0, :5], h[0, :5], atol=1e-6)


def test_micro_decoder_cache_matches_full(tiny_base, tiny_adapter):
    from hamburger_train.llama import new_caches

    randomize(tiny_adapter)
    x = torch.randn(1, 7, tiny_base.shape.hidden)
    with torch.no_grad():
        full = tiny_adapter.micro(x, torch.ones(1, 7, dtype=torch.bool))
        c = new_caches(2)
        a = tiny_adapter.micro(x[:, :5], torch.ones(1, 5, dtype=torch.bool), caches=c, start_pos=0)
        b = tiny_adapter.micro(x[:, 5:6], torch.ones(1, 1, dtype=torch.bool), caches=c, start_pos=5)
        d = tiny_adapter.micro(x[:, 6:7], torch.ones(1, 1, dtype=torch.bool), caches=c, start_pos=6)
    assert torch.allclose(torch.cat([a, b, d], 1), full, atol=1e-4, rtol=1e-4)


def test_collate_positions():
    ex = Example(prompt=[1, 2, 3], response=[10, 11, 12, 13, 14, 2], sizes=[1, 3, 2])
    bt = collate([ex], 4)
    # rows = merged inputs of groups 1 and 2, at the flat position of each group's last token
    assert bt.row_pos[0].tolist() == [3, 6]
    assert bt.row_len[0].tolist() == [1, 3]
    assert bt.row_tokens[0, 1].tolist() == [11, 12, 13, 0]
    assert bt.d_tpos.tolist() == [3, 6]
    # group features: prompt last position for group 1, then student rows 0 and 1
    assert bt.g_src_student.tolist() == [False, True, True]
    assert bt.g_src_index.tolist() == [2, 0, 1]


def test_objective_trains_every_part(tiny_base):
    torch.manual_seed(0)
    ad = randomize(HamburgerAdapter(tiny_base, tiny_cfg()), scale=0.02)
    exs = [Example([1, 2, 3, 4], [10, 11, 12, 13, 14, 15, 2], [2, 1, 3, 1]),
           Example([5, 6], [20, 21, 22, 23, 24], [4, 1])]
    bt = collate(exs, 4)
    tc = TrainConfig()
    loss, m, _ = forward_losses(tiny_base, ad, bt, tc)
    assert torch.isfinite(loss)
    loss.backward()
    for name, mod in (("embedder", ad.embedder), ("micro", ad.micro), ("stop", ad.stop), ("lora", ad.lora)):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in mod.parameters()), name
    assert all(p.grad is None for p in tiny_base.parameters())
    opt = torch.optim.Adam(ad.parameters(), lr=3e-3)
    first = m["loss"]
    for _ in range(25):
        loss, m, _ = forward_losses(tiny_base, ad, bt, tc)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert m["loss"] < first


def test_student_equals_teacher_without_merging(tiny_base, tiny_adapter):
    """All groups of size 1: no LoRA, plain embeddings, contiguous positions -> zero distillation loss."""
    randomize(tiny_adapter)
    ex = Example([1, 2, 3], [10, 11, 12, 13, 2], [1, 1, 1, 1, 1])
    _, m, _ = forward_losses(tiny_base, tiny_adapter, collate([ex], 4), TrainConfig())
    assert m["kl"] < 1e-6 and m["mse"] < 1e-6 and m["agree"] == 1.0


def test_micro_updates_on_cached_features_reduce_the_micro_loss(tiny_base):
    from hamburger_train.objective import micro_losses

    torch.manual_seed(0)
    ad = HamburgerAdapter(tiny_base, tiny_cfg())
    exs = [Example([1, 2, 3, 4], [10, 11, 12, 13, 14, 15, 2], [2, 1, 3, 1])]
    _, _, (feats, gt, gl) = forward_losses(tiny_base, ad, collate(exs, 4), TrainConfig())
    assert feats.shape == (8, 4, tiny_base.shape.hidden) and not feats.requires_grad
    opt = torch.optim.Adam(list(ad.micro.parameters()) + list(ad.stop.parameters()), lr=3e-3)
    first = None
    for _ in range(20):
        ce, bce, _ = micro_losses(tiny_base, ad, feats, gt, gl)
        loss = ce + 0.5 * bce
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first


def test_grow_keeps_the_function_and_adds_parameters(tiny_base):
    from hamburger_train.adapter import grow

    torch.manual_seed(0)
    ad = randomize(HamburgerAdapter(tiny_base, tiny_cfg()), scale=0.05)
    exs = [Example([1, 2, 3, 4], [10, 11, 12, 13, 14, 15, 2], [2, 1, 3, 1]),
           Example([5, 6], [20, 21, 22, 23, 24], [4, 1])]
    bt = collate(exs, 4)
    with torch.no_grad():
        loss0, m0, _ = forward_losses(tiny_base, ad, bt, TrainConfig())
        big = grow(ad, tiny_base, lora_rank=8, micro_layers=3)
        loss1, m1, _ = forward_losses(tiny_base, big, bt, TrainConfig())
    assert big.cfg.lora_rank == 8 and big.cfg.micro_layers == 3 and len(big.micro.layers) == 3
    assert big.cfg.lora_scaling == ad.cfg.lora_scaling
    assert sum(p.numel() for p in big.parameters()) > sum(p.numel() for p in ad.parameters())
    assert abs(loss1.item() - loss0.item()) < 1e-4 * max(1.0, abs(loss0.item()))
    for k in ("kl", "mse", "s1", "s2", "stop_acc"):
        assert abs(m1[k] - m0[k]) < 1e-4, k
    # and it trains: the new layer's zeroed projections get gradients
    loss, _, _ = forward_losses(tiny_base, big, bt, TrainConfig())
    loss.backward()
    assert big.micro.layers[2].ffn_down.grad.abs().sum() > 0
