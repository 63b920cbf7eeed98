"""Acceptance module written for the official Python SDK

Argument kinds, a constructor, a returned object to chain on, errors and a
call into a TypeScript dependency through dag.
"""

import enum
from typing import Annotated

import dagger
from dagger import Doc, dag, enum_type, field, function, object_type


@enum_type
class Color(enum.Enum):
    """A color"""

    RED = "RED"
    BLUE = "BLUE"


@object_type
class Thing:
    x: int = field()

    @function
    def get_value(self) -> int:
        """Ten times x"""
        return self.x * 10


@object_type
class Pyacc:
    prefix: Annotated[str, Doc("What join and ctr-out start with")] = "p"

    @function
    async def files(self, dir: dagger.Directory) -> list[str]:
        """Entries of a directory"""
        return await dir.entries()

    @function
    async def ctr_out(self, ctr: dagger.Container) -> str:
        return await ctr.with_exec(["echo", self.prefix, "from-ctr"]).stdout()

    @function
    async def reveal(self, s: dagger.Secret) -> str:
        return (await s.plaintext()).upper()

    @function
    def join(self, items: list[str]) -> str:
        return f"{self.prefix}:{'+'.join(items)}"

    @function
    def pick(self, color: Color) -> str:
        return f"picked {color.value}"

    @function
    def make_thing(self, x: int) -> Thing:
        return Thing(x=x)

    @function
    def base(self) -> dagger.Container:
        return dag.container().from_("busybox:latest")

    @function
    def boom(self) -> str:
        raise ValueError("kaboom from python")

    @function
    async def via_ts(self, name: str) -> str:
        """Calls the TypeScript dependency"""
        return await dag.tsdep().hello(name)
