"""A local Bot Framework key server (OpenID metadata + JWKS) and tokens signed with its key.

botbuilder fetches keys with blocking ``requests`` calls from inside the event loop, so this
server runs on its own thread: one on the test's loop could never answer.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.test"
KID = "test-key-1"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class KeyServer:
    """Serves ``/openid`` and ``/keys`` for one RSA key, endorsed for ``msteams``."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        keys = {"keys": [{**jwk, "kid": KID, "use": "sig", "endorsements": ["msteams"]}]}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.path == "/openid":
                    body: dict[str, Any] = {"issuer": ISSUER, "jwks_uri": server.url + "/keys"}
                else:
                    body = keys
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def token(key: rsa.RSAPrivateKey, *, audience: str, service_url: str, **claims: Any) -> str:
    """A Bot Framework channel token as Teams would send it: ``Bearer <jwt>``."""
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": audience,
        "serviceurl": service_url,
        "nbf": now - 10,
        "exp": now + 3600,
        **claims,
    }
    return "Bearer " + jwt.encode(payload, key, algorithm="RS256", headers={"kid": KID})
