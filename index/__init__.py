"""Turns a corpus of articles into a searchable index and answers questions with verbatim passages.

Knows nothing of Discord: the bot and the CLI sit on top of `index.service.Retriever`.
"""
