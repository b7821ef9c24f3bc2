"""The Discord face of Verbatim: a discord.py bot that answers with verbatim quotes from the index.

Knows nothing of FAISS: it asks `index.service.Retriever` through one worker thread and renders
answers with the pure functions in `bot.render`.
"""
