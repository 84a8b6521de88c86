"""A small OpenID Connect provider for the portal's sign-in test: the authorization code flow with
PKCE, as the Flemish government's identity provider offers it to applications. /authorize shows a
page where the test person types who they are (in place of itsme or eID), /token exchanges the
code (checking the PKCE verifier, client and redirect URI) for an RS256 ID token carrying the
national register number and the nonce, /jwks.json publishes its key."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

KID = "oidc-test-1"


class OidcProvider:
    def __init__(self, *, client_id: str, client_secret: str) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes: dict[str, dict[str, Any]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OidcProvider:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]}

    def id_token(self, number: str, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": hashlib.sha256(number.encode()).hexdigest()[:32],
            "national_register_number": number,
            "nonce": nonce,
            "iat": now,
            "exp": now + 300,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KID})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: str | bytes, content_type: str = "application/json", headers: dict[str, str] | None = None) -> None:
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/jwks.json":
                    self._send(200, json.dumps(provider.jwks()))
                elif url.path == "/authorize":
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in query.items())
                    page = (
                        '<!doctype html><html lang="nl"><head><title>Digitale sleutel (test)</title></head><body><main>'
                        '<h1>Aanmelden bij de overheid (test)</h1><form method="post" action="/authorize">'
                        f'{hidden}<label for="rrn">Rijksregisternummer</label><input id="rrn" name="rrn">'
                        '<button type="submit">Bevestigen</button></form></main></body></html>'
                    )
                    self._send(200, page, "text/html; charset=utf-8")
                else:
                    self._send(404, "{}")

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self.path == "/authorize":
                    if form.get("client_id") != provider.client_id or form.get("code_challenge_method") != "S256":
                        self._send(400, '{"error": "invalid_request"}')
                        return
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = form
                    target = f"{form['redirect_uri']}?{urlencode({'code': code, 'state': form['state']})}"
                    self._send(302, b"", headers={"location": target})
                elif self.path == "/token":
                    authorised = self.headers.get("authorization", "")
                    expected = "Basic " + base64.b64encode(f"{provider.client_id}:{provider.client_secret}".encode()).decode()
                    started = provider.codes.pop(form.get("code", ""), None)
                    verifier = form.get("code_verifier", "")
                    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                    if (
                        authorised != expected
                        or started is None
                        or challenge != started["code_challenge"]
                        or form.get("redirect_uri") != started["redirect_uri"]
                    ):
                        self._send(400, '{"error": "invalid_grant"}')
                        return
                    token = provider.id_token(started["rrn"], started["nonce"])
                    self._send(200, json.dumps({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "id_token": token, "expires_in": 300}))
                else:
                    self._send(404, "{}")

        return Handler
