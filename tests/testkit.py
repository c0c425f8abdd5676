"""Small helpers the test folders share: a committed git repo from a dict of files, and an
HTTP server that answers HTML (a stand-in for something that is not an OpenAI endpoint)."""

from __future__ import annotations

import http.server
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

GIT = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"]


def write_repo(repo: Path, files: dict[str, str], commit: bool = True) -> Path:
    """Write ``files`` ({path: text}) under ``repo``, make it a git repo, and commit them once."""
    repo.mkdir(parents=True, exist_ok=True)
    subprocess.run([*GIT, "init", "-q", "-b", "main"], cwd=repo, check=True)
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, encoding="utf-8")
    if commit:
        subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True)
        subprocess.run([*GIT, "commit", "-q", "-m", "initial"], cwd=repo, check=True)
    return repo


@contextmanager
def html_server(body: bytes = b"<!doctype html><title>router admin</title>") -> Iterator[str]:
    """A server on 127.0.0.1 that answers every GET with an HTML page; yields its /v1 URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
