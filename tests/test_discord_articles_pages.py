"""/articles over a newsroom's worth of articles: pages of ten, Previous / Next buttons that turn them in place
(and still work after a restart), and a search. The real `verbatim run` against the loopback stand-in, over a
real index of 23 short generated articles."""
from __future__ import annotations

from pathlib import Path

import pytest

from index.build import build_index
from index.settings import Settings
from tests.standin.bot_process import bot_env, connected_bot, running_standin

COUNT = 23
TOPICS = ["tramway", "piscine", "bibliothèque", "marché", "vélo"]


def _article(n: int) -> str:
    topic = TOPICS[n % len(TOPICS)]
    return (f'---\nid: "ville-{n:02d}"\ntitle: "Le conseil municipal vote le projet {topic} numéro {n}"\n'
            f'date: "2024-{1 + n // 2:02d}-{1 + n % 2 * 14:02d}T09:00"\nlanguage: "fr"\n'
            f'url: "https://ville.example/{n:02d}-{topic}"\n---\n\n'
            f"Le projet {topic} numéro {n} a été adopté par {20 + n} voix contre {n % 7}. "
            f"Les travaux commenceront au printemps.\n")


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory, e5_embedder) -> Settings:
    root = tmp_path_factory.mktemp("newsroom")
    corpus = root / "corpus"
    corpus.mkdir()
    for n in range(COUNT):
        (corpus / f"ville-{n:02d}.md").write_text(_article(n), "utf-8")
    settings = Settings.from_env(env={}, data_dir=str(root / "data"), corpus_dir=str(corpus))
    build_index(settings, e5_embedder)
    return settings


@pytest.fixture(scope="module")
def standin():
    with running_standin("fr") as server:
        yield server


@pytest.fixture(autouse=True)
def no_violations(standin):
    before = len(standin.violations)
    yield
    assert standin.violations[before:] == []


def _env(standin, newsroom: Settings) -> dict:
    return bot_env(standin, newsroom.data_dir, newsroom.corpus_dir, VERBATIM_DISCORD_USER_COOLDOWN="0",
                   VERBATIM_DISCORD_GUILD_RATE="100000/60")


def _titles(message: dict) -> list[str]:
    (embed,) = message["embeds"]
    return [line[2:].split("](")[0].lstrip("[").split(" — ")[0]
            for line in embed["description"].splitlines() if line.startswith("• ")]


def _buttons(message: dict) -> dict[str, dict]:
    return {c["label"]: c for row in message.get("components", []) for c in row["components"]}


def test_pages_turn_in_place_and_still_turn_after_a_restart(standin, newsroom, tmp_path):
    newest_first = [f"Le conseil municipal vote le projet {TOPICS[n % 5]} numéro {n}" for n in reversed(range(COUNT))]
    with connected_bot(standin, _env(standin, newsroom), tmp_path):
        first = standin.wait_answered(it := standin.slash("articles", {}))
        assert it.ephemeral
        assert _titles(first) == newest_first[:10]
        assert first["embeds"][0]["title"] == f"Les articles que je connais ({COUNT})"
        assert first["embeds"][0]["footer"]["text"].startswith("Page 1 sur 3")
        buttons = _buttons(first)
        assert buttons["◀ Précédente"]["disabled"] and not buttons["Suivante ▶"].get("disabled")
        click = standin.click(first, buttons["Suivante ▶"]["custom_id"])
        second = standin.wait_answered(click)
        assert second["id"] == first["id"], "the same message, turned to page 2"
        assert _titles(second) == newest_first[10:20]
        assert second["embeds"][0]["footer"]["text"].startswith("Page 2 sur 3")
    (tmp_path / "again").mkdir()
    with connected_bot(standin, _env(standin, newsroom), tmp_path / "again"):  # a restart loses no button
        third = standin.wait_answered(standin.click(second, _buttons(second)["Suivante ▶"]["custom_id"]))
        assert _titles(third) == newest_first[20:]
        assert _buttons(third)["Suivante ▶"]["disabled"] and not _buttons(third)["◀ Précédente"].get("disabled")
        back = standin.wait_answered(standin.click(third, _buttons(third)["◀ Précédente"]["custom_id"]))
        assert _titles(back) == newest_first[10:20]
        straight = standin.wait_answered(standin.slash("articles", {"page": 3}, locale="en-US"))
        assert _titles(straight) == newest_first[20:]
        assert straight["embeds"][0]["footer"]["text"].startswith("Page 3 of 3")
        past = standin.wait_answered(standin.slash("articles", {"page": 40}))
        assert _titles(past) == newest_first[20:], "a page past the end shows the last one"


def test_a_search_lists_only_what_matches_and_keeps_its_pages(standin, newsroom, tmp_path):
    with connected_bot(standin, _env(standin, newsroom), tmp_path):
        found = standin.wait_answered(standin.slash("articles", {"search": "VELO"}))
        assert _titles(found) == [f"Le conseil municipal vote le projet vélo numéro {n}" for n in (19, 14, 9, 4)]
        assert found["embeds"][0]["title"] == f"Les articles qui correspondent à « VELO » (4 sur {COUNT})"
        assert not found.get("components"), "one page: no buttons"
        wide = standin.wait_answered(standin.slash("articles", {"search": "conseil 2024"}))
        assert len(_titles(wide)) == 10 and len(_buttons(wide)) == 2
        more = standin.wait_answered(standin.click(wide, _buttons(wide)["Suivante ▶"]["custom_id"]))
        assert (more["embeds"][0]["title"], more["embeds"][0]["footer"]["text"][:12]) == (
            f"Les articles qui correspondent à « conseil 2024 » ({COUNT} sur {COUNT})", "Page 2 sur 3")
        nothing = standin.wait_answered(standin.slash("articles", {"search": "@everyone patinoire"}))
        assert nothing["content"].startswith("Aucun article ne correspond à « @\u200beveryone patinoire »")
        assert nothing["flags"] & 64 and "@everyone" not in nothing["content"]
