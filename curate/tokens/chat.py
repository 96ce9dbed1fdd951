"""Chat templates: a conversation rendered to token ids and a loss mask that is 1 on assistant turns.

Templates are Jinja2 strings, rendered in ``jinja2.sandbox.ImmutableSandboxedEnvironment`` (no
attribute access to Python internals, no code execution; the template is data): a named built-in
(``chatml``) or the ``chat_template`` of the tokenizer folder's ``tokenizer_config.json`` (a string,
or a list of ``{name, template}`` of which ``default`` is used), called as HF does with
``messages``, ``bos_token``, ``eos_token``, ``add_generation_prompt = false`` and
``raise_exception``, ``trim_blocks`` and ``lstrip_blocks`` on.

How the mask is found: the template is rendered once with each message's content replaced by a
placeholder, and the output is split there into *markup* (the template's own text) and *contents*.
Markup is encoded with special tokens recognised (``<|im_start|>`` is one token); contents never
produce special tokens (a literal ``<|im_end|>`` typed by a user stays text). Targets (mask 1): the
tokens of every assistant content, and of the markup right after it up to and including its first
special token (the end-of-turn token: ``<|im_end|>``, ``</s>``, ``<|eot_id|>``). Everything else,
system and user turns and every role header, has mask 0. A template that changes, drops or repeats
a message's content fails with the rule (the mask could not be placed). Pieces are encoded
separately, so a token never spans markup and content.

ChatML layout of one user/assistant exchange (mask under each piece)::

    <|im_start|> user\\n  {user}  <|im_end|> \\n <|im_start|> assistant\\n  {answer}  <|im_end|> \\n
         0         0       0         0       0       0          0          1           1      0
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import orjson
from jinja2.exceptions import TemplateError

from curate.errors import CurateError

CHATML = ("{% for message in messages %}"
          "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
          "{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
BUILTINS = {"chatml": CHATML}
BUILTIN_SPECIALS = {"chatml": ("<|im_start|>", "<|im_end|>")}
FROM_TOKENIZER = "tokenizer"
_SLOT = re.compile("\ue000(\\d+)\ue001")


def template_source(name: str, tokenizer_path: Path) -> str:
    """The Jinja source of ``name``: a built-in, or ``"tokenizer"``: the tokenizer folder's."""
    if name in BUILTINS:
        return BUILTINS[name]
    if name != FROM_TOKENIZER:
        raise CurateError(f"chat_template={name!r} is not known; allowed: {', '.join(BUILTINS)}, "
                          f"{FROM_TOKENIZER!r} (the tokenizer folder's tokenizer_config.json)")
    config = tokenizer_path.parent / "tokenizer_config.json"
    if not config.is_file():
        raise CurateError(f"chat_template='tokenizer': no {config}; use a tokenizer folder with a "
                          "tokenizer_config.json that has chat_template, or chat_template = 'chatml'")
    value = orjson.loads(config.read_bytes()).get("chat_template")
    if isinstance(value, list):
        value = next((t.get("template") for t in value if isinstance(t, dict) and t.get("name") == "default"), None)
    if not isinstance(value, str) or not value:
        raise CurateError(f"{config}: no chat_template string (or 'default' entry); set chat_template = 'chatml'")
    return value


def _raise(message: str):
    raise TemplateError(message)


def compile_template(source: str):
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = _raise
    try:
        return env.from_string(source)
    except TemplateError as exc:
        raise CurateError(f"chat template does not parse: {exc}") from None


def split_rendered(template, messages: list[dict[str, str]], bos_token: str, eos_token: str
                   ) -> list[str | int]:
    """The rendered conversation as markup strings and message indices (where a content goes)."""
    slots = [{"role": m["role"], "content": f"\ue000{i}\ue001"} for i, m in enumerate(messages)]
    try:
        text = template.render(messages=slots, bos_token=bos_token, eos_token=eos_token,
                               add_generation_prompt=False)
    except TemplateError as exc:
        raise CurateError(f"chat template failed: {exc}") from None
    parts: list[str | int] = []
    pos = 0
    for m in _SLOT.finditer(text):
        parts.append(text[pos:m.start()])
        parts.append(int(m.group(1)))
        pos = m.end()
    parts.append(text[pos:])
    found = [p for p in parts if isinstance(p, int)]
    if found != list(range(len(messages))):
        raise CurateError(f"chat template places message contents as {found}, not each once in order "
                          f"0..{len(messages) - 1}; it must insert message['content'] unchanged")
    return parts


def encode_chats(template, conversations: list[list[dict[str, str]]], plain_tok, special_tok,
                 special_ids: set[int], bos_token: str = "", eos_token: str = ""
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """(token ids, loss mask uint8) per conversation (batched encoding of markup and contents)."""
    layouts = [split_rendered(template, msgs, bos_token, eos_token) for msgs in conversations]
    markup = [p for parts in layouts for p in parts if isinstance(p, str)]
    contents = [m["content"] for msgs in conversations for m in msgs]
    markup_ids = iter(e.ids for e in special_tok.encode_batch_fast(markup, add_special_tokens=False))
    content_ids = iter(e.ids for e in plain_tok.encode_batch_fast(contents, add_special_tokens=False))
    out = []
    for msgs, parts in zip(conversations, layouts):
        ids: list[int] = []
        mask: list[int] = []
        contents_of = [next(content_ids) for _ in msgs]
        after_assistant = False
        for part in parts:
            if isinstance(part, int):
                piece = contents_of[part]
                after_assistant = msgs[part]["role"] == "assistant"
                ids += piece
                mask += [int(after_assistant)] * len(piece)
                continue
            piece = next(markup_ids)
            marks = [0] * len(piece)
            if after_assistant:
                end = next((k for k, t in enumerate(piece) if t in special_ids), None)
                if end is not None:
                    marks[:end + 1] = [1] * (end + 1)
            after_assistant = False
            ids += piece
            mask += marks
        out.append((np.asarray(ids, np.int64), np.asarray(mask, np.uint8)))
    return out
