"""consul-template's template language: a Go ``text/template`` interpreter.

Shaped like Go's own packages: :mod:`.lexer`, :mod:`.nodes` and :mod:`.parser` are
``text/template/parse``; :mod:`.exec`, :mod:`.builtins` and :mod:`.fmt` are the evaluator,
its predefined functions and Go's ``fmt`` printing. Functions come from ctmpl's shared
registry, so Consul dependencies are tracked exactly as for Jinja2 templates.

The entry point is :class:`ctmpl.template.gotemplate.template.GoTemplate`. Nothing is
imported here, so that the helpers other modules share (:mod:`.fmt`, :mod:`.values`) do not
load the interpreter into a process that renders only Jinja2 templates.
"""
