"""What kind of fact a question asks for (an age, an amount, a date, a number, a place), and whether a passage
holds anything of that kind.

"How old is Satya Nadella?" shares its names with the article and means nearly what "Who is Satya
Nadella?" means, so neither the keywords nor the encoder tell that the article does not answer it. But an
age is a thing one can see: when none of the best passages holds one ("63 ans", "aged 56"), they do not
answer the question, and quoting them under "D'après l'article" would tell the reader they do.

The kinds are read from the question's opening words only ("Combien…", "How many…", "Quand…",
"Where…", "Quel âge…"), in French and English; a question that merely contains them ("Do we know how many
employees are leaving?", "A-t-il précisé combien…") asks for no kind and is left alone. A passage
"holds" a kind on lenient evidence (any digit or number word for a number, any weekday, month, year or
"ce matin" for a date), so that an answerable question is not refused for want of a perfect match.

A person ("Qui… ?", "Which researchers… ?") and a quotation ("Qu'a répondu… ?", "How did … react?") are kinds
the best passages are ordered by (Ranker._kind_first), never ones that refuse: most passages of a news
article name someone, and many quote.
"""
from __future__ import annotations

import re

AGE, AMOUNT, YEAR, DATE, NUMBER, PLACE, SCHOOL = "age", "amount", "year", "date", "number", "place", "school"

_START = r"(?:^|\b(?:selon|d'après|according to)\b[^,?]*,\s*)"  # the question's own first words
_MONEY_WORDS = (r"salaires?|prix|montant|co[uû]ts?|valorisation|somme|fortune|r[ée]mun[ée]ration|chiffre d'affaires"
                r"|cours de l'action|budget|salary|salaries|price|cost|worth|valuation|fee|revenue|share price|stock price")
_ASKS = [  # (kind, pattern) in order: the first that matches decides
    (AGE, rf"{_START}(?:how old\b|at what age\b|what(?:'s| is) (?:the )?age\b|quel [âa]ge\b|[àa] quel [âa]ge\b)"),
    (AMOUNT, rf"{_START}(?:how much\b(?! time\b)|combien (?:co[uû]te|vaut|valait|gagne|touche|paie|paye|a[- ]t[- ](?:il|elle) "
             rf"(?:co[uû]t[ée]|pay[ée]|investi|d[ée]pens[ée]|gagn[ée])|ont[- ]ils (?:pay[ée]|investi)"
             rf"|(?!de\b|d')[^?]{{0,40}}?\b(?:va|vont|doit|doivent|devra|devront)[- ]?(?:t[- ])?(?:il|elle|ils|elles)?\s*"
             rf"(?:payer|co[uû]ter|investir|d[ée]penser|verser|d[ée]bourser))"
             rf"|(?:what|which)\b[^?]{{0,40}}?\b(?:{_MONEY_WORDS})\b|quel(?:le)?s?\b[^?]{{0,30}}?\b(?:{_MONEY_WORDS})\b)"),
    (YEAR, rf"{_START}(?:(?:in |since )?(?:what|which) year\b|(?:en |depuis |de )?quelle ann[ée]e\b)"),
    (DATE, rf"{_START}(?:when\b|(?:on )?(?:what|which) (?:date|day|month)\b|since when\b"
           rf"|quand\b|depuis quand\b|(?:à |a |de )?quel(?:le)? (?:date|jour|mois)\b)"),
    (SCHOOL, rf"{_START}(?:(?:what|which) (?:university|college|school)\b|where did [^?]*\b(?:study|studies|go to "
             rf"(?:university|college|school))\b|(?:dans )?quelle (?:universit[ée]|[ée]cole)\b|o[uù] [^?]*[ée]tudi[ée])"),
    (NUMBER, rf"{_START}(?:how many\b|combien\b|quel (?:est le )?nombre\b|what (?:is the )?number of\b)"),
    (PLACE, rf"{_START}(?:where\b|d['’]o[uù]\b|o[uù]\b|(?:in |from )?(?:what|which) (?:city|country|town|state|place|region)\b"
            rf"|(?:dans |de )?quel(?:le)? (?:ville|pays|r[ée]gion|endroit|lieu|continent)\b)"),
]
_ASKS = [(kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in _ASKS]

_NUMBER_WORDS = ("deux trois quatre cinq six sept huit neuf dix onze douze treize quinze seize vingt trente quarante "
                 "cinquante soixante cent cents mille million millions milliard milliards dizaine dizaines centaine "
                 "centaines plusieurs quelques nombre combien two three four five six seven eight nine ten eleven "
                 "twelve twenty thirty forty fifty hundred hundreds thousand thousands million millions billion "
                 "billions dozen dozens several")
_MONTHS = ("janvier février fevrier mars avril mai juin juillet août aout septembre octobre novembre décembre decembre "
           "january february march april june july august september october november december")
_DAYS = "lundi mardi mercredi jeudi vendredi samedi dimanche monday tuesday wednesday thursday friday saturday sunday"
_HOLDS = {
    NUMBER: rf"\d|\b(?:{'|'.join(_NUMBER_WORDS.split())})\b",
    AMOUNT: r"[$€£¥]|\b(?:dollars?|euros?|usd|eur|livres? sterling|pounds?|milliards?|millions?|billions?|gratuite?s?"
            r"|free|payante?s?)\b",
    AGE: r"\b\d{1,3}[\s\u00a0-]*(?:ans|years?[\s-]old|year-old)\b|\b(?:âgée?s? de|aged)\b|\b(?:quadra|quinqua|sexa)g[ée]naire",
    YEAR: r"\b(?:1[5-9]\d\d|20\d\d)\b",
    DATE: rf"\b(?:1[5-9]\d\d|20\d\d)\b|\d{{1,2}}[/.]\d{{1,2}}|\b(?:{'|'.join(_MONTHS.split() + _DAYS.split())})\b"
          r"|\b(?:hier|aujourd'hui|aujourd’hui|demain|ce matin|ce soir|week-end|weekend|récemment|yesterday|today"
          r"|tomorrow|recently|ago|tonight|this morning)\b",
    PLACE: r"\b(?i:à|au|aux|en|dans|vers|près de|in|at|from|near|based|basée?|situé|située|siège|headquarters)\s+"
           r"(?:(?i:the)\s+)?([A-ZÉÈ][\w-]+)",  # a capitalised name right after a preposition of place (not
                                                # "dans l'Association": a French place name seldom takes an article)
    SCHOOL: r"universit|\bcollege\b|\bschool\b|[ée]cole|[ée]tudes|[ée]tudi[ée]|studied|dipl[ôo]m|graduat|alumn",
}
_HOLDS = {kind: re.compile(pattern, re.IGNORECASE if kind != PLACE else 0) for kind, pattern in _HOLDS.items()}


_ADVICE = re.compile(r"\b(?:dois|doit|devons|peux|puis|peut|pouvons|faut|ai-je|est-ce que je|do i|can i|should i|must i"
                     r"|could i|may i|can we|should we|do we)\b|-(?:je|on|nous)\b", re.IGNORECASE)


def asked_kind(question: str) -> str | None:
    """The kind of fact the question asks for, or None (a who, what, why or yes/no question, or one asking for
    advice: "Où dois-je déclarer mon fichier ?" wants a procedure, "auprès de la CNIL", not a place name)."""
    text = question.strip().replace("’", "'")
    if _ADVICE.search(text):
        return None
    for kind, pattern in _ASKS:
        if pattern.search(text):
            return kind
    return None


def holds(text: str, kind: str, question: str = "") -> bool:
    """Whether a passage holds something of that kind (leniently: a passage that might answer does).

    A place must be new to the question ("Où se trouve le siège d'OpenAI ?" is not answered by "à OpenAI")
    and not a brand written in camel case (OpenAI, GitHub, LinkedIn), which follows "à" as often as a city.
    """
    if kind != PLACE:
        return bool(_HOLDS[kind].search(text))
    asked = question.casefold()
    return any(name.casefold() not in asked and not _CAMEL.search(name) for name in _HOLDS[PLACE].findall(text))


_CAMEL = re.compile(r"[a-z][A-Z]")

PERSON = "person"  # ordering only (Ranker._kind_first), never abstention: most passages name someone
_ASKS_PERSON = re.compile(rf"{_START}(?:qui\b(?! (?:est|sont|était|étaient)\b)|who\b|whom\b"
                          r"|quel(?:le)?s? (?:journaliste|chercheu(?:r|se)s?|dirigeante?s?|patron(?:ne)?s?|personnes?"
                          r"|membres?|employée?s?|cadres?|ingénieure?s?|responsables?)\b"
                          r"|which (?:journalist|researchers?|executives?|people|person|employees?|members?|engineers?))",
                          re.IGNORECASE)
QUOTE = "quote"  # ordering only, as PERSON: what someone said, answered or how they reacted
_ASKS_QUOTE = re.compile(
    rf"{_START}(?:qu'(?:a|ont)[- ]t?[- ]?(?:il|elle|ils|elles)?\s*(?:dit|r[ée]pondu|d[ée]clar[ée]|[ée]crit|tweet[ée]|annonc[ée])\b"
    r"|qu'a (?:dit|r[ée]pondu|d[ée]clar[ée]|[ée]crit)\b|que (?:dit|r[ée]pond|d[ée]clare)\b"
    r"|comment\b[^?]{0,60}?\br[ée]agi|quelle (?:a [ée]t[ée] la |est la )?r[ée]action\b"
    r"|what did\b[^?]{0,50}?\b(?:say|reply|answer|write|tweet|post)\b|how did\b[^?]{0,60}?\b(?:react|respond|reply)\b"
    r"|what was\b[^?]{0,50}?\b(?:reaction|response|reply|answer)\b|how\b[^?]{0,40}?\breaction\b)",
    re.IGNORECASE)
_QUOTATION = re.compile(r"«[^»]{3,}»|“[^”]{3,}”|\"[^\"]{3,}\"")
_FULL_NAME = re.compile(r"\b[A-ZÉÈ][a-zà-öø-ÿ]+(?:[ -][A-ZÉÈ][a-zà-öø-ÿ]+)+\b")


def asked_order_kind(question: str) -> str | None:
    """The kind the best passages are ordered by: `asked_kind`, or a person for "Qui… ?" / "Which researchers…?"."""
    return order_kind(question, asked_kind(question))


def order_kind(question: str, kind: str | None) -> str | None:
    """`asked_order_kind` when the question's `asked_kind` is known already (the ranker finds it once)."""
    text = question.strip().replace("’", "'")
    if kind is None and _ASKS_QUOTE.search(text):
        return QUOTE
    if kind is None and _ASKS_PERSON.search(text):
        return PERSON
    return kind


def holds_quotation(text: str) -> bool:
    """Whether the passage quotes someone's words (« … », “ … ”, " … ")."""
    return bool(_QUOTATION.search(text))


def holds_new_name(text: str, question: str) -> bool:
    """Whether the passage names a person (a first and last name) none of whose words the question uses."""
    asked = {w.casefold() for w in re.findall(r"\w+", question)}
    return any(not ({w.casefold() for w in re.findall(r"\w+", name)} & asked) for name in _FULL_NAME.findall(text))


def holds_for_order(text: str, kind: str, question: str = "") -> bool:
    """`holds`, for the kinds the best passages are ordered by too (`asked_order_kind`)."""
    if kind == PERSON:
        return holds_new_name(text, question)
    if kind == QUOTE:
        return holds_quotation(text)
    return holds(text, kind, question)
