"""The training objective: CE on every token of every group + `stop_weight` x BCE(stop) + dense
distillation (`kl_weight` x KL to the unmerged teacher's next-token distribution and `hidden_weight` x
normalised MSE on hidden states); the weights are `TrainConfig`'s.

Stop-head calibration (`TrainConfig.calib_mix`, train.py `--calib-mix`; 0 = off): the decoders drop micro
token i >= 2 when the micro decoder is unsure of it, so a group should end where the micro decoder's next
token is likely wrong. With calibration, the stop target after token i of a group (i < group size) is
`(1 - mix) * 0 + mix * wrong_{i+1}`, where wrong_{i+1} = 1 when the micro decoder's own argmax for token
i+1 (teacher forced, the same pass) is not the data's token; at a group's last token the target stays 1.
The stop head thus learns P(segment ends here or the next micro token is wrong)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .adapter import HamburgerAdapter
from .batch import Batch
from .config import TrainConfig
from .llama import BaseLlama, new_caches


def forward_losses(base: BaseLlama, ad: HamburgerAdapter, bt: Batch, tc: TrainConfig, train_lora: bool = True):
    """Returns (total loss, metrics dict of floats, feature cache): the cache holds the detached group
    features (student's, then teacher's), their group tokens and sizes, for extra micro-decoder steps."""
    s = base.shape
    K = ad.cfg.max_steps
    dev = base.embed.device
    E = base.embed
    B, T = bt.teacher_ids.shape
    S = bt.row_tokens.shape[1]
    keep = "all" if tc.hidden_all_layers else tuple(ad.cfg.feature_layers)

    # Teacher: the untouched base over the unmerged sequence; its prompt KV is the student's prefix.
    with torch.no_grad():
        tv = bt.teacher_valid.to(dev)
        tri = torch.ones(T, T, dtype=torch.bool, device=dev).tril()
        tmask = (tri[None] & tv[:, None, :]) | torch.eye(T, dtype=torch.bool, device=dev)[None]
        caches = new_caches(s.layers)
        pos = torch.arange(T, device=dev)[None].expand(B, T)
        t_final, t_outs = base(E[bt.teacher_ids.to(dev)], pos, tmask[:, None], caches=caches, keep_layers=keep)
        n_max = bt.n_max
        prefix = [[c[0][:, :, :n_max].detach(), c[1][:, :, :n_max].detach()] for c in caches]
        del caches

    # Student rows: merged inputs of groups 1..G-1 after the prompt prefix.
    rl = bt.row_len.to(dev)
    emb = ad.embedder(E[bt.row_tokens.to(dev)].view(B * S, K, -1), rl.view(-1)).view(B, S, -1)
    rv = bt.row_valid.to(dev)
    pl = bt.prompt_len.to(dev)
    pre_ok = torch.arange(n_max, device=dev)[None] < pl[:, None]  # [B, n_max]
    tri_s = torch.ones(S, S, dtype=torch.bool, device=dev).tril()
    smask_rows = (tri_s[None] & rv[:, None, :]) | torch.eye(S, dtype=torch.bool, device=dev)[None]
    smask = torch.cat([pre_ok[:, None, :].expand(B, S, n_max), smask_rows], dim=-1)[:, None]
    merged = (rl >= 2).float()
    s_final, s_outs = base(emb, bt.row_pos.to(dev), smask, caches=[list(p) for p in prefix],
                           lora=ad.lora if train_lora else None, row_mask=merged, keep_layers=keep)

    m = {}
    # --- dense distillation at every student row
    db, dr, dtp = bt.d_batch.to(dev), bt.d_row.to(dev), bt.d_tpos.to(dev)
    if len(db) > 0:
        st_logits = base.logits(s_final[db, dr]).float()
        te_logits = base.logits(t_final[db, dtp]).float()
        te_lp = te_logits.log_softmax(-1)
        kl = (te_lp.exp() * (te_lp - st_logits.log_softmax(-1))).sum(-1).mean()
        layers = list(range(s.layers)) if tc.hidden_all_layers else list(ad.cfg.feature_layers)
        mse_terms = []
        for l in layers:
            a, b = s_outs[l][db, dr].float(), t_outs[l][db, dtp].float()
            mse_terms.append(((a - b).pow(2).sum(-1) / b.pow(2).sum(-1).clamp_min(1e-6)).mean())
        a, b = s_final[db, dr].float(), t_final[db, dtp].float()
        mse_terms.append(((a - b).pow(2).sum(-1) / b.pow(2).sum(-1).clamp_min(1e-6)).mean())
        mse = torch.stack(mse_terms).mean()
        m["agree"] = (st_logits.argmax(-1) == te_logits.argmax(-1)).float().mean().item()
    else:
        kl = mse = torch.zeros((), device=dev)

    # --- group features: prompt last token (from the teacher, identical) or a student row
    gb, gsrc, gi = bt.g_batch.to(dev), bt.g_src_student.to(dev), bt.g_src_index.to(dev)
    t_feat = ad.features(t_final, t_outs)  # [B, T, F, d]
    s_feat = ad.features(s_final, s_outs)  # [B, S, F, d]
    gi_t = torch.where(gsrc, torch.zeros_like(gi), gi)
    gi_s = torch.where(gsrc, gi, torch.zeros_like(gi))
    feats = torch.where(gsrc[:, None, None], s_feat[gb, gi_s], t_feat[gb, gi_t])  # [NG, F, d]
    gt, gl = bt.g_tokens.to(dev), bt.g_len.to(dev)

    # token 1: the base's own head on the (student) final feature; only merged-context groups learn
    logits1 = base.logits(feats[:, -1]).float()
    ce1_all = F.cross_entropy(logits1, gt[:, 0], reduction="none")
    w1 = gsrc.float()
    ce1 = (ce1_all * w1).sum() / w1.sum().clamp_min(1)
    hit1 = (logits1.argmax(-1) == gt[:, 0]).float()
    m["s1"] = ((hit1 * w1).sum() / w1.sum().clamp_min(1)).item()

    # teacher features of the same groups (the targets the student's features are distilled to):
    # prompt last token for group 1, else the teacher's flat position of the previous group's last token
    t_pos = torch.where(gsrc, bt.row_pos.to(dev)[gb, gi_s], gi)
    t_feats = t_feat[gb, t_pos]
    ce_micro, bce, mm = micro_losses(base, ad, feats.detach(), gt, gl, tc.calib_mix)
    m.update(mm)
    if tc.micro_on_teacher:
        ce_t, bce_t, _ = micro_losses(base, ad, t_feats.detach(), gt, gl, tc.calib_mix)
        ce_micro, bce = 0.5 * (ce_micro + ce_t), 0.5 * (bce + bce_t)
    feat_cache = (torch.cat([feats.detach(), t_feats.detach()]), torch.cat([gt, gt]), torch.cat([gl, gl]))

    ce_total = ce1 + ce_micro
    loss = ce_total + tc.stop_weight * bce + tc.kl_weight * kl + tc.hidden_weight * mse
    m.update(loss=loss.item(), ce1=ce1.item(), ce_mu=ce_micro.item(), bce=bce.item(), kl=kl.item(), mse=mse.item())
    return loss, m, feat_cache


def micro_losses(base: BaseLlama, ad: HamburgerAdapter, feats: torch.Tensor, gt: torch.Tensor, gl: torch.Tensor,
                 calib_mix: float = 0.0):
    """Micro decoder (teacher forced) + stop head on given group features.

    feats [NG, F, d] (detached), gt [NG, K] group tokens, gl [NG] group sizes; calib_mix in [0, 1]: how much
    the stop target after token i < k says "the micro decoder's token i+1 is wrong" (module docstring).
    Returns (CE over micro tokens 2..k, BCE of the stop head over tokens 1..k, metrics)."""
    if not 0.0 <= calib_mix <= 1.0:
        raise ValueError(f"calib_mix must be in [0, 1], got {calib_mix}")
    K, Fn = ad.cfg.max_steps, ad.cfg.num_features
    dev = feats.device
    E = base.embed
    m = {}
    # stop head on micro token 1 (feature_F), target: group ends here (size 1)
    stop_logits = [ad.stop.logit(feats[:, -1]).float()]
    stop_tgt = [(gl == 1).float()]
    stop_w = [torch.ones_like(gl, dtype=torch.float)]
    mi = (gl >= 2).nonzero().squeeze(-1)
    ce_micro = torch.zeros((), device=dev)
    if len(mi) > 0:
        toks = gt[mi]  # [Nm, K]
        lens = gl[mi]
        x = torch.cat([feats[mi], E[toks[:, :K - 1]]], dim=1)  # [Nm, F+K-1, d]
        valid = torch.arange(Fn + K - 1, device=dev)[None] < (Fn + lens - 1)[:, None]
        h = ad.micro(x, valid)[:, Fn:Fn + K - 1]  # outputs for micro tokens 2..K
        lg = base.logits(ad.micro.normed(h)).float()  # [Nm, K-1, V]
        tgt = toks[:, 1:]
        iw = torch.arange(2, K + 1, device=dev)[None] <= lens[:, None]  # token i exists in the group
        ce = F.cross_entropy(lg.reshape(-1, lg.shape[-1]), tgt.reshape(-1), reduction="none").view_as(tgt)
        ce_micro = (ce * iw).sum() / iw.sum()
        hit = (lg.argmax(-1) == tgt) & iw
        for i in range(2, K + 1):
            n_i = iw[:, i - 2].sum()
            if n_i > 0:
                m[f"s{i}"] = (hit[:, i - 2].sum() / n_i).item()
        seg_tgt = (torch.arange(2, K + 1, device=dev)[None] == lens[:, None]).float()  # [Nm, K-1], tokens 2..K
        if calib_mix > 0:
            # wrong[:, j] = the micro decoder misses token j+2; it informs the stop target after token j+1
            wrong = (~hit & iw).float().detach()
            stop_tgt[0] = stop_tgt[0].clone()
            stop_tgt[0][mi] = calib_mix * wrong[:, 0]  # after token 1 (size >= 2 groups: seg target 0)
            nxt = torch.cat([wrong[:, 1:], torch.zeros_like(wrong[:, :1])], dim=1)  # token i+1 for i = 2..K
            seg_tgt = torch.where(seg_tgt > 0, seg_tgt, calib_mix * nxt)
            m["micro_wrong"] = (wrong.sum() / iw.sum()).item()
        stop_logits.append(ad.stop.logit(h).float().reshape(-1))
        stop_tgt.append(seg_tgt.reshape(-1))
        stop_w.append(iw.float().reshape(-1))
    sl, st, sw = torch.cat(stop_logits), torch.cat(stop_tgt), torch.cat(stop_w)
    bce = (F.binary_cross_entropy_with_logits(sl, st, reduction="none") * sw).sum() / sw.sum()
    m["stop_acc"] = ((((sl > 0).float() == (st >= 0.5).float()).float() * sw).sum() / sw.sum()).item()
    return ce_micro, bce, m
