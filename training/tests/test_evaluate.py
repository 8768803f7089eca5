from hamburger_train.evaluate import choose_default, lcs, prefix_fraction, rouge_l, summarize
from hamburger_train.qa import QA_ITEMS, is_correct


def test_lcs_and_rouge():
    assert lcs([1, 2, 3, 4], [1, 3, 4, 5]) == 3
    assert rouge_l([1, 2, 3], [1, 2, 3]) == 1.0
    assert rouge_l([7, 8], [1, 2]) == 0.0


def test_prefix_fraction_counts_the_identical_prefix():
    ref = list(range(40))
    assert prefix_fraction(ref, ref) == 1.0
    assert prefix_fraction(list(range(16)) + [99] * 30, ref) == 0.5
    assert prefix_fraction([5], [5]) == 1.0


def test_qa_checker():
    assert len(QA_ITEMS) >= 80
    assert is_correct("The capital of France is Paris.", ["Paris"])
    assert is_correct("There are 7 days in a week.", ["7", "seven"])
    assert not is_correct("There are 17 days.", ["7"])
    assert not is_correct("It is 70 degrees.", ["7"])
    assert is_correct("Caterpillars turn into butterflies.", ["butterfl", "moth"])


def test_summarize_compares_on_the_same_subset():
    base = {"held": [{"tokens": [1, 2, 3], "groups": [1, 1, 1], "nll_sum": 0.3, "ent_sum": 3.0, "n": 3}] * 4,
            "qa": [{"correct": True, "tokens": [1], "groups": [1]}, {"correct": False, "tokens": [1], "groups": [1]}]}
    cfg = {"held": [{"tokens": [1, 2, 4], "groups": [2, 1], "nll_sum": 0.6, "n": 3}] * 2,
           "qa": [{"correct": True, "tokens": [1, 2], "groups": [2]}]}
    r = summarize(cfg, base)
    assert r["tokens_per_step"] == 1.5 and r["n_prompts"] == 2
    assert r["base_qa_acc"] == 1.0 and r["qa_acc"] == 1.0
    assert abs(r["prefix32"] - 2 / 3) < 1e-9 and r["identical"] == 0
    assert abs(r["nll"] - 0.2) < 1e-9 and r["entropy"] != r["entropy"]  # no ent_sum in cfg: NaN
    assert abs(summarize(base, base)["entropy"] - 1.0) < 1e-9


def test_choose_default_takes_the_fastest_config_that_keeps_qa_and_fluency():
    rows = {"base": {"entropy": 1.4, "nll": 0.5, "qa_rel": 1.0, "tokens_per_step": 1.0},
            "0.5": {"nll": 1.8, "qa_rel": 0.95, "tokens_per_step": 1.6},  # too unlikely under the base
            "0.6": {"nll": 1.3, "qa_rel": 0.85, "tokens_per_step": 1.4},  # loses QA
            "0.7": {"nll": 1.2, "qa_rel": 0.90, "tokens_per_step": 1.3},
            "0.9": {"nll": 0.9, "qa_rel": 1.00, "tokens_per_step": 1.1}}
    assert choose_default(rows) == "0.7"
    rows["0.7"]["qa_rel"] = 0.8
    rows["0.9"]["nll"] = 1.5
    assert choose_default(rows) == "0.9"  # nothing qualifies: the most conservative


def test_hf_cache_is_keyed_by_content(tmp_path, monkeypatch):
    from hamburger_train.base import hf_cache_dir

    monkeypatch.setenv("HAMBURGER_HF_CACHE", str(tmp_path / "cache"))
    g = tmp_path / "m.gguf"
    g.write_bytes(b"GGUF one")
    first = hf_cache_dir(g)
    assert first.parent == tmp_path / "cache" and first.name.startswith("m-")
    g.write_bytes(b"GGUF two")
    assert hf_cache_dir(g) != first  # a replaced file never reuses the old dequantized copy
