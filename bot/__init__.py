"""Talks to people: the `verbatim` command line and the Discord bot. Knows nothing of FAISS."""
