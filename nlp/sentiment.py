"""Negative-sentiment model: TF-IDF over words and character n-grams plus lexicon counts, then a
logistic regression giving ``negative_score`` in [0, 1] and the words that drove it.

The model only sees *documents* built by :func:`to_docs` (normalised text and its words), so the
pickled pipeline never holds a tokenizer; the caller passes its ``Segmenter``. Training data is passed
in (see ``nlp.corpus`` for the default corpus); nothing here reads files or the database.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import normalize

from nlp.segment import EMOTICON_RE, Segmenter
from yuqing.base.errors import ModelError
from yuqing.base.progress import Progress, counted

log = logging.getLogger(__name__)

PART = "\x1e"
"""Separates the normalised text from its words inside a document."""
WORD = "\x1f"
"""Separates words inside a document."""
MAX_CHARS = 2000
"""Only the first characters of long posts are scored (the lede carries the tone)."""


def to_doc(segmenter: Segmenter, text: str, normalized: str | None = None) -> str:
    """One model document: normalised text, then its words (no stopwords or punctuation)."""
    norm = normalized if normalized is not None else segmenter.normalize(text[:MAX_CHARS])
    norm = norm[:MAX_CHARS]
    return norm + PART + WORD.join(segmenter.words(norm))


def to_docs(segmenter: Segmenter, texts: Iterable[str], progress: Progress | None = None) -> list[str]:
    """The documents of ``texts`` (``progress``: reported as "segmenting texts")."""
    return [to_doc(segmenter, t) for t in counted(texts, "segmenting texts", progress)]


def post_doc(segmenter: Segmenter, title_norm: str, text_norm: str) -> str:
    """The document of a post from its normalised title and text."""
    return to_doc(segmenter, "", f"{title_norm}\n{text_norm}" if title_norm else text_norm)


def raw_post_doc(segmenter: Segmenter, title: str, text: str) -> str:
    """The document of a post from its raw title and text."""
    return post_doc(segmenter, segmenter.normalize(title or ""), segmenter.normalize(text or ""))


def doc_words(doc: str) -> list[str]:
    """The words of a document (empty strings dropped)."""
    words = doc.partition(PART)[2]
    return [w for w in words.split(WORD) if w] if words else []


def word_features(doc: str) -> list[str]:
    """Word unigrams and bigrams of a document (module-level so the model pickles)."""
    words = doc_words(doc)
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def char_part(doc: str) -> str:
    """The normalised text of a document, for character n-grams."""
    return EMOTICON_RE.sub(" ", doc.partition(PART)[0])


class LexiconCounts(TransformerMixin, BaseEstimator):
    """Four dense features: log counts of negative/positive lexicon words and emoticons."""

    def __init__(self, negative: Sequence[str] = (), positive: Sequence[str] = ()) -> None:
        self.negative = negative
        self.positive = positive

    def fit(self, docs: Sequence[str], y: Any = None) -> LexiconCounts:
        self.neg_ = frozenset(self.negative)
        self.pos_ = frozenset(self.positive)
        return self

    def transform(self, docs: Sequence[str]) -> sparse.csr_matrix:
        rows = np.zeros((len(docs), 4), dtype=np.float64)
        for i, doc in enumerate(docs):
            for word in doc_words(doc):
                emoticon = word.startswith("[")
                if word in self.neg_:
                    rows[i, 2 if emoticon else 0] += 1
                elif word in self.pos_:
                    rows[i, 3 if emoticon else 1] += 1
        return sparse.csr_matrix(np.log1p(rows))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array(["lex:neg", "lex:pos", "emo:neg", "emo:pos"], dtype=object)


NEGATORS = frozenset(
    (
        "不",
        "没",
        "没有",
        "无",
        "非",
        "未",
        "别",
        "莫",
        "勿",
        "毋",
        "不是",
        "并非",
        "不曾",
        "未曾",
        "未必",
        "绝不",
        "决不",
        "不要",
        "不可",
        "难以",
        "从未",
        "从不",
        "毫无",
        "不再",
        "不太",
        "不够",
    )
)
"""Words that turn the tone of what follows (不满意 is 不 + 满意): a valence word within
``NEGATION_SCOPE`` words after one counts with the opposite sign; a second negator cancels the first."""
NEGATION_SCOPE = 2


class ValenceMeans(TransformerMixin, BaseEstimator):
    """Two dense features from a valence dictionary (word → signed strength): the summed strength of a
    document's negative words and of its positive words, each per word of the document (so they do
    not grow with length), with negation (``NEGATORS``) flipping the sign. A dictionary built from
    Weibo and forum text carries the tone of words the training sentences never contained."""

    def __init__(self, valence: Mapping[str, float] | None = None) -> None:
        self.valence = valence

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:  # the dictionary has ~90,000 entries
        return f"ValenceMeans(<{len(self.valence or {})} words>)"

    def fit(self, docs: Sequence[str], y: Any = None) -> ValenceMeans:
        self.valence_ = self.valence if isinstance(self.valence, dict) else dict(self.valence or {})  # one copy pickled
        return self

    def transform(self, docs: Sequence[str]) -> sparse.csr_matrix:
        rows = np.zeros((len(docs), 2), dtype=np.float64)
        get = self.valence_.get
        for i, doc in enumerate(docs):
            words = doc_words(doc)
            scope = 0  # words left under the last negator
            for word in words:
                if word in NEGATORS:
                    scope = 0 if scope else NEGATION_SCOPE
                    continue
                value = get(word)
                if value:
                    value = -value if scope else value
                    rows[i, 0 if value < 0 else 1] += abs(value)
                scope = max(0, scope - 1)
            rows[i] /= max(1, len(words))
        return sparse.csr_matrix(rows)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array(["valence:neg", "valence:pos"], dtype=object)


class NBLogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression over features scaled by their naive-Bayes log-count ratio (NB-LR, after
    Wang & Manning 2012, "Baselines and bigrams"): a feature's scale is how much more often it occurs
    in negative than in other documents, so the L2 penalty favours the features that NB finds
    discriminative. Short posts with a few loaded words are where this beats plain LR.

    The ratio is folded into ``coef_`` after fitting, so ``coef_`` applies to the unscaled features
    (``SentimentModel.explain`` reads contributions from it) and the pickle holds one vector.
    """

    unscaled = 0  # models pickled before the parameter existed

    def __init__(
        self,
        C: float = 1.0,
        alpha: float = 1.0,
        class_weight: str | None = "balanced",
        max_iter: int = 2000,
        unscaled: int = 0,
    ) -> None:
        self.C = C
        self.alpha = alpha
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.unscaled = unscaled

    def fit(self, x: Any, y: Any, sample_weight: Any = None) -> NBLogisticRegression:
        x = sparse.csr_matrix(x)
        y = np.asarray(y, dtype=int)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        present = x.copy()
        present.data = np.ones_like(present.data)
        p = self.alpha + np.asarray(present.T @ (w * (y == 1))).ravel()
        q = self.alpha + np.asarray(present.T @ (w * (y == 0))).ravel()
        ratio = np.log(p / p.sum()) - np.log(q / q.sum())
        if self.unscaled:  # real-valued means, non-zero in most documents: a count ratio means nothing
            ratio[-self.unscaled :] = 1.0
        lr = LogisticRegression(C=self.C, max_iter=self.max_iter, solver="liblinear", class_weight=self.class_weight)
        lr.fit(x @ sparse.diags(ratio), y, sample_weight=sample_weight)
        self.classes_ = lr.classes_
        self.coef_ = lr.coef_ * ratio
        self.intercept_ = lr.intercept_
        return self

    def decision_function(self, x: Any) -> np.ndarray:
        return np.asarray(x @ self.coef_[0]).ravel() + self.intercept_[0]

    def predict_proba(self, x: Any) -> np.ndarray:
        p = expit(self.decision_function(x))
        return np.column_stack([1 - p, p])

    def predict(self, x: Any) -> np.ndarray:
        return self.classes_[(self.decision_function(x) > 0).astype(int)]


@dataclass(frozen=True)
class Lexicon:
    """Words and emoticons with a known polarity (the domain risk lexicon, Weibo emoticons), and a
    valence dictionary (word → signed strength, negative below zero) for ``ValenceMeans``."""

    negative: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()
    valence: Mapping[str, float] = field(default_factory=dict, compare=False, repr=False)

    @property
    def words(self) -> tuple[str, ...]:
        return self.negative + self.positive


def make_pipeline(lexicon: Lexicon, c: float = 2.0, nb: bool = False) -> Pipeline:
    """The untrained pipeline: word 1-2 grams + character 2-3 grams + lexicon counts (+ valence means
    where the lexicon has a valence dictionary) → LR (``nb``: NB-LR)."""
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(analyzer=word_features, min_df=2, sublinear_tf=True, max_features=300_000)),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char",
                    ngram_range=(2, 3),
                    preprocessor=char_part,
                    lowercase=False,
                    min_df=2,
                    sublinear_tf=True,
                    max_features=300_000,
                ),
            ),
            ("lexicon", LexiconCounts(lexicon.negative, lexicon.positive)),
            *([("valence", ValenceMeans(lexicon.valence))] if lexicon.valence else []),
        ]
    )
    unscaled = 2 if lexicon.valence else 0  # the ValenceMeans columns, last in the union
    classifier: BaseEstimator = (
        NBLogisticRegression(C=c, unscaled=unscaled)
        if nb
        else LogisticRegression(C=c, max_iter=2000, solver="liblinear", class_weight="balanced")
    )
    return Pipeline([("features", features), ("classifier", classifier)])


@dataclass
class SentimentModel:
    """A trained pipeline with its version and how it was trained."""

    pipeline: Pipeline
    version: str
    info: dict[str, Any] = field(default_factory=dict)

    def scores(self, docs: Sequence[str]) -> np.ndarray:
        """negative_score in [0, 1] for each document (0 for a document without any feature)."""
        return self.explain(docs, 0)[0]

    def explain(self, docs: Sequence[str], top: int = 5) -> tuple[np.ndarray, list[list[str]]]:
        """Scores and, per document, up to ``top`` words that pushed it towards negative."""
        if not docs:
            return np.zeros(0), []
        features = self.pipeline.named_steps["features"]
        classifier = self.pipeline.named_steps["classifier"]
        matrix = features_transform(features, list(docs))
        scores = classifier.predict_proba(matrix)[:, 1]
        scores[[not doc.partition(PART)[2] for doc in docs]] = 0.0  # no words, nothing to judge
        words = features.transformer_list[0][1]
        width = len(words.vocabulary_)
        names = _names(words)
        coef = classifier.coef_[0]
        reasons = [_top_words(matrix, i, coef, names, width, top) if top else [] for i in range(matrix.shape[0])]
        return scores, reasons


def tfidf_transform(vectorizer: TfidfVectorizer, docs: Sequence[str]) -> sparse.csr_matrix:
    """``vectorizer.transform(docs)`` for a fitted TfidfVectorizer, with the vocabulary lookup done in C
    (``map`` over ``dict.get``) instead of scikit-learn's per-feature Python loop, which took half of
    the analysis time. Same matrix: tests compare it with ``transform``."""
    analyze = vectorizer.build_analyzer()
    get = vectorizer.vocabulary_.get
    columns = [np.fromiter(map(get, analyze(doc), repeat(-1)), dtype=np.int64) for doc in docs]
    rows = np.repeat(np.arange(len(docs)), [len(c) for c in columns])
    cols = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
    keep = cols >= 0
    matrix = sparse.csr_matrix(
        (np.ones(int(keep.sum())), (rows[keep], cols[keep])),
        shape=(len(docs), len(vectorizer.vocabulary_)),
        dtype=np.float64,
    )
    matrix.sum_duplicates()
    if vectorizer.binary:
        matrix.data[:] = 1.0
    if vectorizer.sublinear_tf:
        np.log(matrix.data, matrix.data)
        matrix.data += 1.0
    if vectorizer.use_idf:
        matrix.data *= vectorizer.idf_[matrix.indices]
    return normalize(matrix, norm=vectorizer.norm, copy=False) if vectorizer.norm else matrix


def features_transform(features: FeatureUnion, docs: Sequence[str]) -> sparse.csr_matrix:
    """``features.transform(docs)`` with the fast TF-IDF path for each TfidfVectorizer."""
    if features.transformer_weights:
        return features.transform(list(docs)).tocsr()
    parts = [
        tfidf_transform(t, docs) if isinstance(t, TfidfVectorizer) else sparse.csr_matrix(t.transform(docs))
        for _, t in features.transformer_list
        if t != "drop"
    ]
    return sparse.hstack(parts, format="csr")


def _names(vectorizer: TfidfVectorizer) -> np.ndarray:
    names = getattr(vectorizer, "_yuqing_names", None)
    if names is None:
        names = vectorizer.get_feature_names_out()
        vectorizer._yuqing_names = names
    return names


def _top_words(
    matrix: sparse.csr_matrix, row: int, coef: np.ndarray, names: np.ndarray, width: int, top: int
) -> list[str]:
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    cols = matrix.indices[start:end]
    keep = cols < width
    cols = cols[keep]
    contrib = matrix.data[start:end][keep] * coef[cols]
    words: list[str] = []
    for j in np.argsort(-contrib):
        word = str(names[cols[j]]).replace(" ", "")
        if contrib[j] <= 0 or len(words) >= top:
            break
        if len(word) >= 2 and word not in words:  # single characters explain nothing to a reader
            words.append(word)
    return words


def valence_prior(pipeline: Pipeline, docs: Sequence[str], y: np.ndarray, weights: np.ndarray | None) -> float:
    """Add the valence dictionary's own evidence to a fitted pipeline's log-odds: ``k`` times (negative
    minus positive valence per word), ``k`` fitted on the training documents by a one-feature logistic
    regression without intercept. Done by adding ``k`` and ``-k`` to the two valence coefficients, so
    the model stays one linear classifier (scores, reasons and pickles unchanged), and a post without
    valence words keeps its score. Returns ``k`` (0 without valence features).

    Why: a model trained on review sentences learns to lean on review n-grams and gives the valence
    features little weight, yet on Weibo posts the dictionary (built from Weibo text) transfers better
    than the n-grams; summing the two experts' log-odds (a product of experts) gains on every Weibo
    set (docs/BENCHMARKS.md)."""
    features = pipeline.named_steps["features"]
    name, valence = features.transformer_list[-1]
    if name != "valence":
        return 0.0
    values = valence.transform(list(docs)).toarray()
    evidence = (values[:, 0] - values[:, 1])[:, None]
    single = LogisticRegression(fit_intercept=False, class_weight="balanced")
    single.fit(evidence, y, sample_weight=weights)
    k = float(single.coef_[0, 0])
    coef = pipeline.named_steps["classifier"].coef_
    coef[0, -2] += k
    coef[0, -1] -= k
    return k


def train(
    docs: Sequence[str],
    labels: Sequence[int],
    lexicon: Lexicon,
    *,
    weights: Sequence[float] | None = None,
    c: float = 2.0,
    nb: bool = False,
    prior: bool = False,
    info: dict[str, Any] | None = None,
) -> SentimentModel:
    """Fit a model on documents (``to_docs``) labelled 1 = negative, 0 = not negative; ``prior``: add
    the valence dictionary's evidence (``valence_prior``), for models trained on the default corpus."""
    y = np.asarray(labels, dtype=int)
    if len(set(y.tolist())) < 2:
        raise ModelError(
            "training data needs both negative and non-negative examples",
            "add rows of both labels, or check --label-col / --negative-value",
        )
    pipeline = make_pipeline(lexicon, c, nb)
    fit_params = {"classifier__sample_weight": np.asarray(weights)} if weights is not None else {}
    pipeline.fit(list(docs), y, **fit_params)
    k = valence_prior(pipeline, docs, y, np.asarray(weights) if weights is not None else None) if prior else 0.0
    digest = hashlib.sha256(repr([name for name, _ in pipeline.named_steps["features"].transformer_list]).encode())
    digest.update(f"prior={prior}".encode())
    digest.update(repr(sorted(lexicon.valence.items())).encode())
    for doc, label in zip(docs, y.tolist()):
        digest.update(f"{label}{doc}".encode())
    details = {
        "samples": len(docs),
        "negative": int(y.sum()),
        **({"valence_prior": round(k, 4)} if k else {}),
        **(info or {}),
    }
    return SentimentModel(pipeline, digest.hexdigest()[:12], details)
