"""The step registry: one literal dict from recipe name (``use = "..."``) to the step class, named as
``"module:Class"`` and imported on first use, so a recipe pays only for the steps it uses (a build
of ``length`` never imports numba or the tokenizers).

To add a step: write its frozen dataclass in its own module and add one line here.
"""

from __future__ import annotations

import importlib
from typing import Any

from curate.config import from_table
from curate.errors import RecipeError

STEPS: dict[str, str] = {
    "length": "curate.steps.length:Length",
    "length_bucket": "curate.steps.length_bucket:LengthBucket",
    "url_blocklist": "curate.steps.url_blocklist:UrlBlocklist",
    "exact_dedup": "curate.steps.exact_dedup:ExactDedup",
    "minhash_dedup": "curate.steps.minhash_dedup:MinHashDedup",
    "decontaminate": "curate.steps.decontaminate:Decontaminate",
    "pii": "curate.steps.pii:Pii",
    "line_dedup": "curate.steps.segment_dedup:LineDedup",
    "paragraph_dedup": "curate.steps.segment_dedup:ParagraphDedup",
    "url_dedup": "curate.steps.url_dedup:UrlDedup",
    "lang_id": "curate.steps.lang_id:LangId",
    "skill_from_source": "curate.steps.skill_source:SkillFromSource",
    "skill_rules": "curate.steps.skill_rules:SkillRules",
    "skill_cluster": "curate.steps.skill_cluster:SkillCluster",
    "skill_fasttext": "curate.steps.skill_fasttext:SkillFastText",
    "fasttext_score": "curate.steps.fasttext_score:FasttextScore",
    "score_filter": "curate.steps.score_filter:ScoreFilter",
    "score_percentile": "curate.steps.score_percentile:ScorePercentile",
    "score_band": "curate.steps.score_band:ScoreBand",
    "lm_score": "curate.steps.lm_score:LmScore",
    "instruction_pair": "curate.steps.instruction_pair:InstructionPair",
    "pair_length": "curate.steps.pair_length:PairLength",
    "mtld": "curate.steps.mtld:Mtld",
    "knn_distance": "curate.steps.knn_distance:KnnDistance",
    "score_rule": "curate.steps.score_rule:ScoreRule",
    "word_list_score": "curate.steps.word_list_score:WordListScore",
    "year": "curate.steps.data_age:Year",
    "date_range": "curate.steps.data_age:DateRange",
    "domain": "curate.steps.domain:Domain",
    "domain_balance": "curate.steps.domain_balance:DomainBalance",
    "train_tokenizer": "curate.steps.train_tokenizer:TrainTokenizer",
    "prefix": "curate.steps.prefix:Prefix",
    "tokenize": "curate.steps.tokenize:Tokenize",
    "gopher_quality": "curate.steps.gopher_quality:GopherQuality",
    "gopher_repetition": "curate.steps.gopher_repetition:GopherRepetition",
    "c4": "curate.steps.c4:C4",
    "fineweb_quality": "curate.steps.fineweb_quality:FineWebQuality",
    "code_quality": "curate.steps.code_quality:CodeQuality",
    "rephrase": "curate.steps.rephrase:Rephrase",
    "knowledge_augment": "curate.steps.knowledge_augment:KnowledgeAugment",
}


def step_class(name: str) -> type:
    """The class of the step ``name`` (a key of :data:`STEPS`), imported on first use."""
    module, cls = STEPS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def make_step(table: dict[str, Any], where: str) -> Any:
    """Build the step named by ``table["use"]`` from the rest of the table."""
    table = dict(table)
    name = table.pop("use", None)
    if name is None:
        raise RecipeError(f"{where}: missing key 'use'; allowed steps: {', '.join(sorted(STEPS))}")
    if name not in STEPS:
        raise RecipeError(f"{where}.use: unknown step {name!r}; allowed: {', '.join(sorted(STEPS))}")
    if table.get("thresholds") == "fineweb2":  # FineWeb-2's values where the recipe sets none
        from curate.text.fineweb2 import fineweb2_values

        try:
            table = {**fineweb2_values(name, table.get("language", "en")), **table}
        except ValueError as exc:
            raise RecipeError(f"{where} ({name}).thresholds: {exc}") from None
    return from_table(step_class(name), table, f"{where} ({name})")


def producers() -> dict[str, list[str]]:
    """Artefact file name -> the steps that make it (their ``artefacts``), for error messages."""
    out: dict[str, list[str]] = {}
    for name in sorted(STEPS):
        for artefact in getattr(step_class(name), "artefacts", ()):
            out.setdefault(artefact, []).append(name)
    return out
