// SourcePositions: duplicates by (source, source instance, seq), and the position file that
// carries what was handled across a process's restart.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <stdexcept>
#include <string>

#include "evr/source_positions.hpp"
#include "temp_dir.hpp"

using evr::SourcePositions;

BOOST_AUTO_TEST_SUITE(source_positions)

BOOST_AUTO_TEST_CASE(an_event_at_or_below_what_its_source_instance_sent_is_a_duplicate) {
  SourcePositions positions;
  BOOST_TEST(!positions.takeOrDuplicate("feed", 7, 1));
  BOOST_TEST(!positions.takeOrDuplicate("feed", 7, 2));
  BOOST_TEST(positions.takeOrDuplicate("feed", 7, 2));
  BOOST_TEST(positions.takeOrDuplicate("feed", 7, 1));
  BOOST_TEST(!positions.takeOrDuplicate("feed", 7, 5));  // gaps are fine (filtered routes)
  // Another instance of the same source (it restarted) starts again at 1.
  BOOST_TEST(!positions.takeOrDuplicate("feed", 8, 1));
  BOOST_TEST(!positions.takeOrDuplicate("other", 7, 1));
  // Instance 0: not published through a connection, never judged.
  BOOST_TEST(!positions.takeOrDuplicate("feed", 0, 1));
  BOOST_TEST(!positions.takeOrDuplicate("feed", 0, 1));
  BOOST_TEST(positions.taken("feed", 7) == 5u);
  BOOST_TEST(positions.size() == 3u);
}

BOOST_AUTO_TEST_CASE(old_instances_of_a_source_are_forgotten_beyond_a_bound) {
  SourcePositions positions;
  for (std::uint64_t instance = 1; instance <= SourcePositions::kInstancesPerSource + 2; ++instance) {
    BOOST_TEST(!positions.takeOrDuplicate("feed", instance, 10));
  }
  BOOST_TEST(positions.size() == SourcePositions::kInstancesPerSource);
  BOOST_TEST(positions.taken("feed", 1) == 0u);
  BOOST_TEST(positions.taken("feed", SourcePositions::kInstancesPerSource + 2) == 10u);
}

BOOST_AUTO_TEST_CASE(handled_positions_survive_in_the_file_and_only_handled_ones) {
  evr::test::TempDir dir;
  const std::string path = (dir.path() / "positions").string();
  {
    SourcePositions positions;
    positions.openFile(path, evr::PositionSync::Batch);
    BOOST_TEST(positions.hasFile());
    BOOST_TEST(!positions.takeOrDuplicate("feed", 7, 1));
    BOOST_TEST(!positions.takeOrDuplicate("feed", 7, 2));
    positions.handled("feed", 7, 1);  // 2 was taken, never handled (the process died in it)
    BOOST_TEST(!positions.takeOrDuplicate("risk", 9, 4));
    positions.handled("risk", 9, 4);
    BOOST_TEST(positions.syncForAck(std::chrono::steady_clock::now()));
  }
  SourcePositions again;
  again.openFile(path);
  BOOST_TEST(again.size() == 2u);
  BOOST_TEST(again.takeOrDuplicate("feed", 7, 1));
  BOOST_TEST(!again.takeOrDuplicate("feed", 7, 2));  // comes again: handled only now
  BOOST_TEST(again.takeOrDuplicate("risk", 9, 4));
  BOOST_TEST(!again.takeOrDuplicate("risk", 9, 5));
}

BOOST_AUTO_TEST_CASE(an_event_whose_handlers_were_cut_short_is_named_and_the_mode_decides) {
  evr::test::TempDir dir;
  const std::string path = (dir.path() / "positions").string();
  {
    SourcePositions positions;
    positions.openFile(path);
    for (std::uint64_t seq = 1; seq <= 3; ++seq) BOOST_TEST(!positions.takeOrDuplicate("feed", 7, seq));
    positions.starting("feed", 7, 1);
    positions.handled("feed", 7, 1);
    positions.starting("feed", 7, 2);  // the process dies in 2's handler; 3 never started
  }
  {
    SourcePositions after;  // at-least-once: 2 comes again
    const auto interrupted = after.openFile(path, evr::PositionSync::None, std::chrono::milliseconds(100),
                                            evr::PositionMode::AfterHandling);
    BOOST_REQUIRE_EQUAL(interrupted.size(), 1u);
    BOOST_TEST(interrupted[0].source == "feed");
    BOOST_TEST(interrupted[0].seq == 2u);
    BOOST_TEST(after.takeOrDuplicate("feed", 7, 1));
    BOOST_TEST(!after.takeOrDuplicate("feed", 7, 2));
  }
  SourcePositions before;  // never twice: 2 counts as handled, 3 still comes
  const auto interrupted = before.openFile(path, evr::PositionSync::None, std::chrono::milliseconds(100),
                                           evr::PositionMode::BeforeHandling);
  BOOST_TEST(interrupted.size() == 1u);
  BOOST_TEST(before.takeOrDuplicate("feed", 7, 2));
  BOOST_TEST(!before.takeOrDuplicate("feed", 7, 3));
}

BOOST_AUTO_TEST_CASE(the_file_grows_past_its_first_size) {
  evr::test::TempDir dir;
  const std::string path = (dir.path() / "positions").string();
  {
    SourcePositions positions;
    positions.openFile(path, evr::PositionSync::None);
    for (std::uint64_t i = 1; i <= 300; ++i) {
      const std::string source = "s" + std::to_string(i);
      BOOST_TEST(!positions.takeOrDuplicate(source, i, i));
      positions.handled(source, i, i);
    }
  }
  SourcePositions again;
  again.openFile(path);
  BOOST_TEST(again.size() == 300u);
  BOOST_TEST(again.taken("s1", 1) == 1u);
  BOOST_TEST(again.taken("s300", 300) == 300u);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_position_file_is_refused_with_its_path) {
  evr::test::TempDir dir;
  const std::string path = (dir.path() / "notes.txt").string();
  {
    std::ofstream out(path);
    out << "this is not a position file, but it is long enough to have a header of 64 bytes....";
  }
  SourcePositions positions;
  try {
    positions.openFile(path);
    BOOST_FAIL("opened a file that is not a position file");
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    BOOST_TEST(what.find(path) != std::string::npos);
    BOOST_TEST(what.find("not a position file") != std::string::npos);
  }
  BOOST_CHECK_THROW(positions.openFile((dir.path() / "missing/dir/positions").string()), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
