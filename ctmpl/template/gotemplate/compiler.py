"""A parse tree compiled once into Python closures, run on every render pass.

Walking the tree on every pass spends most of its time deciding, node by node, what kind of
node it is and what kind of value a field is read from. Here those decisions are taken once:
a text node becomes an append of a constant, a field chain a list of accessors that remember
how each receiver type is read, a call binds its argument evaluators, ``if``/``with``/``range``
become a conditional or a loop over compiled bodies. Go's semantics are those of
:mod:`~ctmpl.template.gotemplate.exec`, whose :class:`State` still holds the variable stack,
the node being executed (for errors with Go's message and position) and the rare paths
(``printf``, ``call``, chain nodes, number constants, every error): a compiled closure sets
``state.node`` wherever the evaluator calls ``at`` and defers to the evaluator's own method
whenever a fast path does not apply, so both give the same output and the same errors.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from ctmpl.errors import LimitError
from ctmpl.golang import values
from ctmpl.golang.fmt import print_value as _go_print
from ctmpl.golang.quoting import quote
from ctmpl.template import limits
from ctmpl.template.gotemplate import builtins
from ctmpl.template.gotemplate.builtins import FuncError
from ctmpl.template.gotemplate.exec import (
    MAX_EXEC_DEPTH,
    MISSING,
    ExecError,
    Options,
    State,
    _Break,
    _Continue,
    _field_names,
    _holds_interfaces,
    _next,
)
from ctmpl.template.gotemplate.nodes import (
    ActionNode,
    BoolNode,
    BreakNode,
    ChainNode,
    CommandNode,
    CommentNode,
    ContinueNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    ListNode,
    NilNode,
    Node,
    NumberNode,
    PipeNode,
    RangeNode,
    StringNode,
    TemplateNode,
    TextNode,
    VariableNode,
    WithNode,
)
from ctmpl.template.gotemplate.parser import Tree

#: Runs a node: appends its output to ``state.out``.
Step = Callable[[State, Any], None]
#: Evaluates an argument (Go's ``evalArg`` to ``interface{}``).
Expr = Callable[[State, Any], Any]
#: Evaluates a command with the value piped into it (``MISSING`` if none).
Command = Callable[[State, Any, Any], Any]
#: Reads one field or key of a receiver: ``(state, dot, receiver, final)``.
Getter = Callable[[State, Any, Any, Any], Any]

_COMPILED: weakref.WeakKeyDictionary[Tree, Step] = weakref.WeakKeyDictionary()


def compiled(tree: Tree) -> Step:
    """The compiled root of ``tree``, compiled on first use and kept with the tree."""
    program = _COMPILED.get(tree)
    if program is None:
        assert tree.root is not None
        program = _COMPILED[tree] = _step(tree.root)
    return program


def execute(options: Options, name: str, dot: Any) -> str:
    """Run template ``name`` of ``options.trees`` with ``dot`` as data; return the output."""
    tree = options.trees.get(name)
    if tree is None:
        raise ExecError(name, f"{quote(name)} is an incomplete or empty template")
    out: list[str] = limits.Output()  # bounded by limits.output_size
    state = State(options, tree, out)
    state.vars = [("$", dot)]
    if tree.root is None:
        raise state.error(f"{quote(tree.name)} is an incomplete or empty template")
    try:
        compiled(tree)(state, dot)
    except RecursionError:
        raise state.error(f"exceeded maximum template depth ({MAX_EXEC_DEPTH})") from None
    except LimitError as exc:
        raise state.error(str(exc)) from None
    return "".join(out)


# ---------------------------------------------------------------------------- nodes


def _step(node: Node) -> Step:
    if isinstance(node, TextNode):
        return _text(node.text)
    if isinstance(node, ActionNode):
        return _action(node)
    if isinstance(node, ListNode):
        return _list(node)
    if isinstance(node, IfNode | WithNode):
        return _if_or_with(node, isinstance(node, WithNode))
    if isinstance(node, RangeNode):
        return _range(node)
    if isinstance(node, TemplateNode):
        return _template(node)
    if isinstance(node, BreakNode):
        return _break
    if isinstance(node, ContinueNode):
        return _continue
    if isinstance(node, CommentNode):
        return _nothing

    def unknown(state: State, dot: Any) -> None:
        state.node = node
        raise state.error(f"unknown node: {node}")

    return unknown


def _nothing(state: State, dot: Any) -> None:
    pass


def _break(state: State, dot: Any) -> None:
    raise _Break


def _continue(state: State, dot: Any) -> None:
    raise _Continue


def _text(text: str) -> Step:
    def run(state: State, dot: Any) -> None:
        state.out.append(text)

    return run


def _list(node: ListNode) -> Step:
    steps = [_step(child) for child in node.nodes if not isinstance(child, CommentNode)]
    if len(steps) == 1:
        return steps[0]

    def run(state: State, dot: Any) -> None:
        for step in steps:
            step(state, dot)

    return run


def _action(node: ActionNode) -> Step:
    assert node.pipe is not None
    pipe = _pipeline(node.pipe)
    if node.pipe.decl:

        def declare(state: State, dot: Any) -> None:
            state.node = node
            pipe(state, dot)

        return declare

    def run(state: State, dot: Any) -> None:
        state.node = node
        value = pipe(state, dot)
        cls = type(value)
        if cls is str:
            state.out.append(value)
        elif cls is int:
            state.out.append(str(value))
        else:
            _print(state, node, value)

    return run


def _print(state: State, node: Node, value: Any) -> None:
    """The evaluator's ``print_value``, without its method call for the common kinds."""
    state.node = node
    if value is None:
        state.out.append("<no value>")
    elif type(value) is bool:
        state.out.append("true" if value else "false")
    elif values.kind(value) in (values.CHAN, values.FUNC):
        raise state.error(f"can't print {node} of type {values.type_name(value)}")
    else:
        state.out.append(_go_print(value))


def _if_or_with(node: IfNode | WithNode, is_with: bool) -> Step:
    assert node.pipe is not None and node.list is not None
    pipe = _pipeline(node.pipe)
    body = _step(node.list)
    orelse = _step(node.else_list) if node.else_list is not None else None
    truth = values.truth

    def run(state: State, dot: Any) -> None:
        state.node = node
        mark = len(state.vars)
        try:
            value = pipe(state, dot)
            if truth(value):
                body(state, value if is_with else dot)
            elif orelse is not None:
                orelse(state, dot)
        finally:
            del state.vars[mark:]

    return run


def _range(node: RangeNode) -> Step:
    assert node.pipe is not None and node.list is not None
    pipe_node = node.pipe
    pipe = _pipeline(pipe_node)
    body = _step(node.list)
    orelse = _step(node.else_list) if node.else_list is not None else None
    names = [v.ident[0] for v in pipe_node.decl]
    is_assign = pipe_node.is_assign

    def iterate(state: State, dot: Any, value: Any) -> bool:
        inner = len(state.vars)
        variables = state.vars

        def one_iteration(index: Any, elem: Any) -> None:
            if names:
                if is_assign:
                    state.set_var(names[0], index if len(names) > 1 else elem)
                else:
                    state.set_top_var(1, elem)
                if len(names) > 1:
                    if is_assign:
                        state.set_var(names[1], elem)
                    else:
                        state.set_top_var(2, index)
            try:
                body(state, elem)
            except _Continue:
                pass
            finally:
                del variables[inner:]

        if not names and (type(value) is list or type(value) is tuple):
            for elem in value:
                try:
                    body(state, elem)
                except _Continue:
                    pass
                finally:
                    del variables[inner:]
            return len(value) > 0
        return state._range_over(value, pipe_node, one_iteration)

    def run(state: State, dot: Any) -> None:
        state.node = node
        outer = len(state.vars)
        try:
            value = pipe(state, dot)
            if iterate(state, dot, value):
                return
            if orelse is not None:
                orelse(state, dot)
        except _Break:
            pass
        finally:
            del state.vars[outer:]

    return run


def _template(node: TemplateNode) -> Step:
    name = node.name
    pipe = _pipeline(node.pipe) if node.pipe is not None else None

    def run(state: State, dot: Any) -> None:
        state.node = node
        tree = state.options.trees.get(name)
        if tree is None:
            raise state.error(f"template {quote(name)} not defined")
        if state.depth >= MAX_EXEC_DEPTH:
            raise state.error(f"exceeded maximum template depth ({MAX_EXEC_DEPTH})")
        dot = pipe(state, dot) if pipe is not None else None
        called = State(state.options, tree, state.out, state.depth + 1)
        called.vars = [("$", dot)]
        assert tree.root is not None
        try:
            compiled(tree)(called, dot)
        except RecursionError:
            # Go stops at the call that goes one level too deep, before its pipeline.
            state.node = node
            raise state.error(f"exceeded maximum template depth ({MAX_EXEC_DEPTH})") from None

    return run


# ---------------------------------------------------------------------------- pipelines


def _pipeline(pipe: PipeNode) -> Expr:
    commands = [_command(cmd) for cmd in pipe.cmds]
    names = [v.ident[0] for v in pipe.decl]
    is_assign = pipe.is_assign
    if len(commands) == 1 and not names:
        only = commands[0]

        def single(state: State, dot: Any) -> Any:
            state.node = pipe
            return only(state, dot, MISSING)

        return single

    def run(state: State, dot: Any) -> Any:
        state.node = pipe
        value = MISSING
        for command in commands:
            value = command(state, dot, value)
        for name in names:
            if is_assign:
                state.set_var(name, value)
            else:
                state.vars.append((name, value))
        return value

    return run


def _command(cmd: CommandNode) -> Command:
    args = cmd.args
    first = args[0]
    if isinstance(first, FieldNode):
        chain = _field_chain(first, first.ident, args)

        def field(state: State, dot: Any, final: Any) -> Any:
            state.node = first
            return chain(state, dot, dot, final)

        return field
    if isinstance(first, ChainNode):

        def chain_node(state: State, dot: Any, final: Any) -> Any:
            return state.eval_chain_node(dot, first, args, final)

        return chain_node
    if isinstance(first, IdentifierNode):
        return _function(first, cmd, args)
    if isinstance(first, PipeNode):
        inner = _pipeline(first)

        def pipeline(state: State, dot: Any, final: Any) -> Any:
            state.not_a_function(args, final)
            return inner(state, dot)

        return pipeline
    if isinstance(first, VariableNode):
        return _variable(first, args)
    constant = _constant(first)

    def literal(state: State, dot: Any, final: Any) -> Any:
        state.node = first
        state.not_a_function(args, final)
        return constant(state, dot)

    return literal


def _constant(node: Node) -> Expr:
    """Bool, dot, nil, number and string commands; the rest are the evaluator's errors."""
    if isinstance(node, BoolNode | StringNode):
        value: Any = node.value if isinstance(node, BoolNode) else node.text

        def const(state: State, dot: Any) -> Any:
            return value

        return const
    if isinstance(node, DotNode):
        return _dot
    if isinstance(node, NumberNode):

        def number(state: State, dot: Any) -> Any:
            return state.ideal_constant(node)

        return number
    reason = "nil is not a command" if isinstance(node, NilNode) else None

    def invalid(state: State, dot: Any) -> Any:
        raise state.error(reason or f"can't evaluate command {quote(str(node))}")

    return invalid


def _dot(state: State, dot: Any) -> Any:
    return dot


def _variable(node: VariableNode, args: list[Node] | None) -> Command:
    name = node.ident[0]
    chain = _field_chain(node, node.ident[1:], args) if len(node.ident) > 1 else None
    call_args = args or [node]

    def run(state: State, dot: Any, final: Any) -> Any:
        state.node = node
        value = state.var_value(name)
        if chain is None:
            if len(call_args) > 1 or final is not MISSING:
                state.not_a_function(call_args, final)
            return value
        return chain(state, dot, value, final)

    return run


# ---------------------------------------------------------------------------- fields

_FIELD = 1
_MAP = 2


def _getter(name: str, node: Node, args: list[Node] | None) -> Getter:
    """One ``.Name`` step: Go's ``evalField``, with a per-type cache of how it resolved.

    Without arguments a receiver whose type is known to hold ``name`` as a struct field is
    read directly, and a map that holds the key is indexed directly; everything else
    (missing keys, methods, nil, errors) goes through the evaluator's ``eval_field``.
    """
    static_args = args is not None and len(args) > 1
    how: dict[type, int] = {}
    exported = values.is_exported(name)

    def learn(receiver: Any) -> None:
        cls = type(receiver)
        if receiver is None or isinstance(receiver, type | values.NilPointer):
            return
        kind = values.kind(receiver)
        if kind == values.MAP and isinstance(receiver, Mapping):
            how[cls] = _MAP
        elif (
            kind in (values.STRUCT, values.PTR)
            and exported
            and dataclasses.is_dataclass(cls)
            and name in _field_names(receiver)
        ):
            how[cls] = _FIELD

    def get(state: State, dot: Any, receiver: Any, final: Any) -> Any:
        if final is MISSING and not static_args:
            resolved = how.get(type(receiver))
            if resolved == _FIELD:
                return getattr(receiver, name)
            if resolved == _MAP and name in receiver:
                return receiver[name]
        value = state.eval_field(dot, name, node, args, final, receiver)
        if not static_args and final is MISSING:
            learn(receiver)
        return value

    return get


def _field_chain(node: Node, ident: list[str], args: list[Node] | None) -> Getter:
    """Go's ``evalFieldChain``: every name but the last without arguments."""
    steps = [(name, _getter(name, node, None)) for name in ident[:-1]]
    last = _getter(ident[-1], node, args)
    if not steps:
        return last

    def run(state: State, dot: Any, receiver: Any, final: Any) -> Any:
        for name, get in steps:
            value = get(state, dot, receiver, MISSING)
            if value is None and _holds_interfaces(receiver):
                raise state.error(f"nil pointer evaluating interface {{}}.{_next(ident, name)}")
            receiver = value
        return last(state, dot, receiver, final)

    return run


# ---------------------------------------------------------------------------- calls


def _function(node: IdentifierNode, cmd: Node, args: list[Node] | None) -> Command:
    """Go's ``evalFunction``: a builtin or a function of the registry, arguments bound once."""
    name = node.ident
    rest = (args or [])[1:]
    exprs = [_arg(arg) for arg in rest]
    if name in builtins.BUILTINS:
        return _builtin(node, name, cmd, args, exprs)

    def run(state: State, dot: Any, final: Any) -> Any:
        state.node = node
        function = state.options.functions(name)
        if function is None:
            raise state.error(f"{quote(name)} is not a defined function")
        count = len(exprs) + (final is not MISSING)
        try:
            builtins.check_arity(name, function, count)
        except FuncError as exc:
            raise state.error(str(exc)) from None
        argv = [expr(state, dot) for expr in exprs]
        if final is not MISSING:
            argv.append(final)
        return state.call(function, cmd, name, argv)

    return run


def _builtin(
    node: IdentifierNode, name: str, cmd: Node, args: list[Node] | None, exprs: list[Expr]
) -> Command:
    impl, minimum, maximum = builtins.BUILTINS[name]
    if name in ("printf", "call"):

        def general(state: State, dot: Any, final: Any) -> Any:
            state.node = node
            return state.eval_builtin(dot, name, cmd, args, final)

        return general

    def arity_ok(count: int) -> bool:
        return count >= minimum if maximum is None else count == maximum

    if name in ("and", "or"):
        stop_on = name == "or"
        truth = values.truth

        def short_circuit(state: State, dot: Any, final: Any) -> Any:
            state.node = node
            if not arity_ok(len(exprs) + (final is not MISSING)):
                return state.eval_builtin(dot, name, cmd, args, final)
            result: Any = None
            for expr in exprs:
                result = expr(state, dot)
                if truth(result) == stop_on:
                    return result
            if final is not MISSING:
                result = final
            return result

        return short_circuit

    def run(state: State, dot: Any, final: Any) -> Any:
        state.node = node
        if not arity_ok(len(exprs) + (final is not MISSING)):
            return state.eval_builtin(dot, name, cmd, args, final)
        argv = [expr(state, dot) for expr in exprs]
        if final is not MISSING:
            argv.append(final)
        try:
            return impl(*argv)
        except FuncError as exc:
            state.node = cmd
            raise state.error(f"error calling {name}: {exc}") from None

    return run


def _arg(node: Node) -> Expr:
    """An argument of ``interface{}`` type."""
    if isinstance(node, FieldNode):
        chain = _field_chain(node, node.ident, [node])

        def field(state: State, dot: Any) -> Any:
            state.node = node
            return chain(state, dot, dot, MISSING)

        return field
    if isinstance(node, VariableNode):
        variable = _variable(node, None)

        def var(state: State, dot: Any) -> Any:
            return variable(state, dot, MISSING)

        return var
    if isinstance(node, PipeNode):
        return _pipeline(node)
    if isinstance(node, IdentifierNode):
        function = _function(node, node, None)

        def call(state: State, dot: Any) -> Any:
            return function(state, dot, MISSING)

        return call
    if isinstance(node, ChainNode):

        def chain_node(state: State, dot: Any) -> Any:
            return state.eval_chain_node(dot, node, None, MISSING)

        return chain_node
    if isinstance(node, DotNode | NilNode | BoolNode | StringNode):
        value: Any = None
        if isinstance(node, BoolNode):
            value = node.value
        elif isinstance(node, StringNode):
            value = node.text
        is_dot = isinstance(node, DotNode)

        def const(state: State, dot: Any) -> Any:
            state.node = node
            return dot if is_dot else value

        return const

    def general(state: State, dot: Any) -> Any:
        return state.eval_arg(dot, node)

    return general


__all__ = ["compiled", "execute"]
