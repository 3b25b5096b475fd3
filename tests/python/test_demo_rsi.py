"""The backtest demo with the mean-reversion strategy in Python (examples/python/rsi_strategy.py,
configs/demo/strategy_first_python.yaml) gives byte-identical fills and report figures to the
same demo with the C++ rsi_strategy (configs/demo/strategy_first.yaml)."""

import os
import re
import subprocess

from conftest import BUILD, SOURCE

# The files of results/<organization>/ that hold results (as scripts/backtest-determinism.sh).
RESULT_FILES = ["fills.csv", "summary.json", "equity.csv", "pnl_by_portfolio.csv",
                "pnl_by_strategy.csv", "routes.md"]


def run_demo(config, results, tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))
    demo = subprocess.run(
        [str(SOURCE / "scripts" / "demo.sh"), "--config", str(SOURCE / "configs" / "demo" / config),
         "--build", str(BUILD), "--results", str(results), "--timeout", "200"],
        capture_output=True, text=True, timeout=240, env=env)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    return results / "strategy_first"


def report_figures(path):
    """report.md without what depends on the run's wall clock and the programs' names."""
    text = path.read_text()
    return [line for line in text.splitlines()
            if not re.search(r"wall|elapsed|seconds|events/s|took|rsi_strategy", line, re.I)]


def test_python_rsi_gives_the_same_backtest_as_cpp(tmp_path):
    cpp = run_demo("strategy_first.yaml", tmp_path / "cpp", tmp_path)
    py = run_demo("strategy_first_python.yaml", tmp_path / "py", tmp_path)
    assert (cpp / "fills.csv").read_text().count("\n") > 1, "no fills to compare"
    for name in RESULT_FILES:
        assert (cpp / name).read_bytes() == (py / name).read_bytes(), name
    assert report_figures(cpp / "report.md") == report_figures(py / "report.md")
    log = (py / "logs" / "mean_reversion.log").read_text()
    assert "mean_reversion: done signals=" in log
    assert log == (cpp / "logs" / "mean_reversion.log").read_text()
