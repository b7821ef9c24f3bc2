"""The keyword side of a build in tables: the very arrays of keywords.npz, so ranking is identical.

    keyword_grams_<b>(gram_id, gram, idf)                    the character n-grams (btree on gram)
    keyword_postings_<b>(n, gram_id, passage_id, weight)     their passages, in the file's order n
    keyword_words_<b>(list, n, word, zipf, embedding)        vocabulary forms / stems / common words,
                                                             a form's vector for English questions
    arrays_<b>(name, dtype, shape, data)                     every other array (format, glosses, ...),
                                                             and the dtype and shape of the tabled ones

The n-gram tables are what SQL can score (`SUM(weight) GROUP BY passage_id`); serving reads them all
back into the in-memory `KeywordIndex` (index.ranking.keyword) the file backend uses.
"""
from __future__ import annotations

import numpy as np
from psycopg import sql

from .copy_format import copy_fixed, read_fixed

TABLED = ("grams", "idf", "indptr", "ids", "weights", "forms", "forms_zipf", "stems", "stems_zipf", "common",
          "common_zipf", "form_vectors")
WORD_LISTS = ("forms", "stems", "common")


def create_tables(conn, tables: dict[str, str], dim: int) -> None:
    conn.execute(sql.SQL("CREATE TABLE {} (gram_id int4 PRIMARY KEY, gram text NOT NULL, idf float4 NOT NULL)")
                 .format(_t(tables["keyword_grams"])))
    conn.execute(sql.SQL("CREATE TABLE {} (n int4 NOT NULL, gram_id int4 NOT NULL, passage_id int4 NOT NULL, "
                         "weight float4 NOT NULL)").format(_t(tables["keyword_postings"])))
    conn.execute(sql.SQL("CREATE TABLE {} (list text NOT NULL, n int4 NOT NULL, word text NOT NULL, "
                         "zipf float8 NOT NULL, embedding vector({}), PRIMARY KEY (list, n))")
                 .format(_t(tables["keyword_words"]), sql.Literal(dim)))
    conn.execute(sql.SQL("CREATE TABLE {} (name text PRIMARY KEY, dtype text NOT NULL, shape int8[] NOT NULL, "
                         "data bytea)").format(_t(tables["arrays"])))


def write_keywords(conn, tables: dict[str, str], arrays: dict[str, np.ndarray]) -> None:
    """`arrays` = `KeywordIndex.to_arrays()`; written by COPY into tables created empty."""
    grams = arrays["grams"].tolist()
    with conn.cursor().copy(sql.SQL("COPY {} (gram_id, gram, idf) FROM STDIN (FORMAT binary)")
                            .format(_t(tables["keyword_grams"]))) as copy:
        copy.set_types(["int4", "text", "float4"])
        for gram_id, (gram, idf) in enumerate(zip(grams, arrays["idf"].tolist())):
            copy.write_row((gram_id, gram, idf))
    indptr = arrays["indptr"]
    gram_of = np.repeat(np.arange(len(grams), dtype=np.int32), np.diff(indptr))
    copy_fixed(conn, sql.SQL("{} (n, gram_id, passage_id, weight)").format(_t(tables["keyword_postings"])),
               [("int4", np.arange(len(gram_of), dtype=np.int32)), ("int4", gram_of),
                ("int4", arrays["ids"]), ("float4", arrays["weights"])])
    vectors = arrays.get("form_vectors")
    with conn.cursor().copy(sql.SQL("COPY {} (list, n, word, zipf, embedding) FROM STDIN (FORMAT binary)")
                            .format(_t(tables["keyword_words"]))) as copy:
        copy.set_types(["text", "int4", "text", "float8", "vector"])
        for name in WORD_LISTS:
            for n, (word, zipf) in enumerate(zip(arrays[name].tolist(), arrays[name + "_zipf"].tolist())):
                vector = vectors[n].astype(np.float32) if name == "forms" and vectors is not None else None
                copy.write_row((name, n, word, zipf, vector))
    with conn.cursor().copy(sql.SQL("COPY {} (name, dtype, shape, data) FROM STDIN (FORMAT binary)")
                            .format(_t(tables["arrays"]))) as copy:
        copy.set_types(["text", "text", "int8[]", "bytea"])
        for name, array in arrays.items():
            array = np.asarray(array)
            data = None if name in TABLED else _bytes(array)
            copy.write_row((name, array.dtype.str, list(array.shape), data))
    conn.execute(sql.SQL("CREATE INDEX ON {} (gram)").format(_t(tables["keyword_grams"])))
    conn.execute(sql.SQL("CREATE INDEX ON {} (gram_id)").format(_t(tables["keyword_postings"])))


def read_keywords(conn, tables: dict[str, str], dim: int) -> dict[str, np.ndarray]:
    """The arrays of keywords.npz as written, but for those only the next build reads (index.ranking.keyword_refit,
    `read_refit_arrays`); a missing or reshaped part raises ValueError."""
    described = {name: (dtype, tuple(shape), data) for name, dtype, shape, data in conn.execute(
        sql.SQL("SELECT name, dtype, shape, data FROM {} WHERE left(name, 6) <> 'refit_'").format(_t(tables["arrays"])))}
    out: dict[str, np.ndarray] = {}
    for name, (dtype, shape, data) in described.items():
        if data is not None:
            out[name] = _array(data, dtype, shape)
    rows = conn.execute(sql.SQL("SELECT gram, idf FROM {} ORDER BY gram_id").format(_t(tables["keyword_grams"])))
    grams, idf = zip(*rows) if rows.rowcount else ((), ())
    out["grams"] = np.array(list(grams), dtype=str)
    out["idf"] = np.array(idf, dtype=np.float32)
    gram_of, ids, weights = read_fixed(
        conn, sql.SQL("SELECT gram_id, passage_id, weight FROM {} ORDER BY n").format(_t(tables["keyword_postings"])),
        [("int4", 0), ("int4", 0), ("float4", 0)])
    if len(gram_of) and ((np.diff(gram_of) < 0).any() or gram_of[0] < 0 or gram_of[-1] >= len(grams)):
        raise ValueError("keyword postings out of order")
    out["indptr"] = np.concatenate([[0], np.cumsum(np.bincount(gram_of, minlength=len(grams)))])
    out["ids"], out["weights"] = ids, weights
    words: dict[str, list] = {name: [] for name in WORD_LISTS}
    vectors = []
    for name, word, zipf, vector in conn.execute(
            sql.SQL("SELECT list, word, zipf, embedding::float4[] FROM {} ORDER BY list, n")
            .format(_t(tables["keyword_words"]))):
        words[name].append((word, zipf))
        if name == "forms" and vector is not None:
            vectors.append(vector)
    for name in WORD_LISTS:
        out[name] = np.array([w for w, _ in words[name]], dtype=str)
        out[name + "_zipf"] = np.array([z for _, z in words[name]], dtype=np.float64)
    if "form_vectors" in described:
        out["form_vectors"] = np.array(vectors, dtype=np.float32).reshape(-1, dim)
    for name, (dtype, shape, _) in described.items():
        if name not in out:
            raise ValueError(f"keyword array {name} is missing")
        if name in TABLED:
            if out[name].shape != shape:
                raise ValueError(f"keyword array {name} has shape {out[name].shape}, expected {shape}")
            if np.dtype(dtype).kind != "U":
                out[name] = out[name].astype(np.dtype(dtype))
    return out


def read_refit_arrays(conn, tables: dict[str, str]) -> dict[str, np.ndarray]:
    """What the next build refits its keyword index from (`Refit.from_arrays`): the refit arrays, the format,
    the n-grams and the common words, not the postings or the corpus words serving reads."""
    out = {name: _array(data, dtype, tuple(shape)) for name, dtype, shape, data in conn.execute(
        sql.SQL("SELECT name, dtype, shape, data FROM {} WHERE left(name, 6) = 'refit_' OR name = ANY(%s)")
        .format(_t(tables["arrays"])), (list(_REFIT_ALSO),))}
    grams = conn.execute(sql.SQL("SELECT gram FROM {} ORDER BY gram_id").format(_t(tables["keyword_grams"])))
    out["grams"] = np.array([g for g, in grams], dtype=str)
    common = conn.execute(sql.SQL("SELECT word, zipf FROM {} WHERE list = 'common' ORDER BY n")
                          .format(_t(tables["keyword_words"]))).fetchall()
    out["common"] = np.array([w for w, _ in common], dtype=str)
    out["common_zipf"] = np.array([z for _, z in common], dtype=np.float64)
    return out


_REFIT_ALSO = ("format", "sizes", "language")  # the untabled arrays a refit reads besides its own


def _bytes(array: np.ndarray) -> bytes:
    if array.dtype.kind == "U":
        return "\x1f".join(np.atleast_1d(array).tolist()).encode("utf-8") if array.ndim else str(array).encode("utf-8")
    return np.ascontiguousarray(array).tobytes()


def _array(data: bytes, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    kind = np.dtype(dtype)
    if kind.kind == "U":
        text = bytes(data).decode("utf-8")
        return np.array(text) if shape == () else np.array(text.split("\x1f") if text else [], dtype=str)
    return np.frombuffer(bytes(data), dtype=kind).reshape(shape).copy()


def _t(name: str):
    from .schema import SCHEMA

    return sql.Identifier(SCHEMA, name)
