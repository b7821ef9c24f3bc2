"""The PostgreSQL (+ pgvector) backend: chosen by one setting, `database_url` (VERBATIM_DATABASE_URL).

Without it everything stays in files (index.store and the bot's SQLite store), one process. With it,
several processes (Discord shards) share one index and one answers store. docs/postgres.md has the design.
Nothing here knows Discord; psycopg is imported only when a database URL is set.
"""
