"""``yuqing classify``: score rows of a file without touching the database."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from config import Config
from nlp.analyzer import Analyzer, PostAnalysis
from nlp.job import build_segmenter
from nlp.modelstore import ensure_model
from nlp.rules import compile_topics
from nlp.stance import build_stance

CHUNK = 1000


def make_analyzer(config: Config) -> Analyzer:
    """Rules and the current model, without learned relevance (which needs the database)."""
    segmenter = build_segmenter(config)
    settings = config.settings.analysis
    return Analyzer(
        segmenter,
        compile_topics(config.topics, segmenter.normalize),
        ensure_model(config.models_dir, segmenter),
        negative_threshold=settings.negative_threshold,
        reason_terms=settings.reason_terms,
        stance=build_stance(config.topics, segmenter.normalize),
    )


def result_row(row: dict[str, Any], result: PostAnalysis | None, error: str | None) -> dict[str, Any]:
    """One output line: the input's id (if any), scores, topics and matched terms, or the error."""
    out: dict[str, Any] = {"id": row["id"]} if "id" in row else {}
    if result is None:
        return {**out, "error": error, "negative_score": None, "negative": None, "topics": [], "matched_terms": []}
    return {
        **out,
        "negative_score": result.negative_score,
        "negative": result.negative,
        "topics": [m.topic for m in result.topics],
        "matched_terms": result.topics_json(),
        "reasons": result.reasons,
    }


def classify_rows(analyzer: Analyzer, rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Output lines for input rows, in order; a row without usable text gets an ``error``."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, CHUNK)):
        usable = [r for r in chunk if "_error" not in r and isinstance(r.get("text"), str) and r["text"].strip()]
        pairs = [(str(r.get("title") or ""), r["text"]) for r in usable]
        results = dict(zip(map(id, usable), analyzer.analyze(pairs)))
        for row in chunk:
            error = row.get("_error") or "no text"
            yield result_row(row, results.get(id(row)), error)


def classify_file(
    config: Config, input_path: Path, output_path: Path, reader: Callable[[Path], Iterable[dict[str, Any]]]
) -> dict[str, int]:
    """Classify every row of ``input_path`` into JSONL at ``output_path``; returns counts."""
    analyzer = make_analyzer(config)
    counts = {"rows": 0, "negative": 0, "relevant": 0, "errors": 0}
    with output_path.open("w", encoding="utf-8") as out:
        for line in classify_rows(analyzer, reader(input_path)):
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            counts["rows"] += 1
            counts["negative"] += bool(line.get("negative"))
            counts["relevant"] += bool(line["topics"])
            counts["errors"] += "error" in line
    return counts
