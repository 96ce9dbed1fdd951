"""A labelled PII sample built from real text: the 306 real web pages of tests/data, with

- the PII they contain, labelled by hand (``NATURAL``: every candidate of broad e-mail, dotted-quad
  and phone-like patterns over these pages was read in context; the ones listed are PII, the
  others, such as a CiteSeer DOI ``10.1.1.8.5098``, the dialling code ``+380 6563``, dates, year
  ranges, ZIP+4 codes, bar codes and DOIs, are not);
- planted PII of every kind (seeded, ``PLANTED_PER_KIND`` each, in a few formats each) inserted at
  word boundaries with some surrounding words (``Contact: VALUE.``);
- planted hard negatives (``NEGATIVES``): card numbers that fail Luhn, IBANs that fail mod-97,
  version strings, times, ISBNs, prices, dates.

``build_sample()`` returns (texts, labels), labels being ``(doc, kind, start, end)`` character spans.
A detection counts as a true positive when it overlaps a label of its kind (partial matches, such
as ``800-873-2730`` inside ``1-800-873-2730``, count; each label is found at most once).
"""

from __future__ import annotations

import ipaddress
import random

from tests.conftest import read_sample

PLANTED_PER_KIND = 40

NATURAL = {  # doc index -> (kind, exact string): every occurrence in that document is labelled
    20: [("email", "NCEPU_MMH@outlook.com")], 41: [("email", "ajuntament@palafrugell.cat")],
    57: [("email", "bohodecochic@gmail.com")], 105: [("email", "oopt.kerzhenskiy@gmail.com")],
    134: [("email", "kbk518@naver.com")], 156: [("email", "opac@iccu.sbn.it")],
    159: [("email", "webmaster@example.com"), ("ipv4", "10.200.2.15")],
    231: [("email", "info@claihr.ca")],
    232: [("email", "info@eun.org"), ("phone", "+32 (0)2 790 75 75"), ("phone", "+32 (0)2 790 75 85")],
    86: [("phone", "(612) 439-4474")], 196: [("phone", "1-800-873-2730")],
    255: [("phone", "+49 (0)40 890 85-433")], 43: [("phone", "+441474556909")],
    63: [("phone", "+38521685000")],
    202: [("phone", f"(661) {n}") for n in (
        "845-3814", "845-3116", "845-4598", "845-4545", "845-3529", "845-0745", "845-2227", "845-1977",
        "845-1000", "845-2068", "328-9490", "845-2225", "845-0515", "845-1948", "845-2968", "845-8005",
        "845-2222", "845-3040", "845-4015")],
}

NEGATIVES = ["4111 1111 1111 1112", "5500-0000-0000-0005", "DE88 3704 0044 0532 0130 00", "version 1.2.3",
             "10:30:45", "978-3-16-148410-0", "$1,299.00", "2019-07-15", "pi is 3.14159", "v2.0.1.7",
             "ISO 8601", "order #123456789", "1999-2004", "tel. 112", "4.5.6", "RFC 5737", "B-1040 Brussels"]


def _luhn_complete(prefix: str, rng: random.Random, length: int) -> str:
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        digits = body + check
        total = sum((int(c) * 2 - 9 if int(c) * 2 > 9 else int(c) * 2) if i % 2 else int(c)
                    for i, c in enumerate(reversed(digits)))
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


def _iban(country: str, bban: str) -> str:
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def _value(kind: str, rng: random.Random) -> str:
    r = rng.randrange
    if kind == "email":
        user = rng.choice(["anna.kowalska", "j.smith", "li_wei", "m.rossi+news", "contact", "olga-p"])
        host = rng.choice(["gmail.com", "uni-bonn.de", "mail.example.org", "post.co.uk", "firma.pl"])
        return f"{user}{r(100)}@{host}"
    if kind == "ipv4":
        return f"{r(1, 224)}.{r(256)}.{r(256)}.{r(1, 255)}"
    if kind == "ipv6":
        groups = [r(1, 0x10000)] + [r(0, 0x10000) if r(3) else 0 for _ in range(6)] + [r(1, 0x10000)]
        addr = ipaddress.IPv6Address(sum(g << (16 * (7 - i)) for i, g in enumerate(groups)))
        return addr.compressed if r(2) else addr.exploded
    if kind == "phone":
        a, b, c = r(200, 1000), r(200, 1000), r(10000)
        return rng.choice([f"+1 ({a}) {b}-{c:04d}", f"{a}-{b}-{c:04d}", f"({a}) {b}-{c:04d}",
                           f"+44 20 {r(1000, 10000)} {c:04d}", f"+49 30 {r(1000000, 10000000)}",
                           f"+33 1 {r(10, 100)} {r(10, 100)} {r(10, 100)} {r(10, 100)}", f"{a}.{b}.{c:04d}"])
    if kind == "credit_card":
        if r(4) == 0:  # American Express 4-6-5
            d = _luhn_complete(rng.choice(["34", "37"]), rng, 15)
            return f"{d[:4]} {d[4:10]} {d[10:]}"
        d = _luhn_complete(rng.choice(["4", "51", "55", "6011"]), rng, 16)
        sep = rng.choice([" ", "-", ""])
        return sep.join(d[i:i + 4] for i in range(0, 16, 4))
    if kind == "iban":
        country, bban = rng.choice([("DE", "".join(str(r(10)) for _ in range(18))),
                                    ("GB", "NWBK" + "".join(str(r(10)) for _ in range(14))),
                                    ("FR", "".join(str(r(10)) for _ in range(23))),
                                    ("NL", "ABNA" + "".join(str(r(10)) for _ in range(10)))])
        iban = _iban(country, bban)
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)) if r(2) else iban
    raise ValueError(kind)


KINDS = ("email", "ipv4", "ipv6", "phone", "credit_card", "iban")


def build_sample(seed: int = 15) -> tuple[list[str], list[tuple[int, str, int, int]]]:
    """(texts, labels): see the module docstring."""
    rng = random.Random(seed)
    texts = [d["text"] for d in read_sample()]
    inserts: dict[int, list[tuple[str | None, str]]] = {}
    for kind in KINDS:
        for _ in range(PLANTED_PER_KIND):
            inserts.setdefault(rng.randrange(len(texts)), []).append((kind, _value(kind, rng)))
    for neg in NEGATIVES:
        inserts.setdefault(rng.randrange(len(texts)), []).append((None, neg))
    labels = []
    for d, text in enumerate(texts):
        for kind, value in inserts.get(d, []):
            spaces = [i for i, ch in enumerate(text) if ch == " "] or [len(text)]
            at = rng.choice(spaces)
            before = f" {rng.choice(['Contact:', 'see', 'or', 'ref.'])} "
            text = text[:at] + before + value + rng.choice([". ", ", ", " ", ")\n"]) + text[at:]
        texts[d] = text
    for d, text in enumerate(texts):  # labels from the final texts
        wanted = list(NATURAL.get(d, [])) + [(k, v) for k, v in inserts.get(d, []) if k is not None]
        for kind, value in dict.fromkeys(wanted):
            start = text.find(value)
            assert start >= 0, (d, value)
            while start >= 0:
                labels.append((d, kind, start, start + len(value)))
                start = text.find(value, start + 1)
    return texts, sorted(labels)


def score(found: list[tuple[int, str, int, int]], labels: list[tuple[int, str, int, int]],
          kind: str) -> tuple[float, float, int, int, int]:
    """(precision, recall, true positives, detections, labels) of one kind, by span overlap."""
    gold = [x for x in labels if x[1] == kind]
    used = set()
    tp = 0
    dets = [x for x in found if x[1] == kind]
    for d, _, s, e in dets:
        hit = next((i for i, (gd, _, gs, ge) in enumerate(gold) if gd == d and gs < e and s < ge and i not in used),
                   None)
        if hit is not None:
            used.add(hit)
            tp += 1
    return (tp / len(dets) if dets else 1.0, tp / len(gold) if gold else 1.0, tp, len(dets), len(gold))
