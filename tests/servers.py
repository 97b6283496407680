"""Servers and a browser for the browser tests and `benchmarks/hangs.py`: JupyterLab and Voila on
a free local port (each with its own config, runtime dir and log), headless Chromium through
Playwright. Each is a context manager that stops what it started.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
CHROMIUM = os.environ.get("DPOLAB_CHROMIUM", "/usr/bin/chromium")  # Debian's build by default
TOKEN = "dpolab-browser-test"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _server_env(tmp: Path) -> dict:
    env = dict(os.environ)
    env.setdefault("DPOLAB_CACHE", str(ROOT / ".cache" / "test"))
    env["JUPYTER_CONFIG_DIR"] = str(tmp / "config")  # no user settings leak into the test
    env["JUPYTER_RUNTIME_DIR"] = str(tmp / "runtime")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Lab:
    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}"

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(f"{self.base}{path}", method=method,
                                     headers={"Authorization": f"token {TOKEN}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read()
        return json.loads(body) if body else None

    def clear_sessions(self) -> None:
        """Kernel sessions outlive the browser page: delete them all."""
        for s in self.api("/api/sessions"):
            self.api(f"/api/sessions/{s['id']}", method="DELETE")

    def kernel_for(self, name: str) -> str:
        hits = [s["kernel"]["id"] for s in self.api("/api/sessions") if s["path"].endswith(name)]
        assert len(hits) == 1, f"expected one session for {name}, found {hits}"
        return hits[0]

    def execute(self, kernel_id: str, code: str, timeout: float = 60) -> dict:
        """Run `code` in a live kernel (alongside the page) and collect its stdout and images."""
        import websocket  # websocket-client, a jupyter_server dependency

        conn = websocket.create_connection(
            f"{self.ws}/api/kernels/{kernel_id}/channels?token={TOKEN}", timeout=timeout)
        msg_id = uuid.uuid4().hex
        conn.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                       "session": uuid.uuid4().hex, "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        result = {"stdout": "", "png": [], "error": None}
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                msg = json.loads(conn.recv())
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream":
                    result["stdout"] += content["text"]
                elif kind in ("display_data", "execute_result") and "image/png" in content["data"]:
                    result["png"].append(content["data"]["image/png"])
                elif kind == "error":
                    result["error"] = "\n".join(content["traceback"])
                elif kind == "status" and content["execution_state"] == "idle":
                    return result
        finally:
            conn.close()
        raise TimeoutError("kernel did not answer the probe in time")


class Voila:
    """A running Voila server: its URL and its log (where cell errors are reported)."""

    def __init__(self, url: str, log: Path):
        self.url, self.log = url, log

    def mark(self) -> int:
        return self.log.stat().st_size

    def since(self, mark: int) -> str:
        with open(self.log, errors="replace") as f:
            f.seek(mark)
            return f.read()

    def errors_since(self, mark: int) -> str:
        """The log text after `mark` if it reports a failed cell, else ''."""
        text = self.since(mark)
        return text[-4000:] if "Error at server while executing cell" in text else ""


def chromium_missing() -> str | None:
    """Why no browser can be started here, or None."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found: apt-get install -y chromium (Debian's build; .ci/run does it)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright missing: pip install -e '.[dev]'"
    return None


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator:
    """Headless Chromium (a Playwright browser context) with its profile in `profile`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            user_data_dir=str(profile), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
        try:
            yield ctx
        finally:
            ctx.close()


@contextlib.contextmanager
def lab_server(tmp: Path) -> Iterator[Lab]:
    """JupyterLab serving a copy of notebooks/ with autosave off (running cells in a page must
    never write outputs into the committed notebooks) and every cell rendered (no virtual
    scrolling, so off-screen readouts have their text)."""
    port, log = _free_port(), tmp / "lab.log"
    root = tmp / "notebooks"
    shutil.copytree(NB_DIR, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for ext, name, value in (("docmanager-extension", "plugin", '{"autosave": false}'),
                             ("notebook-extension", "tracker", '{"windowingMode": "none"}')):
        folder = tmp / "settings" / "@jupyterlab" / ext
        folder.mkdir(parents=True)
        (folder / f"{name}.jupyterlab-settings").write_text(value)
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.open_browser=False",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", f"--IdentityProvider.token={TOKEN}",
           f"--ServerApp.root_dir={root}", f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
           f"--LabApp.user_settings_dir={tmp / 'settings'}", "--LabApp.news_url=",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=_server_env(tmp),
                                cwd=root)
    try:
        _wait_http(f"http://127.0.0.1:{port}/api/status?token={TOKEN}", proc, log)
        server = Lab(port)
        server.clear_sessions()
        yield server
        server.clear_sessions()
    finally:
        _stop(proc)


@contextlib.contextmanager
def voila_server(tmp: Path) -> Iterator[Voila]:
    """Voila serving notebooks/ as apps, its log in `tmp`."""
    port, log = _free_port(), tmp / "voila.log"
    cmd = [sys.executable, "-m", "voila", str(NB_DIR), "--no-browser", f"--port={port}",
           "--Voila.ip=127.0.0.1", "--show_tracebacks=True"]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=_server_env(tmp),
                                cwd=ROOT)
    try:
        _wait_http(f"http://127.0.0.1:{port}/", proc, log)
        yield Voila(f"http://127.0.0.1:{port}", log)
    finally:
        _stop(proc)
