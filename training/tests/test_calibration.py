"""Stop-head calibration (objective.micro_losses calib_mix) on the tiny random model."""
import pytest
import torch
import torch.nn.functional as F

from hamburger_train.adapter import HamburgerAdapter
from hamburger_train.objective import micro_losses

from conftest import randomize, tiny_cfg


def _groups(tiny_base):
    torch.manual_seed(5)
    ad = randomize(HamburgerAdapter(tiny_base, tiny_cfg()), scale=0.05)
    d = tiny_base.shape.hidden
    feats = torch.randn(6, 4, d)
    gt = torch.tensor([[10, 11, 12, 13], [20, 21, 0, 0], [30, 0, 0, 0], [40, 41, 42, 0], [50, 51, 52, 53],
                       [60, 61, 0, 0]])
    gl = torch.tensor([4, 2, 1, 3, 4, 2])
    return ad, feats, gt, gl


def _expected_bce(tiny_base, ad, feats, gt, gl, mix):
    """The calibrated stop BCE recomputed group by group, token by token."""
    E = tiny_base.embed
    logits, targets = [], []
    with torch.no_grad():
        for g in range(len(gl)):
            k = int(gl[g])
            toks = gt[g, :k].tolist()
            # the micro decoder's argmax for tokens 2..k (teacher forced)
            right = {}
            hs = {1: feats[g, -1]}
            if k >= 2:
                x = torch.cat([feats[g], E[torch.tensor(toks[:-1])]], 0)[None]
                h = ad.micro(x, torch.ones(1, x.shape[1], dtype=torch.bool))[0, 4:]
                for i in range(2, k + 1):
                    hs[i] = h[i - 2]
                    pred = int(tiny_base.logits(ad.micro.normed(h[i - 2])).argmax())
                    right[i] = pred == toks[i - 1]
            for i in range(1, k + 1):
                logits.append(ad.stop.logit(hs[i]).float())
                if i == k:
                    targets.append(1.0)
                else:
                    targets.append(mix * (0.0 if right[i + 1] else 1.0))
    return F.binary_cross_entropy_with_logits(torch.stack(logits), torch.tensor(targets)).item(), targets


@pytest.mark.parametrize("mix", [0.0, 0.5, 1.0])
def test_calibrated_stop_target_matches_the_micro_decoders_mistakes(tiny_base, mix):
    ad, feats, gt, gl = _groups(tiny_base)
    with torch.no_grad():
        _, bce, m = micro_losses(tiny_base, ad, feats, gt, gl, calib_mix=mix)
    want, targets = _expected_bce(tiny_base, ad, feats, gt, gl, mix)
    assert bce.item() == pytest.approx(want, rel=1e-4, abs=1e-5)
    if mix > 0:
        # the random micro decoder is wrong somewhere, so calibration asks to stop before some group's end
        assert m["micro_wrong"] > 0 and sum(targets) > len(gl)


def test_calibration_off_is_the_old_objective(tiny_base):
    ad, feats, gt, gl = _groups(tiny_base)
    with torch.no_grad():
        a = micro_losses(tiny_base, ad, feats, gt, gl)
        b = micro_losses(tiny_base, ad, feats, gt, gl, calib_mix=0.0)
    assert a[0].item() == b[0].item() and a[1].item() == b[1].item()
    with pytest.raises(ValueError):
        micro_losses(tiny_base, ad, feats, gt, gl, calib_mix=1.5)


def test_calibrated_stop_head_learns_to_stop_before_wrong_tokens(tiny_base):
    """Training only the stop head with full calibration: its probability to end the group rises where the
    (frozen) micro decoder's next token is wrong, and falls where it is right."""
    ad, feats, gt, gl = _groups(tiny_base)
    _, targets = _expected_bce(tiny_base, ad, feats, gt, gl, 1.0)
    opt = torch.optim.Adam(ad.stop.parameters(), lr=3e-3)
    first = None
    for _ in range(60):
        _, bce, _ = micro_losses(tiny_base, ad, feats, gt, gl, calib_mix=1.0)
        first = first if first is not None else bce.item()
        opt.zero_grad()
        bce.backward()
        opt.step()
    assert bce.item() < 0.5 * first
    _, after = _expected_bce(tiny_base, ad, feats, gt, gl, 1.0)
    assert after == targets  # the micro decoder did not move: same targets
