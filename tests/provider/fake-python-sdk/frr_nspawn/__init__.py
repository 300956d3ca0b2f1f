"""A stand-in for the `frr_nspawn` SDK that `pulumi package add` generates, built from
schema.json (FRR_NSPAWN_SCHEMA): resource classes taking `(resource_name, opts=None,
**inputs)` with snake_case keyword arguments, `<Type>Args` classes for object types,
`str` enums with UPPER_SNAKE members. Only the names the schema declares exist; an
unknown argument or a missing required one raises, as in the generated SDK.

Each resource created is recorded (RECORDED) with its inputs serialized the way the
Python SDK sends them to the engine: camelCase names, secrets marked with the secret
signature, resources as references, and each property's dependencies.
"""

import enum
import json
import os
import re
import sys

import pulumi

SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"

with open(os.environ["FRR_NSPAWN_SCHEMA"], encoding="utf-8") as f:
    _SCHEMA = json.load(f)

RECORDED = []


def snake(name):
    """Pulumi's Python names: `machineName` -> `machine_name`, `imageSha256` -> `image_sha256`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def upper_snake(name):
    return snake(name).upper()


def _camel_inputs(owner, declared, required, kwargs):
    by_snake = {snake(k): k for k in declared}
    unknown = sorted(k for k in kwargs if k not in by_snake)
    if unknown:
        raise TypeError(f"{owner}() got unexpected keyword arguments: {', '.join(unknown)}")
    values = {by_snake[k]: v for k, v in kwargs.items() if v is not None}
    missing = sorted(snake(k) for k in required if k not in values)
    if missing:
        raise TypeError(f"{owner}() missing required arguments: {', '.join(missing)}")
    return values


class _Args:
    """An input object type: its fields by schema name."""

    def __init__(self, **kwargs):
        t = _SCHEMA["types"][self._token]
        self.fields = _camel_inputs(
            type(self).__name__, t.get("properties", {}), t.get("required", []), kwargs
        )


class _Resource:
    _token = ""

    def __init__(self, resource_name, opts=None, **kwargs):
        r = _SCHEMA["resources"][self._token]
        self.urn = f"urn:pulumi:stack::project::{self._token}::{resource_name}"
        inputs = _camel_inputs(type(self).__name__, r["inputProperties"], r["requiredInputs"], kwargs)
        wire, deps = {}, {}
        for k, v in inputs.items():
            urns = []
            wire[k] = _serialize(v, urns)
            deps[k] = urns
        depends_on = [d.urn for d in getattr(opts, "depends_on", [])]
        RECORDED.append(
            {"type": self._token, "name": resource_name, "inputs": wire, "dependencies": deps, "dependsOn": depends_on}
        )
        for out in r["properties"]:
            setattr(self, snake(out), ("output", self.urn, out))


def _serialize(value, urns):
    if isinstance(value, pulumi.Secret):
        return {SIG: SECRET_SIG, "value": _serialize(value.value, urns)}
    if isinstance(value, _Resource):
        urns.append(value.urn)
        return {SIG: RESOURCE_SIG, "urn": value.urn, "packageVersion": ""}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, _Args):
        return {k: _serialize(v, urns) for k, v in value.fields.items() if v is not None}
    if isinstance(value, dict):
        return {k: _serialize(v, urns) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_serialize(v, urns) for v in value]
    return value


_module = sys.modules[__name__]
for _token, _type in _SCHEMA["types"].items():
    _name = _token.split(":")[2]
    if "enum" in _type:
        setattr(_module, _name, enum.Enum(_name, {upper_snake(e["name"]): e["value"] for e in _type["enum"]}, type=str))
    else:
        setattr(_module, f"{_name}Args", type(f"{_name}Args", (_Args,), {"_token": _token}))
for _token in _SCHEMA["resources"]:
    _name = _token.split(":")[2]
    setattr(_module, _name, type(_name, (_Resource,), {"_token": _token}))
