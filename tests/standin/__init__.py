"""A loopback Discord stand-in: enough gateway and REST for the real bot to run against, in tests."""
from .server import DiscordStandIn

__all__ = ["DiscordStandIn"]
