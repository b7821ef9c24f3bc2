"""A question names an article only when it points at that one article (index.named_article)."""
from __future__ import annotations

from index.model import ArticleInfo
from index.named_article import named_article


def art(id_: str, title: str, url: str = "") -> ArticleInfo:
    return ArticleInfo(id_, title, "2024-03-05", url, "", 10, 0)


SEED = art("nextinpact-2023-11-20-microsoft-recrute-sam-altman", "Intelligence artificielle : Microsoft récupère Sam Altman",
           "https://www.nextinpact.com/article/72889/microsoft-recrute-sam-altman")
LYON = art("exemple-2024-03-05-lyon-velos-cargo", "Lyon prête des vélos-cargos électriques aux familles pendant un mois",
           "https://news.example/2024/03/05/lyon-velos-cargo")
RETURN = art("altman-revient", "Sam Altman revient chez OpenAI")
BOTH = [SEED, LYON]


def test_most_of_a_title_names_its_article():
    assert named_article("Dans « Microsoft récupère Sam Altman », qui est Emmett Shear ?", BOTH) == SEED
    assert named_article("Lyon prête des vélos-cargos électriques aux familles pendant un mois : à quel prix ?",
                         BOTH) == LYON


def test_part_of_a_long_title_in_quotes_names_its_article_and_only_the_quoted_words_count():
    long = art(SEED.id, "Intelligence artificielle : Microsoft récupère Sam Altman, Greg Brockman et une partie de "
               "l’équipe d’OpenAI")
    assert named_article("Dans « Microsoft récupère Sam Altman », qui est Emmett Shear ?", [long, LYON]) == long
    assert named_article("Dans « Brockman », qui est Emmett Shear ?", [long, LYON]) == long
    assert named_article("« Pourquoi » Microsoft récupère Sam Altman ?", [long, LYON]) is None
    # About the same people, not naming the article: 4 of its 11 words
    assert named_article("Pourquoi Microsoft récupère Sam Altman ?", [long, LYON]) is None
    assert named_article("Que pense Sam Altman de l'intelligence artificielle ?", [long, LYON]) is None


def test_the_pointer_words_themselves_name_nothing():
    article_31 = art("cnil-513", "Règlement européen : que devient la liste des fichiers déclarés à la CNIL (liste article 31) ?")
    assert named_article("Dans l'article sur les vélos-cargos, combien ?", [SEED, article_31]) is None
    assert named_article("Dans l'article sur l'article 31, que devient la liste ?", [SEED, article_31]) == article_31


def test_questions_about_the_same_people_or_this_article_name_nothing():
    macron = [art("macron-retraites", "Emmanuel Macron défend la réforme des retraites"),
              art("macron-zelensky", "Emmanuel Macron reçoit Zelensky à l'Élysée")]
    assert named_article("Emmanuel Macron reçoit-il les syndicats ?", macron) is None
    three = [SEED, LYON, RETURN]
    assert named_article("Dans cet article, que dit Microsoft ?", three) is None  # "cet article": the channel's own
    assert named_article("What does this article say about Microsoft?", three) is None
    assert named_article("Combien coûte le billet pour Lyon ?", three) is None
    assert named_article("Est-ce que Sam Altman revient ?", three) is None


def test_a_cue_and_one_distinctive_title_word_name_an_article():
    assert named_article("Dans l'article sur Altman, qui est Emmett Shear ?", BOTH) == SEED
    assert named_article("What does the piece about Lyon say about the bikes?", BOTH) == LYON


def test_a_question_merely_about_a_subject_names_nothing():
    assert named_article("Qui est Emmett Shear ?", BOTH) is None
    assert named_article("Que pense Sam Altman des vélos ?", BOTH) is None  # 2 of 6 title words, no cue
    assert named_article("Combien de vélos-cargos la métropole va-t-elle prêter ?", BOTH) is None


def test_words_that_two_titles_share_name_neither():
    three = [SEED, LYON, RETURN]
    assert named_article("Dans l'article sur Sam Altman et Microsoft, que fait Nadella ?", three) == SEED  # "Microsoft": one
    assert named_article("Dans l'article sur Sam Altman, que fait Microsoft ?", three) is None  # the phrase names two
    assert named_article("Dans l'article sur Sam Altman, qui est Emmett Shear ?", three) is None  # both titles hold them
    assert named_article("Selon l'article, que pense Microsoft des vélos ?", three) is None  # one word in each of two


def test_an_address_or_an_id_names_its_article():
    assert named_article("Que dit https://news.example/2024/03/05/lyon-velos-cargo/ des familles ?", BOTH) == LYON
    assert named_article("exemple-2024-03-05-lyon-velos-cargo : combien de vélos ?", BOTH) == LYON
    assert named_article("Que dit https://elsewhere.example/x ?", BOTH) is None


def test_one_article_names_nothing():
    assert named_article("Dans l'article sur Altman, qui est Emmett Shear ?", [SEED]) is None
