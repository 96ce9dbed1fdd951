"""train/: a thin PyTorch trainer for curate builds.

It reads a build's ``manifest.json`` (token columns, tokenizer), draws documents phase by phase from
``mixers.make_sampler``, packs them into ``seq_len`` rows without cross-document attention, trains a
small Llama from ``transformers`` with AdamW and per-phase LR schedules (cosine, WSD, linear-to-zero
anneal, re-warm, infinite), evaluates held-out loss per source and per skill, and checkpoints
everything needed for a bit-identical resume. torch and transformers are the ``[train]`` extra and
are imported only inside this package. Entry point: :func:`train.loop.train`.
"""
