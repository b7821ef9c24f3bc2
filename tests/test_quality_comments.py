"""The comment cue, two-sided on vocabulary: a question using a rare word only the comments use is not put behind
the comments even without a reader word (index/ranking/intent.py, docs/retrieval.md)."""
from __future__ import annotations

from index.ranking.intent import CommentWords

TEXTS = ["Le conseil a licencié son patron vendredi soir.",
         "Ça va finir en biopic sur Netflix tout ça.",
         "Le monde entier regarde le conseil."]
COMMENT = [False, True, True]
ZIPF = {"biopic": 2.5, "netflix": 3.4, "fin": 5.2, "va": 7.0, "mond": 6.3, "enti": 5.0, "regard": 5.3}  # by stem,
# as Vocabulary.stems gives them


def test_comment_words_are_rare_stems_the_article_never_uses():
    words = CommentWords(TEXTS, COMMENT, ZIPF)
    assert {"biopic", "netflix"} <= words.stems
    assert "conseil" not in words.stems  # the article uses it too
    assert "mond" not in words.stems and "fin" not in words.stems  # everyday words are no cue
    assert words.used_by("Qui parle d'un biopic ?") and words.used_by("Netflix en fera-t-il une série ?")
    assert not words.used_by("Qui a été licencié vendredi ?")


def test_a_question_about_a_comment_without_a_reader_word_finds_it(retriever):
    answer = retriever.ask("Le tweet sur Ilya a-t-il été sauvegardé ?")  # "Ilya": only the comments name him
    assert answer.hits[0].passage.location.kind == "comment"
    assert "capture du tweet" in answer.hits[0].passage.text


def test_a_question_about_the_article_still_puts_comments_behind(retriever):
    answer = retriever.ask("Qui a remplacé Mira Murati par intérim ?")
    assert answer.hits[0].passage.location.kind == "article"
