"""The analysts' console: a Starlette application on the same functions as the command line.

It sits where the CLI sits (layers: ``yuqing.cli`` > ``web`` > everything else): routes parse the
request, call the storage, nlp and alerts functions the CLI calls, and render Jinja templates
(autoescaped) with htmx fragments. ``web.app.create_app`` builds it; ``yuqing web`` serves it.
"""
