// HandshakeWatch (protocol/curve_keys.hpp) on a real DEALER socket over loopback TCP.
//
// A plain client meeting a CURVE server learns of the mismatch in one of two ways, depending on
// which end reads the other's whole greeting first: a ZMTP protocol error, or a connection the
// server closes before its greeting is written. The second used to go unnoticed: `evrctl status`
// retried for its whole timeout and said "no answer" instead of "evrouterd runs with
// router.security" (integration.security failed on it once in a few CI runs). Here a listener
// that closes every connection during the greeting stands in for that server, and a ZeroMQ
// ROUTER on the same port for a server that does finish the handshake.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "evr/curve_keys.hpp"
#include "time_scale.hpp"

using namespace std::chrono_literals;
using evr::HandshakeWatch;

namespace {

// Listens on 127.0.0.1 (port 0 the first time, then the port it is given) and, on its own thread,
// accepts `closes` connections, reads the first bytes of each (the client's greeting) and closes
// it. The listening socket is closed once the last one is, so a ROUTER may bind the port next.
class ClosingListener {
 public:
  ClosingListener(int closes, std::uint16_t port = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    BOOST_REQUIRE(fd_ >= 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    // A ROUTER that had the port a moment ago lets go of it on its I/O thread, after its close.
    const auto give_up = std::chrono::steady_clock::now() + evr::test::bound(10s);
    while (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      BOOST_REQUIRE_MESSAGE(errno == EADDRINUSE && std::chrono::steady_clock::now() < give_up,
                            "cannot bind 127.0.0.1:" << port << ": " << std::strerror(errno));
      std::this_thread::sleep_for(5ms);  // a retry's pace, not a synchronisation
    }
    BOOST_REQUIRE(::listen(fd_, 16) == 0);
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this, closes] {
      const auto deadline = std::chrono::steady_clock::now() + evr::test::bound(20s);
      while (closed_ < closes && std::chrono::steady_clock::now() < deadline) {
        pollfd item{fd_, POLLIN, 0};
        if (::poll(&item, 1, 50) <= 0) continue;
        const int connection = ::accept(fd_, nullptr, nullptr);
        if (connection < 0) continue;
        pollfd readable{connection, POLLIN, 0};
        char greeting[16];
        if (::poll(&readable, 1, 5000) > 0) (void)::read(connection, greeting, sizeof greeting);
        ::close(connection);
        ++closed_;
      }
      ::close(fd_);
    });
  }
  ~ClosingListener() { wait(); }

  // Until the listener has closed what it was asked to (or given up) and let go of the port.
  int wait() {
    if (thread_.joinable()) thread_.join();
    return closed_;
  }
  std::uint16_t port() const { return port_; }
  std::string endpoint() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  int closed_ = 0;  // written by the thread, read after join
  std::thread thread_;
};

// A DEALER that reconnects quickly, watched from before its connect, as evrctl's is.
struct WatchedDealer {
  explicit WatchedDealer(zmq::context_t& context) : socket(context, zmq::socket_type::dealer) {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::reconnect_ivl, 10);
    socket.set(zmq::sockopt::reconnect_ivl_max, 10);
    watch.emplace(context, socket, false);
  }
  zmq::socket_t socket;
  std::optional<HandshakeWatch> watch;
};

// Waits (bounded) for the watch to report a failure, as evrctl's exchange() does.
std::optional<std::string> failureWithin(WatchedDealer& dealer, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto failure = dealer.watch->failure()) return failure;
    zmq::pollitem_t item{dealer.socket.handle(), 0, ZMQ_POLLIN, 0};
    (void)zmq::poll(&item, 1, std::chrono::milliseconds(20));
  }
  return dealer.watch->failure();
}

// Serves one handshake on `port` with a ROUTER: returns once a message the dealer sent has
// arrived (the handshake is done), checking the watch reports nothing all the while.
void serveOneHandshake(zmq::context_t& context, WatchedDealer& dealer, std::uint16_t port) {
  zmq::socket_t router(context, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.bind("tcp://127.0.0.1:" + std::to_string(port));
  dealer.socket.send(zmq::str_buffer("ping"), zmq::send_flags::dontwait);
  const auto deadline = std::chrono::steady_clock::now() + evr::test::bound(20s);
  bool arrived = false;
  while (!arrived && std::chrono::steady_clock::now() < deadline) {
    const auto failure = dealer.watch->failure();
    BOOST_REQUIRE_MESSAGE(!failure, "reported a refusal: " << failure.value_or(""));
    zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(20)) > 0) {
      zmq::message_t frame;
      while (router.recv(frame, zmq::recv_flags::dontwait)) {
        if (frame.to_string_view() == "ping") arrived = true;
      }
    }
  }
  BOOST_REQUIRE_MESSAGE(arrived, "the ROUTER never received the dealer's message");
  BOOST_CHECK(!dealer.watch->failure());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(handshake_watch)

BOOST_AUTO_TEST_CASE(a_server_that_closes_every_handshake_is_a_refusal) {
  zmq::context_t context(1);
  ClosingListener listener(HandshakeWatch::kClosedHandshakes);
  WatchedDealer dealer(context);
  dealer.socket.connect(listener.endpoint());
  const auto failure = failureWithin(dealer, evr::test::bound(20000ms));
  BOOST_REQUIRE_MESSAGE(failure, "no refusal reported after the listener closed "
                                     << listener.wait() << " handshakes");
  BOOST_CHECK_EQUAL(listener.wait(), HandshakeWatch::kClosedHandshakes);
  BOOST_CHECK_MESSAGE(failure->find("closed the connection during the handshake 3 times in a row") !=
                          std::string::npos,
                      *failure);
  BOOST_CHECK_MESSAGE(failure->find("evrouterd runs with router.security") != std::string::npos, *failure);
}

BOOST_AUTO_TEST_CASE(closes_separated_by_a_done_handshake_are_not_a_refusal) {
  // kClosedHandshakes - 1 closes, a handshake done, the same again: as many closes in all as make
  // a refusal in a row, none reported, because the done handshake starts the count again.
  zmq::context_t context(1);
  WatchedDealer dealer(context);
  std::uint16_t port = 0;
  for (int round = 0; round < 2; ++round) {
    ClosingListener listener(HandshakeWatch::kClosedHandshakes - 1, port);
    port = listener.port();
    if (round == 0) dealer.socket.connect(listener.endpoint());
    BOOST_REQUIRE_EQUAL(listener.wait(), HandshakeWatch::kClosedHandshakes - 1);
    serveOneHandshake(context, dealer, port);
  }
  BOOST_CHECK(!dealer.watch->failure());
}

BOOST_AUTO_TEST_SUITE_END()
