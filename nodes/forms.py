"""Inspector forms, built from a node type's Params JSON Schema (the same schema validates on save)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LONG_TEXT = 200  # strings allowed to be longer than this get a textarea


@dataclass
class ParamField:
    name: str
    label: str
    widget: str  # text, textarea, select, checkbox, number, asset
    value: Any
    help: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    cast: str = "str"  # how the submitted string becomes a value: str, int, float, bool, choice
    nullable: bool = False
    error: str = ""


def _unwrap(prop: dict) -> tuple[dict, bool]:
    """A property without its `| None` alternative, and whether None is allowed."""
    options = prop.get("anyOf")
    if not options:
        return prop, False
    real = [option for option in options if option.get("type") != "null"]
    merged = {**{k: v for k, v in prop.items() if k != "anyOf"}, **(real[0] if real else {})}
    return merged, len(real) < len(options)


def fields_for(node_type, params: dict[str, Any], errors: dict[str, str] | None = None) -> list[ParamField]:
    schema = node_type.Params.model_json_schema()
    errors = errors or {}
    fields = []
    for name, raw in schema.get("properties", {}).items():
        prop, nullable = _unwrap(raw)
        value = params.get(name, prop.get("default"))
        label = name.replace("_", " ").capitalize()
        common = {"name": name, "label": label, "help": raw.get("description", ""), "nullable": nullable}
        if prop.get("format") == "uuid":
            widget = ParamField(**common, widget="asset", value=value)
        elif "enum" in prop:
            choices = [(str(option), str(option)) for option in prop["enum"]]
            if nullable:
                choices.insert(0, ("", "—"))
            cast = "int" if all(isinstance(option, int) for option in prop["enum"]) else "choice"
            widget = ParamField(
                **common, widget="select", value="" if value is None else str(value), choices=choices, cast=cast
            )
        elif prop.get("type") == "boolean":
            widget = ParamField(**common, widget="checkbox", value=bool(value), cast="bool")
        elif prop.get("type") in ("integer", "number"):
            widget = ParamField(
                **common, widget="number", value=value, cast="int" if prop["type"] == "integer" else "float"
            )
        else:
            long = prop.get("maxLength", 0) > LONG_TEXT
            widget = ParamField(**common, widget="textarea" if long else "text", value=value or "")
        widget.error = errors.get(name, "")
        fields.append(widget)
    return fields


def parse(fields: list[ParamField], data) -> dict[str, Any]:
    """Submitted form strings as params. Values that do not convert stay strings for the schema to refuse."""
    params: dict[str, Any] = {}
    for param in fields:
        if param.widget == "asset":
            continue  # changed by dropping a file on the canvas, not typed
        if param.cast == "bool":
            params[param.name] = data.get(param.name) in ("on", "true", "1")
            continue
        raw = data.get(param.name, "")
        if raw == "" and param.nullable:
            params[param.name] = None
        elif param.cast in ("int", "float"):
            try:
                params[param.name] = int(raw) if param.cast == "int" else float(raw)
            except ValueError:
                params[param.name] = raw
        else:
            params[param.name] = raw
    return params
