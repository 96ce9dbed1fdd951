"""The step registry: one literal dict from recipe name (``use = "..."``) to step class.

To add a step: write its frozen dataclass in its own module and add one line here.
"""

from __future__ import annotations

from typing import Any

from curate.config import from_table
from curate.errors import RecipeError
from curate.steps.c4 import C4
from curate.steps.code_quality import CodeQuality
from curate.steps.data_age import DateRange, Year
from curate.steps.decontaminate import Decontaminate
from curate.steps.domain import Domain
from curate.steps.domain_balance import DomainBalance
from curate.steps.exact_dedup import ExactDedup
from curate.steps.fasttext_score import FasttextScore
from curate.steps.fineweb_quality import FineWebQuality
from curate.steps.gopher_quality import GopherQuality
from curate.steps.gopher_repetition import GopherRepetition
from curate.steps.lang_id import LangId
from curate.steps.length import Length
from curate.steps.length_bucket import LengthBucket
from curate.steps.lm_score import LmScore
from curate.steps.minhash_dedup import MinHashDedup
from curate.steps.pii import Pii
from curate.steps.prefix import Prefix
from curate.steps.score_band import ScoreBand
from curate.steps.segment_dedup import LineDedup, ParagraphDedup
from curate.steps.score_filter import ScoreFilter
from curate.steps.score_percentile import ScorePercentile
from curate.steps.skill_cluster import SkillCluster
from curate.steps.skill_fasttext import SkillFastText
from curate.steps.skill_rules import SkillRules
from curate.steps.skill_source import SkillFromSource
from curate.steps.tokenize import Tokenize
from curate.steps.train_tokenizer import TrainTokenizer
from curate.steps.url_blocklist import UrlBlocklist
from curate.steps.url_dedup import UrlDedup
from curate.steps.word_list_score import WordListScore
from curate.text.fineweb2 import fineweb2_values

STEPS: dict[str, type] = {
    "length": Length,
    "length_bucket": LengthBucket,
    "url_blocklist": UrlBlocklist,
    "exact_dedup": ExactDedup,
    "minhash_dedup": MinHashDedup,
    "decontaminate": Decontaminate,
    "pii": Pii,
    "line_dedup": LineDedup,
    "paragraph_dedup": ParagraphDedup,
    "url_dedup": UrlDedup,
    "lang_id": LangId,
    "skill_from_source": SkillFromSource,
    "skill_rules": SkillRules,
    "skill_cluster": SkillCluster,
    "skill_fasttext": SkillFastText,
    "fasttext_score": FasttextScore,
    "score_filter": ScoreFilter,
    "score_percentile": ScorePercentile,
    "score_band": ScoreBand,
    "lm_score": LmScore,
    "word_list_score": WordListScore,
    "year": Year,
    "date_range": DateRange,
    "domain": Domain,
    "domain_balance": DomainBalance,
    "train_tokenizer": TrainTokenizer,
    "prefix": Prefix,
    "tokenize": Tokenize,
    "gopher_quality": GopherQuality,
    "gopher_repetition": GopherRepetition,
    "c4": C4,
    "fineweb_quality": FineWebQuality,
    "code_quality": CodeQuality,
}


def make_step(table: dict[str, Any], where: str) -> Any:
    """Build the step named by ``table["use"]`` from the rest of the table."""
    table = dict(table)
    name = table.pop("use", None)
    if name is None:
        raise RecipeError(f"{where}: missing key 'use'; allowed steps: {', '.join(sorted(STEPS))}")
    if name not in STEPS:
        raise RecipeError(f"{where}.use: unknown step {name!r}; allowed: {', '.join(sorted(STEPS))}")
    if table.get("thresholds") == "fineweb2":  # FineWeb-2's values where the recipe sets none
        try:
            table = {**fineweb2_values(name, table.get("language", "en")), **table}
        except ValueError as exc:
            raise RecipeError(f"{where} ({name}).thresholds: {exc}") from None
    return from_table(STEPS[name], table, f"{where} ({name})")


def producers() -> dict[str, list[str]]:
    """Artefact file name -> the steps that make it (their ``artefacts``), for error messages."""
    out: dict[str, list[str]] = {}
    for name, cls in sorted(STEPS.items()):
        for artefact in getattr(cls, "artefacts", ()):
            out.setdefault(artefact, []).append(name)
    return out
