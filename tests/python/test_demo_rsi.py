"""The backtest demo with the mean-reversion strategy in Python (examples/python/rsi_strategy.py,
configs/demo/strategy_first_python.yaml) gives byte-identical fills and report figures to the
same demo with the C++ rsi_strategy (configs/demo/strategy_first.yaml)."""

import os
import re
import subprocess
import tempfile

from conftest import BUILD, SOURCE

# The files of results/<organization>/ that hold results (as scripts/backtest-determinism.sh).
RESULT_FILES = ["fills.csv", "summary.json", "equity.csv", "pnl_by_portfolio.csv",
                "pnl_by_strategy.csv", "routes.md"]


def run_demo(config, results):
    # The demo's sockets go in its own directory under TMPDIR: a short one, since a Unix socket's
    # path has room for 107 bytes and pytest's tmp_path grows with its run counter (it failed
    # with "File name too long" at pytest-104).
    with tempfile.TemporaryDirectory(prefix="evr-rsi-", dir="/tmp") as sockets:
        return run_demo_in(config, results, sockets)


def run_demo_in(config, results, sockets):
    env = dict(os.environ, TMPDIR=sockets)
    demo = subprocess.run(
        [str(SOURCE / "scripts" / "demo.sh"), "--config", str(SOURCE / "configs" / "demo" / config),
         "--build", str(BUILD), "--results", str(results), "--timeout", "200"],
        capture_output=True, text=True, timeout=240, env=env)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    return results / "strategy_first"


def report_figures(path, results):
    """report.md with what names the run rather than its results made the same: the config's
    file name, the strategy's program, the results directory; the wall-clock line dropped."""
    text = path.read_text().replace(str(results), "RESULTS")
    text = text.replace("strategy_first_python.yaml", "strategy_first.yaml")
    text = text.replace("`rsi_strategy.py --as", "`rsi_strategy --as")
    return [line for line in text.splitlines() if "wall clock" not in line]


def test_python_rsi_gives_the_same_backtest_as_cpp(tmp_path):
    cpp = run_demo("strategy_first.yaml", tmp_path / "cpp")
    py = run_demo("strategy_first_python.yaml", tmp_path / "py")
    assert (cpp / "fills.csv").read_text().count("\n") > 1, "no fills to compare"
    for name in RESULT_FILES:
        assert (cpp / name).read_bytes() == (py / name).read_bytes(), name
    assert report_figures(cpp / "report.md", cpp) == report_figures(py / "report.md", py)
    # Every routed event, route by route, in the same order (evrctl journal diff, as
    # scripts/backtest-determinism.sh compares two runs).
    diff = subprocess.run([str(BUILD / "client" / "evrctl"), "journal", "diff", str(cpp / "journal"),
                           str(py / "journal")], capture_output=True, text=True, timeout=120)
    assert diff.returncode == 0, diff.stdout + diff.stderr
    log = (py / "logs" / "mean_reversion.log").read_text()
    assert "mean_reversion: done signals=" in log
    assert log == (cpp / "logs" / "mean_reversion.log").read_text()
