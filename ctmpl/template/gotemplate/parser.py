"""The parser: Go's ``text/template/parse`` recursive descent, producing :mod:`nodes`.

One :class:`Tree` per named template; ``{{define}}`` and ``{{block}}`` add trees to the shared
``tree_set``. Errors are raised as :class:`ParseError` carrying Go's message
(``template: NAME:LINE: ...``).
"""

from __future__ import annotations

from collections.abc import Callable

from ctmpl.errors import TemplateError
from ctmpl.golang.quoting import UnquoteError, unquote
from ctmpl.template.gotemplate.lexer import Item, ItemType, Lexer
from ctmpl.template.gotemplate.nodes import (
    ActionNode,
    BoolNode,
    BranchNode,
    BreakNode,
    ChainNode,
    CommandNode,
    CommentNode,
    ContinueNode,
    DotNode,
    ElseNode,
    EndNode,
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
    is_empty_tree,
)
from ctmpl.template.gotemplate.numbers import NumberSyntaxError, fill_number

MAX_STACK_DEPTH = 10000

HasFunction = Callable[[str], bool]


class ParseError(TemplateError):
    """A syntax error; ``str()`` is Go's message, ``line`` the line it names."""

    def __init__(self, name: str, line: int, reason: str) -> None:
        self.name = name
        self.line = line
        self.reason = reason
        super().__init__(f"template: {name}:{line}: {reason}")


def byte_column(text: str, pos: int) -> tuple[int, int]:
    """Go's ``ErrorContext`` position: (line, byte offset within the line)."""
    before = text[:pos]
    newline = before.rfind("\n")
    line_start = before[newline + 1 :] if newline >= 0 else before
    return before.count("\n") + 1, len(line_start.encode("utf-8", "surrogateescape"))


class Tree:
    """One parsed template: its name, root list and the text it came from."""

    def __init__(self, name: str, has_function: HasFunction | None = None) -> None:
        self.name = name
        self.parse_name = name
        self.root: ListNode | None = None
        self.text = ""
        self.has_function: HasFunction = has_function or (lambda _name: False)
        self.lex: Lexer | None = None
        self.token: list[Item] = [Item(ItemType.EOF, 0, "", 0)] * 3
        self.peek_count = 0
        self.vars: list[str] = []
        self.tree_set: dict[str, Tree] = {}
        self.action_line = 0
        self.range_depth = 0
        self.stack_depth = 0

    def error_context(self, node: Node) -> tuple[str, str]:
        """``(location, context)``, e.g. ``("t:3:12", ".Foo")``."""
        tree = node.tree or self
        line, column = byte_column(tree.text, node.pos)
        return f"{tree.parse_name}:{line}:{column}", str(node)

    # ----------------------------------------------------------------- token stream

    def _lexer(self) -> Lexer:
        assert self.lex is not None
        return self.lex

    def next(self) -> Item:
        if self.peek_count > 0:
            self.peek_count -= 1
        else:
            self.token[0] = self._lexer().next_item()
        return self.token[self.peek_count]

    def backup(self) -> None:
        self.peek_count += 1

    def backup2(self, t1: Item) -> None:
        self.token[1] = t1
        self.peek_count = 2

    def backup3(self, t2: Item, t1: Item) -> None:
        self.token[1] = t1
        self.token[2] = t2
        self.peek_count = 3

    def peek(self) -> Item:
        if self.peek_count > 0:
            return self.token[self.peek_count - 1]
        self.peek_count = 1
        self.token[0] = self._lexer().next_item()
        return self.token[0]

    def next_non_space(self) -> Item:
        while True:
            token = self.next()
            if token.typ != ItemType.SPACE:
                return token

    def peek_non_space(self) -> Item:
        token = self.next_non_space()
        self.backup()
        return token

    # ----------------------------------------------------------------- errors

    def errorf(self, reason: str) -> ParseError:
        self.root = None
        return ParseError(self.parse_name, self.token[0].line, reason)

    def expect(self, expected: ItemType, context: str) -> Item:
        token = self.next_non_space()
        if token.typ != expected:
            raise self.unexpected(token, context)
        return token

    def expect_one_of(self, first: ItemType, second: ItemType, context: str) -> Item:
        token = self.next_non_space()
        if token.typ not in (first, second):
            raise self.unexpected(token, context)
        return token

    def unexpected(self, token: Item, context: str) -> ParseError:
        if token.typ == ItemType.ERROR:
            extra = ""
            if self.action_line != 0 and self.action_line != token.line:
                extra = f" in action started at {self.parse_name}:{self.action_line}"
                if token.val.endswith(" action"):
                    extra = extra[len(" in action") :]
            return self.errorf(f"{token}{extra}")
        return self.errorf(f"unexpected {token} in {context}")

    # ----------------------------------------------------------------- entry points

    def start_parse(self, lexer: Lexer, tree_set: dict[str, Tree]) -> None:
        self.root = None
        self.lex = lexer
        self.vars = ["$"]
        self.tree_set = tree_set
        self.stack_depth = 0

    def stop_parse(self) -> None:
        self.lex = None
        self.vars = []
        self.tree_set = {}

    def parse(
        self, text: str, left: str | None, right: str | None, tree_set: dict[str, Tree]
    ) -> Tree:
        self.parse_name = self.name
        lexer = Lexer(
            self.name,
            text,
            left,
            right,
            break_ok=not self.has_function("break"),
            continue_ok=not self.has_function("continue"),
        )
        self.start_parse(lexer, tree_set)
        self.text = text
        try:
            self._parse()
            self.add()
        finally:
            self.stop_parse()
        return self

    def add(self) -> None:
        existing = self.tree_set.get(self.name)
        if existing is None or is_empty_tree(existing.root):
            self.tree_set[self.name] = self
            return
        if not is_empty_tree(self.root):
            raise self.errorf(f"template: multiple definition of template {_q(self.name)}")

    def _child(self, name: str) -> Tree:
        child = Tree(name, self.has_function)
        child.text = self.text
        child.parse_name = self.parse_name
        child.start_parse(self._lexer(), self.tree_set)
        return child

    def _parse(self) -> None:
        self.root = self.new_list(self.peek().pos)
        while self.peek().typ != ItemType.EOF:
            if self.peek().typ == ItemType.LEFT_DELIM:
                delim = self.next()
                if self.next_non_space().typ == ItemType.DEFINE:
                    definition = self._child("definition")
                    definition.parse_definition()
                    continue
                self.backup2(delim)
            node = self.text_or_action()
            if isinstance(node, EndNode | ElseNode):
                raise self.errorf(f"unexpected {node}")
            self.root.nodes.append(node)

    def parse_definition(self) -> None:
        context = "define clause"
        name = self.expect_one_of(ItemType.STRING, ItemType.RAW_STRING, context)
        self.name = self._unquote(name.val)
        self.expect(ItemType.RIGHT_DELIM, context)
        self.root, end = self.item_list()
        if not isinstance(end, EndNode):
            raise self.errorf(f"unexpected {end} in {context}")
        self.add()
        self.stop_parse()

    def item_list(self) -> tuple[ListNode, Node]:
        lst = self.new_list(self.peek_non_space().pos)
        while self.peek_non_space().typ != ItemType.EOF:
            node = self.text_or_action()
            if isinstance(node, EndNode | ElseNode):
                return lst, node
            lst.nodes.append(node)
        raise self.errorf("unexpected EOF")

    def text_or_action(self) -> Node:
        token = self.next_non_space()
        if token.typ == ItemType.TEXT:
            return TextNode(token.pos, text=token.val, tree=self)
        if token.typ == ItemType.LEFT_DELIM:
            self.action_line = token.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        if token.typ == ItemType.COMMENT:
            return CommentNode(token.pos, text=token.val, tree=self)
        raise self.unexpected(token, "input")

    def action(self) -> Node:
        token = self.next_non_space()
        typ = token.typ
        if typ == ItemType.BLOCK:
            return self.block_control()
        if typ == ItemType.BREAK:
            return self.break_control(token, "{{break}}", BreakNode)
        if typ == ItemType.CONTINUE:
            return self.break_control(token, "{{continue}}", ContinueNode)
        if typ == ItemType.ELSE:
            return self.else_control()
        if typ == ItemType.END:
            return EndNode(self.expect(ItemType.RIGHT_DELIM, "end").pos, tree=self)
        if typ == ItemType.IF:
            return self.parse_control("if", IfNode)
        if typ == ItemType.RANGE:
            return self.parse_control("range", RangeNode)
        if typ == ItemType.TEMPLATE:
            return self.template_control()
        if typ == ItemType.WITH:
            return self.parse_control("with", WithNode)
        self.backup()
        token = self.peek()
        return ActionNode(
            token.pos,
            line=token.line,
            pipe=self.pipeline("command", ItemType.RIGHT_DELIM),
            tree=self,
        )

    def break_control(
        self, keyword: Item, context: str, cls: type[BreakNode] | type[ContinueNode]
    ) -> Node:
        token = self.next_non_space()
        if token.typ != ItemType.RIGHT_DELIM:
            raise self.unexpected(token, context)
        if self.range_depth == 0:
            raise self.errorf(f"{context} outside {{{{range}}}}")
        return cls(keyword.pos, line=keyword.line, tree=self)

    def pipeline(self, context: str, end: ItemType) -> PipeNode:
        token = self.peek_non_space()
        pipe = PipeNode(token.pos, line=token.line, tree=self)
        self._declarations(pipe, context)
        while True:
            token = self.next_non_space()
            if token.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if token.typ in _OPERAND_START:
                self.backup()
                pipe.cmds.append(self.command())
            else:
                raise self.unexpected(token, context)

    def _declarations(self, pipe: PipeNode, context: str) -> None:
        while True:
            v = self.peek_non_space()
            if v.typ != ItemType.VARIABLE:
                return
            self.next()
            token_after_variable = self.peek()
            following = self.peek_non_space()
            if following.typ in (ItemType.ASSIGN, ItemType.DECLARE):
                pipe.is_assign = following.typ == ItemType.ASSIGN
                self.next_non_space()
                pipe.decl.append(self.new_variable(v.pos, v.val))
                self.vars.append(v.val)
                return
            if following.typ == ItemType.CHAR and following.val == ",":
                self.next_non_space()
                pipe.decl.append(self.new_variable(v.pos, v.val))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (
                        ItemType.VARIABLE,
                        ItemType.RIGHT_DELIM,
                        ItemType.RIGHT_PAREN,
                    ):
                        continue
                    raise self.errorf("range can only initialize variables")
                raise self.errorf(f"too many declarations in {context}")
            if token_after_variable.typ == ItemType.SPACE:
                self.backup3(v, token_after_variable)
            else:
                self.backup2(v)
            return

    def check_pipeline(self, pipe: PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.errorf(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], BoolNode | DotNode | NilNode | NumberNode | StringNode):
                raise self.errorf(f"non executable command in pipeline stage {i + 2}")

    def parse_control(self, context: str, cls: type[BranchNode]) -> Node:
        mark = len(self.vars)
        try:
            pipe = self.pipeline(context, ItemType.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            lst, following = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list: ListNode | None = None
            if isinstance(following, ElseNode):
                if context == "if" and self.peek().typ == ItemType.IF:
                    self.next()
                    else_list = self.new_list(following.pos)
                    else_list.nodes.append(self.parse_control("if", IfNode))
                elif context == "with" and self.peek().typ == ItemType.WITH:
                    self.next()
                    else_list = self.new_list(following.pos)
                    else_list.nodes.append(self.parse_control("with", WithNode))
                else:
                    else_list, following = self.item_list()
                    if not isinstance(following, EndNode):
                        raise self.errorf(f"expected end; found {following}")
        finally:
            del self.vars[mark:]
        return cls(pipe.pos, line=pipe.line, pipe=pipe, list=lst, else_list=else_list, tree=self)

    def else_control(self) -> Node:
        peek = self.peek_non_space()
        if peek.typ in (ItemType.IF, ItemType.WITH):
            return ElseNode(peek.pos, line=peek.line, tree=self)
        token = self.expect(ItemType.RIGHT_DELIM, "else")
        return ElseNode(token.pos, line=token.line, tree=self)

    def block_control(self) -> Node:
        context = "block clause"
        token = self.next_non_space()
        name = self.parse_template_name(token, context)
        pipe = self.pipeline(context, ItemType.RIGHT_DELIM)
        block = self._child(name)
        block.root, end = block.item_list()
        if not isinstance(end, EndNode):
            raise self.errorf(f"unexpected {end} in {context}")
        block.add()
        block.stop_parse()
        return TemplateNode(token.pos, line=token.line, name=name, pipe=pipe, tree=self)

    def template_control(self) -> Node:
        context = "template clause"
        token = self.next_non_space()
        name = self.parse_template_name(token, context)
        pipe: PipeNode | None = None
        if self.next_non_space().typ != ItemType.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline(context, ItemType.RIGHT_DELIM)
        return TemplateNode(token.pos, line=token.line, name=name, pipe=pipe, tree=self)

    def parse_template_name(self, token: Item, context: str) -> str:
        if token.typ in (ItemType.STRING, ItemType.RAW_STRING):
            return self._unquote(token.val)
        raise self.unexpected(token, context)

    def command(self) -> CommandNode:
        cmd = CommandNode(self.peek_non_space().pos, tree=self)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            token = self.next()
            if token.typ == ItemType.SPACE:
                continue
            if token.typ in (ItemType.RIGHT_DELIM, ItemType.RIGHT_PAREN):
                self.backup()
            elif token.typ != ItemType.PIPE:
                raise self.unexpected(token, "operand")
            break
        if not cmd.args:
            raise self.errorf("empty command")
        return cmd

    def operand(self) -> Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == ItemType.FIELD:
            chain = ChainNode(self.peek().pos, node=node, tree=self)
            while self.peek().typ == ItemType.FIELD:
                chain.add(self.next().val)
            if isinstance(node, FieldNode):
                return FieldNode(chain.pos, ident=str(chain)[1:].split("."), tree=self)
            if isinstance(node, VariableNode):
                return self.new_variable(chain.pos, str(chain))
            if isinstance(node, BoolNode | StringNode | NumberNode | NilNode | DotNode):
                raise self.errorf(f"unexpected . after term {_q(str(node))}")
            return chain
        return node

    def term(self) -> Node | None:
        token = self.next_non_space()
        typ = token.typ
        if typ == ItemType.IDENTIFIER:
            if not self.has_function(token.val):
                raise self.errorf(f"function {_q(token.val)} not defined")
            return IdentifierNode(token.pos, ident=token.val, tree=self)
        if typ == ItemType.DOT:
            return DotNode(token.pos, tree=self)
        if typ == ItemType.NIL:
            return NilNode(token.pos, tree=self)
        if typ == ItemType.VARIABLE:
            return self.use_var(token.pos, token.val)
        if typ == ItemType.FIELD:
            return FieldNode(token.pos, ident=token.val[1:].split("."), tree=self)
        if typ == ItemType.BOOL:
            return BoolNode(token.pos, value=token.val == "true", tree=self)
        if typ in (ItemType.CHAR_CONSTANT, ItemType.COMPLEX, ItemType.NUMBER):
            node = NumberNode(token.pos, text=token.val, tree=self)
            kind = {ItemType.CHAR_CONSTANT: "char", ItemType.COMPLEX: "complex"}.get(typ, "number")
            try:
                fill_number(node, kind)
            except NumberSyntaxError as exc:
                raise self.errorf(str(exc)) from None
            return node
        if typ == ItemType.LEFT_PAREN:
            if self.stack_depth >= MAX_STACK_DEPTH:
                raise self.errorf("max expression depth exceeded")
            self.stack_depth += 1
            try:
                return self.pipeline("parenthesized pipeline", ItemType.RIGHT_PAREN)
            finally:
                self.stack_depth -= 1
        if typ in (ItemType.STRING, ItemType.RAW_STRING):
            return StringNode(token.pos, quoted=token.val, text=self._unquote(token.val), tree=self)
        self.backup()
        return None

    # ----------------------------------------------------------------- helpers

    def _unquote(self, literal: str) -> str:
        try:
            return unquote(literal)
        except UnquoteError as exc:
            raise self.errorf(str(exc)) from None

    def new_list(self, pos: int) -> ListNode:
        return ListNode(pos, tree=self)

    def new_variable(self, pos: int, ident: str) -> VariableNode:
        return VariableNode(pos, ident=ident.split("."), tree=self)

    def use_var(self, pos: int, name: str) -> VariableNode:
        v = self.new_variable(pos, name)
        if v.ident[0] in self.vars:
            return v
        raise self.errorf(f"undefined variable {_q(v.ident[0])}")


_OPERAND_START = frozenset(
    {
        ItemType.BOOL,
        ItemType.CHAR_CONSTANT,
        ItemType.COMPLEX,
        ItemType.DOT,
        ItemType.FIELD,
        ItemType.IDENTIFIER,
        ItemType.NUMBER,
        ItemType.NIL,
        ItemType.RAW_STRING,
        ItemType.STRING,
        ItemType.VARIABLE,
        ItemType.LEFT_PAREN,
    }
)


def _q(text: str) -> str:
    from ctmpl.golang.quoting import quote

    return quote(text)


def parse(
    name: str,
    text: str,
    has_function: HasFunction,
    left: str | None = None,
    right: str | None = None,
) -> dict[str, Tree]:
    """Parse ``text`` as template ``name``; returns every tree it defines, by name."""
    tree_set: dict[str, Tree] = {}
    Tree(name, has_function).parse(text, left, right, tree_set)
    return tree_set
