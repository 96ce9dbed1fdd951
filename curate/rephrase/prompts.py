"""The WRAP prompt templates (METHODS.md 8) and the rule-based cleaner of generated text.

Each style's instruction is preceded by the Vicuna system line and followed by the chunk:
``"{system} USER: {instruction}\\n\\n{chunk} ASSISTANT:"`` (``chat`` backends send the same user
message ``"{instruction}\\n\\n{chunk}"`` with the system line as the system message). A
user-defined style is an instruction string in the recipe; ``{chunk}`` inside it places the chunk
explicitly (else the chunk follows the instruction after a blank line).
"""

from __future__ import annotations

import re

SYSTEM = ("A chat between a curious user and an artificial intelligence assistant. The assistant gives "
          "helpful, detailed, and polite answers to the questions.")

#: The paper's four styles (instruction strings as in METHODS.md 8).
STYLES: dict[str, str] = {
    "easy": ("For the following paragraph give me a paraphrase of the same using a very small vocabulary "
             "and extremely simple sentences that a toddler will understand:"),
    "medium": ("For the following paragraph give me a diverse paraphrase of the same in high quality "
               "English language as in sentences on Wikipedia:"),
    "hard": ("For the following paragraph give me a paraphrase of the same using very terse and abstruse "
             "language that only an erudite scholar will understand. Replace simple words and phrases "
             "with rare and complex ones:"),
    "qa": ("Convert the following paragraph into a conversational format with multiple tags of "
           "\"Question:\" followed by \"Answer:\":"),
}


def user_message(instruction: str, chunk: str) -> str:
    """The USER turn: the instruction with the chunk placed at ``{chunk}`` or after a blank line."""
    if "{chunk}" in instruction:
        return instruction.replace("{chunk}", chunk)
    return f"{instruction}\n\n{chunk}"


def completion_prompt(instruction: str, chunk: str) -> str:
    """The full Vicuna-format prompt for completion backends."""
    return f"{SYSTEM} USER: {user_message(instruction, chunk)} ASSISTANT:"


#: Leading boilerplate a chat model puts before the rewrite, removed repeatedly from the start:
#: "Sure! Here is a paraphrase of the paragraph:", "Certainly.", "Here's the rewritten text:",
#: "Paraphrase:", "ASSISTANT:".
_LEADING = re.compile(
    r"""^\s*(?:
        (?:sure|certainly|of\ course|okay|ok|absolutely)\b[^\n:.!]*[.!:]?   # Sure! / Certainly, ...
      | here(?:'s|\ is|\ are)\b[^\n:]{0,120}:                              # Here is a paraphrase ...:
      | (?:assistant|paraphrase|rephrased\ text|rewritten\ text|answer)\s*:  # bare labels
    )\s*""", re.IGNORECASE | re.VERBOSE)


def clean(text: str) -> str:
    """``text`` without leading boilerplate segments and surrounding whitespace (WRAP's rule-based
    cleaner: only the start is touched, so the rewrite itself is never cut)."""
    prev = None
    while prev != text:
        prev, text = text, _LEADING.sub("", text, count=1)
    return text.strip()
