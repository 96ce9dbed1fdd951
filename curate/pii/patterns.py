"""The PII patterns (RE2 syntax, for ``pyarrow.compute``), their placeholders and checksums.

| kind | pattern | check |
|---|---|---|
| ``email`` | datatrove 0.10.1's ``PIIFormatter`` e-mail regex, unchanged | |
| ``ipv4`` | datatrove's dotted-quad regex (octets 0-255) between word boundaries | |
| ``ipv6`` | the 8-group form and the ``::``-compressed forms, between word boundaries | |
| ``phone`` | ``+CC`` international numbers (digit groups, or 8-15 digits) and North American 3-3-4 numbers | |
| ``credit_card`` | 13-19 digits in groups (spaces or hyphens), first digit 2-6 | network prefix and length, Luhn |
| ``iban`` | 2 letters, 2 digits, 11-30 letters/digits (optionally in groups of 4) | ISO 13616 mod-97 = 1 |

Differences from datatrove, on purpose: IPv4 needs word boundaries (datatrove also replaces the
``1.2.3.4`` inside ``11.2.3.45``, a version string) and every address is replaced, not only public
ones (``is_global``; RE2 cannot test ranges, and private addresses of a named host are PII too).
IPv6 omits the forms that start or end with ``::`` (``::1`` is loopback, ``fe80::`` rare; ``std::``
in code would match).
Phone numbers must carry a ``+`` country code or the North American ``(415) 555-2671`` /
``415-555-2671`` / ``415.555.2671`` shapes: bare digit groups (``2019 2020 2021``, prices, ISBNs)
are too often not phones.

Placeholders: fixed, realistic and reserved, so text still reads naturally, never names a real
person or host, and every worker writes the same bytes (datatrove rotates through a list of random
*public* IPs and two example.com addresses, so its output depends on the order documents are
processed in). E-mail ``email@example.com`` (RFC 2606 reserved domain, datatrove's first choice),
IPv4 ``192.0.2.1`` (RFC 5737 documentation range), IPv6 ``2001:db8::1`` (RFC 3849), phone
``+1-555-0100`` (NANP's fictitious 555-01xx range), card ``<CREDIT_CARD>``, IBAN ``<IBAN>`` (no
reserved numbers exist; a tag is unambiguous). The ``placeholders`` parameter replaces any of them.
"""

from __future__ import annotations

EMAIL = (r"\b[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:(?:[A-Za-z0-9](?:["
         r"A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?|\[(?:(?:25[0-5]|2[0-4][0-9]|["
         r"01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?|[A-Za-z0-9-]*[A-Za-z0-9]:)])")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)"
IPV4 = rf"\b(?:{_OCTET}\.){{3}}{_OCTET}\b"
_H = r"[0-9A-Fa-f]{1,4}"
IPV6 = (r"\b(?:" + "|".join(  # RE2 takes the first alternative that matches: most groups after "::" first
    [rf"(?:{_H}:){{7}}{_H}"] + [rf"(?:{_H}:){{1,{7 - k}}}(?::{_H}){{{k}}}" for k in range(6, 0, -1)]) + r")\b")
PHONE = (r"(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\d{2,8}){1,4}\b|\+\d{8,15}\b"
         r"|(?:\(\d{3}\) ?|\b\d{3}-)\d{3}-\d{4}\b|\b\d{3}\.\d{3}\.\d{4}\b|\(\d{3}\) ?\d{3}[ .]\d{4}\b)")
CREDIT_CARD = r"\b[2-6]\d{3}(?:[ -]?\d{3,6}){2,4}\b"
IBAN = r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"

PATTERNS = {"email": EMAIL, "iban": IBAN, "credit_card": CREDIT_CARD, "ipv6": IPV6, "ipv4": IPV4,
            "phone": PHONE}
#: Applied in this order: e-mails first (their domain may be an address), checked numbers before
#: phones (a card's digit groups would otherwise be taken for one), IPv6 before IPv4.
ORDER = ("email", "iban", "credit_card", "ipv6", "ipv4", "phone")
CHECKED = {"credit_card": 0, "iban": 1}  # kind -> checksum code of the validating kernel
PLACEHOLDERS = {"email": "email@example.com", "ipv4": "192.0.2.1", "ipv6": "2001:db8::1",
                "phone": "+1-555-0100", "credit_card": "<CREDIT_CARD>", "iban": "<IBAN>"}


#: Card networks by IIN prefix range (inclusive, compared on as many leading digits) and lengths:
#: Visa, Mastercard (51-55, 2221-2720), American Express, Discover (6011, 644-649, 65), JCB
#: (3528-3589), Diners Club (300-305, 36, 38-39). A Luhn-valid number outside them (library bar
#: codes are Luhn-checked too) is not taken for a card.
NETWORKS = ((4, 4, (13, 16, 19)), (51, 55, (16,)), (2221, 2720, (16,)), (34, 34, (15,)), (37, 37, (15,)),
            (6011, 6011, (16, 17, 18, 19)), (644, 649, (16, 17, 18, 19)), (65, 65, (16, 17, 18, 19)),
            (3528, 3589, (16, 17, 18, 19)), (300, 305, (14, 15, 16, 17, 18, 19)), (36, 36, (14, 15, 16, 17, 18, 19)),
            (38, 39, (16, 17, 18, 19)))


def network_ok(digits: str) -> bool:
    """Whether a digit string has the prefix and length of a card network (``NETWORKS``)."""
    for lo, hi, lengths in NETWORKS:
        width = len(str(lo))
        if len(digits) in lengths and lo <= int(digits[:width]) <= hi:
            return True
    return False


def luhn_ok(digits: str) -> bool:
    """A card number: a card network's prefix and length (``NETWORKS``) and a valid Luhn checksum."""
    if not network_ok(digits):
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to 10..35; mod 97 == 1."""
    s = iban.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    s = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1
