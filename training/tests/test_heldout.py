import math

import pytest

from hamburger_train.heldout import (KEYED, MIN_COUNTS, TYPES, arith_correct, check, choose, code_pass,
                                     code_pass_any_name, extract_code,
                                     instruct_pass, load_items, numbers, parse_config, qa_correct, rouge_l_text,
                                     run_code, summarize)
from hamburger_train.prompts import build_prompts
from hamburger_train.qa import QA_ITEMS

ITEMS = load_items()
KINDS = {"words", "max_words", "min_words", "starts_with", "ends_with", "contains", "not_contains", "yes_no",
         "dash_list", "numbered_list", "lowercase", "uppercase", "number", "repeat", "one_line", "no_comma", "json_key"}


def test_items_schema_counts_and_uniqueness():
    assert len(ITEMS) >= 420
    for t, n in MIN_COUNTS.items():
        assert sum(it["type"] == t for it in ITEMS) >= n, t
    assert len({it["id"] for it in ITEMS}) == len(ITEMS)
    assert len({it["prompt"].strip().lower() for it in ITEMS}) == len(ITEMS)
    for it in ITEMS:
        assert it["type"] in TYPES and it["id"].startswith(it["type"] + "-") and it["prompt"].strip()
        if it["type"] == "qa":
            assert it["answers"] and all(isinstance(a, str) and a.strip() for a in it["answers"])
        elif it["type"] == "arith":
            assert isinstance(it["answer"], (int, float))
        elif it["type"] == "instruct":
            assert it["checks"] and all(k in KINDS for k, _ in it["checks"])
        elif it["type"] == "code":
            assert it["stub"] in it["prompt"] and f"def {it['entry_point']}(" in it["stub"] and "assert" in it["tests"]


def test_items_are_disjoint_from_the_training_prompts():
    train = {p.strip().lower() for p in build_prompts(6000, seed=0)} | {q.lower() for q, _ in QA_ITEMS}
    assert not [it["id"] for it in ITEMS if it["prompt"].strip().lower() in train]


def test_code_items_pass_with_their_reference_and_fail_without_a_body():
    for it in (x for x in ITEMS if x["type"] == "code"):
        assert run_code(it["reference"], it["tests"]), it["id"]
        assert not run_code(it["stub"] + "    pass\n", it["tests"]), it["id"]


def test_qa_scorer():
    assert qa_correct("The river is the Thames.", ["Thames"])
    assert qa_correct("It has eight arms.", ["8", "eight"])
    assert not qa_correct("It has 18 arms.", ["8", "eight"])
    assert qa_correct("Tofu is made from soybeans.", ["soy", "soybean"])
    assert not qa_correct("", ["Paris"])


def test_numbers_and_the_final_number_rule():
    assert numbers("It costs 1,200 dollars, or -3.5 per day") == [1200.0, -3.5]
    assert numbers("It ends at 5:00 pm") == [5.0]
    assert arith_correct("20 - 9 = 11.", 11)
    assert arith_correct("Sam ate 3 of 8 slices, so 8 - 3 = 5 slices are left.", 5)
    assert not arith_correct("20 - 9 = 10.", 11)
    assert not arith_correct("5 slices, that is 8 - 3.", 5)  # the last number rules, not any number
    assert not arith_correct("eleven", 11)  # numbers in words do not count
    assert not arith_correct("", 11)
    assert arith_correct("Half of 3 is 1.5", 1.5)


def test_instruction_checks():
    assert check("words", 3, "Blue, wide, calm.") and not check("words", 3, "Blue and wide and calm")
    assert check("max_words", 5, "Big and salty water.") and not check("max_words", 5, "")
    assert check("starts_with", "today", "Today, I went out.") and not check("starts_with", "today", "I went out today.")
    assert check("ends_with", "?", '"What is your favorite food?"') and not check("ends_with", "!", "Fly.")
    assert check("contains", "tree", "Trees are tall.") and not check("contains", "tree", "A street.")
    assert check("not_contains", "hot", "It is a hotel.") and not check("not_contains", "hot", "It is HOT.")
    assert check("yes_no", "no", "No, cats do not have wings.") and not check("yes_no", "yes", "Nope")
    assert check("dash_list", 3, "Here:\n- a\n- b\n- c") and not check("dash_list", 3, "* a\n* b\n* c")
    assert not check("dash_list", 3, "- a - b - c")
    assert check("numbered_list", 3, "1. a\n2) b\n3. c") and not check("numbered_list", 3, "1. a\n2. b")
    assert check("lowercase", None, "hi there!") and not check("lowercase", None, "Hi") and not check("lowercase", None, "42")
    assert check("uppercase", None, "STOP! 2 CARS") and not check("uppercase", None, "STOP now")
    assert check("number", 4, "4") and check("number", 4, "4.") and not check("number", 4, "A dog has 4 legs.")
    assert check("repeat", "The cat is sleeping.", ' "the cat is  sleeping" ') and not check("repeat", "I like apples.", "I like pears.")
    assert check("one_line", None, "one line\n") and not check("one_line", None, "a\nb")
    assert check("no_comma", None, "No commas here.") and not check("no_comma", None, "Yes, one.")
    assert check("json_key", ["name", "Tom"], 'Sure:\n```json\n{"name": "Tom"}\n```')
    assert not check("json_key", ["age", 7], '{"key": "age", "value": 7}') and not check("json_key", ["a", 1], "{oops}")
    assert instruct_pass("Today is sunny.", [["starts_with", "today"], ["contains", "sun"]])
    assert not instruct_pass("Today is rainy.", [["starts_with", "today"], ["contains", "sun"]])
    with pytest.raises(ValueError):
        check("no_such_check", None, "x")


def test_rouge_l_on_words():
    assert rouge_l_text("The cat sat.", "the cat sat") == 1.0
    assert rouge_l_text("", "") == 1.0 and rouge_l_text("a b", "") == 0.0
    assert abs(rouge_l_text("the cat sat", "the dog sat") - 2 / 3) < 1e-9


STUB = 'def add(a, b):\n    """Return a + b."""\n'
TESTS = "assert add(2, 3) == 5"


def test_extract_code_variants():
    fenced = "Here:\n```python\ndef add(a, b):\n    return a + b\n```\nIt adds."
    assert run_code(extract_code(fenced, STUB, "add"), TESTS)
    unclosed = "```python\ndef add(a, b):\n    return a + b\n"
    assert run_code(extract_code(unclosed, STUB, "add"), TESTS)
    bare_def = "Sure. def is below.\ndef add(a, b):\n    return a + b"
    assert run_code(extract_code(bare_def, STUB, "add"), TESTS)
    body_only = "```python\nreturn a + b\n```"
    assert run_code(extract_code(body_only, STUB, "add"), TESTS)
    assert not run_code(extract_code("I cannot help with that.", STUB, "add"), TESTS)


def test_code_pass_any_name_renames_the_first_function():
    item = {"stub": STUB, "entry_point": "add", "tests": TESTS}
    renamed = "```python\ndef add_(a, b):\n    return a + b\n```"
    assert not code_pass(renamed, item) and code_pass_any_name(renamed, item)
    assert not code_pass_any_name("```python\ndef add_(a, b):\n    return a - b\n```", item)


def test_code_runner_pass_fail_and_hang():
    assert run_code(STUB + "    return a + b\n", TESTS)
    assert not run_code(STUB + "    return a - b\n", TESTS)
    assert not run_code(STUB + "    while True:\n        pass\n", TESTS, timeout=1.0)


def test_parse_config():
    assert parse_config("base") == {"decoding": "autoregressive"}
    assert parse_config("0.6") == {"decoding": "hamburger", "hamburger_confidence": 0.6}
    assert parse_config("0.3/p0.8") == {"decoding": "hamburger", "hamburger_confidence": 0.3,
                                        "hamburger_min_probability": 0.8}
    with pytest.raises(ValueError):
        parse_config("0.3/0.8")


def _row(tps, rels, nll, ent=2.0):
    r = {"tokens_per_step": tps, "chat_nll": nll, "base_chat_entropy": ent}
    r.update({f"{t}_rel": x for t, x in zip(KEYED, rels)})
    return r


def test_choose_takes_the_fastest_config_that_keeps_every_keyed_type_and_fluency():
    rows = {"base": _row(1.0, [1, 1, 1, 1], 1.5),
            "0.9": _row(1.02, [1.0, 1.0, 1.0, 1.0], 1.6),
            "0.8": _row(1.10, [0.99, 0.98, 1.05, 1.0], 1.8),
            "0.6": _row(1.30, [0.99, 0.97, 1.0, 1.0], 1.9),   # arithmetic below 98%
            "0.3": _row(1.50, [1.0, 1.0, 1.0, 1.0], 2.5),     # chat NLL above the base's entropy
            "0.2/p0.9": _row(1.20, [1.0, float("nan"), 1.0, 0.99], 1.9)}  # base 0 on one type: skipped
    assert choose(rows) == "0.2/p0.9"
    del rows["0.2/p0.9"]
    assert choose(rows) == "0.8"
    rows["0.8"]["chat_nll"] = float("nan")  # not scored: does not qualify
    assert choose(rows) == "0.9"
    assert choose({"base": rows["base"], "0.6": rows["0.6"]}) is None


def test_summarize_scores_each_type_against_the_base():
    items = [{"id": "qa-1", "type": "qa", "answers": ["Paris"]}, {"id": "qa-2", "type": "qa", "answers": ["Rome"]},
             {"id": "arith-1", "type": "arith", "answer": 4},
             {"id": "instruct-1", "type": "instruct", "checks": [["yes_no", "yes"]]},
             {"id": "code-1", "type": "code", "stub": STUB, "entry_point": "add", "tests": TESTS},
             {"id": "rewrite-1", "type": "rewrite"}, {"id": "chat-1", "type": "chat"}]
    base = {"fields": {"decoding": "autoregressive"}, "seconds": 3.0, "results": [
        {"id": "qa-1", "text": "Paris"}, {"id": "qa-2", "text": "Rome"}, {"id": "arith-1", "text": "2 + 2 = 4"},
        {"id": "instruct-1", "text": "Yes."}, {"id": "code-1", "text": "```python\nreturn a + b\n```"},
        {"id": "rewrite-1", "text": "a b c d"}, {"id": "chat-1", "text": "hi", "nll_sum": 3.0, "ent_sum": 4.0, "n": 2}]}
    cfg = {"fields": {"decoding": "hamburger", "hamburger_confidence": 0.5}, "generation_tokens": 30,
           "macro_steps": 20, "seconds": 2.0, "results": [
        {"id": "qa-1", "text": "Paris"}, {"id": "qa-2", "text": "Milan"}, {"id": "arith-1", "text": "2 + 2 = 5"},
        {"id": "instruct-1", "text": "Yes."}, {"id": "code-1", "text": "```python\nreturn a + b\n```"},
        {"id": "rewrite-1", "text": "a b x d"}, {"id": "chat-1", "text": "hey", "nll_sum": 5.0, "ent_sum": 9.0, "n": 2}]}
    b = summarize(base, base, items)
    assert b["tokens_per_step"] == 1.0 and b["qa"] == 1.0 and b["arith"] == 1.0 and b["rewrite"] == 1.0
    assert b["chat_nll"] == 1.5 and b["base_chat_entropy"] == 2.0
    r = summarize(cfg, base, items)
    assert r["tokens_per_step"] == 1.5 and abs(r["kv_per_token"] - 2 / 3) < 1e-9
    assert r["qa"] == 0.5 and r["qa_rel"] == 0.5 and r["lost_qa"] == 1 and r["gained_qa"] == 0
    assert r["arith"] == 0.0 and r["instruct"] == 1.0 and r["code"] == 1.0
    assert r["rewrite"] == 0.75 and r["chat_nll"] == 2.5 and r["base_chat_entropy"] == 2.0
    assert math.isnan(summarize(cfg, cfg, items)["arith_rel"])  # the reference scores 0: no ratio
