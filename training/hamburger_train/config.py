"""Hyper-parameters of the HAMburger adapter and of its training."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

FORMAT_VERSION = 1
BASE_FILE_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
BASE_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
LORA_TARGETS_ALL = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")


@dataclass
class AdapterConfig:
    """Shape of the grafted modules; written into the exported JSON."""

    max_steps: int = 4  # K: tokens per macro step at most
    feature_layers: tuple[int, ...] = (7, 15, 23)  # base layers whose outputs are features 1..F-1
    micro_layers: int = 2  # L_mu, initialised from the base's last layers
    head_dim: int = 64  # embedder attention head dim
    lora_rank: int = 16
    lora_alpha: float = 32.0
    lora_targets: tuple[str, ...] = LORA_TARGETS_ALL
    lora_layers: tuple[int, ...] | None = None  # None = every base layer
    default_confidence: float = 0.9

    @property
    def num_features(self) -> int:
        """F: the feature layers plus the final normed hidden state."""
        return len(self.feature_layers) + 1

    @property
    def lora_scaling(self) -> float:
        return self.lora_alpha / self.lora_rank

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["feature_layers"] = list(self.feature_layers)
        d["lora_targets"] = list(self.lora_targets)
        d["lora_layers"] = None if self.lora_layers is None else list(self.lora_layers)
        return d

    @staticmethod
    def from_dict(d: dict) -> "AdapterConfig":
        d = dict(d)
        d["feature_layers"] = tuple(d["feature_layers"])
        d["lora_targets"] = tuple(d["lora_targets"])
        if d.get("lora_layers") is not None:
            d["lora_layers"] = tuple(d["lora_layers"])
        names = {f.name for f in dataclasses.fields(AdapterConfig)}
        return AdapterConfig(**{k: v for k, v in d.items() if k in names})


@dataclass
class SegmentConfig:
    """Entropy segmentation (HAMBURGER.md, Training 2): token j joins the open group if H_j < tau."""

    tau: float = 0.5  # nats
    max_steps: int = 4


@dataclass
class TrainConfig:
    lr: float = 5e-4
    micro_lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 8
    stop_weight: float = 0.5
    kl_weight: float = 1.0
    hidden_weight: float = 1.0
    hidden_all_layers: bool = True
    micro_on_teacher: bool = True  # also train the micro decoder on the teacher's features
    micro_updates: int = 1  # extra micro-decoder/stop-head updates per step on the step's cached features
    calib_mix: float = 0.0  # stop-head calibration: weight of "the next micro token is wrong" in the stop target
    time_budget_s: float = 3600.0
    max_steps: int = 1_000_000
    log_every: int = 10
    ckpt_every_s: float = 300.0
    eval_every: int = 200
    seed: int = 0
    extra: dict = field(default_factory=dict)
