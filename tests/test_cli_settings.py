"""Settings out of range are refused at start, with the setting and its environment variable named."""
from __future__ import annotations

import pytest

from index.errors import ConfigError
from index.settings import Settings

from .conftest import run_cli

OUT_OF_RANGE = [
    ("max_question_chars", "0"), ("max_question_chars", "-5"),
    ("top_k", "0"), ("top_k", "-1"), ("top_k", "51"),
    ("keep_builds", "0"), ("keep_builds", "-2"),
    ("max_quoted", "0"),
    ("max_passage_tokens", "0"),
    ("candidates", "0"),
    ("quote_margin", "-0.5"),
    ("abstain_min_keyword_evidence", "-1"),
    ("abstain_min_score", "-3"), ("answer_min_score_alone", "-1.5"), ("align_min_cosine", "-2"),
    ("abstain_min_score", "nan"), ("align_min_cosine", "inf"),
    ("weight_keyword", "-1"), ("weight_passage", "nan"),
    ("comment_intent", "-1"),
    ("question_sentence_penalty", "-0.1"),
    # the settings that only act over many documents: with one article a bad value went unnoticed
    ("document_diversity", "nan"), ("document_weight", "-5"), ("document_centroid", "inf"), ("document_expand", "-1"),
    ("document_within", "nan"), ("abstain_spread", "nan"), ("abstain_absent_names", "nan"),
    ("abstain_document_words", "-inf"),
]


@pytest.mark.parametrize("name, value", OUT_OF_RANGE)
def test_an_out_of_range_setting_is_refused_naming_it_and_its_env_var(name, value):
    with pytest.raises(ConfigError, match=f"{name}.*VERBATIM_{name.upper()}"):
        Settings.from_env(env={f"VERBATIM_{name.upper()}": value})


def test_all_weights_zero_is_refused():
    env = {"VERBATIM_WEIGHT_PASSAGE": "0", "VERBATIM_WEIGHT_SENTENCE": "0", "VERBATIM_WEIGHT_KEYWORD": "0"}
    with pytest.raises(ConfigError, match="weight"):
        Settings.from_env(env=env)


def test_a_config_file_value_out_of_range_is_refused_too(tmp_path):
    config = tmp_path / "verbatim.toml"
    config.write_text("[index]\nkeep_builds = 0\n", "utf-8")
    with pytest.raises(ConfigError, match="keep_builds.*VERBATIM_KEEP_BUILDS"):
        Settings.from_env(env={"VERBATIM_CONFIG": str(config)})


@pytest.mark.parametrize("value", ["1", "5000", "0.9"])
def test_values_in_range_are_accepted(value):
    settings = Settings.from_env(env={"VERBATIM_ALIGN_MIN_COSINE": "1.01", "VERBATIM_KEEP_BUILDS": "1",
                                      "VERBATIM_ABSTAIN_MIN_SCORE": value if "." in value else "0.75",
                                      "VERBATIM_MAX_QUESTION_CHARS": value if "." not in value else "1000"})
    assert settings.keep_builds == 1 and settings.align_min_cosine == 1.01


@pytest.mark.parametrize("command", [("ask", "Qui est Emmett Shear ?"), ("index", "build"), ("run",)])
def test_the_command_line_refuses_them_at_start_in_one_line(tmp_path, command):
    result = run_cli(*command, data_dir=tmp_path / "d", extra_env={"VERBATIM_MAX_QUESTION_CHARS": "-1",
                                                                   "DISCORD_TOKEN": "x"}, timeout=60)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and "VERBATIM_MAX_QUESTION_CHARS" in result.stderr, result.stderr
    assert not (tmp_path / "d").exists()  # refused before anything was built or written


@pytest.mark.parametrize("text, message", [
    ("[answer]\ntop_k = 1e400\n", "top_k has an invalid value"),
    ("[answer]\ntop_k = 2.5\n", "top_k has an invalid value"),
    ("[answer]\ntop_k = true\n", "top_k has an invalid value"),
    ("[answer]\ntopk = 3\n", "unknown setting topk"),
    ("[bogus]\nanything = 1\n", "unknown setting anything"),
])
def test_a_config_file_is_read_as_strictly_as_the_environment(tmp_path, text, message):
    config = tmp_path / "verbatim.toml"
    config.write_text(text, "utf-8")
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env={"VERBATIM_CONFIG": str(config)})


def test_a_config_file_that_is_not_utf8_is_a_one_line_error(tmp_path):
    config = tmp_path / "verbatim.toml"
    config.write_bytes(b"\xff\xfe[answer]")
    result = run_cli("ask", "Qui ?", data_dir=tmp_path / "d", extra_env={"VERBATIM_CONFIG": str(config)}, timeout=60)
    assert result.returncode == 1 and "not UTF-8 text" in result.stderr and "codec" not in result.stderr
    assert result.stderr.count("\n") == 1
