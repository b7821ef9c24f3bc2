"""Articles as documents: the Markdown format (`markdown_format`), the loader (`loader`), the corpus
fingerprint (`fingerprint`), and the importers, one module each: captured page text (`page_import`),
HTML pages (`html_import`, with `html_metadata` and `html_comments`), feeds (`feed_import`), URLs
(`fetch`, `charset`); `importer` tells them apart, `collection` stores, lists and removes articles,
`feed_registry` keeps the followed feeds, `listing` feeds `verbatim corpus list`, `ids` makes plain ids.

Import the submodule you need: each process pays only for what it uses (answering questions needs
the fingerprint, not the parsers).
"""
