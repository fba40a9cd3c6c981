"""Inspector forms, built from a node type's Params JSON Schema (the same schema validates on save)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LONG_TEXT = 200  # strings allowed to be longer than this get a textarea
CHECKED = ("on", "true", "1")  # what a ticked checkbox sends
MAX_ROWS = 50  # rows of a list field read from a form, at most (the schema's own limit is lower)


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
    # A number's bounds from the schema, for the browser to offer (the schema still decides).
    minimum: float | None = None
    maximum: float | None = None


def _unwrap(prop: dict) -> tuple[dict, bool]:
    """A property without its `| None` alternative, and whether None is allowed."""
    options = prop.get("anyOf")
    if not options:
        return prop, False
    real = [option for option in options if option.get("type") != "null"]
    merged = {**{k: v for k, v in prop.items() if k != "anyOf"}, **(real[0] if real else {})}
    return merged, len(real) < len(options)


def fields_for(
    node_type, params: dict[str, Any], errors: dict[str, str] | None = None, shown: dict[str, Any] | None = None
) -> list[ParamField]:
    """`shown`: what a list field shows while the params hold none (a storyboard's planned shots)."""
    schema = node_type.Params.model_json_schema()
    errors = _by_field(errors or {})
    fields = []
    for name, raw in schema.get("properties", {}).items():
        prop, nullable = _unwrap(raw)
        value = params.get(name, prop.get("default"))
        label = name.replace("_", " ").capitalize()
        common = {"name": name, "label": label, "help": raw.get("description", ""), "nullable": nullable}
        if name == "shots" and prop.get("type") == "array":
            planned = (shown or {}).get(name) or []
            widget = ParamField(**common, widget="shots", value=value or planned, cast="shots")
        elif prop.get("format") == "uuid":
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
                **common,
                widget="number",
                value=value,
                cast="int" if prop["type"] == "integer" else "float",
                minimum=prop.get("minimum"),
                maximum=prop.get("maximum"),
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
        if param.cast == "shots":
            if data.get("shots-reset"):
                params[param.name] = []  # back to what the storyboard plans
            elif data.get("shots-edited"):
                params[param.name] = _shots(data)
            continue  # untouched: the shots stay as they are
        if param.cast == "bool":
            params[param.name] = data.get(param.name) in CHECKED
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


def _shots(data) -> list[dict[str, Any]]:
    """The shot rows of the storyboard editor (`shots-<i>-<part>`), in their order on screen."""
    try:
        count = min(MAX_ROWS, max(0, int(data.get("shots-count", 0))))
    except ValueError:
        count = 0
    return [_shot(data, f"shots-{index}-") for index in range(count)]


def _shot(data, prefix: str) -> dict[str, Any]:
    seconds = data.get(f"{prefix}seconds", "")
    return {
        "id": data.get(f"{prefix}id", ""),
        "description": data.get(f"{prefix}description", "").strip(),
        "seconds": int(seconds) if seconds.isdigit() else seconds,
        "camera": data.get(f"{prefix}camera", "").strip(),
        "characters": [name.strip() for name in data.get(f"{prefix}characters", "").split(",") if name.strip()],
        "continues": data.get(f"{prefix}continues") in CHECKED,
    }


def _by_field(errors: dict[str, str]) -> dict[str, str]:
    """Errors by top-level field: one inside a list ("shots.1.seconds") is said at the list, by row."""
    found: dict[str, str] = {}
    for location, message in errors.items():
        name, _, rest = location.partition(".")
        if rest and name not in found:
            index, _, part = rest.partition(".")
            row = f"Shot {int(index) + 1}" if index.isdigit() else rest
            message = f"{row}{f', {part}' if part else ''}: {message}"
        found.setdefault(name, message)
    return found
