"""Fixtures for the Python package's tests: a real evrouterd on an ipc socket in a temporary
directory, and evrctl. ctest (tests/CMakeLists.txt) sets PYTHONPATH=<build>/python and EVR_BUILD_DIR;
every wait here is bounded."""

import os
import pathlib
import queue
import subprocess
import threading
import time

import pytest

BUILD = pathlib.Path(os.environ.get("EVR_BUILD_DIR", pathlib.Path(__file__).parents[2] / "build"))
EVROUTERD = BUILD / "daemon" / "evrouterd"
EVRCTL = BUILD / "client" / "evrctl"
SOURCE = pathlib.Path(__file__).resolve().parents[2]


class Daemon:
    """evrouterd with `yaml` as its config, in `directory`; stopped by stop()."""

    def __init__(self, directory, yaml):
        self.dir = pathlib.Path(directory)
        self.config = self.dir / "evrouter.yaml"
        self.config.write_text(yaml)
        self.endpoint = f"ipc://{self.dir}/evrouterd.sock"
        self.lines = queue.Queue()
        self.proc = subprocess.Popen(
            [str(EVROUTERD), "-c", str(self.config), "--runtime-dir", str(self.dir),
             "--metrics", "off", "--log-level", "info"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.log = []
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 20
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                raise RuntimeError("evrouterd did not start: " + "".join(self.log)) from None
            if line is None:
                raise RuntimeError("evrouterd exited: " + "".join(self.log))
            if "evrouterd instance" in line:
                break

    def _read(self):
        for line in self.proc.stderr:
            self.log.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def evrctl(self, *args, timeout=30):
        """Runs evrctl SUBCOMMAND --endpoint <this daemon> ARGS...; returns the CompletedProcess."""
        command = [str(EVRCTL), args[0], "--endpoint", self.endpoint, *args[1:]]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)

    def evrctl_background(self, *args):
        command = [str(EVRCTL), args[0], "--endpoint", self.endpoint, *args[1:]]
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.fixture
def daemon_factory(tmp_path):
    started = []

    def start(yaml):
        d = Daemon(tmp_path, yaml)
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


def serve_until(link, done, timeout=20.0):
    """Polls `link` until done() or `timeout` seconds; fails the test on the timeout."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s (stats {link.stats})")
        link.poll(0.05)
