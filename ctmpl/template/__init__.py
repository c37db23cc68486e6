"""Templates: loading (Jinja2, later Go syntax), the render context and render results."""
