"""A response model's JSON straight from trusted domain objects, without validating them again.

`Model.model_validate(obj, from_attributes=True).model_dump_json()` checks every field of
objects the domain has already typed, and copies them into models only to encode them.
`ModelEncoder` reads the same attributes in the model's field order and encodes them once,
doing by hand the one thing lax validation would change: a number in a `float` field becomes
a float, so `5` is written `5.0` as the model writes it. It accepts only models whose fields it
can copy faithfully (plain values, floats, nested models, lists and optionals of those); any
other field fails when the encoder is built, never in a response.

Each model's reader is generated once as one dict display (`{"season": o.season, ...}`), the
way `dataclasses` generates `__init__`: the cheapest way Python has to read many attributes.
orjson writes the dict: its floats, strings and `null` for NaN and infinities are pydantic's
own (the tests compare them), in a third of pydantic's `to_json` time.

Models named in `memo` are encoded once per object: their JSON is kept beside the object it
was read from (by identity, the object held so its id is not reused) and spliced in as an
`orjson.Fragment`. For frozen values made once and shared, such as the memoised player
valuations a trade evaluation repeats, most of a response is then copied, not encoded.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any, Literal, Union, get_args, get_origin

import orjson
from pydantic import BaseModel

# Copied as they are: the domain's types already are what the model would hold.
_PLAIN: tuple[type, ...] = (int, str, bool)


MEMO_SIZE = 4096
"""Objects whose JSON an encoder keeps per memoised model; the oldest goes first."""


def _memoised(read: Callable[[Any], dict[str, Any]]) -> Callable[[Any], orjson.Fragment]:
    """`read`'s dict as an orjson Fragment, encoded once per object."""
    kept: dict[int, tuple[object, orjson.Fragment]] = {}

    def fragment(o: object) -> orjson.Fragment:
        hit = kept.get(id(o))
        if hit is not None and hit[0] is o:
            return hit[1]
        encoded = orjson.Fragment(orjson.dumps(read(o)))
        if len(kept) >= MEMO_SIZE:
            del kept[next(iter(kept))]
        kept[id(o)] = (o, encoded)
        return encoded

    return fragment


class _Readers:
    """The generated readers of one encoder, named `_r0`, `_r1`, ... in its namespace."""

    def __init__(self, memo: tuple[type[BaseModel], ...] = ()) -> None:
        self.namespace: dict[str, Any] = {"_float": float}
        self._by_model: dict[type[BaseModel], str] = {}
        self._memo = memo

    def expression(self, annotation: Any, value: str, where: str) -> str:
        """The Python expression giving the field's value from the attribute `value`."""
        if annotation is float:
            return f"_float({value})"
        if annotation in _PLAIN:
            return value
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return f"{self.reader(annotation)}({value})"
        origin, args = get_origin(annotation), get_args(annotation)
        if origin is Literal and all(isinstance(arg, str) for arg in args):
            return value
        if origin is list and len(args) == 1:
            item = self.expression(args[0], "item", where)
            # A tuple or list of plain values encodes as the same JSON array.
            return value if item == "item" else f"[{item} for item in {value}]"
        if origin in (Union, types.UnionType) and len(args) == 2 and type(None) in args:
            inner = next(arg for arg in args if arg is not type(None))
            converted = self.expression(inner, value, where)
            return value if converted == value else f"(None if {value} is None else {converted})"
        raise TypeError(f"{where}: {annotation!r} cannot be encoded without validation")

    def display(self, model: type[BaseModel], given: tuple[str, ...] = ()) -> str:
        """The dict display of `model` read from `o`; the names in `given` are variables."""
        decorators = model.__pydantic_decorators__
        if (
            model.model_computed_fields
            or decorators.field_serializers
            or decorators.model_serializers
        ):
            raise TypeError(f"{model.__name__} customises its serialisation")
        items = []
        for name, info in model.model_fields.items():
            where = f"{model.__name__}.{name}"
            if info.alias or info.serialization_alias or info.exclude:
                raise TypeError(f"{where} is renamed or left out when serialised")
            value = name if name in given else self.expression(info.annotation, f"o.{name}", where)
            items.append(f"{name!r}: {value}")
        return "{" + ", ".join(items) + "}"

    def reader(self, model: type[BaseModel]) -> str:
        """The name of the function reading `model`'s dict from an object, made once."""
        if model not in self._by_model:
            name = self._by_model[model] = f"_r{len(self._by_model)}"
            read = self.define(name, "o", self.display(model))
            if model in self._memo:
                self.namespace[name] = _memoised(read)
        return self._by_model[model]

    def define(self, name: str, parameters: str, display: str) -> Callable[..., dict[str, Any]]:
        exec(f"def {name}({parameters}):\n    return {display}\n", self.namespace)  # noqa: S102
        function: Callable[..., dict[str, Any]] = self.namespace[name]
        return function


class ModelEncoder:
    """`model`'s JSON from an object that has its fields as attributes, already checked; the
    fields named in `given` come as keyword arguments of `to_json` instead; the nested models
    in `memo` are encoded once per object (frozen objects only)."""

    def __init__(
        self,
        model: type[BaseModel],
        *,
        given: tuple[str, ...] = (),
        memo: tuple[type[BaseModel], ...] = (),
    ) -> None:
        # `o` names the object in the generated reader.
        unknown = [name for name in given if name not in model.model_fields or name == "o"]
        if unknown:
            raise TypeError(f"{model.__name__} has no field {unknown[0]!r} to be given")
        self.model = model
        readers = _Readers(memo)
        display = readers.display(model, given)
        parameters = ", ".join(("o", "*", *given)) if given else "o"
        self._as_dict = readers.define("_top", parameters, display)

    def to_json(self, obj: object, **given: Any) -> bytes:
        """The JSON `model.model_validate(...).model_dump_json()` writes, as bytes."""
        return orjson.dumps(self._as_dict(obj, **given))
