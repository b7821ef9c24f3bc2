"""Articles as documents: a human-editable Markdown format, an importer for captured page text, a loader."""
from .document import Block, Document
from .loader import corpus_hash, load_corpus

__all__ = ["Block", "Document", "load_corpus", "corpus_hash"]
