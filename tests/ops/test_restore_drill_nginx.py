"""deploy/nginx.conf run by a real nginx: the shipped file passes ``nginx -t``, serves the app over
TLS, redirects http to https, and its access log holds no attendee link — not in the path (also
percent-encoded), not in a query string — while the health check is not logged at all.

The file is used as shipped, with only its places changed: the certificate (a self-signed one made
here), the log folder, the ports (free loopback ports; IPv6 listeners dropped) and gunicorn's
address (a threaded server of the test app). nginx runs in the foreground and dies with the test.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from .. import factories, processes
from ..races.conftest import http_server  # noqa: F401  (a fixture: the test app on a loopback port)
from ..smtp import free_port

SHIPPED = (Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf").read_text("utf-8")


def nginx_binary() -> str | None:
    """EVENTREG_TEST_NGINX (an nginx unpacked from Debian's package), else the installed one."""
    for candidate in (os.environ.get("EVENTREG_TEST_NGINX"), shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


# Not unfinished: nginx is the reverse proxy docs/deploy.md installs, not a dependency of the app or of
# scripts/setup; where it is not installed (apt-get install nginx) the map is still checked against
# the app's redaction by test_restore_drill_files.py.
pytestmark = pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed (apt-get install nginx)")


def configured(folder: Path, https_port: int, http_port: int, upstream: str) -> Path:
    """deploy/nginx.conf with the test's places, inside a main configuration of its own."""
    site = (SHIPPED
            .replace("/etc/letsencrypt/live/events.example.org/", f"{folder}/")
            .replace("/var/log/nginx/", f"{folder}/")
            .replace("/var/www/letsencrypt", str(folder))
            .replace("server 127.0.0.1:8000;", f"server {upstream};")
            .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
            .replace("listen 80;", f"listen 127.0.0.1:{http_port};"))
    site = re.sub(r"\n\s*listen \[::\]:[^\n]*", "", site)
    assert site.count(str(folder)) >= 5 and "server 127.0.0.1:8000" not in site and "listen 80" not in site
    (folder / "eventreg.conf").write_text(site, "utf-8")
    temp = "".join(f"    {kind}_temp_path {folder}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi",
                                                                           "uwsgi", "scgi"))
    main = folder / "nginx.conf"
    main.write_text(f"daemon off;\nuser root root;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
                    f"events {{ worker_connections 64; }}\n"
                    f"http {{\n{temp}    include {folder}/eventreg.conf;\n}}\n", "utf-8")
    return main


def self_signed(folder: Path) -> None:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=events.example.org",
                    "-addext", "subjectAltName=DNS:events.example.org,IP:127.0.0.1",
                    "-keyout", str(folder / "privkey.pem"), "-out", str(folder / "fullchain.pem")],
                   check=True, capture_output=True, timeout=60)


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, "nginx exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, "nginx did not listen"
            time.sleep(0.1)


def test_the_shipped_nginx_serves_over_tls_and_logs_no_link(app, http_server, tmp_path):  # noqa: F811
    with app.app_context():
        token = factories.register_person(factories.make_event()).token
    https_port, http_port = free_port(), free_port()
    main = configured(tmp_path, https_port, http_port, http_server.removeprefix("http://"))
    self_signed(tmp_path)
    nginx = nginx_binary()
    checked = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(main), "-e", "stderr"],
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    server = processes.spawn([nginx, "-p", str(tmp_path), "-c", str(main), "-e", str(tmp_path / "stderr.log")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(https_port, server)
    wait_for_port(http_port, server)

    tls = ssl.create_default_context(cafile=str(tmp_path / "fullchain.pem"))
    with httpx.Client(base_url=f"https://127.0.0.1:{https_port}", verify=tls, timeout=30) as https:
        health = https.get("/healthz")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        page = https.get(f"/r/{token}")
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
        assert https.get(f"/%72/{token}").status_code == 200  # the same page, one letter encoded
        assert https.get(f"/r/{token}/pass.pdf").content.startswith(b"%PDF")
        assert https.get(f"/login?next=/r/{token}").status_code == 200
        assert https.get("/invite/not-a-real-invitation").status_code == 404
    with httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=30) as plain:
        moved = plain.get(f"/r/{token}")
        assert moved.status_code == 301 and moved.headers["location"].startswith("https://") and token in \
            moved.headers["location"]
    processes.stop(server)  # flushes and closes the log

    log = (tmp_path / "eventreg.access.log").read_text("utf-8")
    lines = log.splitlines()
    assert token not in log and "not-a-real-invitation" not in log
    assert "/healthz" not in log  # the health check is not logged
    assert len(lines) == 6, log
    assert sum('"GET /r/[redacted] HTTP/' in line for line in lines) == 3, log  # https twice, http once
    assert '"GET /r/[redacted]/pass.pdf HTTP/' in log and '"GET /invite/[redacted] HTTP/' in log
    assert '"GET /login HTTP/' in log  # without its query string
