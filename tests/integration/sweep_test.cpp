// The optimization sweep (docs/optimization.md) through its launcher, scripts/sweep.sh: a real
// evrouterd, data feed, one sma_strategy process per grid cell and the sweep_book, on a small grid
// and a slice of the shipped data so each run takes a few seconds.
//
// - two sweeps give byte-identical tables, and running each cell alone (the sequential
//   comparison) gives the same table again: a strategy's book depends only on its own signals;
// - the shipped configs/sweep.yaml is what the launcher generates for its default grid, and
//   passes `evrouterd --check` without warnings;
// - a bad grid is a clear error before anything starts.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon_fixture.hpp"

using namespace evr::test;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = EVR_SOURCE_DIR;
const fs::path kBuild = fs::path(EVR_EVROUTERD_PATH).parent_path().parent_path();

struct Run {
  int exit_code = -1;
  std::string output;
};

Run runSweep(const TempDir& dir, std::vector<std::string> args) {
  std::vector<std::string> argv{(kSource / "scripts/sweep.sh").string(), "--build", kBuild.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  Process process(argv, {.env = {{"TMPDIR", dir.path().string()}}});
  Run run;
  run.exit_code = process.waitFor(120s).value_or(-1);
  run.output = process.readAllStdout(5s) + process.readAllStderr(5s);
  BOOST_TEST_MESSAGE(run.output);
  return run;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::vector<std::string>> csvRows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::stringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::stringstream cells(line);
    std::string field;
    while (std::getline(cells, field, ',')) fields.push_back(field);
    rows.push_back(fields);
  }
  return rows;
}

// A 2 x 2 grid with one invalid pair (5 >= 4): three strategies.
const std::vector<std::string> kGrid{"--fast", "3,5", "--slow", "4,10", "--slice", "60"};

}  // namespace

BOOST_AUTO_TEST_SUITE(sweep)

BOOST_AUTO_TEST_CASE(two_sweeps_and_the_sequential_runs_give_the_same_table) {
  TempDir dir;
  auto first_args = kGrid;
  first_args.insert(first_args.end(), {"--results", (dir.path() / "a").string()});
  const auto first = runSweep(dir, first_args);
  BOOST_REQUIRE_EQUAL(first.exit_code, 0);
  auto second_args = kGrid;
  second_args.insert(second_args.end(), {"--results", (dir.path() / "b").string(), "--no-sequential"});
  const auto second = runSweep(dir, second_args);
  BOOST_REQUIRE_EQUAL(second.exit_code, 0);

  const auto table = slurp(dir.path() / "a/table.csv");
  BOOST_TEST(table == slurp(dir.path() / "b/table.csv"));
  BOOST_TEST(slurp(dir.path() / "a/table.md") == slurp(dir.path() / "b/table.md"));
  // The first run also ran each strategy alone and found the same table (the script compares).
  BOOST_TEST(first.output.find("same table as the sweep") != std::string::npos);
  BOOST_TEST(slurp(dir.path() / "a/report.md").find("sequential one-strategy runs") != std::string::npos);

  const auto rows = csvRows(table);
  BOOST_REQUIRE_EQUAL(rows.size(), 4u);  // header + (3,4), (3,10), (5,10)
  BOOST_TEST(rows[0][0] == "fast");
  BOOST_TEST(rows[0][9] == "sharpe");
  const std::vector<std::pair<std::string, std::string>> pairs{{"3", "4"}, {"3", "10"}, {"5", "10"}};
  int traded = 0;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const auto& row = rows[i + 1];
    BOOST_REQUIRE_EQUAL(row.size(), 11u);
    BOOST_TEST(row[0] == pairs[i].first);
    BOOST_TEST(row[1] == pairs[i].second);
    BOOST_TEST(row[2] == "sma_" + pairs[i].first + "_" + pairs[i].second);
    BOOST_TEST(row[3] == "60");  // every book has one PnL point per trading day
    // A strategy signals every symbol (4) on every bar after its slow SMA has warmed up.
    BOOST_TEST(std::stoi(row[4]) == 4 * (60 - std::stoi(row[1]) + 1));
    if (std::stoi(row[5]) > 0) ++traded;
    std::size_t used = 0;
    (void)std::stod(row[9], &used);
    BOOST_TEST(used == row[9].size());
  }
  BOOST_TEST(traded > 0);
  // The invalid pair is an empty cell in the Sharpe matrix, and the heat map was drawn.
  BOOST_TEST(slurp(dir.path() / "a/table.md").find("| **5** |  |") != std::string::npos);
  BOOST_TEST(slurp(dir.path() / "a/sharpe.svg").find("<svg") != std::string::npos);
  // Nothing left behind: the work directory (and its sockets) is removed after a local sweep.
  BOOST_TEST(!fs::exists(dir.path() / "a/work"));
}

BOOST_AUTO_TEST_CASE(shipped_config_is_the_default_grid_and_checks_clean) {
  TempDir dir;
  Process print({(kSource / "scripts/sweep.sh").string(), "--print-config"});
  BOOST_REQUIRE_EQUAL(print.waitFor(30s).value_or(-1), 0);
  const auto generated = print.readAllStdout(5s);
  BOOST_TEST(generated == slurp(kSource / "configs/sweep.yaml"),
             "configs/sweep.yaml is not what scripts/sweep.sh --print-config writes: regenerate it");
  Process check({EVR_EVROUTERD_PATH, "--check", "-c", (kSource / "configs/sweep.yaml").string()});
  BOOST_REQUIRE_EQUAL(check.waitFor(30s).value_or(-1), 0);
  const auto output = check.readAllStdout(5s) + check.readAllStderr(5s);
  BOOST_TEST(output.find("warning") == std::string::npos, output);
  BOOST_TEST(output.find("sma_25_150") != std::string::npos);  // the last of the 64 cells
}

BOOST_AUTO_TEST_CASE(a_bad_grid_is_a_clear_error) {
  TempDir dir;
  const auto zero = runSweep(dir, {"--fast", "0,3", "--results", (dir.path() / "r").string()});
  BOOST_TEST(zero.exit_code == 1);
  BOOST_TEST(zero.output.find("periods must be positive integers: '0'") != std::string::npos);
  const auto empty = runSweep(dir, {"--fast", "50", "--slow", "10,20", "--results", (dir.path() / "r").string()});
  BOOST_TEST(empty.exit_code == 1);
  BOOST_TEST(empty.output.find("no pair of the grid has fast < slow") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
