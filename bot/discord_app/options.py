"""The `run` subcommand's options, apart from run.py so the CLI can register them without importing discord."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sync", action="store_true",
                        help="sync application commands to Discord even if they look unchanged")
