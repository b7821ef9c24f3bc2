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
    },
    TranslationContextLocation.parameter_description: {
        "Your question, in French or English": "Votre question, en français ou en anglais",
        "Where to look (default: everywhere)": "Où chercher (par défaut : partout)",
        "Answer number (default: the latest answer in this channel)":
            "Numéro de la réponse (par défaut : la dernière de ce salon)",
    },
    TranslationContextLocation.choice_name: {"all": "tout", "article": "article", "comments": "commentaires"},
}


class FrenchDescriptions(app_commands.Translator):
    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContext) -> str | None:
        if locale is not discord.Locale.french:
            return None
        return FRENCH.get(context.location, {}).get(string.message)
