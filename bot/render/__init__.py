"""Pure functions from answers to text: citations, quote excerpts, terminal and JSON output, Discord payloads."""
