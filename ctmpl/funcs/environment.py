"""Environment helpers: ``env``, ``envOrDefault``."""

from __future__ import annotations

from ctmpl.funcs.registry import Registry
from ctmpl.template.context import current

functions = Registry()


@functions.register("env", filter=True)
def env(name: str) -> str:
    """The value of an environment variable, or an empty string."""
    return current().env.get(name, "")


@functions.register("envOrDefault", filter=False)
def env_or_default(name: str, default: str) -> str:
    """The value of an environment variable, or ``default`` when it is unset."""
    value = current().env.get(name)
    return default if value is None else value
