"""Discord's documented limits and rules, checked on every payload the bot sends to the stand-in.

Written independently of the bot's renderers (bot/render/discord_limits.py): the two must agree
for a test to pass, so a wrong limit on either side shows up.
https://discord.com/developers/docs/resources/message#create-message
https://discord.com/developers/docs/resources/message#embed-object-embed-limits
https://discord.com/developers/docs/interactions/application-commands
https://discord.com/developers/docs/events/gateway#sharding
"""
from __future__ import annotations

import re

NAME = re.compile(r"^[-_\w]{1,32}$")
UNESCAPED_MASS_PING = re.compile(r"@(everyone|here)")
INTERACTION_CALLBACK_TYPES = {1, 4, 5, 6, 7, 8, 9, 12}
MESSAGE_CALLBACKS = {4, 7}


def check_embeds(embeds: list, problems: list[str]) -> None:
    if len(embeds) > 10:
        problems.append(f"{len(embeds)} embeds (max 10)")
    total = 0
    for n, e in enumerate(embeds):
        def length(value, limit, what):
            nonlocal total
            value = value or ""
            total += len(value)
            if len(value) > limit:
                problems.append(f"embed {n} {what} is {len(value)} chars (max {limit})")
        length(e.get("title"), 256, "title")
        length(e.get("description"), 4096, "description")
        length((e.get("footer") or {}).get("text"), 2048, "footer")
        length((e.get("author") or {}).get("name"), 256, "author name")
        fields = e.get("fields") or []
        if len(fields) > 25:
            problems.append(f"embed {n} has {len(fields)} fields (max 25)")
        for f in fields:
            length(f.get("name"), 256, "field name")
            length(f.get("value"), 1024, "field value")
            if not f.get("name") or not f.get("value"):
                problems.append(f"embed {n} has a field with an empty name or value")
    if total > 6000:
        problems.append(f"embeds total {total} chars (max 6000)")


def check_components(rows: list, problems: list[str]) -> None:
    if len(rows) > 5:
        problems.append(f"{len(rows)} action rows (max 5)")
    for row in rows:
        items = row.get("components", [])
        if row.get("type") != 1 or not 1 <= len(items) <= 5:
            problems.append(f"bad action row {row!r}")
        for c in items:
            if len(c.get("custom_id", "")) > 100:
                problems.append("custom_id over 100 chars")
            if len(c.get("label") or "") > 80:
                problems.append("button label over 80 chars")
            if c.get("type") == 2 and c.get("style") != 5 and not c.get("custom_id"):
                problems.append("button without custom_id")


def check_message(payload: dict, *, creating: bool) -> list[str]:
    """Problems with a message body (create or edit)."""
    problems: list[str] = []
    content = payload.get("content") or ""
    embeds = payload.get("embeds") or []
    if len(content) > 2000:
        problems.append(f"content is {len(content)} chars (max 2000)")
    check_embeds(embeds, problems)
    check_components(payload.get("components") or [], problems)
    if creating and not (content or embeds or payload.get("components") or payload.get("attachments")):
        problems.append("empty message")
    if content or embeds:
        am = payload.get("allowed_mentions")
        if am is None:
            problems.append("no allowed_mentions: pings would follow Discord's defaults")
        else:
            parse = am.get("parse", [])
            if "everyone" in parse:
                problems.append("allowed_mentions lets @everyone/@here ping")
            if "roles" in parse or am.get("roles"):
                problems.append("allowed_mentions lets roles ping")
            if "users" in parse or am.get("users") or am.get("replied_user"):
                problems.append("allowed_mentions lets users ping")
    if UNESCAPED_MASS_PING.search(content):
        problems.append("content holds an unescaped @everyone/@here")
    return problems


def check_identify(payload: dict) -> list[str]:
    """An IDENTIFY's `shard`: absent (one session, shard 0 of 1) or `[shard_id, num_shards]`, 0 <= id < num."""
    shard = payload.get("shard")
    if shard is None:
        return []
    if not (isinstance(shard, list) and len(shard) == 2 and all(type(x) is int for x in shard)):
        return [f"shard must be [shard_id, num_shards], got {shard!r}"]
    shard_id, count = shard
    if count < 1 or not 0 <= shard_id < count:
        return [f"shard {shard_id} of {count} does not exist (0 <= shard_id < num_shards)"]
    return []


def check_callback(body: dict) -> list[str]:
    problems: list[str] = []
    kind = body.get("type")
    if kind not in INTERACTION_CALLBACK_TYPES:
        return [f"unknown interaction callback type {kind!r}"]
    data = body.get("data") or {}
    if kind in MESSAGE_CALLBACKS:
        problems += check_message(data, creating=kind == 4)
    if kind == 8:
        choices = data.get("choices", [])
        if len(choices) > 25:
            problems.append(f"{len(choices)} autocomplete choices (max 25)")
        for c in choices:
            if not 1 <= len(c.get("name", "")) <= 100:
                problems.append(f"choice name length {len(c.get('name', ''))} (1-100)")
            if isinstance(c.get("value"), str) and len(c["value"]) > 100:
                problems.append("choice value over 100 chars")
    return problems


def check_commands(commands: list) -> list[str]:
    problems: list[str] = []
    if len(commands) > 100:
        problems.append("more than 100 commands")
    for cmd in commands:
        name = cmd.get("name", "")
        if not NAME.match(name) or name != name.lower():
            problems.append(f"bad command name {name!r}")
        if cmd.get("type", 1) == 1 and not 1 <= len(cmd.get("description", "")) <= 100:
            problems.append(f"command {name} description length (1-100)")
        for where, text in _localized(cmd):
            if not 1 <= len(text) <= 100:
                problems.append(f"command {name}: localized {where} length {len(text)} (1-100)")
        options = cmd.get("options", [])
        if len(options) > 25:
            problems.append(f"command {name} has over 25 options")
        seen_optional = False
        for opt in options:
            if not NAME.match(opt.get("name", "")):
                problems.append(f"bad option name {opt.get('name')!r}")
            if not 1 <= len(opt.get("description", "")) <= 100:
                problems.append(f"option {opt.get('name')} description length (1-100)")
            if opt.get("required"):
                if seen_optional:
                    problems.append(f"required option {opt.get('name')} after an optional one")
            else:
                seen_optional = True
            if opt.get("max_length") is not None and not 1 <= opt["max_length"] <= 6000:
                problems.append(f"option {opt.get('name')} max_length out of 1-6000")
            if len(opt.get("choices", [])) > 25:
                problems.append(f"option {opt.get('name')} has over 25 choices")
            if opt.get("choices") and opt.get("autocomplete"):
                problems.append(f"option {opt.get('name')} has both choices and autocomplete")
    return problems


def _localized(node: dict, path: str = ""):
    """(where, text) for every localized name or description in a command tree."""
    for key in ("name_localizations", "description_localizations"):
        for locale, text in (node.get(key) or {}).items():
            if locale not in LOCALES:
                yield f"{path}{key}[{locale}] (unknown locale)", ""
            yield f"{path}{key}[{locale}]", text
    for child in node.get("options", []) + node.get("choices", []):
        yield from _localized(child, path + child.get("name", "?") + ".")


LOCALES = {"id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl", "no", "pl",
           "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th", "zh-CN", "ja",
           "zh-TW", "ko"}
