"""The functional forward matches transformers, and the jumping-position trap is handled."""
import torch

from hamburger_train.llama import causal_mask


def test_forward_matches_transformers(tiny_hf, tiny_base):
    ids = torch.tensor([[5, 17, 3, 44, 90, 1, 7]])
    T = ids.shape[1]
    with torch.no_grad():
        ref = tiny_hf(ids).logits
        final, _ = tiny_base(tiny_base.embed[ids], torch.arange(T)[None], causal_mask(torch.ones(1, T, dtype=torch.bool)))
        mine = tiny_base.logits(final)
    assert torch.allclose(ref, mine, atol=1e-4)


def test_jumping_positions_need_an_explicit_mask(tiny_hf, tiny_base):
    """transformers reads a position jump as a sequence boundary unless the mask is explicit."""
    ids = torch.tensor([[5, 17, 3, 44, 90]])
    pos = torch.tensor([[0, 1, 2, 5, 6]])
    T = ids.shape[1]
    mask = causal_mask(torch.ones(1, T, dtype=torch.bool))
    with torch.no_grad():
        final, _ = tiny_base(tiny_base.embed[ids], pos, mask)
        mine = tiny_base.logits(final)
        add = torch.zeros(1, 1, T, T).masked_fill(~mask, torch.finfo(torch.float32).min)
        hf_masked = tiny_hf(input_ids=ids, position_ids=pos, attention_mask=add).logits
        hf_implicit = tiny_hf(input_ids=ids, position_ids=pos, use_cache=False).logits
    assert torch.allclose(mine, hf_masked, atol=1e-4)
    assert not torch.allclose(mine[0, -1], hf_implicit[0, -1], atol=1e-3)
    # the last row really attends to the first token
    ids2 = ids.clone()
    ids2[0, 0] = 60
    with torch.no_grad():
        final2, _ = tiny_base(tiny_base.embed[ids2], pos, mask)
    assert not torch.allclose(final[0, -1], final2[0, -1])


def test_kv_cache_matches_full_forward(tiny_base):
    from hamburger_train.llama import new_caches

    ids = torch.tensor([[5, 17, 3, 44, 90, 9]])
    pos = torch.tensor([[0, 1, 2, 4, 7, 8]])
    T = ids.shape[1]
    with torch.no_grad():
        full, _ = tiny_base(tiny_base.embed[ids], pos, causal_mask(torch.ones(1, T, dtype=torch.bool)))
        caches = new_caches(tiny_base.shape.layers)
        tiny_base(tiny_base.embed[ids[:, :3]], pos[:, :3], causal_mask(torch.ones(1, 3, dtype=torch.bool)), caches=caches)
        outs = []
        for t in range(3, T):
            m = torch.ones(1, 1, 1, t + 1, dtype=torch.bool)
            f, _ = tiny_base(tiny_base.embed[ids[:, t:t + 1]], pos[:, t:t + 1], m, caches=caches)
            outs.append(f)
    assert torch.allclose(torch.cat(outs, 1), full[:, 3:], atol=1e-4, rtol=1e-4)
