"""Chat (SFT) records: the three usual JSONL shapes, validated and normalised to one form.

Accepted shapes, told apart per record by their keys:

- messages: ``{"messages": [{"role": "system"|"user"|"assistant", "content": str}, ...]}``
- Alpaca: ``{"instruction": str, "input": str (optional, may be ""), "output": str}`` -> a user turn
  ``instruction`` (plus ``"\\n\\n" + input`` when non-empty) and an assistant turn ``output``
- ShareGPT: ``{"conversations": [{"from": "system"|"human"|"gpt", "value": str}, ...]}``
  (``human``/``user`` -> user, ``gpt``/``assistant``/``chatgpt`` -> assistant)

A conversation is valid when every turn has a known role and string content, a system turn comes
only first, the other turns alternate user/assistant starting with user, and it has at least one
assistant turn with non-empty content. Anything else is quarantined by the JSONL reader with the
file, line and the rule it broke (nothing lost: read = kept + quarantined). A kept record's
``text`` is its conversation as canonical JSON, ``[{"role": ..., "content": ...}, ...]``, which
``tokenize`` with ``chat_template`` renders (``curate/tokens/chat.py``); the shape's keys do not go
to ``meta``.
"""

from __future__ import annotations

from typing import Any

import orjson

CHAT_KEYS = ("messages", "conversations", "instruction", "input", "output")
SHAREGPT_ROLES = {"system": "system", "human": "user", "user": "user", "gpt": "assistant",
                  "assistant": "assistant", "chatgpt": "assistant"}
ROLES = ("system", "user", "assistant")


def _turns(record: dict[str, Any]) -> tuple[list[dict[str, str]] | None, str | None]:
    if "messages" in record:
        msgs = record["messages"]
        if not isinstance(msgs, list):
            return None, "messages is not a list"
        out = []
        for i, m in enumerate(msgs):
            if not isinstance(m, dict) or m.get("role") not in ROLES:
                return None, f"messages[{i}]: role is not one of {', '.join(ROLES)}"
            out.append({"role": m["role"], "content": m.get("content")})
        return out, None
    if "conversations" in record:
        conv = record["conversations"]
        if not isinstance(conv, list):
            return None, "conversations is not a list"
        out = []
        for i, m in enumerate(conv):
            who = m.get("from") if isinstance(m, dict) else None
            role = SHAREGPT_ROLES.get(who) if isinstance(who, str) else None
            if role is None:
                return None, f"conversations[{i}]: from is not one of {', '.join(SHAREGPT_ROLES)}"
            out.append({"role": role, "content": m.get("value")})
        return out, None
    if "instruction" in record or "output" in record:
        instruction, extra, output = record.get("instruction"), record.get("input", ""), record.get("output")
        if not all(isinstance(v, str) for v in (instruction, extra, output)):
            return None, "alpaca record: instruction, input and output must be strings"
        user = instruction + ("\n\n" + extra if extra else "")
        return [{"role": "user", "content": user}, {"role": "assistant", "content": output}], None
    return None, "not a chat record: no messages, conversations or instruction/output keys"


def validate(turns: list[dict[str, Any]]) -> str | None:
    """The first rule ``turns`` breaks, or None."""
    for i, t in enumerate(turns):
        if not isinstance(t["content"], str):
            return f"turn {i}: content is not a string"
    body = turns[1:] if turns and turns[0]["role"] == "system" else turns
    for i, t in enumerate(body):
        want = "user" if i % 2 == 0 else "assistant"
        if t["role"] != want:
            return f"turn {i + len(turns) - len(body)}: role {t['role']!r} where {want!r} is expected " \
                   "(a system turn first, then user and assistant alternating)"
    if not any(t["role"] == "assistant" and t["content"].strip() for t in body):
        return "no assistant turn with content: nothing to train on"
    return None


def chat_text(record: dict[str, Any]) -> tuple[str | None, str | None]:
    """(canonical messages JSON, None) for a valid chat record, else (None, the error)."""
    turns, error = _turns(record)
    if error is None:
        error = validate(turns)
    if error is not None:
        return None, error
    return orjson.dumps(turns).decode(), None


def parse_messages(text: str) -> list[dict[str, str]]:
    """The conversation of a chat document's ``text`` (as written by :func:`chat_text`)."""
    return orjson.loads(text)
