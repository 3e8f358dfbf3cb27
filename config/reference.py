"""Generate ``docs/CONFIG.md``, the configuration reference, from the config models themselves:
``python -m config.reference > docs/CONFIG.md``. A test regenerates it and compares, so the
reference can never drift from what the loader accepts."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined
from ruamel.yaml import YAML

from config.loader import ENV_OVERRIDES, FILES

SHIPPED = __import__("pathlib").Path(__file__).resolve().parent

HEADER = """# Configuration reference

Generated from the config models by `python -m config.reference > docs/CONFIG.md`; a test keeps it in
step. Every file lives in the config directory (`config/`, or `--config DIR` / `YUQING_CONFIG_DIR`).
Unknown keys are errors. `yuqing config check` validates everything and prints every problem with
file, line and key. The shipped files document each key in comments.
"""


def type_name(annotation: Any) -> str:
    """A short, readable type: ``list[str]``, ``one of: a, b``, ``Topic`` …"""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin is typing.Literal:
        return "one of: " + ", ".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        names = [type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" (optional)" if type(None) in args else "")
    if origin in (list, tuple):
        return f"list of {type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"mapping {type_name(args[0])} → {type_name(args[1])}"
    return getattr(annotation, "__name__", str(annotation))


def default_of(field: Any) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        return "(section)"
    if value is None:
        return "empty"
    if value == [] or value == {}:
        return "empty"
    return f"`{value}`" if not isinstance(value, list) else "`[" + ", ".join(map(str, value)) + "]`"


def models_in(annotation: Any) -> list[type[BaseModel]]:
    origin = typing.get_origin(annotation)
    if origin is not None:
        return [m for a in typing.get_args(annotation) for m in models_in(a)]
    return [annotation] if isinstance(annotation, type) and issubclass(annotation, BaseModel) else []


def rows(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, str, str, str]]:
    """(key path, type, default, description) for every field, nested sections after their parent."""
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        inner = models_in(field.annotation)
        is_list = typing.get_origin(field.annotation) is list or "list of" in type_name(field.annotation)
        yield path, type_name(field.annotation), default_of(field), (field.description or "").replace("|", "\\|")
        for sub in inner:
            nested.append((f"{path}[]." if is_list else f"{path}.", sub))
    for sub_prefix, sub in nested:
        yield from rows(sub, sub_prefix)


def shipped_comment(tree: Any, path: str) -> str:
    """The end-of-line comment the shipped YAML file writes beside this key, if any."""
    node, comment = tree, ""
    for part in path.replace("[]", ".0").split("."):
        if isinstance(node, list):
            node = node[int(part)] if part.isdigit() and int(part) < len(node) else None
            continue
        if not isinstance(node, dict) or part not in node:
            return ""
        token = node.ca.items.get(part, [None, None, None])[2] if hasattr(node, "ca") else None
        comment = token.value.split("\n")[0].strip().lstrip("#").strip() if token is not None else ""
        node = node[part]
    return comment.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def render() -> str:
    out = [HEADER]
    for file_name, model in FILES.items():
        tree = YAML(typ="rt").load((SHIPPED / file_name).read_text(encoding="utf-8")) or {}
        out.append(f"\n## `{file_name}`\n\n{(model.__doc__ or '').strip()}\n")
        out.append("| key | type | default | notes |\n|---|---|---|---|")
        for path, kind, default, notes in rows(model, ""):
            notes = notes or shipped_comment(tree, path)
            out.append(f"| `{path}` | {kind} | {default} | {notes} |")
    out.append(
        "\n## Environment variables\n\nThe environment wins over `settings.yaml`. Secrets only ever come from here.\n"
    )
    out.append("| variable | overrides |\n|---|---|")
    for var, keys in ENV_OVERRIDES.items():
        out.append(f"| `{var}` | `{'.'.join(keys)}` |")
    out.append("| `YUQING_CONFIG_DIR` | the config directory (same as `--config DIR`) |")
    out.append("| `YUQING_SMTP_PASSWORD` | the SMTP password (never in YAML) |")
    out.append("| variables named by `url_env` / `secret_env` in `alerts.yaml` | webhook URLs and signing secrets |")
    out.append("| variables named by `headers_env` / `cookies_env` in `sources.yaml` | request headers and cookies |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
