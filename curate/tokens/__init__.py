"""Training shards: tokenizers (trained offline or loaded from a local file), token columns,
metadata-conditioning prefixes (MeCo) and control tokens (Korbak et al.); see the step modules
``curate/steps/{train_tokenizer,prefix,tokenize}.py`` and ``curate/export/``."""
