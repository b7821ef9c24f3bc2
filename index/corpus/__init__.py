"""Articles as documents: a human-editable Markdown format (`markdown_format`), an importer for captured
page text (`page_import`), the loader (`loader`) and the corpus fingerprint (`fingerprint`).

Import the submodule you need: each process pays only for what it uses (answering questions needs
the fingerprint, not the parsers).
"""
