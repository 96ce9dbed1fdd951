"""Log-likelihood scoring of a saved model, with lm-evaluation-harness's conventions (0.4.x, HF
causal models), so our numbers equal ``lm_eval``'s for the same model folder and items.

- **Language modelling** (lm_eval ``loglikelihood_rolling``): the document's tokens (no special
  tokens added) are predicted in disjoint windows of ``max_len`` targets; the first window is
  conditioned on the prefix token (BOS if the model has one, else EOS), each later one on the
  ``max_len`` tokens before its last target. Reported: **bits per byte** = sum of token NLL (nats) /
  ln 2 / UTF-8 bytes of the documents (tokenizer independent; lm_eval's ``bits_per_byte``) and
  **loss per token** = sum of NLL / number of predicted tokens. With a per-document prefix (a
  set's ``prefix_field``), the prefix's tokens (encoded apart) come first and are read, not scored;
  the bytes are the document's only.
- **Multiple choice** (lm_eval ``multiple_choice``): for each choice, the log-likelihood of
  ``target_delimiter + choice`` after the context. Trailing spaces of the context move into the
  continuation; context+continuation is encoded whole and the continuation is the tokens after the
  context's own encoding (an empty context is the prefix token). ``acc`` = argmax of the
  log-likelihoods is gold; ``acc_norm`` = argmax of log-likelihood / ``len(choice)`` (characters
  of the choice without delimiter, as lm_eval) is gold.

A request is ``(seq, n)``: the model reads ``seq[:-1]`` (at most ``max_len`` tokens, left-truncated)
and the last ``n`` tokens of ``seq`` are scored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

Request = tuple[list[int], int]


def rolling_requests(tokens: list[int], prefix: int, max_len: int) -> list[Request]:
    """The disjoint windows of lm_eval's ``get_rolling_token_windows(context_len=1)``."""
    n = len(tokens)
    if n == 0:
        return []
    first = min(max_len, n)
    out: list[Request] = [([prefix] + tokens[:first], first)]
    done = first
    while done < n:
        width = min(n - done, max_len)
        end = done + width
        out.append((tokens[end - max_len - 1:end], width))
        done = end
    return out


def conditioned_requests(prefix_tokens: list[int], tokens: list[int], prefix: int, max_len: int) -> list[Request]:
    """The rolling windows of ``prefix_tokens + tokens`` with only ``tokens`` scored: windows
    whose targets are all prefix tokens are dropped, the others score their targets from the
    first document token on (so the document is read after its prefix, within ``max_len``)."""
    out: list[Request] = []
    end = 0
    for seq, n in rolling_requests(list(prefix_tokens) + list(tokens), prefix, max_len):
        end += n
        scored = min(n, end - len(prefix_tokens))
        if scored > 0:
            out.append((seq, scored))
    return out


def choice_request(context: str, continuation: str, encode: Callable[[str], list[int]], prefix: int,
                   max_len: int) -> Request:
    """lm_eval's ``_encode_pair`` for a causal model, left-truncated to ``max_len`` inputs."""
    if not context:
        ctx, cont = [prefix], encode(continuation)
    else:
        spaces = len(context) - len(context.rstrip())
        if spaces:
            context, continuation = context[:-spaces], context[-spaces:] + continuation
        whole = encode(context + continuation)
        ctx = encode(context)
        cont = whole[len(ctx):]
    return (ctx + cont)[-(max_len + 1):], len(cont)


@torch.no_grad()
def score_requests(model, requests: Sequence[Request], batch_size: int = 16) -> np.ndarray:
    """Sum of log-probabilities (nats, float64) of the scored tokens of every request."""
    out = np.zeros(len(requests), dtype=np.float64)
    order = sorted(range(len(requests)), key=lambda i: -len(requests[i][0]))
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        width = max(len(requests[i][0]) - 1 for i in idx)
        ids = torch.zeros(len(idx), width, dtype=torch.long)
        mask = torch.zeros(len(idx), width, dtype=torch.long)
        for r, i in enumerate(idx):
            seq = requests[i][0][:-1]
            ids[r, :len(seq)] = torch.tensor(seq)
            mask[r, :len(seq)] = 1
        logprobs = F.log_softmax(model(input_ids=ids, attention_mask=mask).logits.float(), dim=-1)
        for r, i in enumerate(idx):
            seq, n = requests[i]
            targets = torch.tensor(seq[-n:])
            rows = logprobs[r, len(seq) - 1 - n:len(seq) - 1]
            out[i] = float(rows.gather(1, targets[:, None]).double().sum())
    return out


def bits_per_byte(nll_nats: float, num_bytes: int) -> float:
    return nll_nats / math.log(2) / num_bytes


def mc_correct(lls: Sequence[float], choices: Sequence[str], gold: int) -> tuple[bool, bool]:
    """(acc, acc_norm) of one item from the log-likelihood of each choice."""
    lls = np.asarray(lls, dtype=np.float64)
    lengths = np.array([float(len(c)) for c in choices])
    return int(np.argmax(lls)) == gold, int(np.argmax(lls / lengths)) == gold
