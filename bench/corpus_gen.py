"""Generated news corpora for the benchmarks: realistic, varied French and English text, deterministic.

Sentences come from real prose: the seed article and its comments, the CNIL help-centre entries
(`../shared/eval/cnil/corpus`, when present) and, for English, the project's own documentation. Each
generated sentence joins the head of one real sentence (up to a comma or a colon) to the tail of another
of the same language, so every article reads like its sources (word lengths, accents, punctuation,
tokenisation) while its sentences are new: an embedding cache cannot find them in another article.
An article has about 20 paragraphs of 2-4 sentences under a few headings and about 15 comments of 1-3
sentences, some of them replies, written in the project's corpus Markdown.
"""
from __future__ import annotations

import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CNIL = ROOT.parent.parent / "shared" / "eval" / "cnil" / "corpus"  # /work/shared/eval/cnil/corpus from a worktree
if not CNIL.is_dir():
    CNIL = Path("/work/shared/eval/cnil/corpus")

_SPLIT = re.compile(r"(?<=[.!?…])\s+(?=[«\"A-ZÀ-Ö0-9])")
_CUT = re.compile(r"[,:;] ")


def _sentences(text: str) -> list[str]:
    out = []
    for s in _SPLIT.split(text):
        s = " ".join(s.split())
        if 40 <= len(s) <= 320 and not s.startswith(("|", "#", "-", "*", ">", "`", "$", "```")) and "`" not in s:
            out.append(s)
    return out


def _body_paragraphs(markdown: str) -> list[str]:
    body = markdown.split("\n---\n", 1)[-1]
    paragraphs = []
    for block in body.split("\n\n"):
        block = block.strip()
        if block and not block.startswith(("#", "|", "```", "    ", ">")):
            paragraphs.append(re.sub(r"\*\*|\[([^\]]*)\]\([^)]*\)", r"\1", block))
    return paragraphs


def sentence_pools() -> dict[str, list[str]]:
    french, english = [], []
    for path in sorted((ROOT / "corpus").glob("*.md")):
        for p in _body_paragraphs(path.read_text("utf-8")):
            french += _sentences(p)
    if CNIL.is_dir():
        for path in sorted(CNIL.glob("*.md")):
            for p in _body_paragraphs(path.read_text("utf-8")):
                french += _sentences(p)
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for p in _body_paragraphs(path.read_text("utf-8")):
            english += _sentences(p)
    return {"fr": sorted(set(french)), "en": sorted(set(english))}


class Generator:
    def __init__(self, seed: int = 0):
        self.rng = random.Random(seed)
        self.pools = sentence_pools()
        self.seen: set[str] = set()

    def sentence(self, lang: str) -> str:
        pool = self.pools[lang]
        for _ in range(50):
            a, b = self.rng.choice(pool), self.rng.choice(pool)
            head, tail = _CUT.split(a, 1)[0], (_CUT.split(b, 1) + [b])[1]
            s = f"{head}, {tail[:1].lower()}{tail[1:]}" if head != a and tail != b else a
            if s not in self.seen:
                self.seen.add(s)
                return s
        return self.rng.choice(pool)

    def paragraph(self, lang: str, low: int, high: int) -> str:
        return " ".join(self.sentence(lang) for _ in range(self.rng.randint(low, high)))

    def article(self, number: int, paragraphs: int = 20, comments: int = 15) -> tuple[str, str]:
        """(document id, corpus Markdown) of one article; one in four is in English."""
        rng = self.rng
        lang = "en" if number % 4 == 3 else "fr"
        doc_id = f"bench-{number:06d}"
        title = self.sentence(lang).rstrip(".!?… ")[:110]
        day = 1 + number % 28
        lines = ["---", f'id: "{doc_id}"', f'title: "{title.replace(chr(34), "")}"',
                 f'date: "2024-{1 + number % 12:02d}-{day:02d}T{8 + number % 10:02d}:00"', 'source: "bench"',
                 f'language: "{lang}"', "---", "", self.paragraph(lang, 2, 3), ""]
        n_par = max(1, paragraphs + rng.randint(-3, 3))
        for i in range(n_par - 1):
            if i % 6 == 0:
                lines += [f"## {self.sentence(lang).rstrip('.!?… ')[:70]}", ""]
            lines += [self.paragraph(lang, 2, 4), ""]
        n_com = max(0, comments + rng.randint(-4, 4))
        if n_com:
            lines += ["## " + ("Comments" if lang == "en" else "Commentaires"), ""]
        for c in range(1, n_com + 1):
            word = "Comment" if lang == "en" else "Commentaire"
            reply = ""
            if c > 2 and rng.random() < 0.3:
                target = rng.randint(1, c - 1)
                reply = f" (reply to comment {target})" if lang == "en" else f" (réponse au commentaire {target})"
            lines += [f"### {word} {c}{reply}", "", self.paragraph(lang, 1, 3), ""]
        return doc_id, "\n".join(lines)


def write_corpus(folder: Path, articles: int, seed: int = 0, first: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    gen = Generator(seed)
    paths = []
    for n in range(first, first + articles):
        doc_id, text = gen.article(n)
        path = folder / f"{doc_id}.md"
        path.write_text(text, "utf-8")
        paths.append(path)
    return paths
