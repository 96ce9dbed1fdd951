"""bioS: the synthetic biographies of Physics of LMs 3.1 (Allen-Zhu and Li, 2023), at small scale.

Each person has a unique full name (first, middle, last) and six attributes drawn uniformly:
birth date, birth city, university, major, employer, work city (the employer's city). A
biography is six sentences, one per attribute, in a fixed order, each from one of several
templates per attribute; the first names the person in full, the others use the pronoun ("He" /
"She"), as in the paper's bioS single. ``variants > 1`` writes that many biographies per person,
each with a fresh template draw (bioS multi: one of the knowledge-augmentation forms; the
``knowledge_augment`` step adds sentence permutation and full-name repetition).

QA pairs (one per attribute): ``question`` ("What is the birth city of Anya Briar Forger?"), and
the answer as ``text`` with a leading space (" Princeton, NJ."). People 0..N/2-1 are the QA
training half (``qa_train.jsonl``), the rest the test half (``qa_test.jsonl``); every person's
biographies are in ``bios.jsonl`` (``id``, ``text``, ``name``, ``person``, ``variant``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson

FIRST = ("Anya Liam Maya Noah Iris Omar Lena Ravi Nora Hugo Clara Felix Ada Leo Mira Theo Zoe Ivan Lucy "
         "Emil Sara Yusuf Elena Marco Julia Kenji Alma Oscar Rosa Tomas Vera Diego Hana Pavel Ines Samir").split()
MIDDLE = ("Briar Jade Quinn Reed Sage Wren Blair Dale Eden Gray Lane Moss Rowe Shay Tate Vale Yael Zane "
          "Ash Bell Cole Dean Fox Hale Ives Kai Lee Lux Max Nell").split()
LAST = ("Forger Holt Ibarra Keane Lund Marsh Novak Okafor Price Quist Rivas Sato Thorne Ueda Vance Weiss "
        "Xu Young Zeller Abbott Brandt Cruz Duarte Eklund Falk Gruber Haas Iyer Jansen Kovac Lopez Moreau "
        "Nakamura Olsen Petrov Rossi Schmidt Tanaka Varga Wolff").split()
MONTHS = ("January February March April May June July August September October November December").split()
CITIES = ("Princeton, NJ", "Austin, TX", "Boise, ID", "Dayton, OH", "Eugene, OR", "Fresno, CA", "Tulsa, OK",
          "Reno, NV", "Mobile, AL", "Toledo, OH", "Salem, MA", "Provo, UT", "Akron, OH", "Aurora, CO",
          "Tampa, FL", "Omaha, NE", "Madison, WI", "Raleigh, NC", "Fargo, ND", "Duluth, MN")
UNIVERSITIES = ("MIT", "Stanford University", "Rice University", "Duke University", "Yale University",
                "Cornell University", "Brown University", "Purdue University", "Tufts University",
                "Emory University", "Baylor University", "Auburn University")
MAJORS = ("Communications", "Biology", "Chemistry", "Economics", "History", "Mathematics", "Physics",
          "Philosophy", "Linguistics", "Geology", "Architecture", "Nursing")
EMPLOYERS = ("Meta Platforms", "Acme Robotics", "Blue Harbor Bank", "Cedar Health", "Delta Freight",
             "Ember Studios", "Fjord Energy", "Granite Insurance", "Helix Pharma", "Ion Networks",
             "Juniper Foods", "Kestrel Airlines", "Lumen Labs", "Maple Logistics")

ATTRIBUTES = ("birth date", "birth city", "university", "major", "employer", "work city")
#: Templates per attribute: {who} is the full name or the pronoun, {v} the value.
TEMPLATES = {
    "birth date": ("{who} was born on {v}.", "{who} came into this world on {v}.",
                   "{who} celebrates {their} birthday on {v}.", "{who} entered the world on {v}."),
    "birth city": ("{who} spent {their} early years in {v}.", "{who} was born in {v}.",
                   "{who} grew up in {v}.", "{who} calls {v} {their} hometown."),
    "university": ("{who} received mentorship and guidance from faculty members at {v}.",
                   "{who} studied at {v}.", "{who} graduated from {v}.", "{who} attended {v}."),
    "major": ("{who} completed {their} education with a focus on {v}.", "{who} majored in {v}.",
              "{who} earned a degree in {v}.", "{who} specialized in {v}."),
    "employer": ("{who} had a professional role at {v}.", "{who} worked for {v}.",
                 "{who} was employed by {v}.", "{who} held a position at {v}."),
    "work city": ("{who} was employed in {v}.", "{who} worked in {v}.", "{who} lived and worked in {v}.",
                  "{who} built a career in {v}."),
}
QUESTIONS = {a: f"What is the {a} of {{name}}?" for a in ATTRIBUTES}
QUESTIONS.update({"employer": "Which company did {name} work for?", "work city": "Where did {name} work?"})


def people(num_people: int, seed: int = 0) -> list[dict]:
    """``num_people`` people with unique names and their attributes (seeded)."""
    rng = np.random.default_rng(seed)
    if num_people > len(FIRST) * len(MIDDLE) * len(LAST):
        raise ValueError(f"num_people={num_people} exceeds the {len(FIRST) * len(MIDDLE) * len(LAST)} unique names")
    names = set()
    out = []
    while len(out) < num_people:
        name = f"{rng.choice(FIRST)} {rng.choice(MIDDLE)} {rng.choice(LAST)}"
        if name in names:
            continue
        names.add(name)
        employer = int(rng.integers(len(EMPLOYERS)))
        gender = "female" if rng.random() < 0.5 else "male"
        born = f"{MONTHS[rng.integers(12)]} {int(rng.integers(1, 29))}, {int(rng.integers(1900, 2100))}"
        out.append({"name": name, "gender": gender,
                    "birth date": born,
                    "birth city": CITIES[rng.integers(len(CITIES))],
                    "university": UNIVERSITIES[rng.integers(len(UNIVERSITIES))],
                    "major": MAJORS[rng.integers(len(MAJORS))], "employer": EMPLOYERS[employer],
                    "work city": CITIES[(employer * 7) % len(CITIES)]})
    return out


def biography(person: dict, rng: np.random.Generator) -> str:
    pronoun, their = ("She", "her") if person["gender"] == "female" else ("He", "his")
    sentences = []
    for k, attr in enumerate(ATTRIBUTES):
        template = TEMPLATES[attr][rng.integers(len(TEMPLATES[attr]))]
        who = person["name"] if k == 0 else pronoun
        sentences.append(template.format(who=who, their=their, v=person[attr]))
    return " ".join(sentences)


def write_bios(out_dir: Path, num_people: int, variants: int = 1, seed: int = 0) -> dict[str, Path]:
    """``bios.jsonl``, ``qa_train.jsonl``, ``qa_test.jsonl`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 1])
    folk = people(num_people, seed)
    bios = [{"id": f"p{i}-v{v}", "text": biography(p, rng), "name": p["name"], "person": i, "variant": v}
            for i, p in enumerate(folk) for v in range(variants)]
    qa = [{"id": f"p{i}-q{k}", "question": QUESTIONS[a].format(name=p["name"]), "text": f" {p[a]}.",
           "person": i, "attribute": a} for i, p in enumerate(folk) for k, a in enumerate(ATTRIBUTES)]
    half = num_people // 2
    files = {"bios": bios, "qa_train": [q for q in qa if q["person"] < half],
             "qa_test": [q for q in qa if q["person"] >= half]}
    paths = {}
    for name, rows in files.items():
        paths[name] = out_dir / f"{name}.jsonl"
        paths[name].write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return paths
