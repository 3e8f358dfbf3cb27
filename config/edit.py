"""Edit a YAML config file in place the way an admin would by hand: the change is made on the
round-trip tree (ruamel.yaml), validated with the whole config before anything is written, written
atomically, and every byte outside the edited lines (comments, order, layout) stays as it was."""

from __future__ import annotations

import difflib
import io
import os
import tempfile
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from config.loader import load_models, to_plain

Editor = Callable[[Any], None]


def round_trip_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def dump(yaml: YAML, doc: Any) -> str:
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


@dataclass(frozen=True)
class _Chunk:
    equal: bool
    b1: int
    b2: int
    o1: int
    o2: int


def _chunks(base: list[str], original: list[str]) -> list[_Chunk]:
    ops = difflib.SequenceMatcher(None, base, original, autojunk=False).get_opcodes()
    return [_Chunk(tag == "equal", b1, b2, o1, o2) for tag, b1, b2, o1, o2 in ops]


def _widen(hunk: tuple[int, int, int, int], chunks: list[_Chunk]) -> tuple[int, int, int, int]:
    """Grow an edit hunk to whole re-formatted chunks, so a reflowed block is replaced whole."""
    b1, b2, e1, e2 = hunk
    for chunk in chunks:
        if chunk.equal or chunk.b1 == chunk.b2:
            continue
        touches = chunk.b1 < b1 < chunk.b2 if b1 == b2 else chunk.b1 < b2 and b1 < chunk.b2
        if touches:
            grow_left, grow_right = max(0, b1 - chunk.b1), max(0, chunk.b2 - b2)
            b1, e1 = b1 - grow_left, e1 - grow_left
            b2, e2 = b2 + grow_right, e2 + grow_right
    return b1, b2, e1, e2


def _original_lines(chunks: list[_Chunk], original: list[str], start: int, stop: int) -> list[str]:
    """The original lines that stand for base lines [start, stop)."""
    out: list[str] = []
    for chunk in chunks:
        if chunk.b1 == chunk.b2:  # lines only the original has (kept where they stand)
            if start <= chunk.b1 < stop or (chunk.b1 == stop == start):
                out += original[chunk.o1 : chunk.o2]
            continue
        lo, hi = max(start, chunk.b1), min(stop, chunk.b2)
        if lo >= hi:
            continue
        if chunk.equal:
            out += original[chunk.o1 + lo - chunk.b1 : chunk.o1 + hi - chunk.b1]
        else:
            out += original[chunk.o1 : chunk.o2]
    return out


def merge_edit(original: str, base: str, edited: str) -> str:
    """Apply the change base→edited to ``original`` (of which ``base`` is a re-formatted copy)."""
    o_lines, b_lines, e_lines = (t.splitlines(keepends=True) for t in (original, base, edited))
    chunks = _chunks(b_lines, o_lines)
    matcher = difflib.SequenceMatcher(None, b_lines, e_lines, autojunk=False)
    hunks = [_widen((b1, b2, e1, e2), chunks) for tag, b1, b2, e1, e2 in matcher.get_opcodes() if tag != "equal"]
    out: list[str] = []
    position = 0
    for b1, b2, e1, e2 in hunks:
        if b1 < position:  # widened into the previous hunk: already emitted
            b1, e1 = position, e1 + (position - b1)
        out += _original_lines(chunks, o_lines, position, b1)
        out += e_lines[e1:e2]
        position = max(position, b2)
    out += _original_lines(chunks, o_lines, position, len(b_lines) + 1)
    return "".join(out)


def edit_text(original: str, editor: Editor) -> str:
    """The text of ``original`` after ``editor`` changed its round-trip tree; layout kept."""
    yaml = round_trip_yaml()
    base_doc = yaml.load(original)
    base = dump(yaml, base_doc)
    doc = yaml.load(original)
    editor(doc)
    edited = dump(yaml, doc)
    merged = merge_edit(original, base, edited)
    # Never trust a merge blindly: it must mean exactly what the edited tree means.
    if to_plain(yaml.load(merged)) != to_plain(doc):
        return edited
    return merged


def validate_with(config_dir: Path, name: str, text: str, environ: typing.Mapping[str, str] | None = None) -> None:
    """Validate the whole config as if ``name`` held ``text``; raises ConfigError."""
    load_models(config_dir, os.environ if environ is None else environ, overrides={name: text})


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (a crash leaves the old or the new file)."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def apply_edit(
    config_dir: Path, name: str, editor: Editor, environ: typing.Mapping[str, str] | None = None
) -> tuple[str, str]:
    """Edit ``config_dir/name`` with ``editor``; validate, then write. Returns (before, after).
    A rejected edit (ConfigError) leaves the file untouched."""
    path = config_dir / name
    before = path.read_text(encoding="utf-8")
    after = edit_text(before, editor)
    validate_with(config_dir, name, after, environ)
    if after != before:
        write_atomically(path, after)
    return before, after
