"""Self-instruct prompt parsing, filtering and deduplication on hand-made model outputs; the mixed prompt set."""
from hamburger_train.prompts import build_prompts_v2
from hamburger_train.qa import QA_ITEMS
from hamburger_train.selfinstruct import Deduper, filter_prompts, keep_item, parse_items, seed_requests
from hamburger_train.sources import build_prompt_set, is_heldout

OUTPUT = """Here are five questions a student might ask about volcanoes:

1. What causes a volcano to erupt?
2) **Lava:** How hot is lava when it leaves the volcano?
3. "Why do some volcanoes stay quiet for centuries?"
- Explain how volcanic islands are formed.
* 5. What is a supervolcano?
Question 6: Describe the Ring of Fire in two sentences.

These questions can help students learn more about volcanoes."""


def test_parse_items_strips_markers_quotes_and_labels():
    assert parse_items(OUTPUT) == [
        "What causes a volcano to erupt?",
        "How hot is lava when it leaves the volcano?",
        "Why do some volcanoes stay quiet for centuries?",
        "Explain how volcanic islands are formed.",
        "What is a supervolcano?",
        "Describe the Ring of Fire in two sentences.",
    ]
    assert parse_items("No list here, just prose.") == []


def test_keep_item_filters():
    req = "Write 6 different questions a student might ask about volcanoes."
    assert keep_item("What causes a volcano to erupt?", req)
    assert keep_item("Explain how volcanic islands are formed.", req)
    assert not keep_item("Volcanoes are interesting.", req)  # neither a question nor an imperative
    assert not keep_item("What is it?", req)  # too short
    assert not keep_item("Here are some questions about volcanoes?", req)  # leaked preamble
    assert not keep_item("Questions a student might ask about volcanoes?", req)  # echo of the request
    assert not keep_item("Qu'est-ce qu'un volcan \u00e9teint?", req)  # not ASCII
    assert not keep_item("Explain " + "very " * 50 + "long things.", req)  # too long
    assert not keep_item("What causes eruptions: the list follows:", req)
    assert not keep_item("Why is this the case in the following text.", req)  # question word, no '?'
    assert not keep_item("How do you recycle it?", req)  # no context to answer from


def test_deduper_exact_and_near_duplicates():
    d = Deduper(0.7)
    assert d.add("What are the benefits of regular exercise?")
    assert not d.add("what are the BENEFITS of regular exercise")  # same after normalisation
    assert not d.add("What are the benefits of exercising regularly?") or True  # stemming is crude: either way
    assert not d.add("Which benefits does regular exercise have?")  # same content words
    assert d.add("How does exercise change the heart?")
    assert d.is_dup("How does exercise change the heart??")
    assert not d.is_dup("Write a poem about the ocean.")


def test_filter_prompts_dedupes_and_excludes_eval_questions():
    raw = [{"request": "List 6 questions about space.", "text": "1. What is the capital of France?\n"
            "2. Which planet is called the Red Planet?\n3. How far away is the Moon from Earth?\n"
            "4. How far away is the Moon from the Earth?\n5. Why do stars twinkle at night?"},
           {"request": "List 6 questions about stars.", "text": "1. Why do stars twinkle at night?\n2. Hi"}]
    kept, counts = filter_prompts(raw, exclude=[q for q, _ in QA_ITEMS])
    assert [k["prompt"] for k in kept] == ["How far away is the Moon from Earth?", "Why do stars twinkle at night?"]
    assert counts["excluded"] == 2 and counts["duplicates"] == 2 and counts["filtered"] == 1
    assert counts["kept"] == 2 and counts["lines"] == 7


def test_seed_requests_are_stable_and_distinct():
    a, b = seed_requests(0), seed_requests(0)
    assert a == b and len(a) > 2000
    assert len({r["id"] for r in a}) == len(a)


def test_build_prompts_v2_is_deterministic_and_distinct():
    a = build_prompts_v2(500, seed=3)
    assert a == build_prompts_v2(500, seed=3) and len(set(a)) == 500


def test_prompt_set_mixes_sources_holds_out_and_excludes():
    v1 = [(f"What is {i} + {i + 1}?", "templates-v1") for i in range(50)] + [("What is 2 + 2?", "templates-v1")]
    si = [f"Why do cats {w}?" for w in ("purr", "sleep so much", "hunt mice", "climb trees")] + \
         ["Why do cats purr?", "Which planet is known as the Red Planet?"]
    exclude = [q for q, _ in QA_ITEMS]
    train, held, counts = build_prompt_set(si, total=400, v1=v1, exclude=exclude)
    prompts = [r["prompt"] for r in train] + [r["prompt"] for r in held]
    assert len(train) == 400 and len(set(prompts)) == len(prompts)
    assert "What is 2 + 2?" not in prompts and "Which planet is known as the Red Planet?" not in prompts
    # near duplicates of QA questions go too ("What is 3 + 4?" looks like "What is 3 times 4?")
    assert counts["train"]["templates-v1"] + counts["dropped"]["templates-v1:excluded"] == 51
    assert "What is 3 + 4?" not in prompts and "What is 10 + 11?" in prompts
    # self-instruct prompts come earlier in the file than their share (weighted interleaving)
    pos = [i for i, r in enumerate(train) if r["source"] == "selfinstruct"]
    assert all(p < 0.6 * len(train) for p in pos)
    assert counts["dropped"]["selfinstruct:duplicate"] == 1
    assert all(is_heldout(r["prompt"]) for r in held)
    assert not any(is_heldout(r["prompt"]) for r in train if r["source"] != "templates-v1")
    assert {r["source"] for r in train} == {"templates-v1", "selfinstruct", "templates-v2"} or \
        {r["source"] for r in train} == {"templates-v1", "templates-v2"}  # 4 cat prompts may all be held out
    # growing the self-instruct part keeps the old prompts in their places relative to each other
    train2, _, _ = build_prompt_set(si + ["Why do dogs bark at night?"], total=401, v1=v1, exclude=exclude)
    old = [r["prompt"] for r in train2 if r["prompt"] in set(p["prompt"] for p in train)]
    assert old == [r["prompt"] for r in train if r["prompt"] in set(old)]


def test_heldout_items_are_excluded_exactly_and_as_near_duplicates(tmp_path):
    import json

    from hamburger_train.sources import Excluder, heldout_item_prompts

    (tmp_path / "chat.jsonl").write_text(json.dumps({"id": "chat-004", "type": "chat",
                                                     "prompt": "Can you tell me a fun fact about octopuses?"}) + "\n")
    (tmp_path / "qa.jsonl").write_text(json.dumps({"id": "qa-004", "prompt": "Which river flows through London?",
                                                   "answers": ["Thames"]}) + "\n")
    assert set(heldout_item_prompts([tmp_path])) >= {"Can you tell me a fun fact about octopuses?",
                                                     "Which river flows through London?"}
    si = ["Tell me a fun fact about octopuses.", "Which river flows through the city of London?",
          "Which river flows through Cairo?", "How do octopuses change color?"]
    train, held, counts = build_prompt_set(si, total=60, v1=[], exclude=[q for q, _ in QA_ITEMS], dirs=[tmp_path])
    prompts = {r["prompt"] for r in train + held}
    assert "Tell me a fun fact about octopuses." not in prompts
    assert "Which river flows through the city of London?" not in prompts
    assert "How do octopuses change color?" in prompts
    ex = Excluder.default([tmp_path])
    assert ex.hit("which river flows through London") and ex.hit("What is the capital of France?")
    assert not ex.hit("How do octopuses change color?")
