"""Read metrics.yaml: line index, ${ENV} interpolation, validation, one message per problem."""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from agent.config.channels import notify_checks
from agent.config.limits import not_finite, out_of_range
from agent.config.reader import Path_, read_yaml, section
from agent.config.schema import (
    DAY_KINDS,
    ENTITY_KINDS,
    KIND_FIELDS,
    OPTIONAL_KIND_FIELDS,
    UNION_TAGS,
    Config,
    kind_field_names,
)
from agent.config.sql_checks import sql_checks
from agent.config.urls import credentials_span, in_credentials
from agent.errors import ConfigError, Problem
from agent.voice.spec import mask_checks, voice_checks

__all__ = ["load_config", "located", "problems_at"]

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def load_config(path: str | Path) -> Config:
    """Load and validate ``path`` whole; raise ConfigError listing every problem."""
    file = Path(path)
    shown = str(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(
            [
                Problem(
                    shown,
                    None,
                    None,
                    f"cannot read: {exc.strerror}",
                    "pass the right file with -c PATH",
                )
            ]
        ) from None
    lines, data = _parse(raw, shown)
    limits = list(out_of_range(data, ()))
    problems = [_at(at, lines, shown, msg, hint) for at, msg, hint in limits]
    data = _interpolate(data, (), lines, shown, problems)
    problems += [_at(at, lines, shown, msg, hint) for at, msg, hint in _cross_checks(data)]
    problems += [_at(at, lines, shown, msg, hint) for at, msg, hint in sql_checks(data)]
    said = {at for at, _, _ in limits}  # a number out of range is said once
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems += [_problem(err, lines, shown) for err in exc.errors() if _path(err) not in said]
    else:
        found = [(at, m, h) for at, m, h in not_finite(config, ()) if at not in said]
        problems += [_at(at, lines, shown, m, h) for at, m, h in found]
    if problems:
        raise ConfigError(_sorted(problems))
    return config


def problems_at(path: str | Path, found: Iterable[tuple[Path_, str, str | None]]) -> list[Problem]:
    """Problems found after loading (key path, message, hint), each at its line of ``path``."""
    shown = str(path)
    lines, _ = _parse(Path(path).read_bytes(), shown)
    return _sorted([_at(at, lines, shown, message, hint) for at, message, hint in found])


def located(exc: ConfigError, key: str, path: str | Path) -> ConfigError:
    """``exc``'s problems with the file-wide setting ``key``, at its line of ``path``: the
    layers that open a warehouse or a store know neither the file's name nor its lines."""
    found = [((key,), p.message.removeprefix(f"{key}: "), p.hint) for p in exc.problems]
    return ConfigError(problems_at(path, found))


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.message))


def _parse(raw: bytes, shown: str) -> tuple[dict[Path_, int], Any]:
    lines, data = read_yaml(raw, shown)
    if not isinstance(data, dict):
        raise ConfigError(
            [
                Problem(
                    shown,
                    1,
                    None,
                    "the file must be a mapping with version, warehouse, sources and metrics",
                )
            ]
        )
    return lines, data


def _line(path: Path_, lines: dict[Path_, int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _metric_of(path: Path_) -> str | None:
    return str(path[1]) if len(path) > 1 and path[0] == "metrics" else None


def _at(path: Path_, lines: dict[Path_, int], shown: str, msg: str, hint: str | None) -> Problem:
    dotted = ".".join(str(p) for p in path)
    return Problem(shown, _line(path, lines), _metric_of(path), f"{dotted}: {msg}", hint)


def _interpolate(
    data: Any, at: Path_, lines: dict[Path_, int], shown: str, problems: list[Problem]
) -> Any:
    """Replace ${VAR} in every string value; a missing variable is a problem where it is used.

    A value placed in the user or password of a URL is percent-encoded (``urls``)."""
    if isinstance(data, dict):
        return {k: _interpolate(v, (*at, k), lines, shown, problems) for k, v in data.items()}
    if isinstance(data, list):
        return [_interpolate(v, (*at, i), lines, shown, problems) for i, v in enumerate(data)]
    if not isinstance(data, str):
        return data
    credentials = credentials_span(data)

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            problems.append(
                _at(
                    at,
                    lines,
                    shown,
                    f"environment variable {name} is not set",
                    f"export {name}=... before running cx-agent",
                )
            )
            return ""
        return in_credentials(credentials, match, os.environ[name])

    return _ENV.sub(sub, data)


def _path(err: Any) -> Path_:
    """The key path of a pydantic error, without union tags and dict-key markers."""
    return tuple(p for p in err["loc"] if p not in (*UNION_TAGS, "[key]"))


def _problem(err: Any, lines: dict[Path_, int], shown: str) -> Problem:
    path = _path(err)
    if err["type"] == "extra_forbidden":
        return _at(path, lines, shown, "unknown key", _did_you_mean(path))
    if err["type"] == "missing":
        return _at(path, lines, shown, "required key is missing", f"add `{path[-1]}:`")
    if err["type"] == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return _at(path, lines, shown, f"{err['input']!r} is not allowed", f"use one of {expected}")
    message = str(err["msg"]).removeprefix("Value error, ")
    return _at(path, lines, shown, message, None)


def _did_you_mean(path: Path_) -> str:
    allowed = _fields_at(path[:-1])
    close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
    if close:
        return f"did you mean `{close[0]}`?"
    if not allowed:  # inside a union the schema walk cannot follow (a channel's type)
        return "remove it; the README lists the keys this block takes"
    return "valid keys here: " + ", ".join(sorted(allowed))


def _fields_at(path: Path_) -> list[str]:
    """The keys allowed at ``path``, found by walking the schema along it."""
    model: Any = Config
    for step in path:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            model = _dict_value_type(model)
            continue
        field = model.model_fields.get(str(step))
        model = _unwrap(field.annotation) if field else None
    return (
        list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []
    )


def _unwrap(annotation: Any) -> Any:
    """Strip Optional[...] to the model or dict inside."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return _unwrap(args[0]) if args else annotation
    return annotation


def _dict_value_type(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    return _unwrap(args[-1]) if typing.get_origin(annotation) is dict and args else None


def _cross_checks(data: dict[str, Any]) -> Iterator[tuple[Path_, str, str | None]]:
    """Rules across fields, read from the raw document so they are reported together with
    shape errors: a kind needs its fields, names point at things that exist."""
    sources, metrics = section(data, "sources"), section(data, "metrics")
    for name, metric in metrics.items():
        if not isinstance(metric, dict) or str(metric.get("kind")) not in KIND_FIELDS:
            continue
        at: Path_ = ("metrics", name)
        yield from _kind_checks(at, metric)
        source = metric.get("source")
        if not isinstance(source, str):  # the schema says what it should be
            continue
        if source not in sources:
            known = ", ".join(sorted(sources)) or "none defined"
            yield (
                (*at, "source"),
                f"source {source!r} is not defined",
                f"define it under `sources:` (defined: {known})",
            )
        elif (
            metric["kind"] in ENTITY_KINDS
            and isinstance(sources.get(source), dict)
            and not sources[source].get("entity")
        ):
            yield (
                (*at, "kind"),
                f"kind {metric['kind']} counts customers",
                f"add `entity:` (the customer id column) to source {source!r}",
            )
    yield from _event_checks(data.get("events"), metrics)
    yield from notify_checks(data)
    yield from voice_checks(data)
    yield from mask_checks(data)


def _event_checks(events: Any, metrics: dict[str, Any]) -> Iterator[tuple[Path_, str, str | None]]:
    """An event names metrics that exist and dimensions some metric is sliced by."""
    if not isinstance(events, list):
        return
    dims = {d for m in metrics.values() if isinstance(m, dict) for d in _texts(m.get("dimensions"))}
    for i, event in enumerate(events):
        if not isinstance(event, dict):
            continue
        named = event.get("metrics")
        for j, name in enumerate(named if isinstance(named, list) else []):
            if isinstance(name, str) and name not in metrics:
                hint = difflib.get_close_matches(str(name), list(metrics), n=1)
                fix = f"did you mean {hint[0]!r}?" if hint else f"metrics: {', '.join(metrics)}"
                yield ("events", i, "metrics", j), f"metric {name!r} is not defined", fix
        segment = event.get("segment")
        for dim in segment if isinstance(segment, dict) else {}:
            if dim not in dims:
                known = ", ".join(sorted(dims)) or "none"
                yield (
                    ("events", i, "segment", dim),
                    f"no metric is sliced by {dim!r}",
                    f"use one of the metrics' dimensions: {known}",
                )


def _texts(value: Any) -> list[str]:
    """The text items of ``value`` when it is a list; the schema reports the rest."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _kind_checks(at: Path_, metric: dict[str, Any]) -> Iterator[tuple[Path_, str, str | None]]:
    kind = metric["kind"]
    needed = KIND_FIELDS[kind]
    for field in needed:
        if metric.get(field) is None:
            yield (*at, "kind"), f"kind {kind} needs `{field}`", f"add `{field}:` to the metric"
    if metric.get("grain") == "hour" and kind in DAY_KINDS:
        yield (
            (*at, "grain"),
            f"kind {kind} follows customers over whole days, not hours",
            "use `grain: day` (or week, month) for this metric",
        )
    allowed = set(needed) | set(OPTIONAL_KIND_FIELDS.get(kind, ()))
    for field in sorted((kind_field_names() - allowed) & set(metric)):
        users = sorted(k for k, fields in KIND_FIELDS.items() if field in fields)
        yield (
            (*at, field),
            f"`{field}` is not used by kind {kind}",
            f"remove it, or use kind {' or '.join(users)}",
        )
