"""Dev adapter for Swift parity: untrained HAMburger adapter with small random W_out, LoRA B and stop head,
exported through the training package's own export()."""
import sys, torch
sys.path.insert(0, "/work/wt/training/training")
torch.set_num_threads(1)
from pathlib import Path
from hamburger_train.base import load_base, DEFAULT_GGUF
from hamburger_train.adapter import HamburgerAdapter
from hamburger_train.config import AdapterConfig
from hamburger_train.export import export
gguf = "/work/wt/hamburger/models/SmolLM2-135M-Instruct.Q4_1.gguf"
base, tok, _ = load_base(gguf)
torch.manual_seed(1234)
ad = HamburgerAdapter(base, AdapterConfig())
with torch.no_grad():
    ad.embedder.w_out.normal_(0, 0.02)
    for md in ad.lora:
        for lo in md.values():
            lo.b.normal_(0, 0.01)
    ad.stop.fc3.bias.fill_(float(sys.argv[2]) if len(sys.argv) > 2 else 0.0)
st, js = export(ad, base, Path(sys.argv[1]), 0.9, torch.float16)
print(st, js)
