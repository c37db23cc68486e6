"""``sockaddr``: go-sockaddr's template language over this host's interfaces.

consul-template's ``{{ sockaddr "GetPrivateInterfaces | include \\"network\\" \\"10.0.0.0/8\\" |
attr \\"address\\"" }}`` joins its arguments with spaces, wraps them in ``{{ }}`` and runs the
result as a Go template whose dot is every address of the host and whose functions are
go-sockaddr's (``github.com/hashicorp/go-sockaddr/template``). This package does the same
with ctmpl's Go-template engine:

- :mod:`.addr`: ``IPv4Addr``/``IPv6Addr``, parsing and printing as Go does;
- :mod:`.ifaddr`: ``IfAddr``/``IfAddrs`` and ``net.Interface``, with Go's field names;
- :mod:`.rfc`: the RFC networks; :mod:`.attrs`: attributes by name;
- :mod:`.ops`: filters, sorts, ``unique``, ``join``, ``limit``, ``offset``, ``math``;
- :mod:`.gosort`: Go's (unstable) ``sort.Sort``, so ties come out in Go's order;
- :mod:`.system`: the machine's interfaces (psutil) and default route (``/proc/net/route``);
- :mod:`.funcmap`: the function map, bound to one snapshot of the interfaces.
"""

from __future__ import annotations

from typing import Any

from ctmpl.errors import CtmplError, FunctionError
from ctmpl.funcs.args import expect_str
from ctmpl.funcs.sockaddr.funcmap import Functions, World
from ctmpl.golang.quoting import quote
from ctmpl.template.gotemplate.exec import ExecError
from ctmpl.template.gotemplate.template import GoTemplate
from ctmpl.template.registry import Registry

functions = Registry()

TEMPLATE_NAME = "sockaddr.Parse"


def evaluate(text: str) -> str:
    """go-sockaddr's ``template.Parse``: run ``text`` over the host's interfaces."""
    world = World()
    try:
        template = GoTemplate(
            TEMPLATE_NAME, text, Functions(world).registry(), error_on_missing_key=True
        )
    except CtmplError as exc:
        reason = str(exc.__cause__ or exc)
        raise FunctionError(
            f"unable to parse template {quote(text, ascii_only=True)}: {reason}"
        ) from None
    try:
        return template.execute(world.all())
    except ExecError as exc:
        raise FunctionError(
            f"unable to execute sockaddr input {quote(text, ascii_only=True)}: {exc}"
        ) from None


@functions.register("sockaddr", filter=False)
def sockaddr(*parts: Any) -> str:
    """go-sockaddr's template language: ``sockaddr "GetPrivateInterfaces | attr \\"name\\""``."""
    text = " ".join(expect_str("sockaddr", p) for p in parts)
    return evaluate(f"{{{{ {text} }}}}")
