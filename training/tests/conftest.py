import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hamburger_train.adapter import HamburgerAdapter  # noqa: E402
from hamburger_train.base import tiny_hf_model  # noqa: E402
from hamburger_train.config import AdapterConfig  # noqa: E402
from hamburger_train.llama import BaseLlama  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_hf():
    return tiny_hf_model()


@pytest.fixture(scope="session")
def tiny_base(tiny_hf):
    return BaseLlama.from_hf(tiny_hf)


def tiny_cfg(**kw) -> AdapterConfig:
    d = dict(max_steps=4, feature_layers=(0, 1, 2), micro_layers=2, head_dim=16, lora_rank=4, lora_alpha=8.0)
    d.update(kw)
    return AdapterConfig(**d)


def randomize(ad: HamburgerAdapter, seed: int = 1, scale: float = 0.1) -> HamburgerAdapter:
    """Make every adapter weight non-trivial (W_out and LoRA B start at zero)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in ad.parameters():
            p.add_(torch.randn(p.shape, generator=g) * scale)
    return ad


@pytest.fixture
def tiny_adapter(tiny_base):
    torch.manual_seed(0)
    return HamburgerAdapter(tiny_base, tiny_cfg())
