"""The words the bot says around quotes, in the question's language (French or English)."""
from __future__ import annotations

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "intro": "From the article:",
        "not_found": "That is not in the article, as far as I can find. The closest passage is under **Sources**.",
        "answer_footer": "Answer #{id} · index build {build} · /source {id}",
        "sources_title": "Sources of answer #{id}: {question}",
        "closest": "Closest passage (not an answer)",
        "cited": "Cited passage",
        "score": "Score",
        "rank": "Rank",
        "build": "Index build",
        "sources_footer": "Answer #{id} · asked by {asker} · index build {build}",
        "cooldown": "You are asking quickly. Please try again in {seconds} s.",
        "guild_rate": "This server is asking a lot right now. Please try again in {seconds} s.",
        "too_long": "That question is too long ({length} characters). Please keep it under {limit} characters.",
        "empty": "Ask me a question about the article, for example: @Verbatim what is the article about?",
        "no_answer_yet": "No answer in this channel yet. Ask one with /ask.",
        "unknown_answer": "I have no answer #{id}. Recent answers are offered as you type.",
        "not_allowed": "I don't answer questions here.",
        "failed": "Sorry, I could not answer that: {reason}",
        "busy": "Sorry, something went wrong on my side. Please try again in a moment.",
        "restarting": "I am restarting and could not finish this answer. Please ask again in a minute.",
        "restarting_new": "I am restarting right now. Please ask again in a minute.",
        "unreadable": "Your question contains characters that cannot be read. Please type it again.",
        "bad_request": "Sorry, I could not read that request. Please try the command again.",
        "store_busy": "The answers store is busy right now. Please try again in a moment.",
        "thanks": "Thanks for the feedback.",
        "shared_by": "Sources of answer #{id}, shared by {user}",
        "btn_sources": "Sources",
        "btn_share": "Share in channel",
        "article": "Article",
        "stale_binding": "This channel was set to an article that is no longer available, so I looked in all "
                         "articles. Someone with Manage Channels can pick another with /article set.",
        "unknown_article": "I don't know that article. Pick one from the list offered as you type, or see /articles.",
        "bound": "Questions here now go to **{title}**, unless they name another article.",
        "unbound": "Questions here now go to all articles.",
        "not_bound": "No article is set here; questions already go to all articles.",
        "needs_manage_channels": "Sorry, only members who can manage this channel may choose its article.",
        "articles_title": "Articles I know ({count})",
        "articles_built": "Index last built {when}.",
        "articles_more": "… and {count} more",
        "no_articles": "I know no article yet.",
    },
    "fr": {
        "intro": "D’après l’article :",
        "not_found": "Ce n'est pas dans l'article, pour autant que je puisse en juger. Le passage le plus proche est dans **Sources**.",
        "answer_footer": "Réponse n° {id} · index {build} · /source {id}",
        "sources_title": "Sources de la réponse n° {id} : {question}",
        "closest": "Passage le plus proche (pas une réponse)",
        "cited": "Passage cité",
        "score": "Score",
        "rank": "Rang",
        "build": "Index",
        "sources_footer": "Réponse n° {id} · question de {asker} · index {build}",
        "cooldown": "Vous posez vos questions un peu vite. Réessayez dans {seconds} s.",
        "guild_rate": "Ce serveur pose beaucoup de questions en ce moment. Réessayez dans {seconds} s.",
        "too_long": "Cette question est trop longue ({length} caractères). Restez sous {limit} caractères.",
        "empty": "Posez-moi une question sur l'article, par exemple : @Verbatim de quoi parle l'article ?",
        "no_answer_yet": "Pas encore de réponse dans ce salon. Posez une question avec /ask.",
        "unknown_answer": "Je n'ai pas de réponse n° {id}. Les réponses récentes sont proposées pendant la saisie.",
        "not_allowed": "Je ne réponds pas aux questions ici.",
        "failed": "Désolé, je n'ai pas pu répondre : {reason}",
        "busy": "Désolé, un problème de mon côté. Réessayez dans un instant.",
        "restarting": "Je redémarre et n'ai pas pu finir cette réponse. Reposez la question dans une minute.",
        "restarting_new": "Je redémarre en ce moment. Reposez la question dans une minute.",
        "unreadable": "Votre question contient des caractères illisibles. Retapez-la, s'il vous plaît.",
        "bad_request": "Désolé, je n'ai pas pu lire cette demande. Réessayez la commande.",
        "store_busy": "Le stockage des réponses est occupé. Réessayez dans un instant.",
        "thanks": "Merci pour votre avis.",
        "shared_by": "Sources de la réponse n° {id}, partagées par {user}",
        "btn_sources": "Sources",
        "btn_share": "Partager dans le salon",
        "article": "Article",
        "stale_binding": "Ce salon était associé à un article qui n'est plus disponible : j'ai donc cherché dans "
                         "tous les articles. Un membre qui peut gérer le salon peut en choisir un autre avec /article set.",
        "unknown_article": "Je ne connais pas cet article. Choisissez-en un dans la liste proposée pendant la saisie, "
                           "ou voyez /articles.",
        "bound": "Les questions posées ici portent désormais sur **{title}**, sauf si elles en nomment un autre.",
        "unbound": "Les questions posées ici portent désormais sur tous les articles.",
        "not_bound": "Aucun article n'est associé ici ; les questions portent déjà sur tous les articles.",
        "needs_manage_channels": "Désolé, seuls les membres qui peuvent gérer ce salon peuvent choisir son article.",
        "articles_title": "Les articles que je connais ({count})",
        "articles_built": "Index construit pour la dernière fois le {when}.",
        "articles_more": "… et {count} de plus",
        "no_articles": "Je ne connais encore aucun article.",
    },
}


def lang_of_locale(locale: object) -> str:
    """French for a French Discord locale, English otherwise (used before there is an Answer)."""
    return "fr" if str(locale or "").lower().startswith("fr") else "en"


def say(lang: str, key: str, **values: object) -> str:
    return PHRASES.get(lang, PHRASES["en"])[key].format(**values)
