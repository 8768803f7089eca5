"""Teacher-forcing batches: prompt unmerged, then one merged input per group (HAMBURGER.md, Training 3).

For a sample with prompt length n, response r_0..r_{m-1} and group sizes g_1..g_G (c_j = g_1+..+g_j):
- the student rows are the merged inputs of groups 1..G-1 (group G's input would predict past the end);
  row j sits at RoPE position n + c_j - 1 (the flat position of the group's last token); the prompt part
  is the teacher's (identical: unmerged rows run the untouched base), reused as a KV prefix;
- the features for group j come from the prompt's last token (j = 1) or from student row j-1;
- distillation pairs: student row j <-> teacher flat position n + c_j - 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Example:
    prompt: list[int]
    response: list[int]
    sizes: list[int]
    key: str = ""  # the prompt text (identifies the sample across reloads of the data)


@dataclass
class Batch:
    teacher_ids: torch.Tensor  # [B, T] prompt+response, padded
    teacher_valid: torch.Tensor  # [B, T] bool
    prompt_len: torch.Tensor  # [B]
    n_max: int  # prompt KV prefix length used by the student (max prompt length)
    row_tokens: torch.Tensor  # [B, S, K] tokens of each student row's group (padded with 0)
    row_len: torch.Tensor  # [B, S] group size (pad rows: 1)
    row_pos: torch.Tensor  # [B, S] RoPE positions
    row_valid: torch.Tensor  # [B, S] bool
    # groups (all groups of all samples, flattened), for token-1 CE, stop and the micro decoder
    g_batch: torch.Tensor  # [NG]
    g_src_student: torch.Tensor  # [NG] bool: features from a student row (else from the prompt's last token)
    g_src_index: torch.Tensor  # [NG] student row index (if from student) else prompt last position
    g_tokens: torch.Tensor  # [NG, K]
    g_len: torch.Tensor  # [NG]
    # distillation pairs
    d_batch: torch.Tensor  # [ND]
    d_row: torch.Tensor  # [ND] student row index
    d_tpos: torch.Tensor  # [ND] teacher position


def collate(examples: list[Example], max_steps: int) -> Batch:
    K = max_steps
    B = len(examples)
    T = max(len(e.prompt) + len(e.response) for e in examples)
    S = max(max(len(e.sizes) - 1, 1) for e in examples)
    n_max = max(len(e.prompt) for e in examples)
    teacher_ids = torch.zeros(B, T, dtype=torch.long)
    teacher_valid = torch.zeros(B, T, dtype=torch.bool)
    row_tokens = torch.zeros(B, S, K, dtype=torch.long)
    row_len = torch.ones(B, S, dtype=torch.long)
    row_pos = torch.zeros(B, S, dtype=torch.long)
    row_valid = torch.zeros(B, S, dtype=torch.bool)
    gb, gs, gi, gt, gl, db, dr, dt = [], [], [], [], [], [], [], []
    for b, e in enumerate(examples):
        if sum(e.sizes) != len(e.response) or any(not 1 <= k <= K for k in e.sizes):
            raise ValueError("group sizes must be in 1..K and sum to the response length")
        n = len(e.prompt)
        seq = e.prompt + e.response
        teacher_ids[b, :len(seq)] = torch.tensor(seq)
        teacher_valid[b, :len(seq)] = True
        c = 0
        for j, k in enumerate(e.sizes, start=1):
            toks = e.response[c:c + k]
            # the group's own features: prompt last token (j = 1) or student row j-1 (0-based j-2)
            gb.append(b)
            gs.append(j >= 2)
            gi.append(j - 2 if j >= 2 else n - 1)
            gt.append(toks + [0] * (K - k))
            gl.append(k)
            c += k
            if j < len(e.sizes):  # merged input of group j = student row j-1
                r = j - 1
                row_tokens[b, r, :k] = torch.tensor(toks)
                row_len[b, r] = k
                row_pos[b, r] = n + c - 1
                row_valid[b, r] = True
                db.append(b)
                dr.append(r)
                dt.append(n + c - 1)
    t = lambda x, dt_=torch.long: torch.tensor(x, dtype=dt_)
    return Batch(teacher_ids, teacher_valid, t([len(e.prompt) for e in examples]), n_max, row_tokens, row_len,
                 row_pos, row_valid, t(gb), t(gs, torch.bool), t(gi), t(gt).view(-1, K), t(gl), t(db), t(dr), t(dt))
