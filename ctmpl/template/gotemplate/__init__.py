"""consul-template's template language: a Go ``text/template`` interpreter.

Shaped like Go's own packages: :mod:`.lexer`, :mod:`.nodes`, :mod:`.numbers` and
:mod:`.parser` are ``text/template/parse``; :mod:`.exec` and :mod:`.builtins` are the
evaluator and its predefined functions. Go's ``fmt`` printing, value kinds and map order
come from :mod:`ctmpl.golang`, which the function library shares. Functions come from the
registry the caller passes in (the engine never imports ``ctmpl.funcs``), so Consul
dependencies are tracked exactly as for Jinja2 templates.

The entry point is :class:`ctmpl.template.gotemplate.template.GoTemplate`. Nothing is
imported here, so that a process rendering only Jinja2 templates does not load the
interpreter.
"""
