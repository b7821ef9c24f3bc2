"""`verbatim eval` and its scoring: the same definition of "found" as ../shared/eval/score.py."""
from __future__ import annotations

import json

import pytest

from index.evaluation import (Outcome, Question, QuestionFileError, format_report, gold_rank, metrics, norm,
                              outcome, parse_questions, report)

from .conftest import run_cli

KNOWN_HIT = {"id": "hit", "lang": "fr", "kind": "fact", "question": "Qui est Emmett Shear ?",
             "gold": ["co-fondateurs de Twitch"]}
OFF_TOPIC = {"id": "off", "lang": "fr", "kind": "unanswerable", "question": "Comment installer Python sur Windows ?",
             "gold": []}
WRONG_GOLD = {"id": "wrong", "lang": "en", "kind": "fact", "question": "Who is Emmett Shear?",
              "gold": ["une phrase qui n'est nulle part dans l'article"]}


def _q(id="q", gold=("x",), lang="fr", kind="fact") -> Question:
    return Question(id=id, question=f"question {id}", gold=tuple(gold), lang=lang, kind=kind)


def test_norm_folds_quotes_case_width_and_whitespace():
    assert norm("L’Équipe\u00a0 “Cloud”\n") == norm("l'équipe \"cloud\"")
    assert norm("ﬁn") == "fin"  # NFKC


def test_gold_rank_is_the_first_passage_holding_a_gold_substring_within_five():
    texts = ["rien", "Satya Nadella l’a annoncé", "encore", "x", "y", "Jean-Noël Barrot"]
    assert gold_rank(["satya nadella l'a annoncé"], texts) == 2
    assert gold_rank(["absent"], texts) is None
    assert gold_rank(["Jean-Noël Barrot"], texts) is None  # rank 6 is not seen, as in score.py


def test_metrics_count_recall_mrr_answered_and_abstain():
    outcomes = [
        Outcome(_q("a"), 1, True), Outcome(_q("b"), 3, True), Outcome(_q("c"), None, False),
        Outcome(_q("u1", gold=()), None, False), Outcome(_q("u2", gold=()), None, True),
    ]
    m = metrics(outcomes)
    assert (m.answerable, m.unanswerable) == (3, 2)
    assert m.r1 == pytest.approx(1 / 3, abs=1e-4)
    assert m.r3 == pytest.approx(2 / 3, abs=1e-4)
    assert m.mrr == pytest.approx((1 + 1 / 3) / 3, abs=1e-4)
    assert m.answered == pytest.approx(2 / 3, abs=1e-4)
    assert m.abstained == 0.5


def test_report_breaks_down_by_language_and_kind_and_lists_misses():
    outcomes = [Outcome(_q("a", lang="fr"), 1, True), Outcome(_q("b", lang="en", kind="crosslingual"), 2, True),
                Outcome(_q("u", gold=(), kind="unanswerable"), None, True)]
    rep = report(outcomes)
    assert rep.by_lang["fr"].r1 == 1.0 and rep.by_lang["en"].r1 == 0.0
    assert rep.by_kind["crosslingual"].mrr == 0.5
    assert rep.by_kind["unanswerable"].abstained == 0.0 and rep.by_kind["unanswerable"].r1 is None
    assert [m.question.id for m in rep.misses()] == ["b", "u"]
    text = format_report(rep, verbose=True)
    assert "R@1=0.500 R@3=1.000 MRR=0.750 answered=1.000 abstain=0.000" in text
    assert "b rank=2" in text and "u answered-unanswerable" in text


def test_outcome_of_an_unanswerable_question_has_no_rank():
    assert outcome(_q("u", gold=()), ["anything"], answered=False).rank is None


def test_parse_questions_rejects_bad_lines_with_the_line_number():
    with pytest.raises(QuestionFileError, match="line 2"):
        parse_questions(['{"question": "ok", "gold": []}', '{"gold": []}'])
    with pytest.raises(QuestionFileError, match="line 1"):
        parse_questions(['{"question": "ok", "gold": "not a list"}'])
    with pytest.raises(QuestionFileError, match="no question"):
        parse_questions(["", "  "])
    for line, reason in (("[1, 2]", "not a JSON object"), ('{"id": "b"}', 'it has no "question"'),
                         ('{"question": "  "}', "its question is empty"), ("{oops", "not JSON")):
        with pytest.raises(QuestionFileError) as caught:
            parse_questions([line], "q.jsonl")
        message = str(caught.value)
        assert message.startswith("q.jsonl line 1 ") and reason in message and "object has no" not in message


def _write(tmp_path, rows) -> str:
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return str(path)


def test_eval_command_scores_a_hit_an_abstention_and_a_wrong_gold(built_settings, tmp_path):
    questions = _write(tmp_path, [KNOWN_HIT, OFF_TOPIC, WRONG_GOLD])
    done = run_cli("eval", questions, "--json", data_dir=built_settings.data_dir)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    overall = figures["overall"]
    assert (overall["answerable"], overall["unanswerable"]) == (2, 1)
    assert overall["r1"] == 0.5 and overall["abstain"] == 1.0 and overall["answered"] == 1.0
    assert figures["by_lang"]["fr"]["r1"] == 1.0
    assert figures["by_lang"]["en"]["r1"] == 0.0  # the deliberately wrong gold is never found
    assert [m["id"] for m in figures["misses"]] == ["wrong"]


def test_eval_command_prints_figures_and_misses(built_settings, tmp_path):
    questions = _write(tmp_path, [WRONG_GOLD, OFF_TOPIC])
    done = run_cli("eval", questions, "--verbose", data_dir=built_settings.data_dir)
    assert done.returncode == 0, done.stderr
    assert "R@1=0.000 R@3=0.000 MRR=0.000 answered=1.000 abstain=1.000" in done.stdout
    assert "kind=unanswerable" in done.stdout and "lang=en" in done.stdout
    assert "wrong rank=None" in done.stdout


def test_eval_command_refuses_a_bad_question_file(built_settings, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok", "gold": []}\nnot json\n', "utf-8")
    done = run_cli("eval", str(bad), data_dir=built_settings.data_dir)
    assert done.returncode == 1
    assert "line 2" in done.stderr and "Traceback" not in done.stderr
    missing = run_cli("eval", str(tmp_path / "nope.jsonl"), data_dir=built_settings.data_dir)
    assert missing.returncode == 1 and "cannot read" in missing.stderr
    binary = tmp_path / "photo.jsonl"
    binary.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF" * 20)
    done = run_cli("eval", str(binary), data_dir=built_settings.data_dir)
    assert done.returncode == 1 and "not UTF-8 text (byte 0)" in done.stderr and "codec" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
