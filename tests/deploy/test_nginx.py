"""deploy/nginx: `nginx -t` accepts the site, then a real nginx serves it (a self-signed
certificate made here with openssl, a stand-in gateway that echoes what it was sent) and is
attacked: each webhook's body limit is limits.py's, the console and /metrics answer only the
snippet's networks, a client's X-Forwarded-For never reaches the gateway, Kannel's routes are
closed, port 80 sends to https, and the access log holds no query string.

Only what a test host must change is changed: the certificate's and logs' paths, the ports,
the upstream's port (the stand-in's), and the snippet gains 127.0.0.2 as an allowed network
(the tests' "operator" connects from that loopback address, the "stranger" from 127.0.0.1).
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.channels.limits import CONSOLE_LIMIT, LIMITS, PREFIX, limit_for
from gateway.settings import Settings
from tests.deploy.units import DEPLOY, free_port, tool, why_missing

SITE = DEPLOY / "nginx" / "massar-gateway.conf"
NETWORKS = DEPLOY / "nginx" / "massar-gateway-networks.conf"
HOST = "gw.example.ma"
OPERATOR = "127.0.0.2"  # allowed by the test's snippet; 127.0.0.1 is not
KANNEL_ROUTES = ("/channels/sms/kannel", "/channels/sms/kannel/dlr", "/channels/ussd/kannel")
START_WAIT_S = 20.0


class Echo(BaseHTTPRequestHandler):
    """The stand-in gateway: answers 200 with the path, headers and body size it received."""

    def _answer(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(size)
        body = json.dumps(
            {"path": self.path, "headers": dict(self.headers.items()), "size": size}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        """Quiet."""


@dataclass
class Site:
    https: int
    http: int
    log: Path


def _site_for_test(folder: Path, upstream: int, https: int, http: int) -> str:
    text = SITE.read_text()
    swaps = {
        "/etc/letsencrypt/live/gw.example.ma/fullchain.pem": str(folder / "cert.pem"),
        "/etc/letsencrypt/live/gw.example.ma/privkey.pem": str(folder / "key.pem"),
        "/var/log/nginx/": f"{folder}/",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https} ssl http2;",
        "listen 80;": f"listen 127.0.0.1:{http};",
        "listen [::]:443 ssl http2;": "",
        "listen [::]:80;": "",
    }
    for old, new in swaps.items():
        assert old in text, f"{SITE.name} no longer has {old!r}: update this test"
        text = text.replace(old, new)
    return text


def _main_conf(folder: Path) -> Path:
    temps = "\n".join(
        f"    {kind}_temp_path {folder}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = folder / "nginx.conf"
    conf.write_text(
        f"daemon off;\nmaster_process off;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log warn;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n{temps}\n    include sites/massar-gateway.conf;\n}}\n"
    )
    return conf


def _lay_out(folder: Path, *, upstream: int, https: int, http: int, networks: str) -> Path:
    openssl = tool("openssl")
    if openssl is None:
        pytest.skip(why_missing("openssl", "openssl"))
    subprocess.run(  # noqa: S603 - the host's openssl, our arguments
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         f"/CN={HOST}", "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    (folder / "sites").mkdir()
    (folder / "snippets").mkdir()
    (folder / "sites" / "massar-gateway.conf").write_text(
        _site_for_test(folder, upstream, https, http)
    )
    (folder / "snippets" / "massar-gateway-networks.conf").write_text(networks)
    return _main_conf(folder)


def _nginx() -> str:
    nginx = tool("nginx")
    if nginx is None:
        pytest.skip(why_missing("nginx", "nginx"))
    return nginx


def test_nginx_t_accepts_the_site(tmp_path: Path) -> None:
    nginx = _nginx()
    conf = _lay_out(tmp_path, upstream=8000, https=8443, http=8080, networks=NETWORKS.read_text())
    done = subprocess.run(  # noqa: S603 - the host's nginx on our files
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
    assert "[warn]" not in done.stderr, done.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    nginx = _nginx()
    folder = tmp_path_factory.mktemp("nginx")
    echo = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    https, http = free_port(), free_port()
    networks = NETWORKS.read_text().replace("deny all;", f"allow {OPERATOR};\ndeny all;")
    conf = _lay_out(
        folder, upstream=echo.server_address[1], https=https, http=http, networks=networks
    )
    proc = subprocess.Popen(  # noqa: S603 - the host's nginx on our files
        [nginx, "-p", str(folder), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_WAIT_S
        while True:  # a bound that fails, not a measure of speed
            try:
                httpx.get(f"http://127.0.0.1:{http}/", timeout=1)
                break
            except httpx.TransportError:
                log = (folder / "error.log").read_text() if (folder / "error.log").exists() else ""
                assert proc.poll() is None, f"nginx stopped:\n{log}"
                assert time.monotonic() < deadline, f"nginx did not answer:\n{log}"
                time.sleep(0.05)
        yield Site(https=https, http=http, log=folder / "massar-gateway.access.log")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        echo.shutdown()
        echo.server_close()


def client(source: str = "127.0.0.1") -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source, verify=False)
    return httpx.Client(transport=transport, headers={"Host": HOST}, timeout=10)


def post(site: Site, path: str, size: int, source: str = "127.0.0.1") -> httpx.Response:
    with client(source) as http:
        return http.post(f"https://127.0.0.1:{site.https}{path}", content=b"x" * size)


def _webhook_routes() -> list[str]:
    settings = Settings(sms_sender="kannel", kannel_sms_from="2020")  # every channel's routes
    paths = create_app(settings).openapi()["paths"]
    routes = sorted(p for p in paths if p.startswith(PREFIX) and "{" not in p)
    assert set(LIMITS) <= set(routes)
    return routes


@pytest.mark.parametrize("path", _webhook_routes())
def test_each_webhook_body_limit_is_the_gateways(site: Site, path: str) -> None:
    limit = limit_for(path)
    assert limit is not None
    if path in KANNEL_ROUTES:  # Kannel calls 127.0.0.1:8000 itself
        assert post(site, path, 10).status_code == 403
        return
    at_limit = post(site, path, limit)
    assert at_limit.status_code == 200, at_limit.text  # reached the gateway, whole
    assert at_limit.json()["size"] == limit
    assert post(site, path, limit + 1).status_code == 413


def test_the_console_and_ops_routes_answer_only_the_networks(site: Site) -> None:
    for path in ("/console", "/console/signin", "/metrics", "/admin/messages", "/readyz"):
        with client() as stranger:
            assert stranger.get(f"https://127.0.0.1:{site.https}{path}").status_code == 403, path
        with client(OPERATOR) as operator:
            answer = operator.get(f"https://127.0.0.1:{site.https}{path}")
            assert answer.status_code == 200, path
            assert answer.json()["path"] == path
    assert post(site, "/console/signin", CONSOLE_LIMIT, OPERATOR).status_code == 200
    assert post(site, "/console/signin", CONSOLE_LIMIT + 1, OPERATOR).status_code == 413
    with client() as anyone:
        assert anyone.get(f"https://127.0.0.1:{site.https}/healthz").status_code == 200
        assert anyone.get(f"https://127.0.0.1:{site.https}/docs").status_code == 404
        assert anyone.get(f"https://127.0.0.1:{site.https}/channels/../console/").status_code == 403


def test_the_gateway_gets_host_scheme_and_the_real_client_address(site: Site) -> None:
    spoofed = {"X-Forwarded-For": "10.1.2.3", "X-Forwarded-Proto": "http"}
    with client() as http:
        answer = http.post(
            f"https://127.0.0.1:{site.https}/channels/sms/twilio", headers=spoofed, content=b"a"
        )
    headers = {k.lower(): v for k, v in answer.json()["headers"].items()}
    assert headers["host"] == HOST
    assert headers["x-forwarded-proto"] == "https"
    assert headers["x-forwarded-for"] == "127.0.0.1"  # set, not appended: 10.1.2.3 is gone
    assert headers["x-request-id"]


def test_plain_http_is_sent_to_https(site: Site) -> None:
    answer = httpx.get(
        f"http://127.0.0.1:{site.http}/channels/ussd/africastalking", headers={"Host": HOST}
    )
    assert answer.status_code == 301
    assert answer.headers["location"] == f"https://{HOST}/channels/ussd/africastalking"


def test_the_access_log_holds_no_query_string(site: Site) -> None:
    query = "token=S3cretT0kenInTheUrl&from=%2B212600000001"
    with client() as http:
        http.post(f"https://127.0.0.1:{site.https}/channels/ussd/africastalking?{query}")
    text = site.log.read_text()
    assert "/channels/ussd/africastalking" in text
    assert "S3cretT0ken" not in text
    assert "600000001" not in text
