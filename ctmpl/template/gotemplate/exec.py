"""Go's ``text/template`` ``exec.go``: execution state, expression evaluation and errors.

:mod:`~ctmpl.template.gotemplate.compiler` turns each parse tree into closures once; they
run on a :class:`State` and defer to its methods here for what is not worth specialising
(chain nodes, number constants, ``printf`` and ``call``, fields read through methods, nil
or missing keys) and for every error. Variables live on one push-down stack as in Go
(``$x :=`` pushes, ``$x =`` assigns the innermost ``$x``, scopes pop on ``end``);
``break``/``continue`` unwind with exceptions. Every error is an :class:`ExecError` with
Go's wording and the template, line and byte column of the node being executed
(``State.node``, set wherever Go's ``s.at`` is called).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from ctmpl.errors import TemplateError
from ctmpl.golang import fmt, values
from ctmpl.golang.quoting import quote
from ctmpl.template import limits
from ctmpl.template.gotemplate import builtins
from ctmpl.template.gotemplate.builtins import FuncError
from ctmpl.template.gotemplate.nodes import (
    BoolNode,
    ChainNode,
    CommandNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    StringNode,
    VariableNode,
)
from ctmpl.template.gotemplate.numbers import INT64_MAX, INT64_MIN
from ctmpl.template.gotemplate.parser import Tree

MAX_EXEC_DEPTH = 100000


class _Missing:
    """Go's ``missingVal``: no value was piped into a command."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


class ExecError(TemplateError):
    """An execution error; ``str()`` is Go's full message."""

    def __init__(
        self,
        name: str,
        reason: str,
        *,
        location: str | None = None,
        context: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.name = name
        self.reason = reason
        self.line = line
        self.column = column
        self.context = context
        if location is None:
            message = f"template: {name}: {reason}"
        else:
            message = f"template: {location}: executing {quote(name)} at <{context}>: {reason}"
        super().__init__(message)


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


Function = Callable[..., Any]


@dataclasses.dataclass
class Options:
    """What stays the same through one execution: templates, functions, missing-key rule."""

    trees: Mapping[str, Tree]
    functions: Callable[[str], Function | None]
    missing_key_error: bool = False


class State:
    """One executing template: its name, variable stack and the node being evaluated."""

    def __init__(self, options: Options, tree: Tree, out: list[str], depth: int = 0) -> None:
        self.options = options
        self.tree = tree
        self.out = out
        self.node: Node | None = None
        self.vars: list[tuple[str, Any]] = []
        self.depth = depth

    # ------------------------------------------------------------------ variables

    def push(self, name: str, value: Any) -> None:
        self.vars.append((name, value))

    def mark(self) -> int:
        return len(self.vars)

    def pop(self, mark: int) -> None:
        del self.vars[mark:]

    def set_var(self, name: str, value: Any) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        raise self.error(f"undefined variable: {name}")

    def set_top_var(self, n: int, value: Any) -> None:
        name = self.vars[-n][0]
        self.vars[-n] = (name, value)

    def var_value(self, name: str) -> Any:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                return self.vars[i][1]
        raise self.error(f"undefined variable: {name}")

    # ------------------------------------------------------------------ errors

    def at(self, node: Node) -> None:
        self.node = node

    def error(self, reason: str) -> ExecError:
        name = self.tree.name
        if self.node is None:
            return ExecError(name, reason)
        location, context = self.tree.error_context(self.node)
        _, line, column = location.rsplit(":", 2)
        return ExecError(
            name,
            reason,
            location=location,
            context=context,
            line=int(line),
            column=int(column),
        )

    # ------------------------------------------------------------------ range

    def _range_over(
        self, value: Any, pipe: PipeNode, one_iteration: Callable[[Any, Any], None]
    ) -> bool:
        """Run the loop body over ``value``; False when there was nothing to iterate."""
        k = values.kind(value)
        if k == values.INT:
            if len(pipe.decl) > 1:
                raise self.error(
                    f"can't use {fmt.sprint(value)} to iterate over more than one variable"
                )
            limits.check_loop(value, "range")
            for i in range(value):
                one_iteration(None, i)
            return bool(value > 0)
        if k == values.SLICE:
            for i, elem in enumerate(value):
                one_iteration(i, elem)
            return len(value) > 0
        if k == values.MAP:
            items = values.sorted_items(value)
            for key, elem in items:
                one_iteration(key, elem)
            return len(items) > 0
        if k == values.CHAN:
            count = 0
            for elem in value:
                one_iteration(count, elem)
                count += 1
            return count > 0
        if k == values.INVALID:
            return False
        raise self.error(f"range can't iterate over {fmt.sprint(value)}")

    # ------------------------------------------------------------------ pipelines

    def eval_pipeline(self, dot: Any, pipe: PipeNode | None) -> Any:
        if pipe is None:
            return None
        self.at(pipe)
        value = MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for variable in pipe.decl:
            if pipe.is_assign:
                self.set_var(variable.ident[0], value)
            else:
                self.push(variable.ident[0], value)
        return value

    def not_a_function(self, args: list[Node], final: Any) -> None:
        if len(args) > 1 or final is not MISSING:
            raise self.error(f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot: Any, cmd: CommandNode, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, FieldNode):
            return self.eval_field_node(dot, first, cmd.args, final)
        if isinstance(first, ChainNode):
            return self.eval_chain_node(dot, first, cmd.args, final)
        if isinstance(first, IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, VariableNode):
            return self.eval_variable_node(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, BoolNode):
            return first.value
        if isinstance(first, DotNode):
            return dot
        if isinstance(first, NilNode):
            raise self.error("nil is not a command")
        if isinstance(first, NumberNode):
            return self.ideal_constant(first)
        if isinstance(first, StringNode):
            return first.text
        raise self.error(f"can't evaluate command {quote(str(first))}")

    def ideal_constant(self, constant: NumberNode) -> Any:
        self.at(constant)
        text = constant.text
        if constant.is_complex:
            return constant.complex128
        is_hex_int = (
            len(text) > 2
            and text[0] == "0"
            and text[1] in "xX"
            and not any(c in text for c in "pP")
        )
        if (
            constant.is_float
            and not is_hex_int
            and not text.startswith("'")
            and any(c in text for c in ".eEpP")
        ):
            return constant.float64
        if constant.is_int:
            if not INT64_MIN <= constant.int64 <= INT64_MAX:
                raise self.error(f"{text} overflows int")
            return constant.int64
        if constant.is_uint:
            raise self.error(f"{text} overflows int")
        return None

    def eval_field_node(self, dot: Any, field: FieldNode, args: list[Node], final: Any) -> Any:
        self.at(field)
        return self.eval_field_chain(dot, dot, field, field.ident, args, final)

    def eval_chain_node(
        self, dot: Any, chain: ChainNode, args: list[Node] | None, final: Any
    ) -> Any:
        self.at(chain)
        if not chain.fields:
            raise self.error("internal error: no fields in evalChainNode")
        assert chain.node is not None
        if isinstance(chain.node, NilNode):
            raise self.error(f"indirection through explicit nil in {chain}")
        receiver = self.eval_arg(dot, chain.node)
        return self.eval_field_chain(dot, receiver, chain, chain.fields, args, final)

    def eval_variable_node(
        self, dot: Any, variable: VariableNode, args: list[Node] | None, final: Any
    ) -> Any:
        self.at(variable)
        value = self.var_value(variable.ident[0])
        if len(variable.ident) == 1:
            self.not_a_function(args or [variable], final)
            return value
        return self.eval_field_chain(dot, value, variable, variable.ident[1:], args, final)

    def eval_field_chain(
        self,
        dot: Any,
        receiver: Any,
        node: Node,
        ident: list[str],
        args: list[Node] | None,
        final: Any,
    ) -> Any:
        for name in ident[:-1]:
            value = self.eval_field(dot, name, node, None, MISSING, receiver)
            if value is None and _holds_interfaces(receiver):
                # Go's missingkey=zero: a nil interface{}, not the invalid value of nil data;
                # a field of it is an error.
                raise self.error(f"nil pointer evaluating interface {{}}.{_next(ident, name)}")
            receiver = value
        return self.eval_field(dot, ident[-1], node, args, final, receiver)

    def eval_field(
        self,
        dot: Any,
        name: str,
        node: Node,
        args: list[Node] | None,
        final: Any,
        receiver: Any,
    ) -> Any:
        if receiver is None:
            if self.options.missing_key_error:
                raise self.error(f"nil data; no entry for key {quote(name)}")
            return None
        has_args = (args is not None and len(args) > 1) or final is not MISSING
        if isinstance(receiver, values.NilPointer):
            raise self.error(f"nil pointer evaluating {receiver.go_type.name}.{name}")
        k = values.kind(receiver)
        if k == values.MAP:
            if has_args:
                raise self.error(f"{name} is not a method but has arguments")
            if name in receiver:
                return receiver[name]
            if self.options.missing_key_error:
                raise self.error(f"map has no entry for key {quote(name)}")
            return values.map_zero(receiver)
        if k in (values.STRUCT, values.PTR) and values.is_exported(name):
            is_field = name in _field_names(receiver)
            if is_field:
                if has_args:
                    raise self.error(f"{name} has arguments but cannot be invoked as function")
                return getattr(receiver, name)
            member = getattr(receiver, name, _NOT_FOUND)
            if member is not _NOT_FOUND:
                if callable(member):
                    return self.eval_call(dot, member, node, name, args, final)
                if has_args:
                    raise self.error(f"{name} has arguments but cannot be invoked as function")
                return member
        raise self.error(f"can't evaluate field {name} in type {values.type_name(receiver)}")

    # ------------------------------------------------------------------ calls

    def eval_function(
        self,
        dot: Any,
        node: IdentifierNode,
        cmd: Node,
        args: list[Node] | None,
        final: Any,
    ) -> Any:
        self.at(node)
        name = node.ident
        if name in builtins.BUILTINS:
            return self.eval_builtin(dot, name, cmd, args, final)
        function = self.options.functions(name)
        if function is None:
            raise self.error(f"{quote(name)} is not a defined function")
        return self.eval_call(dot, function, cmd, name, args, final)

    def _arg_values(self, dot: Any, args: list[Node], final: Any) -> list[Any]:
        argv = [self.eval_arg(dot, arg) for arg in args]
        if final is not MISSING:
            argv.append(final)
        return argv

    def eval_builtin(
        self, dot: Any, name: str, node: Node, args: list[Node] | None, final: Any
    ) -> Any:
        impl, minimum, maximum = builtins.BUILTINS[name]
        rest = (args or [])[1:]
        count = len(rest) + (final is not MISSING)
        if maximum is None and count < minimum:
            raise self.error(
                f"wrong number of args for {name}: want at least {minimum} got {len(rest)}"
            )
        if maximum is not None and count != maximum:
            raise self.error(f"wrong number of args for {name}: want {maximum} got {count}")
        if name in ("and", "or"):
            result: Any = None
            for arg in rest:
                result = self.eval_arg(dot, arg)
                if values.truth(result) == (name == "or"):
                    return result
            if final is not MISSING:
                result = final
            return result
        if name == "printf" and rest:
            fmt_value = self.eval_string_arg(dot, rest[0])
            argv = [fmt_value, *self._arg_values(dot, rest[1:], final)]
        elif name == "printf":
            argv = [self._check_string(final)]
        else:
            argv = self._arg_values(dot, rest, final)
        if name == "call":
            callee = str(rest[0]) if rest else fmt.sprint(final)
            argv = [callee, *argv]
        try:
            return impl(*argv)
        except FuncError as exc:
            self.at(node)
            raise self.error(f"error calling {name}: {exc}") from None

    def eval_call(
        self,
        dot: Any,
        function: Function,
        node: Node,
        name: str,
        args: list[Node] | None,
        final: Any,
    ) -> Any:
        rest = (args or [])[1:]
        count = len(rest) + (final is not MISSING)
        try:
            builtins.check_arity(name, function, count)
        except FuncError as exc:
            raise self.error(str(exc)) from None
        return self.call(function, node, name, self._arg_values(dot, rest, final))

    def call(self, function: Function, node: Node, name: str, argv: list[Any]) -> Any:
        """``function(*argv)``; what it raises becomes Go's "error calling NAME" at ``node``
        (loop control, execution errors and recursion pass through)."""
        try:
            return function(*argv)
        except (_Break, _Continue, ExecError):
            raise
        except RecursionError:
            raise
        except Exception as exc:
            self.at(node)
            raise self.error(f"error calling {name}: {_reason(exc)}") from None

    def eval_arg(self, dot: Any, node: Node) -> Any:
        """An argument of ``interface{}`` type."""
        self.at(node)
        if isinstance(node, DotNode):
            return dot
        if isinstance(node, NilNode):
            return None
        if isinstance(node, FieldNode):
            return self.eval_field_node(dot, node, [node], MISSING)
        if isinstance(node, VariableNode):
            return self.eval_variable_node(dot, node, None, MISSING)
        if isinstance(node, PipeNode):
            return self.eval_pipeline(dot, node)
        if isinstance(node, IdentifierNode):
            return self.eval_function(dot, node, node, None, MISSING)
        if isinstance(node, ChainNode):
            return self.eval_chain_node(dot, node, None, MISSING)
        if isinstance(node, BoolNode):
            return node.value
        if isinstance(node, NumberNode):
            return self.ideal_constant(node)
        if isinstance(node, StringNode):
            return node.text
        raise self.error(f"can't handle assignment of {node} to empty interface argument")

    def eval_string_arg(self, dot: Any, node: Node) -> str:
        """An argument of ``string`` type (``printf``'s format)."""
        self.at(node)
        if isinstance(node, StringNode):
            return node.text
        if isinstance(node, NilNode):
            raise self.error("cannot assign nil to string")
        if isinstance(node, BoolNode | NumberNode):
            raise self.error(f"expected string; found {node}")
        return self._check_string(self.eval_arg(dot, node))

    def _check_string(self, value: Any) -> str:
        if value is None:
            raise self.error("invalid value; expected string")
        if not isinstance(value, str):
            raise self.error(
                f"wrong type for value; expected string; got {values.type_name(value)}"
            )
        return value

    # ------------------------------------------------------------------ output

    def print_value(self, node: Node, value: Any) -> None:
        self.at(node)
        if values.kind(value) in (values.CHAN, values.FUNC):
            raise self.error(f"can't print {node} of type {values.type_name(value)}")
        self.out.append(fmt.print_value(value))


_NOT_FOUND = object()


def _reason(exc: Exception) -> str:
    text = str(exc)
    return text if text else type(exc).__name__


_FIELD_NAMES: dict[type, frozenset[str]] = {}


def _field_names(receiver: Any) -> frozenset[str]:
    """The data fields of a dataclass instance (Go struct fields), cached per class."""
    if isinstance(receiver, type) or not dataclasses.is_dataclass(receiver):
        return frozenset()
    cls = type(receiver)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = frozenset(f.name for f in dataclasses.fields(receiver))
    return names


def _holds_interfaces(receiver: Any) -> bool:
    """Whether ``receiver`` is a map whose elements are ``interface{}`` values."""
    if values.kind(receiver) != values.MAP:
        return False
    go_type = getattr(receiver, "go_type", None)
    return go_type is None or go_type.elem is None or go_type.elem.kind == values.INTERFACE


def _next(ident: list[str], name: str) -> str:
    return ident[ident.index(name) + 1]
