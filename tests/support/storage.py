"""Storage helpers: a fake request, a small FastHTML app over a manager, session cookies, raw
rows, bad inputs, and a database exactly as schema version 1 wrote it."""

from __future__ import annotations

import hashlib
import json
from base64 import b64decode

import sqlalchemy as sa
from fasthtml.common import FastHTML, Response

from byok.core.database import create_engine
from byok.core.security import Keyring, bind
from byok.core.storage import BYOKManager
from byok.core.types import BYOKConfig, SessionFullError, ValidationError
from tests.support import SECRET

COOKIE = "session_"  # FastHTML's session cookie name


class FakeRequest:
    """Anything with a dict `.session`, like a Starlette request behind SessionMiddleware."""

    def __init__(self, session: dict | None = None):
        self.session = {} if session is None else session


def make_app(
    manager: BYOKManager,  # the manager the routes use
    secret: str = SECRET,  # the app's session-signing secret
    user_param: bool = False,  # read ?user=… and pass it as user_id
) -> FastHTML:
    """A real FastHTML app with key routes: POST /keys/{provider} (form `key`), GET /keys/{provider}.

    POST answers 200 with the storage's projected cookie size, 413 on SessionFullError, 422 on
    ValidationError. GET answers the masked key or 404; GET /digest/{provider} its SHA-256.
    """
    app = FastHTML(secret_key=secret, session_cookie=COOKIE)

    def uid(req) -> str | None:
        return req.query_params.get("user") if user_param else None

    @app.post("/keys/{provider}")
    def save(req, provider: str, key: str):
        try:
            manager.set_key(req, provider, key, user_id=uid(req))
        except SessionFullError as e:
            return Response(str(e), status_code=413)
        except ValidationError as e:
            return Response(str(e), status_code=422)
        return Response(str(manager._sessions.cookie_size(req.session)))

    @app.get("/keys/{provider}")
    def show(req, provider: str):
        masked = manager.get_masked_key(req, provider, user_id=uid(req))
        return Response(masked or "", status_code=200 if masked else 404)

    @app.get("/digest/{provider}")
    def digest(req, provider: str):
        key = manager.get_key(req, provider, user_id=uid(req))
        return Response(sha256_hex(key) if key else "", status_code=200 if key else 404)

    @app.get("/session")
    def dump(req):
        return Response(json.dumps(req.session))

    @app.post("/app-data")
    def app_data(req, name: str, value: str):
        req.session[name] = value
        return Response("ok")

    return app


def sha256_hex(text: str) -> str:
    """SHA-256 of a text, to compare keys through HTTP without sending them back."""
    return hashlib.sha256(text.encode()).hexdigest()


def session_cookie(response) -> str | None:
    """The full Set-Cookie header value of the session cookie in a response, if any."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{COOKIE}="):
            return header
    return None


def cookie_payload(header: str) -> dict:
    """The JSON session inside a Starlette session Set-Cookie header (signature stripped)."""
    value = header.split(";", 1)[0].split("=", 1)[1]
    body = value.rsplit(".", 2)[0]
    return json.loads(b64decode(body))


def raw_rows(manager: BYOKManager) -> list[dict]:
    """Every row of the key table, read directly."""
    storage = manager.database
    with storage._guard("test"):
        return [dict(r) for r in storage.table.rows_where(order_by="user_id, provider")]


BAD_KEYS = ["", "   \t ", "x" * 1025, "sk-with\x00nul", "sk-with\nnewline", "sk with space"]
BAD_KEYS += ["sk-ünïcode", "sk-\u202etrick", None, b"sk-bytes-key-00", 12345, ["sk-list"]]
BAD_PROVIDERS = ["OpenAI", "", "../etc", "a" * 65, "open ai", "ünï", None, 7, ["openai"]]


# frozen DDL of schema version 1, as this byok writes it (a later version must still read it)
V1_DDL = """
CREATE TABLE byok_meta (name VARCHAR NOT NULL PRIMARY KEY, value VARCHAR);
CREATE TABLE user_api_keys (
    user_id VARCHAR NOT NULL, provider VARCHAR NOT NULL, encrypted_value {blob} NOT NULL,
    key_version INTEGER NOT NULL, created_at VARCHAR NOT NULL, expires_at VARCHAR,
    updated_at VARCHAR NOT NULL, PRIMARY KEY (user_id, provider));
CREATE INDEX user_api_keys_version ON user_api_keys (key_version);
CREATE INDEX user_api_keys_expires ON user_api_keys (expires_at);
INSERT INTO byok_meta VALUES ('schema:user_api_keys', '1');
"""


def run_ddl(url: str, ddl: str) -> None:
    """Run DDL statements (`{blob}`: the dialect's binary type) on a database URL."""
    engine = create_engine(url)
    blob = {"postgresql": "BYTEA", "mysql": "LONGBLOB"}.get(engine.dialect.name, "BLOB")
    if engine.dialect.name == "mysql":  # its VARCHAR needs a length
        ddl = ddl.replace("VARCHAR", "VARCHAR(255)")
    try:
        with engine.begin() as conn:
            for stmt in ddl.format(blob=blob).split(";"):
                if stmt.strip():
                    conn.execute(sa.text(stmt))
    finally:
        engine.dispose()


V1_ROWS = [  # (user, provider, plaintext, created, expires, key version) written by schema 1
    ("u1", "openai", "sk-from-v1-table-openai", "2030-01-01T00:00:00.000000+00:00", None, 1),
    ("u1", "anthropic", "sk-ant-from-v1-table", "2030-01-02T03:04:05.123456+00:00",
     "2031-01-01T00:00:00.000000+00:00", 1),
    ("u2", "openai", "sk-from-v1-table-u2", "2030-02-01T00:00:00.000000+00:00", None, 2),
    ("élève ☃", "google", "AIza-from-v1-unicode-user", "2030-03-01T00:00:00.000000+00:00", None, 2),
]  # fmt: skip


def write_v1(db_url: str, rows: list = V1_ROWS) -> Keyring:
    """A database exactly as schema 1 writes it, holding `rows` (sealed by versions 1 and 2)."""
    run_ddl(db_url, V1_DDL)
    ring = Keyring.from_secret(SECRET, version=2, previous={1: SECRET})
    old_ring = Keyring.from_secret(SECRET)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        for user, provider, plain, created, expires, version in rows:
            sealer = old_ring if version == 1 else ring
            conn.execute(
                sa.text(
                    "INSERT INTO user_api_keys VALUES (:u, :p, :v, :kv, :c, :e, :c)"
                ).bindparams(sa.bindparam("v", type_=sa.LargeBinary)),
                {
                    "u": user,
                    "p": provider,
                    "v": sealer.seal(plain, bind(f"user:{user}", provider)),
                    "kv": version,
                    "c": created,
                    "e": expires,
                },
            )
    engine.dispose()
    return ring


def v2_manager(db_url: str) -> BYOKManager:
    """A manager at key version 2 that still reads version 1, on this database."""
    config = BYOKConfig(key_version=2, previous_keys={1: SECRET}, default_ttl=None)
    return BYOKManager(SECRET, db_url=db_url, config=config)


def tables_v1_meta(db_url: str) -> str | None:
    """The recorded schema version of the key table, read directly."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            query = "SELECT value FROM byok_meta WHERE name = 'schema:user_api_keys'"
            return conn.execute(sa.text(query)).scalar()
    finally:
        engine.dispose()
