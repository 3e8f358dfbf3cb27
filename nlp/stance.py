"""Negativity toward the office: is a post negative about the political-legal bodies, not merely gloomy?

The post is split into clauses; the clauses naming a body (the ``政法机关`` list of topics.yaml and the
keywords of the topics built on it) are read with the office's lexicon (the role column of
nlp/data/risk_lexicon.txt) and jieba's part-of-speech tags for who does what to whom:

- a body doing violence, corruption, unfair or wrongful acts (民警推搡老人, 法官枉法裁判) → misconduct;
  the same words with the body as the one suffering them (女子连扇警察, 民警被打) → not misconduct;
- inaction next to a body or after 报警 (报警后派出所不出警, 警察说管不了) → inaction;
- scorn said of a body (警察吃屎的, 这帮警察欺软怕硬) → contempt;
- a body catching, solving, rescuing (警方破获, 民警救出), praise and mourning → success / honour;
- asking a body to act (请公安局严厉打击传销) → request.

Only mentions that count are read (``Stance.mentions``, nlp/mentions.py): not a body posed as (冒充公检法),
tagged (@平安北京), foreign (美国法官), an address (公安分局宿舍), a simile, an item of a list of trades, or
named in a law's text. The analysis uses the same mentions for relevance (a topic needs one that counts).

A negator just before a word (没有打人, 并未推诿) cancels it. These counts, the mood of the body clauses
and of the whole post (the learned sentiment model) are combined by a small logistic regression:
``StanceWeights``, with shipped defaults and re-learnable from labelled posts (``fit_stance``).
A post that names no body is never negative toward the office, however gloomy.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from nlp.corpus import DATA_DIR, lexicon_rows
from nlp.mentions import MAINLAND, Mention, is_statute, passing_reason, read_places
from nlp.segment import KEYWORD_FREQ, jieba_pos_tagger, jieba_tokenizer

BODY_LIST = "政法机关"
"""The topics.yaml list naming the political-legal bodies."""

ROLES = ("misconduct", "lenient", "inaction", "contempt", "success", "honour", "request", "report", "pose", "attacked")
CLAUSE_RE = re.compile(r"(?<=[？?])|[。！；，、,!;:：\n\r]+|//@|\s{2,}")
QUESTION = ("？", "?", "吗", "么", "呢")
"""A clause ending so is a question; said of a body it is mostly rhetorical (警察呢？这是执法吗？)."""
NEGATORS = ("没有", "并未", "并非", "从未", "绝不", "不是", "没", "不", "未", "无", "非")
NEGATION_REACH = 3
"""Characters before a word in which a negator cancels it."""
POSE_REACH = 12
POSE_GAP = 3
ACCUSE_RE = re.compile(r"(?:调查|彻查|严查|查处|追责|问责|查查)")
ACCUSE_REACH = 10
"""Characters before a body in which an investigation verb makes it the one investigated."""
LONG_POST = 300
"""Characters of text from which a post is long: a body named only in passing deep inside does not count."""
LEAD = 200
"""The lead of a long post: a body named here is what the post is about."""
ASIDE_CLAUSES = 4
"""A long post naming a body (outside title and lead) in fewer clauses than this names it in passing."""
JUDGEMENTS = frozenset({"misconduct", "inaction", "contempt"})
"""Characters before a body in which an impersonation word (冒充, 自称) makes it posed as."""
PASSIVE = frozenset({"被", "遭", "遭到", "受到", "挨"})
CAP = 3
"""Each count is capped: a long complaint is not ten times as negative."""


@dataclass(frozen=True)
class StanceFeatures:
    """What the stance reading found in one post; ``vector`` is the regression's input."""

    model_score: float = 0.0
    body: float = 0.0
    body_mood: float = 0.0
    misconduct: float = 0.0
    inaction: float = 0.0
    contempt: float = 0.0
    success: float = 0.0
    honour: float = 0.0
    request: float = 0.0
    suffered: float = 0.0
    question: float = 0.0

    def vector(self) -> list[float]:
        return [float(getattr(self, f.name)) for f in fields(self)]


FEATURES = tuple(f.name for f in fields(StanceFeatures))


@dataclass(frozen=True)
class StanceWeights:
    """A logistic regression over ``StanceFeatures.vector``."""

    bias: float
    weights: tuple[float, ...]
    source: str = "default"

    def probability(self, vector: Sequence[float]) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, vector))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def as_dict(self) -> dict[str, float]:
        return {"bias": self.bias, **dict(zip(FEATURES, self.weights))}


DEFAULT_WEIGHTS = StanceWeights(
    bias=-3.5,
    weights=(
        1.0,  # model_score: the whole post's mood
        0.5,  # body: a body is named
        2.0,  # body_mood: the mood of the clauses about a body
        2.5,  # misconduct by a body
        2.5,  # inaction of a body
        2.0,  # contempt for a body
        -1.5,  # success of a body
        -1.5,  # honour, praise, mourning
        -1.0,  # request to a body
        -1.5,  # the body suffered the act (袭警)
        1.0,  # a question about a body (mostly rhetorical)
    ),
)
"""Set by hand (see docs/BENCHMARKS.md, press dev set): no body → at most 0.08; a body in a dark clause
→ about 0.5; any misconduct, inaction or contempt of a body → negative unless outweighed."""


PRIOR_STRENGTH = 10.0
"""How strongly learned weights are held to the shipped ones (an L2 pull toward them): a few labels move
the weights a little, many labels move them further."""


def fit_stance(
    vectors: Sequence[Sequence[float]],
    labels: Sequence[int],
    prior: StanceWeights = DEFAULT_WEIGHTS,
    strength: float = PRIOR_STRENGTH,
) -> StanceWeights:
    """Weights learned from labelled posts (1 = negative toward the office), starting from ``prior``:
    logistic regression with an L2 penalty toward the prior's weights (Newton's method)."""
    import numpy as np

    if not vectors:
        return prior
    x = np.hstack([np.ones((len(vectors), 1)), np.asarray(vectors, dtype=float)])
    y = np.asarray(labels, dtype=float)
    start = np.array([prior.bias, *prior.weights])
    w = start.copy()
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (p - y) + strength * (w - start)
        hessian = (x * (p * (1 - p))[:, None]).T @ x + strength * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-6:
            break
    return StanceWeights(float(w[0]), tuple(float(v) for v in w[1:]), "learned")


def read_roles(path: Any = None) -> dict[str, str]:
    """word → stance role, from the role column of the risk lexicon."""
    rows = lexicon_rows(path or DATA_DIR / "risk_lexicon.txt")
    return {r[0]: r[2] for r in rows if len(r) > 2 and r[2] in ROLES}


def body_terms(topics: Any) -> list[str]:
    """The political-legal bodies named in a topics config: the ``政法机关`` list and the keywords of the
    topics that share a word with it (the institution topics: 公安, 法院, 检察院 …)."""
    listed = list(topics.lists.get(BODY_LIST, []))
    terms = dict.fromkeys(listed)
    for topic in topics.topics:
        if topic.enabled and set(topic.keywords) & set(listed):
            terms.update(dict.fromkeys(topic.keywords))
    return [t for t in terms if t]


def clause_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the clauses of a normalised text (split at 。！？；，、, line breaks and Weibo's
    //@ reposts); blank clauses are left out."""
    spans, start = [], 0
    for match in CLAUSE_RE.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def clauses(text: str) -> list[str]:
    """Clauses of a normalised text (``clause_spans``)."""
    return [text[a:b] for a, b in clause_spans(text)]


class Finder:
    """Every occurrence of a fixed set of terms (one Aho-Corasick automaton)."""

    def __init__(self, terms: Sequence[str]) -> None:
        import daachorse

        self.terms = tuple(dict.fromkeys(t for t in terms if t))
        self.automaton = daachorse.CharwiseDoubleArrayAhoCorasick(list(self.terms)) if self.terms else None

    def __call__(self, clause: str) -> list[tuple[int, int, str]]:
        """(start, end, term) of every occurrence; an occurrence inside a longer one is dropped."""
        if self.automaton is None or not clause:
            return []
        found = sorted(self.automaton.find_overlapping(clause), key=lambda f: (f[0], f[0] - f[1]))
        kept: list[tuple[int, int, str]] = []
        for start, end, index in found:
            if not any(k[0] <= start and end <= k[1] for k in kept):
                kept.append((start, end, self.terms[index]))
        return kept


def negated(clause: str, start: int, term: str) -> bool:
    """A negator right before the word (没有打人) cancels it, unless the word is itself negative (不作为)."""
    if term.startswith(NEGATORS):
        return False
    before = clause[max(0, start - NEGATION_REACH) : start]
    return any(n in before for n in NEGATORS)


def asked_after(clause: str, bodies: Sequence[tuple[int, int]]) -> bool:
    """A body followed by 呢 (警察呢, 检察院呢 让他们下课): where is it, what is it doing."""
    return any(clause[e : e + 1] == "呢" for _, e in bodies)


def accused(clause: str, start: int) -> bool:
    """The body is the object of an investigation asked or done (请求调查C4市人民法院, 彻查派出所):
    it stands accused. A body before the verb (请公安局调查) is asked to investigate, not accused."""
    offset = max(0, start - ACCUSE_REACH)
    match = ACCUSE_RE.search(clause[offset:start])
    return match is not None and not CLAUSE_RE.search(clause[offset + match.end() : start])


Tagger = Callable[[str], list[tuple[str, str]]]


@dataclass
class Stance:
    """The stance reader of one analysis run (body terms and lexicon, normalised; a POS tagger)."""

    bodies: tuple[str, ...]
    roles: dict[str, str]
    tagger: Tagger
    weights: StanceWeights = DEFAULT_WEIGHTS
    names: frozenset[str] = frozenset()
    """The bodies' names (the ``政法机关`` list); the other ``bodies`` are their acts (刑拘, 获刑)."""
    places: tuple[str, ...] = ()
    """Foreign places (nlp/data/foreign_places.txt): a body they qualify is not the office's."""
    _bodies: Finder = field(init=False, repr=False)
    _roles: Finder = field(init=False, repr=False)
    _places: Finder = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._bodies = Finder(self.bodies)
        self._roles = Finder(list(self.roles))
        self._places = Finder(self.places)

    def mentions(self, title: str, text: str) -> list[Mention]:
        """Every body named in a normalised post, each with why it does not count (``Mention.passing``)."""
        statute = is_statute(title, text)
        out = []
        for name, value in (("title", title), ("text", text)):
            found = self._bodies(value)
            if not found:
                continue
            places = [(s, e) for s, e, _ in self._places(value)]
            spans = [(s, e) for s, e, _ in found]
            abroad = -1  # end of the last body found foreign: the same body named again is foreign too
            for start, end, term in found:
                named = any(n in term for n in self.names)
                reason = "statute" if statute else passing_reason(value, start, end, places, spans, named)
                if not reason and self.posed(value, start):
                    reason = "pose"
                if not reason and abroad >= 0 and not MAINLAND.search(value, abroad, start):
                    reason = "foreign"  # 香港警方拘捕… 警方称: the Hong Kong police again
                abroad = end if reason == "foreign" else -1 if not reason else abroad
                out.append(Mention(name, start, end, term, reason))
        return self.asides(text, out) if len(text) >= LONG_POST else out

    def asides(self, text: str, mentions: list[Mention]) -> list[Mention]:
        """In a long post, a body named neither in the title nor in the lead and in few clauses is
        named in passing (起诉至法院 deep in a letter about a property developer), unless a clause
        naming it judges it (misconduct, inaction, contempt: a complaint at the end of a long letter)."""
        counting = [m for m in mentions if m.counts]
        if any(m.field == "title" or m.start < LEAD for m in counting):
            return mentions
        spans = clause_spans(text)
        named = {i for m in counting for i, (a, b) in enumerate(spans) if a <= m.start < b}
        if len(named) >= ASIDE_CLAUSES:
            return mentions
        judged = {i for i in named if self.judges(text[spans[i][0] : spans[i][1]])}
        return [
            replace(m, passing="aside")
            if m.counts and not any(i in judged for i, (a, b) in enumerate(spans) if a <= m.start < b)
            else m
            for m in mentions
        ]

    def judges(self, clause: str) -> bool:
        """The clause holds a judgement of misconduct, inaction or contempt (not negated)."""
        return any(self.roles[t] in JUDGEMENTS and not negated(clause, s, t) for s, _, t in self._roles(clause))

    def posed(self, text: str, start: int) -> bool:
        """An impersonation word right before the body: 冒充警察, 假扮的民警 (at most ``POSE_GAP``
        characters between), or 自称是某市中级人民法院 (是/为 and a qualifier up to ``POSE_REACH``);
        never across a clause break or a space (村民自称头部被打 投诉警方: the complaint is real)."""
        window = text[max(0, start - POSE_REACH) : start]
        for _, end, term in self._roles(window):
            gap = window[end:]
            if self.roles[term] != "pose" or CLAUSE_RE.search(gap) or any(c.isspace() for c in gap):
                continue
            if len(gap) <= POSE_GAP or gap.startswith(("是", "为")):
                return True
        return False

    def suffers(self, clause: str, body: tuple[int, int], start: int) -> bool:
        """True when the body is the one the act at ``start`` is done to: the act comes first and is a
        verb taking the body as its object (扇警察), or a passive marker follows the body (民警被打)."""
        tags = self.tagger(clause)
        spans, pos = [], 0
        for word, flag in tags:
            spans.append((pos, pos + len(word), word, flag))
            pos += len(word)
        if start < body[0]:
            between = [(w, f) for s, e, w, f in spans if s >= start and e <= body[0]]
            act = next((f for s, e, _, f in spans if s <= start < e), "")
            # 殴打民警: a verb taking the body as object; 打人的警察 (的) and 腐败法官 (not a verb)
            # describe the body
            return act.startswith("v") and act != "vn" and not any(f == "uj" or w == "的" for w, f in between)
        words = [w for s, e, w, _ in spans if s >= body[1] and e <= start]
        return any(w in PASSIVE for w in words)

    def read_clause(self, clause: str, bodies: list[tuple[int, int]], implicit: bool) -> Counter[str]:
        """Role counts of one clause; ``bodies`` are the bodies it names, ``implicit`` when it continues
        a clause that named one (the body is then the unnamed subject)."""
        counts: Counter[str] = Counter()
        occurrences = self._roles(clause)
        reported = any(self.roles[t] == "report" for _, _, t in occurrences)
        # a body catching or punishing in this clause: the violence named is the case it handles
        handled = bool(bodies or implicit) and any(
            self.roles[t] == "success" and not negated(clause, s, t) for s, _, t in occurrences
        )
        for start, _, term in occurrences:
            role = self.roles[term]
            if role in ("report", "pose") or negated(clause, start, term):
                continue
            if not bodies and not implicit and not (role == "inaction" and reported):
                continue
            if role == "misconduct" and handled:
                continue
            if role == "lenient":
                # 仅仅处罚500元: the handling itself is the complaint, though the body acts
                role = "misconduct"
            if role == "misconduct" and bodies:
                nearest = min(bodies, key=lambda b: abs(b[0] - start))
                if self.suffers(clause, nearest, start):
                    role = "suffered"
            counts["suffered" if role == "attacked" else role] += 1
        counts["misconduct"] += sum(1 for b in bodies if accused(clause, b[0]))
        return counts

    def read(self, title: str, text: str, mentions: Sequence[Mention] | None = None) -> tuple[Counter[str], list[str]]:
        """Role counts of a normalised post, and its clauses about a body: each clause naming one (a
        mention that counts; ``mentions`` as ``self.mentions`` returns them) and its neighbours (Chinese
        often leaves the subject of the next clause unsaid, and reposts put the judgement just before
        or after the name)."""
        found = self.mentions(title, text) if mentions is None else mentions
        parts: list[str] = []
        bodies: list[list[tuple[int, int]]] = []
        for name, value in (("title", title), ("text", text)):
            for a, b in clause_spans(value):
                parts.append(value[a:b])
                bodies.append(
                    [(m.start - a, m.end - a) for m in found if m.counts and m.field == name and a <= m.start < b]
                )
        named = {i for i, b in enumerate(bodies) if b}
        near = sorted({j for i in named for j in (i - 1, i, i + 1) if 0 <= j < len(parts)})
        counts: Counter[str] = Counter(body=len(named))
        for i in near:
            counts.update(self.read_clause(parts[i], bodies[i], i not in named))
            counts["question"] += i in named and (parts[i].endswith(QUESTION) or asked_after(parts[i], bodies[i]))
        windows = [parts[i] for i in near]
        for i in sorted(set(range(len(parts))) - set(near)):
            # 报警后没人来: inaction after a report to the police is the police's, though unnamed
            unnamed = self.read_clause(parts[i], [], False)
            if unnamed["inaction"]:
                counts.update(inaction=unnamed["inaction"], body=1)
                windows.append(parts[i])
        return counts, windows

    def features(self, counts: Counter[str], model_score: float, body_mood: float) -> StanceFeatures:
        capped = {k: float(min(CAP, counts.get(k, 0))) for k in FEATURES}
        return StanceFeatures(
            model_score=model_score,
            body=float(counts.get("body", 0) > 0),
            body_mood=body_mood if counts.get("body", 0) else 0.0,
            misconduct=capped["misconduct"],
            inaction=capped["inaction"],
            contempt=capped["contempt"],
            success=capped["success"],
            honour=capped["honour"],
            request=capped["request"],
            suffered=capped["suffered"],
            question=capped["question"],
        )

    def assess(
        self,
        posts: Sequence[tuple[str, str]],
        model_scores: Sequence[float],
        mood: Callable[[list[str]], Sequence[float]],
        mentions: Sequence[Sequence[Mention]] | None = None,
    ) -> list[StanceFeatures]:
        """Features of normalised (title, text) posts; ``mood`` scores texts with the sentiment model
        (called once, on every post's body clauses); ``mentions``: each post's, when already found."""
        readings = [self.read(t, x, mentions[i] if mentions else None) for i, (t, x) in enumerate(posts)]
        texts = ["，".join(windows) for _, windows in readings]
        wanted = [i for i, t in enumerate(texts) if t]
        scored = dict(zip(wanted, mood([texts[i] for i in wanted]))) if wanted else {}
        return [
            self.features(counts, float(model_scores[i]), float(scored.get(i, 0.0)))
            for i, (counts, _) in enumerate(readings)
        ]

    def probability(self, features: StanceFeatures) -> float:
        return self.weights.probability(features.vector())


def pos_tagger(words: Sequence[str]) -> Tagger:
    """A jieba part-of-speech tagger of its own (no global state) that keeps ``words`` whole."""
    tokenizer = jieba_tokenizer()
    for word in words:
        tokenizer.add_word(word, freq=KEYWORD_FREQ)
    tagger = jieba_pos_tagger(tokenizer)

    def tag(text: str) -> list[tuple[str, str]]:
        return [(p.word, p.flag) for p in tagger.lcut(text)]

    return tag


def build_stance(topics: Any, fold: Callable[[str], str], weights: StanceWeights = DEFAULT_WEIGHTS) -> Stance:
    """The stance reader for a topics config; ``fold`` normalises terms as post text is normalised."""
    bodies = tuple(dict.fromkeys(fold(t) for t in body_terms(topics)))
    roles = {fold(w): role for w, role in read_roles().items()}
    names = frozenset(fold(t) for t in topics.lists.get(BODY_LIST, []))
    places = tuple(fold(p) for p in read_places())
    return Stance(bodies, roles, pos_tagger([*bodies, *roles]), weights, names, places)
