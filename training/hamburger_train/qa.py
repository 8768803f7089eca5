"""A QA set of short questions with checkable answers, written for this project (see ../DATA.md).

An answer counts as correct when any accepted string occurs (case-insensitive, on word boundaries) in
the first tokens of the generated text."""
from __future__ import annotations

import re

_RAW = """What is the capital of France?|Paris
What is the capital of Japan?|Tokyo
What is the capital of Italy?|Rome
What is the capital of Germany?|Berlin
What is the capital of Spain?|Madrid
What is the capital of England?|London
What is the capital of Russia?|Moscow
What is the capital of Egypt?|Cairo
What is the capital of Canada?|Ottawa
What is the capital of China?|Beijing
What is the capital city of the United States?|Washington
What is the capital of Greece?|Athens
Which planet is known as the Red Planet?|Mars
What is the largest planet in our solar system?|Jupiter
Which star is at the center of our solar system?|Sun
What is the closest planet to the Sun?|Mercury
What gas do plants absorb from the air for photosynthesis?|carbon dioxide;CO2
What gas do humans need to breathe to live?|oxygen
What is the chemical formula of water?|H2O
What is the chemical symbol for gold?|Au
What is the chemical symbol for sodium?|Na
What is the freezing point of water in degrees Celsius?|0;zero
What is the boiling point of water in degrees Celsius?|100
How many days are in a week?|7;seven
How many months are in a year?|12;twelve
How many hours are in a day?|24;twenty-four
How many minutes are in an hour?|60;sixty
How many legs does a spider have?|8;eight
How many legs does an insect have?|6;six
How many continents are there on Earth?|7;seven
How many sides does a triangle have?|3;three
How many sides does a hexagon have?|6;six
How many sides does a square have?|4;four
What is 2 + 2?|4;four
What is 7 + 5?|12;twelve
What is 10 - 3?|7;seven
What is 3 times 4?|12;twelve
What is 9 times 9?|81
What is 100 divided by 4?|25
What is 15 + 27?|42
What is half of 50?|25
What is the square root of 81?|9;nine
Who wrote the play Romeo and Juliet?|Shakespeare
Who painted the Mona Lisa?|Leonardo;da Vinci
Who developed the theory of relativity?|Einstein
Who was the first president of the United States?|Washington
What is the largest ocean on Earth?|Pacific
What is the longest river in Africa?|Nile
What is the tallest mountain in the world?|Everest
What is the largest desert in the world?|Sahara;Antarctic
What is the largest mammal on Earth?|blue whale
What animal is known as the king of the jungle?|lion
What do bees make?|honey
What is the main language spoken in Brazil?|Portuguese
What is the main language spoken in Mexico?|Spanish
What currency is used in Japan?|yen
What color do you get when you mix blue and yellow?|green
What color do you get when you mix red and white?|pink
What color is the sky on a clear day?|blue
What color are bananas when they are ripe?|yellow
What is the opposite of hot?|cold
What is the opposite of up?|down
What is the opposite of big?|small;little
What is the plural of mouse?|mice
What is the plural of child?|children
What is the past tense of go?|went
What is the past tense of eat?|ate
What is the frozen form of water called?|ice
What organ pumps blood through the human body?|heart
What organ do humans use to think?|brain
How many bones are in the adult human body?|206
What is the hardest natural substance?|diamond
What do caterpillars turn into?|butterfl;moth
What is the fastest land animal?|cheetah
Which animal is the largest bird?|ostrich
What is the primary source of energy for the Earth?|Sun
In which country are the pyramids of Giza?|Egypt
In which country is the Eiffel Tower?|France
Which language is mainly spoken in Germany?|German
What programming language is named after a snake?|Python
What does CPU stand for?|central processing unit
What does HTML stand for?|hypertext markup language
How many players are on a soccer team on the field?|11;eleven
What is the first letter of the English alphabet?|A
Which season comes after winter?|spring
Which season comes after summer?|autumn;fall
What is the name of our galaxy?|Milky Way
What is the Earth's natural satellite called?|Moon
How many wheels does a bicycle have?|2;two
What is the largest country in the world by area?|Russia"""

QA_ITEMS: list[tuple[str, list[str]]] = [
    (line.split("|")[0], line.split("|")[1].split(";")) for line in _RAW.strip().splitlines()
]


def is_correct(answer_text: str, accepted: list[str]) -> bool:
    t = answer_text.lower()
    for a in accepted:
        a = a.lower()
        if re.search(r"(?<![a-z0-9])" + re.escape(a), t) and (a.endswith("f") or len(a) > 3 or
                re.search(r"(?<![a-z0-9])" + re.escape(a) + r"(?![a-z0-9])", t)):
            return True
    return False
