"""Discord JSON objects as the real API shapes them (only the fields discord.py reads)."""
from __future__ import annotations

import itertools
import time
from datetime import datetime, timezone

DISCORD_EPOCH_MS = 1420070400000
_counter = itertools.count(1)


def snowflake() -> str:
    """A unique, time-ordered id like Discord's."""
    return str(((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(_counter) & 0x3FFFFF))


def snowflake_on_shard(shard_id: int, count: int) -> str:
    """A fresh snowflake that Discord would route to shard `shard_id` of `count`: `(id >> 22) % count`
    is its millisecond timestamp modulo the count, so the timestamp is moved back to the nearest fit."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    ms -= (ms - shard_id) % count
    return str((ms << 22) | (next(_counter) & 0x3FFFFF))


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def user(user_id: str, name: str, *, bot: bool = False) -> dict:
    return {"id": user_id, "username": name, "global_name": name, "discriminator": "0", "avatar": None,
            "bot": bot, "public_flags": 0}


def member(u: dict, roles: list[str] | None = None) -> dict:
    return {"user": u, "nick": None, "roles": roles or [], "joined_at": now_iso(), "deaf": False, "mute": False,
            "flags": 0, "pending": False, "permissions": "2248473465835073", "avatar": None}


def channel(channel_id: str, guild_id: str, name: str) -> dict:
    return {"id": channel_id, "type": 0, "guild_id": guild_id, "name": name, "position": 0,
            "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
            "last_message_id": None, "rate_limit_per_user": 0}


def role(role_id: str, name: str) -> dict:
    return {"id": role_id, "name": name, "color": 0, "colors": {"primary_color": 0}, "hoist": False, "icon": None,
            "unicode_emoji": None, "position": 0, "permissions": "2248473465835073", "managed": False,
            "mentionable": True, "flags": 0}


def guild(guild_id: str, name: str, channels: list[dict], roles: list[dict], locale: str, bot_member: dict) -> dict:
    return {
        "id": guild_id, "name": name, "icon": None, "splash": None, "discovery_splash": None, "owner_id": "1",
        "afk_channel_id": None, "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
        "explicit_content_filter": 0, "roles": roles, "emojis": [], "stickers": [], "features": [], "mfa_level": 0,
        "application_id": None, "system_channel_id": None, "system_channel_flags": 0, "rules_channel_id": None,
        "vanity_url_code": None, "description": None, "banner": None, "premium_tier": 0,
        "preferred_locale": locale, "public_updates_channel_id": None, "nsfw_level": 0,
        "premium_progress_bar_enabled": False, "joined_at": now_iso(), "large": False, "unavailable": False,
        "member_count": 3, "voice_states": [], "members": [bot_member], "channels": channels, "threads": [],
        "presences": [], "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
    }


def message(message_id: str, channel_id: str, author: dict, body: dict, *, guild_id: str | None = None,
            application_id: str | None = None, flags: int = 0) -> dict:
    """A message as the API returns it after a create or an edit."""
    data = {
        "id": message_id, "channel_id": channel_id, "author": author,
        "content": body.get("content") or "", "timestamp": now_iso(), "edited_timestamp": None, "tts": False,
        "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
        "embeds": body.get("embeds") or [], "pinned": False, "type": 0 if not body.get("message_reference") else 19,
        "flags": flags | int(body.get("flags") or 0), "components": body.get("components") or [],
    }
    if guild_id:
        data["guild_id"] = guild_id
    if application_id:
        data["application_id"] = application_id
        data["webhook_id"] = application_id
    if body.get("message_reference"):
        data["message_reference"] = body["message_reference"]
    return data


MANAGE_CHANNELS = 1 << 4


def thread(thread_id: str, guild_id: str, parent_id: str, name: str, owner_id: str = "1") -> dict:
    """A public thread (type 11) as THREAD_CREATE and interaction payloads carry it."""
    return {"id": thread_id, "type": 11, "guild_id": guild_id, "parent_id": parent_id, "owner_id": owner_id,
            "name": name, "last_message_id": None, "rate_limit_per_user": 0, "message_count": 0, "member_count": 1,
            "total_message_sent": 0, "flags": 0, "applied_tags": [],
            "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "archive_timestamp": now_iso(),
                                "locked": False, "invitable": True, "create_timestamp": now_iso()}}
