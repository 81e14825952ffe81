"""Validation of Bot API calls (and of the emulator's own output) against ``botapi.json``.

A request arrives as form fields (strings; PTB JSON-encodes every non-string value) plus
uploaded files. ``Spec.validate_call`` turns it into typed Python values or raises
``SpecError`` with the text that follows "Bad Request: " in the HTTP 400 answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("botapi.json")

_INT_RE = re.compile(r"^-?[0-9]+$")
_PRIMITIVES = frozenset({"Integer", "Float", "Boolean", "String", "InputFile"})


# Parameters python-telegram-bot itself adds where the spec has none (its Defaults fill
# parse_mode into every _send_message call); real Telegram ignores them, so do we.
TOLERATED_EXTRAS: dict[str, frozenset[str]] = {
    "editMessageReplyMarkup": frozenset({"parse_mode"}),
}


class SpecError(ValueError):
    """A request (or emulator output) that does not match the Bot API spec."""

    def __init__(self, message: str, depth: int = 0) -> None:
        super().__init__(message)
        self.depth = depth  # how deep in the value the mismatch was: picks the best union error


@dataclass(frozen=True)
class Upload:
    """A file uploaded in a multipart request."""

    filename: str
    content: bytes = field(repr=False)
    content_type: str = "application/octet-stream"

    def __str__(self) -> str:
        return f"<upload {self.filename!r}, {len(self.content)} bytes>"


@dataclass(frozen=True)
class FieldSpec:
    """One parameter of a method or field of a type."""

    name: str
    types: tuple[str, ...]
    required: bool
    const: str | None = None


RawParam = str | Upload


class Spec:
    """The reduced Bot API spec with validators for requests and for emulator output."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.methods: dict[str, dict[str, FieldSpec]] = {}
        self.returns: dict[str, tuple[str, ...]] = {}
        for name, m in data["methods"].items():
            self.methods[name] = {f[0]: _field(f) for f in m["fields"]}
            self.returns[name] = tuple(m.get("returns", ()))
        self.types: dict[str, dict[str, FieldSpec]] = {}
        self.subtypes: dict[str, tuple[str, ...]] = {}
        for name, t in data["types"].items():
            if "subtypes" in t:
                self.subtypes[name] = tuple(t["subtypes"])
            else:
                self.types[name] = {f[0]: _field(f) for f in t["fields"]}
        self._lower = {name.lower(): name for name in self.methods}

    @classmethod
    @cache
    def load(cls, path: Path = SPEC_PATH) -> Spec:
        """Load (once) the committed reduced spec."""
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def method_name(self, name: str) -> str | None:
        """Canonical method name (Telegram matches method names case-insensitively)."""
        return self._lower.get(name.lower())

    # ------------------------------------------------------------------ requests

    def validate_call(self, method: str, params: dict[str, RawParam]) -> dict[str, Any]:
        """Check a request's raw parameters and return them decoded to Python values."""
        fields = self.methods[method]
        uploads = {k: v for k, v in params.items() if isinstance(v, Upload)}
        decoded: dict[str, Any] = {}
        for name, raw in params.items():
            spec = fields.get(name)
            if spec is None:
                if isinstance(raw, Upload) and _is_attached(name, params):
                    continue  # a multipart part referenced as attach://name
                if name in TOLERATED_EXTRAS.get(method, ()):
                    continue
                raise SpecError(f'unknown parameter "{name}" for method {method}')
            decoded[name] = self._decode_form(raw, spec, uploads)
        for name, spec in fields.items():
            if spec.required and name not in decoded:
                raise SpecError(f'parameter "{name}" is required for method {method}')
        return decoded

    def _decode_form(self, raw: RawParam, spec: FieldSpec, uploads: dict[str, Upload]) -> Any:
        types = spec.types
        if isinstance(raw, Upload):
            if "InputFile" in types:
                return raw
            raise SpecError(f'parameter "{spec.name}" must not be a file upload')
        errors: list[SpecError] = []
        # Integer is tried before String so that chat_id="123" becomes an int.
        for t in sorted(types, key=_form_order):
            try:
                return self._decode_form_as(raw, t, spec.name, uploads)
            except SpecError as exc:
                errors.append(exc)
        raise _best(errors)

    def _decode_form_as(self, raw: str, t: str, name: str, uploads: dict[str, Upload]) -> Any:
        if t == "String":
            return raw
        if t == "Integer":
            if _INT_RE.match(raw):
                return int(raw)
            raise SpecError(f'parameter "{name}" must be an Integer, got {raw[:40]!r}')
        if t == "Float":
            try:
                return float(raw)
            except ValueError:
                raise SpecError(f'parameter "{name}" must be a Float, got {raw[:40]!r}') from None
        if t == "Boolean":
            lowered = raw.lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0"):
                return False
            raise SpecError(f'parameter "{name}" must be a Boolean, got {raw[:40]!r}')
        if t == "InputFile":
            if raw.startswith("attach://"):
                part = uploads.get(raw[len("attach://") :])
                if part is None:
                    raise SpecError(f'parameter "{name}" refers to a missing file part {raw!r}')
                return part
            raise SpecError(f'parameter "{name}" must be an uploaded file')
        # Arrays and objects travel as JSON text.
        try:
            value = json.loads(raw)
        except ValueError:
            raise SpecError(f"can't parse {name} JSON object") from None
        return self.check(value, (t,), name, uploads=uploads)

    # ------------------------------------------------------------------ JSON values

    def check(
        self,
        value: Any,
        types: tuple[str, ...] | list[str],
        path: str,
        *,
        uploads: dict[str, Upload] | None = None,
        depth: int = 0,
    ) -> Any:
        """Validate a JSON value against a union of spec types; return it (uploads resolved)."""
        errors: list[SpecError] = []
        for t in types:
            try:
                return self._check_one(value, t, path, uploads, depth)
            except SpecError as exc:
                errors.append(exc)
        raise _best(errors)

    def _check_one(
        self, value: Any, t: str, path: str, uploads: dict[str, Upload] | None, depth: int
    ) -> Any:
        if t.startswith("Array of "):
            if not isinstance(value, list):
                raise SpecError(f"{path} must be an Array", depth)
            inner = (t[len("Array of ") :],)
            return [
                self.check(v, inner, f"{path}[{i}]", uploads=uploads, depth=depth + 1)
                for i, v in enumerate(value)
            ]
        if t == "Integer":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            raise SpecError(f"{path} must be an Integer", depth)
        if t == "Float":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
            raise SpecError(f"{path} must be a Float", depth)
        if t == "Boolean":
            if isinstance(value, bool):
                return value
            raise SpecError(f"{path} must be a Boolean", depth)
        if t == "String":
            if isinstance(value, str):
                return value
            raise SpecError(f"{path} must be a String", depth)
        if t == "InputFile":
            if isinstance(value, str) and value.startswith("attach://"):
                part = (uploads or {}).get(value[len("attach://") :])
                if part is not None:
                    return value
            raise SpecError(f"{path} must be an attach:// reference to an uploaded file", depth)
        if t in self.subtypes:
            return self._check_union(value, t, path, uploads, depth)
        fields = self.types.get(t)
        if fields is None:
            raise SpecError(f"{path}: unknown type {t}", depth)
        if not isinstance(value, dict):
            raise SpecError(f"{path} must be a JSON object of type {t}", depth)
        for key in value:
            if key not in fields:
                raise SpecError(f'{path}: unknown field "{key}" in {t}', depth + 1)
        out: dict[str, Any] = {}
        for key, spec in fields.items():
            if key not in value:
                if spec.required:
                    raise SpecError(f'{path}: field "{key}" of {t} is required', depth + 1)
                continue
            if spec.const is not None and value[key] != spec.const:
                raise SpecError(f'{path}.{key} must be "{spec.const}" for {t}', depth)
            out[key] = self.check(
                value[key], spec.types, f"{path}.{key}", uploads=uploads, depth=depth + 1
            )
        return out

    def _check_union(
        self, value: Any, t: str, path: str, uploads: dict[str, Upload] | None, depth: int
    ) -> Any:
        members = list(self.subtypes[t])
        if isinstance(value, dict):
            # Prefer the members whose discriminator (type/status/source) matches.
            matching = [
                m
                for m in members
                if any(
                    f.const is not None and value.get(f.name) == f.const
                    for f in self.types.get(m, {}).values()
                )
            ]
            if matching:
                members = matching
            elif any(f.const is not None for m in members for f in self.types.get(m, {}).values()):
                raise SpecError(
                    f"{path}: no variant of {t} matches {json.dumps(value)[:80]}", depth
                )
        return self.check(value, members, path, uploads=uploads, depth=depth)


def _field(raw: list[Any]) -> FieldSpec:
    return FieldSpec(raw[0], tuple(raw[1]), bool(raw[2]), raw[3] if len(raw) > 3 else None)


def _form_order(t: str) -> int:
    return {"Integer": 0, "Boolean": 1, "Float": 2, "InputFile": 3, "String": 9}.get(t, 5)


def _best(errors: list[SpecError]) -> SpecError:
    return max(errors, key=lambda e: e.depth)


def _is_attached(name: str, params: dict[str, RawParam]) -> bool:
    ref = f"attach://{name}"
    return any(isinstance(v, str) and ref in v for v in params.values())


def is_primitive(t: str) -> bool:
    """Whether a spec type name is a scalar (not an object, array or union)."""
    return t in _PRIMITIVES
