"""WRAP synthetic rephrasing (Maini et al., 2024; METHODS.md 8): chunking at sentence boundaries,
the four style prompts, generation backends (a local transformers folder, an OpenAI-compatible HTTP
endpoint), the on-disk response cache, the rule-based post-cleaner and ``curate serve``.

The step that drives them is ``curate/steps/rephrase.py``.
"""
