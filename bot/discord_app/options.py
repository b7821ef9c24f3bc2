"""The `run` subcommand's options, apart from run.py so the CLI can register them without importing discord."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sync", action="store_true",
                        help="sync application commands to Discord even if they look unchanged")
    # Strings, validated with the environment variables in shards.py (one-line errors naming the option).
    parser.add_argument("--shards", metavar="N", default=None,
                        help="the bot's total number of Discord shards; this process runs them all unless "
                             "--shard-ids picks some (env VERBATIM_DISCORD_SHARDS; default: no sharding)")
    parser.add_argument("--shard-ids", metavar="IDS", default=None,
                        help="the shards this process runs, e.g. 0,1 of --shards 4; the other processes run the "
                             "rest (env VERBATIM_DISCORD_SHARD_IDS)")
