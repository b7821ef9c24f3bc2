"""Configuration: packaged defaults, then an optional TOML file, then VERBATIM_* environment variables.

Every tunable (thresholds included) lives here so nothing is a magic number in code.
"""
from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .errors import ConfigError

DEFAULTS = Path(__file__).with_name("defaults.toml")  # package data, installed beside this module

PROJECT_ROOT = Path(__file__).resolve().parent.parent

COSINE_FLOOR = -1.0  # a cosine threshold below this would hold for every passage; above 1 turns it off
# Allowed range of each numeric setting, (lowest, highest), and why: a value outside it cannot work (a
# zero limit refuses every question, a negative weight turns a signal upside down, NaN compares false).
RANGES: dict[str, tuple[float, float | None, str]] = {
    "max_passage_tokens": (1, None, "a passage holds at least one token"),
    "keep_builds": (1, None, "the current build is always kept"),
    "top_k": (1, 50, "passages returned per question"),
    "max_quoted": (1, None, "an answer quotes at least one passage"),
    "quote_margin": (0, None, "a distance in standard deviations"),
    "abstain_min_score": (COSINE_FLOOR, None, "a cosine"),
    "abstain_min_keyword_evidence": (0, None, "evidence is a sum of non-negative terms"),
    "align_min_cosine": (COSINE_FLOOR, None, "a cosine; above 1 turns it off"),
    "answer_min_score_alone": (COSINE_FLOOR, None, "a cosine; above 1 turns it off"),
    "answer_alone_spread": (0, None, "a standard deviation of cosines; 0 keeps the bar where it is"),
    "answer_alone_passages": (1, None, "the passages of the article the bar was set on"),
    "answer_kind_passages": (0, None, "passages looked at for the kind of answer asked; 0 turns it off"),
    "max_question_chars": (1, None, "a question has at least one character"),
    "weight_passage": (0, None, "a negative weight would turn the signal upside down"),
    "weight_sentence": (0, None, "a negative weight would turn the signal upside down"),
    "weight_keyword": (0, None, "a negative weight would turn the signal upside down"),
    "candidates": (1, None, "the vector index shortlists at least one passage"),
    "comment_intent": (0, None, "a distance in standard deviations"),
    "question_sentence_penalty": (0, None, "taken off a cosine"),
    "lexicon_weight": (0, None, "a negative weight would turn the signal upside down"),
    "answer_kind_order": (0, None, "a distance in standard deviations"),
    "abstain_spread": (0, None, "a weight of document spread; 0 turns it off"),
    "abstain_absent_names": (0, None, "a weight of what the question names; 0 turns it off"),
    "abstain_document_words": (0, None, "an on/off weight; 0 turns it off"),
    "document_weight": (0, None, "a negative weight would prefer the documents that match worst"),
    "document_title": (0, None, "a negative weight would turn the signal upside down"),
    "document_title_keyword": (0, None, "a negative weight would turn the signal upside down"),
    "document_support": (0, None, "a negative weight would turn the signal upside down"),
    "document_keyword": (0, None, "a negative weight would turn the signal upside down"),
    "document_diversity": (0, None, "a distance in standard deviations"),
    "document_within": (0, None, "an on/off weight; 0 turns it off"),
    "document_centroid": (0, None, "a negative weight would turn the signal upside down"),
    "document_expand": (0, None, "a number of documents; 0 turns it off"),
}


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path
    data_dir: Path
    embedder: str
    model: str
    ann: str
    max_passage_tokens: int
    keep_builds: int
    top_k: int
    max_quoted: int
    quote_margin: float
    abstain_min_score: float
    abstain_min_keyword_evidence: float
    abstain_spread: float
    abstain_absent_names: float
    abstain_document_words: float
    align_min_cosine: float
    answer_min_score_alone: float
    answer_alone_spread: float
    answer_alone_passages: int
    answer_kind_passages: int
    max_question_chars: int
    fusion: str
    keyword_index: str
    weight_passage: float
    weight_sentence: float
    weight_keyword: float
    candidates: int
    comment_intent: float
    question_sentence_penalty: float
    lexicon_weight: float
    answer_kind_order: float
    lexicon: str
    document_weight: float
    document_title: float
    document_title_keyword: float
    document_support: float
    document_keyword: float
    document_diversity: float
    document_within: float
    document_centroid: float
    document_expand: int
    database_url: str = ""  # "" = files; postgresql://… = PostgreSQL (index.pg)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> "Settings":
        """Defaults, then the chosen backend's calibration, then the config file, environment and arguments.

        Dense-score settings depend on the model: e5's cosines sit in 0.7-0.9, MiniLM's spread over 0-1.
        `[calibration.<backend>]` in defaults.toml holds the values that differ from e5's.
        """
        env = dict(os.environ if env is None else env)
        defaults = tomllib.loads(DEFAULTS.read_text("utf-8"))
        calibration = defaults.pop("calibration", {})
        user: dict = {}
        if env.get("VERBATIM_CONFIG"):
            path = Path(env["VERBATIM_CONFIG"])
            try:
                user = tomllib.loads(path.read_text("utf-8"))
            except UnicodeDecodeError as e:
                raise ConfigError(f"cannot read config file {path}: it is not UTF-8 text (byte {e.start})") from None
            except (OSError, tomllib.TOMLDecodeError) as e:
                raise ConfigError(f"cannot read config file {path}: {getattr(e, 'strerror', None) or e}") from None
            tables = user.pop("calibration", {})
            if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
                raise ConfigError(f"{path}: [calibration] holds one table per backend, e.g. [calibration.e5]")
            for backend, table in tables.items():
                calibration.setdefault(backend, {}).update(table)
        aliases = {"backend": "embedder"}
        chosen: dict[str, object] = {aliases.get(k, k): v for k, v in _flatten(user).items()}
        unknown = sorted(set(chosen) - {f.name for f in fields(cls)})
        if unknown:  # a misspelt setting would otherwise be ignored without a word
            raise ConfigError(f"{env['VERBATIM_CONFIG']}: unknown setting{'s' if len(unknown) > 1 else ''} "
                              f"{', '.join(unknown)} (see index/defaults.toml for their names)")
        for f in fields(cls):
            raw = env.get(f"VERBATIM_{f.name.upper()}")
            if raw not in (None, ""):
                chosen[f.name] = raw
        chosen.update({k: v for k, v in overrides.items() if v is not None})
        values: dict[str, object] = {aliases.get(k, k): v for k, v in _flatten(defaults).items()}
        values.update(calibration.get(str(chosen.get("embedder", values["embedder"])), {}))
        values.update(chosen)
        return cls._coerce(values)

    @classmethod
    def _coerce(cls, values: dict[str, object]) -> "Settings":
        out = {}
        for f in fields(cls):
            if f.name not in values:
                raise ConfigError(f"missing setting {f.name}")
            v = values[f.name]
            try:
                if f.type == "Path":
                    default = PROJECT_ROOT / f.name.removesuffix("_dir")
                    out[f.name] = Path(v).expanduser() if v else default
                elif f.type == "int":
                    if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
                        raise ValueError  # TOML's `true` or `2.5` is no count; int() would take it as 1 or 2
                    out[f.name] = int(v)
                elif f.type == "float":
                    if isinstance(v, bool):
                        raise ValueError
                    out[f.name] = float(v)
                else:
                    out[f.name] = str(v)
            except (TypeError, ValueError, OverflowError):
                raise ConfigError(f"setting {f.name} has an invalid value {v!r}") from None
        for name, (low, high, why) in RANGES.items():
            value = out[name]
            if not math.isfinite(value) or value < low or (high is not None and value > high):
                bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
                raise ConfigError(f"setting {name} = {value} is out of range: it must be {bounds} ({why}); "
                                  f"set VERBATIM_{name.upper()} or {name} in the config file")
        for f in fields(cls):  # a number no range names must still be one (NaN compares false everywhere)
            if f.type in ("int", "float") and f.name not in RANGES and not math.isfinite(out[f.name]):
                raise ConfigError(f"setting {f.name} = {out[f.name]} is not a finite number; set "
                                  f"VERBATIM_{f.name.upper()} or {f.name} in the config file")
        if not out["weight_passage"] + out["weight_sentence"] + out["weight_keyword"] > 0:
            raise ConfigError("settings weight_passage, weight_sentence and weight_keyword are all 0: at least one "
                              "signal must count; set VERBATIM_WEIGHT_PASSAGE, VERBATIM_WEIGHT_SENTENCE or "
                              "VERBATIM_WEIGHT_KEYWORD")
        if out["embedder"] not in ("e5", "sentence-transformers"):
            raise ConfigError(f"unknown embedder {out['embedder']!r}: use e5 or sentence-transformers")
        from .ann import ANN_KINDS

        if out["ann"] not in ANN_KINDS:
            raise ConfigError(f"unknown index type ann={out['ann']!r}: use one of {', '.join(ANN_KINDS)}")
        from .ranking import FUSIONS, KEYWORD_INDEXES

        if out["fusion"] not in FUSIONS:
            raise ConfigError(f"unknown fusion={out['fusion']!r}: use one of {', '.join(FUSIONS)}")
        if out["keyword_index"] not in KEYWORD_INDEXES:
            raise ConfigError(f"unknown keyword_index={out['keyword_index']!r}: use one of {', '.join(KEYWORD_INDEXES)}")
        return cls(**out)

    def with_(self, **changes) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _flatten(tree: dict) -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value))
        else:
            flat[key] = value
    return flat
