// The backtest demo (docs/demo.md) through its launcher, scripts/demo.sh: real evrouterd and one
// real process per container on ipc sockets in a temporary directory, on slices of the shipped
// data so each run takes about a second.
//
// - every configs/demo/*.yaml passes `evrouterd --check` without warnings and runs end to end;
// - the Classifier-First run's fills and PnL for the momentum strategy are recomputed here from
//   the CSV with plain loops (indicators, regime rule, crossover, sizing, next-open fills), and its
//   account figures (equity, drawdown, Sharpe, trade count) from the tracker's own files;
// - Ctrl-C leaves no process behind; bad CSV input is an error with file and line.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "daemon_fixture.hpp"

using namespace evr::test;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = EVR_SOURCE_DIR;
const fs::path kBuild = fs::path(EVR_EVROUTERD_PATH).parent_path().parent_path();
const std::vector<std::string> kOrganizations{"strategy_first", "classifier_first", "risk_first", "portfolio_first"};

std::vector<std::string> split(const std::string& line, char separator = ',') {
  std::vector<std::string> fields;
  std::stringstream stream(line);
  std::string field;
  while (std::getline(stream, field, separator)) fields.push_back(field);
  return fields;
}

std::vector<std::vector<std::string>> readCsv(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) rows.push_back(split(line));
  return rows;
}

struct DemoRun {
  int exit_code = -1;
  std::string output;
  fs::path results;  // <results>/<organization>
};

DemoRun runDemo(const TempDir& dir, const std::string& organization, std::vector<std::string> extra) {
  std::vector<std::string> argv{(kSource / "scripts/demo.sh").string(),
                                "--config", (kSource / "configs/demo" / (organization + ".yaml")).string(),
                                "--build", kBuild.string(), "--results", (dir.path() / "results").string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Process demo(argv, {.env = {{"TMPDIR", dir.path().string()}}});
  DemoRun run;
  run.exit_code = demo.waitFor(120s).value_or(-1);
  run.output = demo.readAllStdout(5s) + demo.readAllStderr(5s);
  run.results = dir.path() / "results" / organization;
  BOOST_TEST_MESSAGE(organization << ":\n" << run.output);
  return run;
}

nlohmann::json summaryOf(const DemoRun& run) {
  std::ifstream in(run.results / "summary.json");
  BOOST_REQUIRE_MESSAGE(in, "no summary.json in " << run.results);
  return nlohmann::json::parse(in);
}

// ---- the independent computation ---------------------------------------------------------------
// Written from the definitions in docs/demo.md, with plain loops and none of examples/common.

struct Day {
  std::string date;
  double open, high, low, close;
};

std::vector<std::optional<double>> sma(const std::vector<Day>& days, std::size_t n) {
  std::vector<std::optional<double>> out(days.size());
  for (std::size_t i = n - 1; i < days.size(); ++i) {
    double sum = 0;
    for (std::size_t k = i + 1 - n; k <= i; ++k) sum += days[k].close;
    out[i] = sum / static_cast<double>(n);
  }
  return out;
}

std::vector<std::optional<double>> ema(const std::vector<Day>& days, std::size_t n) {
  const auto seed = sma(days, n);
  std::vector<std::optional<double>> out(days.size());
  for (std::size_t i = n - 1; i < days.size(); ++i) {
    out[i] = i == n - 1 ? *seed[i] : *out[i - 1] + 2.0 / (n + 1.0) * (days[i].close - *out[i - 1]);
  }
  return out;
}

std::vector<std::optional<double>> atr(const std::vector<Day>& days, std::size_t n) {
  std::vector<double> true_range;
  for (std::size_t i = 0; i < days.size(); ++i) {
    double range = days[i].high - days[i].low;
    if (i > 0) {
      range = std::max({range, std::abs(days[i].high - days[i - 1].close), std::abs(days[i].low - days[i - 1].close)});
    }
    true_range.push_back(range);
  }
  std::vector<std::optional<double>> out(days.size());
  double first = 0;
  for (std::size_t i = 0; i < n; ++i) first += true_range[i] / static_cast<double>(n);
  out[n - 1] = first;
  for (std::size_t i = n; i < days.size(); ++i) out[i] = (*out[i - 1] * (n - 1.0) + true_range[i]) / static_cast<double>(n);
  return out;
}

struct ExpectedFill {
  std::string date;
  std::string side;
  double quantity;
  double price;
  double commission;
};

struct ExpectedLine {
  std::vector<ExpectedFill> fills;
  double pnl = 0;
  int trades = 0;
};

// The momentum strategy's line in one risk profile of configs/demo/classifier_first.yaml, from
// its launch table: momentum SMA 10/30; classifier EMA 10 / SMA 30, ATR 14, threshold 0.01, max
// volatility 0.035; the profile trades on days of `regime`, capital 100,000, ATR 14 x 2 sizing;
// execution 5 bps slippage, 0.005 per share, minimum 1. The exposure limit does not bind here: one
// symbol, two strategies, each position at most max_position of capital when opened, and twice
// that is below max_exposure in every profile (10% / 30%, 20% / 60%, 30% / 100%).
ExpectedLine momentumLine(const std::vector<Day>& days, const std::string& regime, double risk_per_trade,
                          double max_position) {
  const auto fast = sma(days, 10), slow = sma(days, 30), trend_fast = ema(days, 10), range = atr(days, 14);
  const double capital = 100000;
  ExpectedLine line;
  double held = 0, cash = 0;
  for (std::size_t i = 0; i + 1 < days.size(); ++i) {  // an order on the last day is never filled
    if (!fast[i] || !slow[i]) continue;
    const double trend = *trend_fast[i] / *slow[i] - 1;
    const double volatility = *range[i] / *slow[i];
    const std::string today = trend < -0.01 ? "BEAR" : (trend > 0.01 && volatility <= 0.035) ? "BULL" : "NEUTRAL";
    const bool want = *fast[i] > *slow[i] && today == regime;
    double quantity = 0;
    if (want && held == 0) {
      quantity = std::floor(std::min(capital * risk_per_trade / (2 * *range[i]), capital * max_position / days[i].close));
    } else if (!want && held > 0) {
      quantity = -held;
    }
    if (quantity == 0) continue;
    const Day& next = days[i + 1];
    const double price = next.open * (1 + (quantity > 0 ? 1 : -1) * 0.0005);
    const double commission = std::max(1.0, 0.005 * std::abs(quantity));
    line.fills.push_back({next.date, quantity > 0 ? "BUY" : "SELL", std::abs(quantity), price, commission});
    held += quantity;
    cash -= quantity * price + commission;
    if (held == 0) ++line.trades;
  }
  line.pnl = cash + held * days.back().close;
  return line;
}

// Processes whose command line or environment mentions `needle` (ours: the test's temp dir).
std::vector<std::string> processesMentioning(const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const auto pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos || pid == std::to_string(getpid())) continue;
    for (const char* file : {"cmdline", "environ"}) {
      if (readFile((entry.path() / file).string()).find(needle) != std::string::npos) {
        found.push_back(pid + " " + readFile((entry.path() / "cmdline").string()));
        break;
      }
    }
  }
  return found;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(demo)

BOOST_AUTO_TEST_CASE(every_demo_config_passes_check_without_warnings) {
  for (const auto& organization : kOrganizations) {
    Process check({EVR_EVROUTERD_PATH, "--check", "-c", (kSource / "configs/demo" / (organization + ".yaml")).string()});
    BOOST_CHECK_EQUAL(check.waitFor(30s).value_or(-1), 0);
    const auto output = check.readAllStdout(5s) + check.readAllStderr(5s);
    BOOST_CHECK_MESSAGE(output.find("config OK") != std::string::npos, organization << ": " << output);
    BOOST_CHECK_MESSAGE(output.find("warning") == std::string::npos, organization << ": " << output);
  }
}

BOOST_AUTO_TEST_CASE(every_organization_runs_end_to_end_on_a_slice) {
  for (const auto& organization : kOrganizations) {
    TempDir dir;
    const auto run = runDemo(dir, organization, {"--slice", "60"});
    BOOST_REQUIRE_MESSAGE(run.exit_code == 0, organization << " exited " << run.exit_code << ":\n" << run.output);
    const auto summary = summaryOf(run);
    BOOST_CHECK_EQUAL(summary["days"].get<int>(), 60);
    BOOST_CHECK_EQUAL(summary["bars"].get<int>(), 60 * 4);  // four symbols
    BOOST_CHECK_EQUAL(summary["statement_checks"].get<int>(), 60);
    BOOST_CHECK_EQUAL(summary["statement_mismatches"].get<int>(), 0);
    BOOST_CHECK_GT(summary["fills"].get<int>(), 0);
    for (const char* file : {"report.md", "equity.svg", "topology.svg", "fills.csv", "equity.csv", "lineage.svg"}) {
      BOOST_CHECK_MESSAGE(fs::exists(run.results / file) && fs::file_size(run.results / file) > 0,
                          organization << ": " << file);
    }
    const auto report = readFile((run.results / "report.md").string());
    BOOST_CHECK(report.find("# Backtest demo: " + organization) != std::string::npos);
    // The first trade's lineage, from the run's journal: the FILL first, then its causes.
    const auto lineage = readFile((run.results / "lineage.txt").string());
    BOOST_CHECK_MESSAGE(lineage.find(" FILL execution seq=") != std::string::npos, organization << ":\n" << lineage);
    BOOST_CHECK_MESSAGE(lineage.find("\n  <- ") != std::string::npos, organization << ":\n" << lineage);
    BOOST_CHECK(report.find("## Lineage of the first trade") != std::string::npos);
    BOOST_CHECK(report.find(lineage) != std::string::npos);
    BOOST_CHECK(fs::is_directory(run.results / "journal"));
    // The data feed's route count comes from evrouterd's stats: 240 bars and END_OF_DATA.
    BOOST_CHECK_MESSAGE(report.find("| data | execution | 241 |") != std::string::npos ||
                            report.find("| data | momentum | 241 |") != std::string::npos,
                        organization << ":\n" << report);
    BOOST_CHECK(readFile((run.results / "equity.svg").string()).find("<svg") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(progress_shows_unknown_not_zero_when_a_stats_query_gets_no_answer) {
  // The progress line's figures come from `evrctl stats --timeout ...`; on a busy machine a query
  // can go unanswered within its bound. Such a query must not read as "0 events routed": here
  // every progress query goes unanswered (a build directory whose evrctl fails them), so the
  // figures stay unknown, while the rest of the run (final stats, graph) uses the real evrctl.
  TempDir dir;
  const fs::path build = dir.path() / "build";
  fs::create_directories(build / "client");
  fs::create_directories(build / "daemon");
  fs::create_symlink(kBuild / "daemon/evrouterd", build / "daemon/evrouterd");
  fs::create_directory_symlink(kBuild / "examples", build / "examples");
  const auto evrctl = dir.write("build/client/evrctl",
                                "#!/usr/bin/env bash\n"
                                "if [ \"$1\" = stats ] && [[ \" $* \" == *\" --timeout \"* ]]; then exit 2; fi\n"
                                "exec '" + (kBuild / "client/evrctl").string() + "' \"$@\"\n");
  fs::permissions(evrctl, fs::perms::owner_all, fs::perm_options::add);
  const auto run = runDemo(dir, "risk_first", {"--slice", "60", "--build", build.string()});
  BOOST_REQUIRE_MESSAGE(run.exit_code == 0, run.output);
  BOOST_CHECK_MESSAGE(run.output.find("? events routed, ? events/s") != std::string::npos, run.output);
  BOOST_CHECK_MESSAGE(run.output.find(" 0 events routed") == std::string::npos, run.output);
}

BOOST_AUTO_TEST_CASE(classifier_first_momentum_fills_and_pnl_match_an_independent_computation) {
  TempDir dir;
  const std::size_t slice = 150;
  const auto csv = kSource / "examples/data/ACME.csv";
  const auto run = runDemo(dir, "classifier_first", {"--data", csv.string(), "--slice", std::to_string(slice)});
  BOOST_REQUIRE_MESSAGE(run.exit_code == 0, run.output);

  std::vector<Day> days;
  for (const auto& row : readCsv(csv)) {
    if (days.size() == slice) break;
    days.push_back({row[0], std::stod(row[1]), std::stod(row[2]), std::stod(row[3]), std::stod(row[4])});
  }
  const auto summary = summaryOf(run);
  BOOST_REQUIRE_EQUAL(summary["days"].get<std::size_t>(), slice);

  std::map<std::string, std::vector<std::vector<std::string>>> fills_by_portfolio;  // momentum's fills only
  const auto fills = readCsv(run.results / "fills.csv");
  for (const auto& f : fills) {
    if (f[3] == "momentum") fills_by_portfolio[f[2]].push_back(f);
  }
  struct Profile {
    std::string portfolio, regime;
    double risk_per_trade, max_position;
  };
  int expected_fills = 0;
  for (const Profile& p : {Profile{"risk_conservative", "BEAR", 0.005, 0.10}, Profile{"risk_balanced", "NEUTRAL", 0.01, 0.20},
                           Profile{"risk_aggressive", "BULL", 0.02, 0.30}}) {
    BOOST_TEST_CONTEXT(p.portfolio) {
      const auto expected = momentumLine(days, p.regime, p.risk_per_trade, p.max_position);
      expected_fills += static_cast<int>(expected.fills.size());
      const auto& actual = fills_by_portfolio[p.portfolio];
      BOOST_REQUIRE_EQUAL(actual.size(), expected.fills.size());
      for (std::size_t i = 0; i < actual.size(); ++i) {
        BOOST_TEST_MESSAGE(p.portfolio << " " << actual[i][0] << " " << actual[i][5] << " " << actual[i][6] << " @ " << actual[i][7]);
        BOOST_CHECK_EQUAL(actual[i][0], expected.fills[i].date);
        BOOST_CHECK_EQUAL(actual[i][5], expected.fills[i].side);
        BOOST_CHECK_EQUAL(std::stod(actual[i][6]), expected.fills[i].quantity);
        BOOST_CHECK_CLOSE(std::stod(actual[i][7]), expected.fills[i].price, 1e-6);
        BOOST_CHECK_CLOSE(std::stod(actual[i][8]), expected.fills[i].commission, 1e-6);
      }
      for (const auto& line : summary["lines"]) {
        if (line["portfolio"] == p.portfolio && line["strategy"] == "momentum") {
          BOOST_CHECK_SMALL(line["pnl"].get<double>() - expected.pnl, 1e-6);
          BOOST_CHECK_EQUAL(line["trades"].get<int>(), expected.trades);
        }
      }
    }
  }
  BOOST_CHECK_GE(expected_fills, 4);  // the slice is chosen to trade: two profiles, a regime handover

  // The account, from the tracker's own day-by-day equity and fills.
  const auto equity_rows = readCsv(run.results / "equity.csv");
  BOOST_REQUIRE_EQUAL(equity_rows.size(), slice);
  std::vector<double> equity;
  for (const auto& row : equity_rows) equity.push_back(std::stod(row[1]));
  BOOST_CHECK_SMALL(equity.back() - summary["final_equity"].get<double>(), 0.006);
  double peak = equity.front(), worst = 0;
  for (double value : equity) {
    peak = std::max(peak, value);
    worst = std::max(worst, peak - value);
  }
  BOOST_CHECK_SMALL(worst - summary["max_drawdown"].get<double>(), 0.02);
  double mean = 0, squares = 0;
  std::vector<double> returns;
  for (std::size_t i = 1; i < equity.size(); ++i) returns.push_back(equity[i] / equity[i - 1] - 1);
  for (double r : returns) mean += r / static_cast<double>(returns.size());
  for (double r : returns) squares += (r - mean) * (r - mean);
  const double sharpe = mean / std::sqrt(squares / static_cast<double>(returns.size() - 1)) * std::sqrt(252.0);
  BOOST_CHECK_SMALL(sharpe - summary["sharpe"].get<double>(), 0.01);
  std::map<std::string, double> positions;
  int trades = 0;
  for (const auto& f : fills) {
    double& held = positions[f[2] + "/" + f[3] + "/" + f[4]];
    held += (f[5] == "BUY" ? 1 : -1) * std::stod(f[6]);
    if (held == 0) ++trades;
  }
  BOOST_CHECK_EQUAL(summary["trades"].get<int>(), trades);
  BOOST_CHECK_EQUAL(summary["fills"].get<std::size_t>(), fills.size());
}

BOOST_AUTO_TEST_CASE(ctrl_c_stops_every_process_the_launcher_started) {
  TempDir dir;
  Process demo({(kSource / "scripts/demo.sh").string(), "--config",
                (kSource / "configs/demo/classifier_first.yaml").string(), "--build", kBuild.string(), "--results",
                (dir.path() / "results").string(), "--speed", "20"},
               {.env = {{"TMPDIR", dir.path().string()}}});
  BOOST_REQUIRE(demo.waitForLine("started evrouterd and 10 containers", 30s));
  BOOST_CHECK(!processesMentioning(dir.path().string()).empty());  // they are running
  demo.signal(SIGINT);
  BOOST_CHECK_EQUAL(demo.waitFor(30s).value_or(-1), 130);
  for (const auto& process : processesMentioning(dir.path().string())) {
    BOOST_ERROR("left running: " << process);
    ::kill(std::stoi(process), SIGKILL);  // ours (it runs in our temp dir): do not leave it behind
  }
}

BOOST_AUTO_TEST_CASE(bad_csv_input_is_an_error_with_file_and_line) {
  TempDir dir;
  const auto bad = dir.write("BAD.csv", "date,open,high,low,close,volume\n2021-01-04,10,11,9,10.5,100\n2021-01-05,10,11,9,abc,100\n");
  Process feed({(kBuild / "examples/data_feed").string(), "--data", bad, "--endpoint", dir.ipc()});
  BOOST_CHECK_EQUAL(feed.waitFor(30s).value_or(-1), 1);
  const auto error = feed.readAllStderr(5s);
  BOOST_CHECK_MESSAGE(error.find(bad + ":3: column 'close': 'abc' is not a number") != std::string::npos, error);

  const auto missing = (dir.path() / "NOPE.csv").string();
  Process none({(kBuild / "examples/data_feed").string(), "--data", missing, "--endpoint", dir.ipc()});
  BOOST_CHECK_EQUAL(none.waitFor(30s).value_or(-1), 1);
  const auto none_error = none.readAllStderr(5s);
  BOOST_CHECK_MESSAGE(none_error.find(missing + ":0: no such file or directory") != std::string::npos, none_error);

  const auto short_row = dir.write("SHORT.csv", "date,open,high,low,close,volume\n2021-01-04,10,11,9\n");
  Process truncated({(kBuild / "examples/data_feed").string(), "--data", short_row, "--endpoint", dir.ipc()});
  BOOST_CHECK_EQUAL(truncated.waitFor(30s).value_or(-1), 1);
  const auto short_error = truncated.readAllStderr(5s);
  BOOST_CHECK_MESSAGE(short_error.find("SHORT.csv") != std::string::npos && short_error.find("line 2") != std::string::npos,
                      short_error);
}

BOOST_AUTO_TEST_SUITE_END()
