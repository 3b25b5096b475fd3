// The loop thread's poll and receive under signals (transport/zmq_retry.hpp): EINTR, which cppzmq
// throws, is an empty poll or a receive called again, never an exception out of the loop. Found
// by the fuzzer (docs/fuzzing.md). A second thread sends SIGUSR1 to this one every millisecond
// while it waits.
#include <boost/test/unit_test.hpp>
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <thread>
#include <zmq.hpp>

#include "transport/zmq_retry.hpp"

using namespace std::chrono_literals;

namespace {

std::atomic<int> handled{0};
void onSignal(int) { handled.fetch_add(1, std::memory_order_relaxed); }

// While it lives, SIGUSR1 (with a handler and no SA_RESTART) hits the constructing thread every ms.
class SignalStorm {
 public:
  SignalStorm() : target_(pthread_self()) {
    struct sigaction action {};
    action.sa_handler = &onSignal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGUSR1, &action, &previous_);
    thread_ = std::thread([this] {
      while (!done_.load()) {
        ::pthread_kill(target_, SIGUSR1);
        std::this_thread::sleep_for(1ms);  // pacing, not synchronisation
      }
    });
  }
  ~SignalStorm() {
    done_.store(true);
    thread_.join();
    ::sigaction(SIGUSR1, &previous_, nullptr);
  }

 private:
  pthread_t target_;
  struct sigaction previous_ {};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(zmq_retry)

BOOST_AUTO_TEST_CASE(a_signal_during_poll_is_an_empty_poll_not_an_exception) {
  zmq::context_t context(1);
  zmq::socket_t pull(context, zmq::socket_type::pull);
  pull.bind("inproc://zmq-retry-poll");
  zmq::pollitem_t item{pull.handle(), 0, ZMQ_POLLIN, 0};
  handled = 0;
  bool completed = true;
  {
    SignalStorm storm;
    // Nothing ever arrives: only a signal ends this wait before its 10 s.
    BOOST_REQUIRE_NO_THROW(completed = evr::transport::pollUnlessInterrupted(&item, 1, 10s));
  }
  BOOST_TEST(!completed);
  BOOST_TEST(item.revents == 0);
  BOOST_TEST(handled.load() > 0);
}

BOOST_AUTO_TEST_CASE(a_signal_during_a_blocking_receive_is_retried) {
  zmq::context_t context(1);
  zmq::socket_t pull(context, zmq::socket_type::pull);
  zmq::socket_t push(context, zmq::socket_type::push);
  pull.bind("inproc://zmq-retry-recv");
  push.connect("inproc://zmq-retry-recv");
  handled = 0;
  zmq::message_t received;
  zmq::recv_result_t result;
  {
    SignalStorm storm;
    std::thread sender([&] {
      while (handled.load() < 20) std::this_thread::yield();  // the receive below has been interrupted
      push.send(zmq::str_buffer("after the signals"), zmq::send_flags::none);
    });
    BOOST_CHECK_NO_THROW(result = evr::transport::recvRetrying(pull, received, zmq::recv_flags::none));
    sender.join();
  }
  BOOST_TEST(result.has_value());
  BOOST_TEST(received.to_string() == "after the signals");
}

BOOST_AUTO_TEST_SUITE_END()
