"""A story as a runnable app: one complete FastHTML file (the asset set-up, a route, the snippet)
that shows the component as the canvas does. Stories whose forms call the key routes also get a
real BYOKManager (`setup_byok`), the routes (`mount_key_routes`), the CSRF header and a
ToastContainer, so saving a key works as in the gallery.
"""

from __future__ import annotations

from .registry import Story
from .snippets import INDENT, str_literal

__all__ = ["runnable_app"]

_SETUP = """\
assets = front_end()  # byok.css, htmx and byok.js, shipped in the byok package
app, rt = fast_app(pico=False, default_hdrs=False, hdrs=assets.headers())
assets.serve(app)
"""
_SETUP_KEYS = """\
SECRET = os.environ.get("APP_SECRET") or secrets.token_urlsafe(32)  # sessions, key sealing
before, manager = setup_byok(SECRET)  # session storage; pass db= for a database
assets = front_end()  # byok.css, htmx and byok.js, shipped in the byok package
app, rt = fast_app(
    before=before, secret_key=SECRET, pico=False, default_hdrs=False, hdrs=assets.headers()
)
assets.serve(app)
mount_key_routes(app, manager)  # save / delete / test routes under /api/keys
"""


def runnable_app(
    story: Story,  # the story to turn into an app
) -> str:
    """The story as a complete FastHTML app file (`python app.py`, then open the printed URL)."""
    keys = story.interactive
    body = INDENT * 2
    imports, call = story.snippet_parts(body)
    setup = [INDENT + line for line in story.snippet_setup(imports)]  # the clock's reading
    imports.names("fasthtml.common", "Main", "Title", "fast_app", "serve")
    imports.names("byok.components", "front_end")
    if keys:
        imports.names("os")
        imports.names("secrets")
        imports.names("byok.middleware", "csrf_headers", "setup_byok")
        imports.names("byok.routes", "mount_key_routes")
    if story.needs_request or keys:
        imports.names("starlette.requests", "Request")
    title = str_literal(f"{story.component_name} · {story.name}")
    extra = []
    if keys:
        extra.append(f"{body}hx_headers=csrf_headers(request),  # the CSRF token for the routes")
    children = [f"{body}{call},"]
    if keys and 'id="toast-container"' not in story.render():
        imports.names("byok.components", "ToastContainer")
        children.append(f"{body}ToastContainer(),  # where the routes' toasts appear")
    arg = "request: Request" if story.needs_request or keys else ""
    route = [
        '@rt("/")',
        f"def index({arg}):",
        *setup,
        f"{INDENT}return Title({title}), Main(",
        *children,
        *extra,
        f'{body}cls="p-6",',
        f"{INDENT})",
    ]
    lines = imports.lines()
    doc = f'"""{story.component_name} · {story.name}: `python app.py`, then open the URL it prints."""'
    setup = _SETUP_KEYS if keys else _SETUP
    out = [doc, "", *lines, "", setup.rstrip("\n"), "", "", *route, "", "", "serve()"]
    return "\n".join(out) + "\n"
