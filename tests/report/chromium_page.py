"""A real headless Chromium (Debian's ``chromium``), driven through the DevTools protocol.

``open_page(path)`` starts the browser with no network to speak of (background networking, sync
and component updates off; every host name resolves to nothing), opens the file, waits for its
load event and returns a ``Page`` that has recorded every request the page made and every console
message, uncaught exception and browser log entry (a Content-Security-Policy refusal is one) —
and can evaluate JavaScript, take screenshots and print to PDF.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
         "--disable-default-apps", "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND"]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    def __init__(self, socket, url: str):
        self.socket, self.url = socket, url
        self.requests: list[str] = []  # every URL the page asked for (the page itself included)
        self.errors: list[str] = []  # console errors, uncaught exceptions, browser log errors
        self._next_id = 0

    def call(self, method: str, **params) -> dict:
        self._next_id += 1
        call_id = self._next_id
        self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)

    def wait_for(self, event: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(self.socket.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            self._event(message)
            if message.get("method") == event:
                return message.get("params", {})
        raise TimeoutError(event)

    def settle(self, seconds: float = 0.5) -> None:
        """Read the events that arrive within ``seconds`` (late requests, late errors)."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                self._event(json.loads(self.socket.recv(timeout=left)))
            except TimeoutError:
                return

    def _event(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            self.errors.append("exception: " + params["exceptionDetails"].get("text", ""))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append("log: " + params["entry"]["text"])

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"].get("text"))
        return result["result"].get("value")

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        params = {"format": "png"}
        if full_page:
            width, height = self.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
        data = self.call("Page.captureScreenshot", **params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def pdf(self, path: Path) -> Path:
        """Print as on A4 paper (the page's own @page rules apply)."""
        data = self.call("Page.printToPDF", paperWidth=8.27, paperHeight=11.69, preferCSSPageSize=True,
                         printBackground=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path


class open_page:
    """``with open_page(file, width, height) as page:`` — the file loaded in a fresh browser."""

    def __init__(self, path: Path, width: int = 1366, height: int = 900, scripts: bool = True):
        self.path, self.width, self.height, self.scripts = Path(path).resolve(), width, height, scripts

    def __enter__(self) -> Page:
        from websockets.sync.client import connect

        self.profile = tempfile.mkdtemp(prefix="hydra-chromium-")
        self.process = subprocess.Popen(
            [chromium(), *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             f"--window-size={self.width},{self.height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + 60
        while not (os.path.exists(port_file) and open(port_file).read().count("\n") >= 1):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("chromium did not start")
            time.sleep(0.05)
        port = int(open(port_file).read().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as response:
            targets = json.load(response)
        page_target = next(t for t in targets if t["type"] == "page")
        self.connection = connect(page_target["webSocketDebuggerUrl"], max_size=None, open_timeout=30)
        self.socket = self.connection.__enter__()
        page = Page(self.socket, self.path.as_uri())
        for domain in ("Network", "Runtime", "Log", "Page"):
            page.call(f"{domain}.enable")
        page.call("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height, deviceScaleFactor=1,
                  mobile=False)
        if not self.scripts:
            page.call("Emulation.setScriptExecutionDisabled", value=True)
        page.call("Page.navigate", url=page.url)
        page.wait_for("Page.loadEventFired")
        page.settle()
        return page

    def __exit__(self, *exc) -> None:
        try:
            self.connection.__exit__(None, None, None)
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            shutil.rmtree(self.profile, ignore_errors=True)
