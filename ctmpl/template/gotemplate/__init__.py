"""consul-template's template language: a Go ``text/template`` interpreter.

Shaped like Go's own packages: :mod:`.lexer`, :mod:`.nodes` and :mod:`.parser` are
``text/template/parse``; :mod:`.exec`, :mod:`.builtins` and :mod:`.fmt` are the evaluator,
its predefined functions and Go's ``fmt`` printing. Functions come from ctmpl's shared
registry, so Consul dependencies are tracked exactly as for Jinja2 templates.
"""

from ctmpl.template.gotemplate.template import GoTemplate

__all__ = ["GoTemplate"]
