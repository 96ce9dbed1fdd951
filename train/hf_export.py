"""The saved model folder as a Hugging Face transformers folder that loads offline with
``AutoModelForCausalLM`` + ``AutoTokenizer`` (lm-evaluation-harness's ``model="hf"``): beside
``save_pretrained``'s config and safetensors weights and the build's ``tokenizer.json``, a
``tokenizer_config.json`` naming ``PreTrainedTokenizerFast`` and the build's BOS/EOS strings.
"""

from __future__ import annotations

from pathlib import Path

import orjson


def write_tokenizer_config(path: Path, tokenizer) -> None:
    """``tokenizer_config.json`` for a build's tokenizer (a manifest ``TokenizerInfo``)."""
    by_id = {i: s for s, i in tokenizer.special_tokens.items()}
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 1 << 30,
              "add_bos_token": False, "add_eos_token": False, "clean_up_tokenization_spaces": False}
    for key, token_id in (("bos_token", tokenizer.bos_id), ("eos_token", tokenizer.eos_id)):
        if token_id is not None and token_id in by_id:
            config[key] = by_id[token_id]
    if "eos_token" in config:
        config["pad_token"] = config["eos_token"]
    (Path(path) / "tokenizer_config.json").write_bytes(orjson.dumps(config, option=orjson.OPT_INDENT_2))
