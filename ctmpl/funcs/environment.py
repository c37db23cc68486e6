"""Environment helpers: ``env``, ``envOrDefault``, ``mustEnv``."""

from __future__ import annotations

from ctmpl.errors import FunctionError
from ctmpl.template.context import current
from ctmpl.template.registry import Registry

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


@functions.register("mustEnv", filter=True)
def must_env(name: str) -> str:
    """The value of an environment variable; an error if it is unset or empty."""
    value = current().env.get(name, "")
    if not value:
        raise FunctionError(f"mustEnv: required environment variable {name} is empty")
    return value
