"""PostgreSQL's binary COPY format for our rows, in both directions, without a per-value Python loop
where the rows are fixed-width (vectors, postings): numpy lays out whole tables at once.

Rows with text go through psycopg's own `write_row`, with `register_vector` teaching it pgvector's
binary form (int16 dim, int16 unused, then float4s, all big-endian).
"""
from __future__ import annotations

import struct

import numpy as np

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)

# Column kinds of fixed-width rows: kind -> big-endian numpy type of the value.
_SCALARS = {"int4": ">i4", "float4": ">f4", "float8": ">f8"}


class CopyDamaged(ValueError):
    """Rows read back from the database do not have the shape the build wrote (a NULL, another dimension)."""


def _row_dtype(kinds: list[tuple[str, int]]) -> np.dtype:
    fields = [("nfields", ">i2")]
    for i, (kind, dim) in enumerate(kinds):
        fields.append((f"len{i}", ">i4"))
        if kind == "vector":
            fields += [(f"dim{i}", ">i2"), (f"unused{i}", ">i2"), (f"c{i}", ">f4", (dim,))]
        else:
            fields.append((f"c{i}", _SCALARS[kind]))
    return np.dtype(fields)


def _width(kind: str, dim: int) -> int:
    return 4 + 4 * dim if kind == "vector" else np.dtype(_SCALARS[kind]).itemsize


def fixed_rows(columns: list[tuple[str, np.ndarray]]) -> bytes:
    """The COPY BINARY body (no header) of rows whose columns are ("int4" | "float4" | "float8" |
    "vector", array); a vector column is a [rows, dim] array."""
    rows = len(columns[0][1])
    kinds = [(kind, values.shape[1] if kind == "vector" else 0) for kind, values in columns]
    out = np.empty(rows, dtype=_row_dtype(kinds))
    out["nfields"] = len(columns)
    for i, ((kind, dim), (_, values)) in enumerate(zip(kinds, columns)):
        out[f"len{i}"] = _width(kind, dim)
        if kind == "vector":
            out[f"dim{i}"], out[f"unused{i}"] = dim, 0
        out[f"c{i}"] = values
    return out.tobytes()


def copy_fixed(conn, table_sql, columns: list[tuple[str, np.ndarray]], chunk: int = 20_000) -> None:
    """COPY the rows into `table_sql` (a psycopg.sql.Composable naming the table and its columns)."""
    from psycopg import sql

    with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(table_sql)) as copy:
        copy.write(HEADER)
        for start in range(0, len(columns[0][1]), chunk):
            copy.write(fixed_rows([(kind, values[start:start + chunk]) for kind, values in columns]))
        copy.write(TRAILER)


def read_fixed(conn, query_sql, kinds: list[tuple[str, int]]) -> list[np.ndarray]:
    """The columns of `COPY (query) TO STDOUT (FORMAT binary)`, as native arrays; a NULL or a vector of
    another dimension is a CopyDamaged."""
    from psycopg import sql

    data = bytearray()
    with conn.cursor().copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT binary)").format(query_sql)) as copy:
        for block in copy:
            data += block
    if not data.startswith(HEADER[:11]):
        raise CopyDamaged("not a binary COPY stream")
    extension = struct.unpack(">i", data[15:19])[0]
    body = memoryview(data)[19 + extension:len(data) - len(TRAILER)]
    dtype = _row_dtype(kinds)
    if len(body) % dtype.itemsize:
        raise CopyDamaged("rows of an unexpected width (a NULL, or vectors of another dimension)")
    rows = np.frombuffer(body, dtype=dtype)
    for i, (kind, dim) in enumerate(kinds):
        if len(rows) and ((rows[f"len{i}"] != _width(kind, dim)).any()
                          or (kind == "vector" and (rows[f"dim{i}"] != dim).any())):
            raise CopyDamaged("rows of an unexpected width (a NULL, or vectors of another dimension)")
    native = {"int4": np.int32, "float4": np.float32, "float8": np.float64, "vector": np.float32}
    return [np.ascontiguousarray(rows[f"c{i}"], dtype=native[kind]) for i, (kind, _) in enumerate(kinds)]


def register_vector(conn) -> int:
    """Teaches the connection to send numpy arrays as pgvector `vector` in binary COPY; returns its oid."""
    from psycopg.adapt import Dumper
    from psycopg.pq import Format

    from psycopg.types import TypeInfo

    info = TypeInfo.fetch(conn, "vector")  # registered so COPY's set_types knows the name "vector"
    info.register(conn)
    oid = info.oid

    class VectorBinaryDumper(Dumper):
        format = Format.BINARY

        def dump(self, obj):
            values = np.asarray(obj, dtype=">f4")
            return struct.pack(">hh", len(values), 0) + values.tobytes()

    VectorBinaryDumper.oid = oid
    conn.adapters.register_dumper(np.ndarray, VectorBinaryDumper)
    return oid
