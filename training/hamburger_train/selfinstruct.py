"""Self-instruct prompts: the base model writes questions and tasks itself (DATA.md).

The base (chat template) is asked seed requests such as "Write 5 different questions a student might ask
about {topic}." across the topics and domains listed here, sampled at temperature 0.8 so that repeated
requests differ. Its numbered or bulleted lines are parsed, filtered (length, ASCII, a question or an
imperative, no echo of the request) and deduplicated (normalised text, then near-duplicates by the
overlap of their content-word sets).

    python -m hamburger_train.selfinstruct generate --out RUN/selfinstruct-raw-0.jsonl --shard 0/2
    python -m hamburger_train.selfinstruct build --raw RUN/selfinstruct-raw-*.jsonl --out RUN/selfinstruct.jsonl

`generate` is resumable (requests already answered in any selfinstruct-raw*.jsonl beside the output are skipped); `build` is cheap and
deterministic (the kept prompts in the order of the raw requests).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
from pathlib import Path

# ---------------------------------------------------------------------------------------------- seeds

TOPICS = """volcanoes|earthquakes|the water cycle|clouds|rainbows|hurricanes|tornadoes|glaciers|rivers|oceans|
coral reefs|rainforests|deserts|mountains|caves|islands|the moon|the sun|stars|planets|black holes|galaxies|
comets|astronauts|the space station|rockets|satellites|telescopes|gravity|magnets|electricity|batteries|
light|sound|heat|friction|simple machines|atoms|molecules|chemical reactions|acids and bases|the periodic table|
metals|plastics|glass|cells|bacteria|viruses|fungi|the human heart|the brain|bones|muscles|the immune system|
digestion|sleep|dreams|memory|emotions|nutrition|vitamins|exercise|yoga|running|swimming|cycling|football|
basketball|tennis|chess|the Olympic Games|dinosaurs|fossils|evolution|genetics|DNA|bees|ants|butterflies|
spiders|birds|owls|penguins|whales|dolphins|sharks|octopuses|elephants|lions|wolves|horses|cats|dogs|
hamsters|frogs|snakes|turtles|trees|flowers|seeds|photosynthesis|gardening|farming|composting|recycling|
pollution|climate change|renewable energy|solar panels|wind turbines|electric cars|trains|airplanes|ships|
bicycles|bridges|skyscrapers|roads|cities|villages|maps|compasses|time zones|calendars|clocks|money|banks|
saving money|budgeting|taxes|credit cards|inflation|the stock market|starting a business|marketing|
advertising|job interviews|resumes|teamwork|leadership|public speaking|negotiation|time management|
procrastination|study habits|exams|homework|reading|libraries|poetry|novels|fairy tales|myths|mythology|
Greek gods|ancient Egypt|ancient Rome|ancient Greece|the Middle Ages|castles|knights|the Vikings|
the Renaissance|the Industrial Revolution|world history|inventions|the printing press|the telephone|
the internet|computers|smartphones|social media|video games|programming|Python programming|JavaScript|
databases|algorithms|data structures|artificial intelligence|machine learning|robots|cybersecurity|
passwords|encryption|cloud computing|operating systems|spreadsheets|email etiquette|photography|painting|
drawing|sculpture|music|the piano|the guitar|singing|dance|theater|movies|animation|comics|architecture|
fashion|cooking|baking|bread|cheese|chocolate|coffee|tea|spices|vegetarian food|breakfast|pasta|rice|
soup|salads|desserts|table manners|holidays|birthdays|weddings|travel|camping|hiking|packing a suitcase|
learning languages|English grammar|vocabulary|spelling|punctuation|writing essays|writing stories|
letters|journaling|philosophy|ethics|logic|critical thinking|psychology|friendship|family|parenting|
babies|teenagers|old age|kindness|gratitude|happiness|stress|anxiety|mindfulness|meditation|habits|
motivation|goals|volunteering|community|democracy|elections|laws|human rights|the United Nations|
geography|countries of Europe|countries of Asia|Africa|South America|North America|Australia|Antarctica|
the Arctic|the Amazon river|the Sahara|the Himalayas|weather forecasts|seasons|snow|thunderstorms|
fractions|decimals|percentages|geometry|triangles|circles|algebra|equations|probability|statistics|
multiplication|prime numbers|measurement|the metric system|shapes|patterns|puzzles|riddles|jokes|
board games|toys|pets|zoos|museums|parks|gardens|houses|furniture|cleaning|laundry|plumbing|
home repair|cars|driving|traffic safety|first aid|hospitals|doctors|dentists|medicine|vaccines|
hygiene|water|salt|sugar|energy|oil|coal|nuclear power|electric circuits|light bulbs|the telegraph|
newspapers|journalism|radio|television|podcasts|blogs|online shopping|customer service|restaurants|
supermarkets|markets|trade|shipping|the post office|airports|hotels|tourism|national parks|wildlife|
endangered species|forests|oceans and plastic|fishing|beekeeping|weaving|knitting|woodworking|pottery""".replace(
    "\n", "").split("|")

DOMAINS = """cooking at home|planning a trip|personal finance|fitness|health and wellbeing|learning to code|
writing and editing|studying for exams|job hunting|running a small business|home cleaning|gardening|
pet care|parenting|relationships|mental health|science homework|math homework|history homework|
learning a language|music practice|photography|making art|reading and books|movies and TV|
sports training|cars and driving|home repair|moving to a new city|party planning|productivity|
email writing|social media|online safety|using a computer|smartphones|spreadsheets|data analysis|
web development|software testing|shopping|fashion|nutrition|sleep|travel packing|camping|
volunteering|public speaking|interview preparation|creative writing|poetry|storytelling|games and puzzles|
trivia|geography|astronomy|biology|chemistry|physics|economics|philosophy|ethics|law basics|
environment and recycling|gift ideas|holidays|weddings|cooking for kids|baking|coffee and tea""".replace(
    "\n", "").split("|")

ASKERS = ["a student", "a curious child", "a beginner", "a teacher", "a traveler", "a scientist", "a parent",
          "a high school student", "a university student", "an engineer"]

# {n}: how many; {topic}/{domain}/{asker} filled from the lists above
SEED_REQUESTS = [
    "Write {n} different questions {asker} might ask about {topic}.",
    "Write {n} questions about {topic} that can be answered in a few sentences.",
    "Write {n} quiz questions about {topic}.",
    "List {n} interesting questions about {topic}.",
    "Suggest {n} writing tasks about {topic}, each as a one-sentence instruction.",
    "Give {n} short tasks a person might ask an assistant about {domain}.",
    "Write {n} different requests someone could send to a helpful assistant about {domain}.",
    "Write {n} instructions a user might give an AI assistant to get help with {domain}.",
    "List {n} questions people often ask about {domain}.",
    "Give {n} examples of questions {asker} might ask about {domain}.",
]
N_PER_REQUEST = 6


def seed_requests(seed: int = 0) -> list[dict]:
    """Every (template, subject) request once, in a fixed shuffled order, each with a stable id."""
    r = random.Random(seed)
    out = []
    for ti, t in enumerate(SEED_REQUESTS):
        subjects = DOMAINS if "{domain}" in t else TOPICS
        for s in subjects:
            asker = r.choice(ASKERS)
            text = t.format(n=N_PER_REQUEST, topic=s, domain=s, asker=asker)
            out.append({"id": f"{ti}:{s}", "request": text, "subject": s})
    r.shuffle(out)
    return out

# -------------------------------------------------------------------------------------- parse & filter

_MARKER = re.compile(r"^\s*(?:\(?\d{1,2}[.):]|[-*\u2022]|#{1,4}\s*\d{1,2}[.):]?|(?:Q|Question|Task|Request)\s*\d{0,2}[.):])\s*",
                     re.IGNORECASE)
IMPERATIVES = set("""write explain describe list give create compare summarize summarise suggest tell name find
calculate design plan make translate help provide discuss identify outline recommend draft compose choose
analyze analyse define imagine propose convert rewrite solve show teach generate share brainstorm build
estimate evaluate predict classify organize organise prepare develop research review edit improve fix
convince argue persuade please""".split())
LEAK = ("question", "questions", "task", "tasks", "request", "requests", "assistant", "ai", "instruction",
        "instructions")
LEAK_PHRASES = ("here are", "here is", "a student might", "might ask", "as an ai", "i'm sorry", "i am sorry",
                "sure,", "certainly", "language model", "smollm", "hugging face")
STOP = set("""a an the of to in on at for and or but with about from by as is are was were be been being do does
did what why how when where which who whom whose can could would should will shall may might must i you he she it
we they me my your our their its this that these those there here any some many much more most very so than then
if into out up down over under not no yes just also too s""".split())
PRONOUN_END = re.compile(r"\b(it|this|that|them|these|those|one)[?.!]$", re.IGNORECASE)


def parse_items(text: str) -> list[str]:
    """The numbered or bulleted lines of a model output, markers, quotes and markdown emphasis removed."""
    out = []
    for line in text.splitlines():
        m = _MARKER.match(line)
        if not m:
            continue
        s = line[m.end():].strip()
        s = re.sub(r"^\*\*([^*]+)\*\*\s*[:\-]\s*(?=\S)", "", s)  # "**Header:** the question"
        s = s.replace("**", "").replace("__", "").strip()
        s = s.strip('"').strip("\u201c\u201d").strip()
        while (m2 := _MARKER.match(s)) and m2.end() > 0:  # "1. 2. text" or a quoted "1. text"
            s = s[m2.end():].strip()
        # "Short Label: the actual question?" -> the question (a label of at most 4 words before a colon)
        m3 = re.match(r"^[A-Z][A-Za-z' ]{0,40}:\s+(?=\S)", s)
        if m3 and len(m3.group(0).split()) <= 4:
            s = s[m3.end():]
        if s:
            out.append(s)
    return out


def normalise(s: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", s.lower()).split())


def content_words(s: str) -> frozenset[str]:
    ws = normalise(s).split()
    return frozenset(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in ws if w not in STOP)


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def keep_item(s: str, request: str = "") -> bool:
    """Length bounds, ASCII, a question or an imperative, no echo of the seed request."""
    if not 12 <= len(s) <= 220 or not s.isascii() or not s.isprintable():
        return False
    words = s.split()
    if not 3 <= len(words) <= 45:
        return False
    if s.endswith(":") or s.count("?") > 2 or "{" in s or "}" in s or "http" in s.lower():
        return False
    first = re.sub(r"[^a-z]", "", words[0].lower())
    if not (s.endswith("?") or (first in IMPERATIVES and s[-1] in ".!")):  # a question, or an imperative
        return False
    low = s.lower()
    if any(p in low for p in LEAK_PHRASES):
        return False
    nw = normalise(s).split()
    if nw and nw[0] in LEAK and len(nw) < 6:
        return False
    cw = content_words(s)
    if len(cw) < 2 or (len(words) < 7 and PRONOUN_END.search(s)):
        return False  # too little to answer: "How do you recycle it?"
    if request and jaccard(cw, content_words(request)) >= 0.6:
        return False  # an echo of the request itself
    return True


class Deduper:
    """Exact (normalised text) and near-duplicate (content-word Jaccard >= threshold) filter. Near
    duplicates are found through an inverted index over content words, so the cost grows with the number of
    prompts sharing a word, not with the square of all prompts."""

    def __init__(self, threshold: float = 0.7):
        self.threshold = threshold
        self.exact: set[str] = set()
        self.sets: list[frozenset] = []
        self.index: dict[str, list[int]] = {}

    def is_dup(self, s: str) -> bool:
        n = normalise(s)
        if n in self.exact:
            return True
        cw = content_words(s)
        if not cw:
            return False
        counts: dict[int, int] = {}
        for w in cw:
            for j in self.index.get(w, ()):
                counts[j] = counts.get(j, 0) + 1
        for j, c in counts.items():
            if c / (len(cw) + len(self.sets[j]) - c) >= self.threshold:
                return True
        return False

    def add(self, s: str) -> bool:
        """Add s unless it duplicates something already added; True when added."""
        if self.is_dup(s):
            return False
        self.exact.add(normalise(s))
        cw = content_words(s)
        j = len(self.sets)
        self.sets.append(cw)
        for w in cw:
            self.index.setdefault(w, []).append(j)
        return True


def filter_prompts(raw: list[dict], exclude: list[str] = (), threshold: float = 0.7,
                   exclude_threshold: float = 0.5, excluder=None) -> tuple[list[dict], dict]:
    """raw: [{"request", "text", ...}] in order -> ([{"prompt", "subject"}], counts).

    `exclude` (held-out evaluation and QA questions): dropped when equal after normalisation or with a
    content-word Jaccard >= exclude_threshold to any of them."""
    if excluder is None:
        from .sources import Excluder

        excluder = Excluder(exclude, exclude, exclude_threshold)
    dd = Deduper(threshold)
    counts = {"outputs": len(raw), "lines": 0, "filtered": 0, "excluded": 0, "duplicates": 0, "kept": 0}
    out = []
    for r in raw:
        for s in parse_items(r["text"]):
            counts["lines"] += 1
            if not keep_item(s, r.get("request", "")):
                counts["filtered"] += 1
            elif excluder.hit(s):
                counts["excluded"] += 1
            elif not dd.add(s):
                counts["duplicates"] += 1
            else:
                counts["kept"] += 1
                out.append({"prompt": s, "subject": r.get("subject", "")})
    return out, counts

# ------------------------------------------------------------------------------------------ generation


def generate_main(a):
    import torch

    from .base import EOS_IDS, chat_ids, device, load_hf

    torch.set_num_threads(a.threads)
    si, sn = (int(x) for x in a.shard.split("/"))
    reqs = [q for k, q in enumerate(seed_requests(a.seed) * a.rounds) if k % sn == si]
    # round r of a request gets the id "<id>#r" so that repeated rounds sample new outputs
    seen_round: dict[str, int] = {}
    for q in reqs:
        k = seen_round.get(q["id"], 0)
        seen_round[q["id"]] = k + 1
        q["rid"] = f"{q['id']}#{k}"
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and out.stat().st_size > 0:  # drop a last line cut by a stopped writer
        data = out.read_bytes()
        if not data.endswith(b"\n"):
            out.write_bytes(data[:data.rfind(b"\n") + 1])
    done = set()  # requests answered in any raw file of the folder (shards may be re-cut between runs)
    for fp in sorted(out.parent.glob("selfinstruct-raw*.jsonl")) + ([out] if not out.name.startswith("selfinstruct-raw") else []):
        for line in fp.open() if fp.exists() else ():
            try:
                done.add(json.loads(line)["rid"])
            except (json.JSONDecodeError, KeyError):
                pass
    todo = [q for q in reqs if q["rid"] not in done]
    if a.limit:
        todo = todo[:a.limit]
    dev = device()
    model, tok = load_hf(a.gguf, dtype=torch.bfloat16 if dev.type == "cpu" else torch.float16)
    model.to(dev)
    pad = EOS_IDS[0]
    t0, n_tok = time.time(), 0
    with out.open("a") as f:
        for i in range(0, len(todo), a.batch_size):
            if time.time() - t0 > a.time_budget:
                print(f"selfinstruct: time budget reached after {i} requests", flush=True)
                break
            chunk = todo[i:i + a.batch_size]
            ids = [chat_ids(tok, q["request"]) for q in chunk]
            L = max(len(x) for x in ids)
            inp = torch.full((len(ids), L), pad, dtype=torch.long)
            att = torch.zeros((len(ids), L), dtype=torch.long)
            for j, x in enumerate(ids):
                inp[j, L - len(x):] = torch.tensor(x)
                att[j, L - len(x):] = 1
            torch.manual_seed(a.seed * 1_000_003 + si * 7919 + len(done) + i)
            with torch.no_grad():
                gen = model.generate(input_ids=inp.to(dev), attention_mask=att.to(dev), max_new_tokens=a.max_new_tokens,
                                     do_sample=True, temperature=a.temperature, top_p=a.top_p, pad_token_id=pad,
                                     eos_token_id=list(EOS_IDS))
            for q, g in zip(chunk, gen[:, L:].cpu().tolist()):
                g = g[:g.index(pad)] if pad in g else g
                n_tok += len(g)
                f.write(json.dumps({"rid": q["rid"], "request": q["request"], "subject": q["subject"],
                                    "text": tok.decode(g, skip_special_tokens=True)}) + "\n")
            f.flush()
            el = time.time() - t0
            print(f"selfinstruct: {i + len(chunk)}/{len(todo)} requests, {n_tok / el:.0f} tok/s, {el:.0f}s", flush=True)
    print(f"selfinstruct: done, {n_tok} tokens in {time.time() - t0:.0f}s", flush=True)


def build_main(a):
    from .sources import Excluder

    raw = []
    for p in a.raw:
        for line in Path(p).open():
            try:
                raw.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    raw.sort(key=lambda r: r["rid"])  # deterministic whatever the shard files' interleaving
    kept, counts = filter_prompts(raw, excluder=Excluder.default([Path(a.out).parent / "heldout-items"]))
    tmp = Path(f"{a.out}.tmp{os.getpid()}")  # replaced at once: a reader never sees half a file
    with tmp.open("w") as f:
        for k in kept:
            f.write(json.dumps(k) + "\n")
    tmp.replace(a.out)
    print(json.dumps(counts))


def main(argv=None):
    from .base import DEFAULT_GGUF

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="ask the base for questions and tasks (sampled), raw outputs to JSONL")
    g.add_argument("--gguf", default=str(DEFAULT_GGUF))
    g.add_argument("--out", required=True)
    g.add_argument("--shard", default="0/1")
    g.add_argument("--rounds", type=int, default=1, help="ask every request this many times (new samples)")
    g.add_argument("--limit", type=int, default=0, help="at most this many requests (0: all)")
    g.add_argument("--batch-size", type=int, default=32)
    g.add_argument("--max-new-tokens", type=int, default=128)
    g.add_argument("--temperature", type=float, default=0.8)
    g.add_argument("--top-p", type=float, default=0.95)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--threads", type=int, default=1)
    g.add_argument("--time-budget", type=float, default=1e9)
    b = sub.add_parser("build", help="parse, filter and deduplicate raw outputs into prompts")
    b.add_argument("--raw", nargs="+", required=True)
    b.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    (generate_main if a.cmd == "generate" else build_main)(a)


if __name__ == "__main__":
    main()
