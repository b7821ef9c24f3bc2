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


def test_comment_words_are_counted_per_article_in_an_archive():
    """A word only the readers of one article use stays theirs when another article's text uses it: in an archive
    of commented articles the cue must not depend on what the other articles say."""
    texts = TEXTS + ["Un biopic du patron est en tournage.", "Quel biopic ?"]
    comment = COMMENT + [False, True]
    documents = [0, 0, 0, 1, 1]
    words = CommentWords(texts, comment, ZIPF, documents=documents)
    assert "biopic" in words.by_document[0]  # the first article's text never says it
    assert "biopic" not in words.by_document[1]  # the second article's does
    assert words.used_in("Qui parle d'un biopic ?") == {0}
    assert words.used_in("Netflix en fera-t-il une série ?") == {0}
    assert words.used_in("Qui a été licencié vendredi ?") == set()
    corpus_wide = CommentWords(texts, comment, ZIPF)  # one document: the second article's text would hide it
    assert "biopic" not in corpus_wide.stems


def test_someone_is_no_reader_word_but_no_longer_puts_comments_behind():
    from index.ranking.intent import asks_about_comments, asks_about_someone

    for question in ("Quelqu'un a-t-il partagé un schéma ?", "Quelqu’une l'a-t-elle dit ?", "Did anybody think so?",
                     "Did someone explain it?"):
        assert asks_about_someone(question) and not asks_about_comments(question), question
    for question in ("Qui a remplacé Altman ?", "Personne ne l'a vu venir ?", "Who won?"):
        assert not asks_about_someone(question), question


def test_a_question_about_someone_can_be_answered_by_a_comment(retriever):
    answer = retriever.ask("Did anybody think Microsoft won?")  # a reader (comment 3) says so; no reader word
    assert answer.hits[0].passage.location.kind == "comment"
    answer = retriever.ask("Quelqu'un a-t-il partagé un schéma ?")  # the flowchart a reader posted
    assert any("flowchart" in h.passage.text for h in answer.hits[:3])


def test_a_question_about_someone_in_the_article_still_finds_the_article(retriever):
    answer = retriever.ask("Quelqu'un a-t-il remplacé Altman ?")
    assert answer.hits[0].passage.location.kind == "article"
