"""French descriptions for the slash commands, so a French Discord client shows them in French.

Command and option names stay the same in every language (they are what the docs and users type).
"""
from __future__ import annotations

import discord
from discord import app_commands

TranslationContextLocation = app_commands.TranslationContextLocation

FRENCH = {
    TranslationContextLocation.command_description: {
        "Ask a question about the article; the answer quotes it verbatim.":
            "Posez une question sur l’article ; la réponse le cite mot pour mot.",
        "Show the passages an answer quoted, in full, with scores.":
            "Affiche en entier les passages cités par une réponse, avec leurs scores.",
        "Questions here go to this article, unless they name another.":
            "Les questions posées ici portent sur cet article, sauf si elles en nomment un autre.",
        "Questions here go to all articles again.": "Les questions posées ici portent de nouveau sur tous les articles.",
        "List the articles I can quote, and when the index was built.":
            "Liste les articles que je peux citer, et quand l’index a été construit.",
    },
    TranslationContextLocation.group_description: {
        "Choose the article this channel or thread talks about.":
            "Choisir l’article dont parle ce salon ou ce fil.",
    },
    TranslationContextLocation.parameter_description: {
        "Your question, in French or English": "Votre question, en français ou en anglais",
        "Where to look (default: everywhere)": "Où chercher (par défaut : partout)",
        "Answer number (default: the latest answer in this channel)":
            "Numéro de la réponse (par défaut : la dernière de ce salon)",
        "Which article (default: this channel's, else all of them)":
            "Quel article (par défaut : celui du salon, sinon tous)",
        "The article (offered as you type, newest first)": "L’article (proposé pendant la saisie, du plus récent au plus ancien)",
        "Only the articles whose title or date holds these words":
            "Seulement les articles dont le titre ou la date contient ces mots",
        "Which page of the list (10 articles a page)": "Quelle page de la liste (10 articles par page)",
    },
    TranslationContextLocation.choice_name: {"all": "tout", "article": "article", "comments": "commentaires"},
}


class FrenchDescriptions(app_commands.Translator):
    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContext) -> str | None:
        if locale is not discord.Locale.french:
            return None
        return FRENCH.get(context.location, {}).get(string.message)
