"""Which Discord shards this process runs: `--shards N --shard-ids 0,1` or VERBATIM_DISCORD_SHARDS / _SHARD_IDS.

Discord sends the events of guild `g` on shard `(g >> 22) % N` only, so several processes can each hold
some shards of the same bot (sharing one PostgreSQL for what they must agree on). Unset, the bot is one
plain gateway session, as it always was. Bad values are refused at start in one line.
"""
from __future__ import annotations

from dataclasses import dataclass

from index.errors import ConfigError

COUNT_ENV = "VERBATIM_DISCORD_SHARDS"
IDS_ENV = "VERBATIM_DISCORD_SHARD_IDS"


@dataclass(frozen=True)
class Shards:
    count: int  # N, the bot's total shard count (the same in every process)
    ids: tuple[int, ...]  # the shards this process runs, ascending

    def client_options(self) -> dict:
        """Keyword arguments for discord.py's AutoShardedClient."""
        return {"shard_count": self.count, "shard_ids": list(self.ids)}

    def describe(self) -> str:
        """"shards 0,1 of 4": for logs and the health check."""
        return f"shard{'s' if len(self.ids) > 1 else ''} {','.join(map(str, self.ids))} of {self.count}"



def status_file_name(shards: Shards | None) -> str:
    """`status.json`, or one per shard set: processes sharing a data directory must not overwrite each other's."""
    return "status-shards-" + "-".join(map(str, shards.ids)) + ".json" if shards else "status.json"


def parse_shards(count: str | None, ids: str | None, *, count_name: str = COUNT_ENV,
                 ids_name: str = IDS_ENV) -> Shards | None:
    """None when neither is set (one unsharded session); `*_name` say where a refused value came from."""
    count = (count or "").strip()
    ids = (ids or "").strip()
    if not count:
        if ids:
            raise ConfigError(f"{ids_name} needs the total shard count too ({count_name}), got only {ids!r}")
        return None
    try:
        total = int(count)
    except ValueError:
        raise ConfigError(f"{count_name} must be a whole number of shards (1 or more), got {count!r}") from None
    if total < 1:
        raise ConfigError(f"{count_name} must be 1 or more, got {count!r}")
    if not ids:
        return Shards(total, tuple(range(total)))
    try:
        chosen = [int(x) for x in ids.replace(",", " ").split()]
    except ValueError:
        raise ConfigError(f"{ids_name} must be a comma-separated list of shard numbers like 0,1, got {ids!r}") from None
    if len(set(chosen)) != len(chosen):
        raise ConfigError(f"{ids_name} lists a shard twice: {ids!r}")
    outside = [i for i in chosen if not 0 <= i < total]
    if outside:
        raise ConfigError(f"{ids_name}: shard {outside[0]} does not exist; {count_name} is {total}, so shards are "
                          f"0 to {total - 1}, got {ids!r}")
    return Shards(total, tuple(sorted(chosen)))


def shards_from(env: dict[str, str], cli_count: str | None = None, cli_ids: str | None = None) -> Shards | None:
    """The command line's `--shards`/`--shard-ids` win over the environment, each named by its source."""
    count, count_name = (cli_count, "--shards") if cli_count is not None else (env.get(COUNT_ENV), COUNT_ENV)
    ids, ids_name = (cli_ids, "--shard-ids") if cli_ids is not None else (env.get(IDS_ENV), IDS_ENV)
    return parse_shards(count, ids, count_name=count_name, ids_name=ids_name)
