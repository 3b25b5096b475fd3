# evrouter link protocol: the bodies of the non-event messages on a container <-> evrouterd link.
# The fixed 24-byte envelope that precedes every message is described in docs/protocol.md; these
# structs are the second frame of HELLO, WELCOME and ERROR messages.

@0xe97076fa9294a3dc;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("evr::schema");

struct Hello {
  protocolVersion @0 :UInt16;
  container @1 :Text;
  clientInstance @2 :UInt64;  # random per Connection object; lets the daemon recognise a rejoin
  baseSeq @3 :UInt64;         # the container's next EVENT will carry seq > baseSeq
  pid @4 :UInt32;
  clientVersion @5 :Text;
  ordered @6 :Bool;           # protocol v4: the container's handlers see events in event-time
                              # order (docs/determinism.md): its inputs send watermarks
}

struct Welcome {
  protocolVersion @0 :UInt16;
  daemonInstance @1 :UInt64;  # random per daemon start
  ackSeq @2 :UInt64;          # highest seq from this container that the daemon has taken
  heartbeatMs @3 :UInt32;     # send something at least this often
  maxMessageSize @4 :UInt32;  # largest event frame the daemon accepts, bytes
  daemonVersion @5 :Text;
  replayLimit @6 :UInt32;     # router.replay_limit: what the daemon keeps sent and not acked, per
                              # name; an ordered container acks what it holds before that fills
}

enum ErrorCode {
  unknown @0;
  versionMismatch @1;    # HELLO's protocolVersion is not spoken by this daemon
  nameInUse @2;          # another live connection holds this container name
  invalidName @3;
  notJoined @4;          # a message other than HELLO from a peer that has not joined
  messageTooLarge @5;    # an event frame over maxMessageSize; the event was dropped
  malformed @6;          # a frame the daemon could not parse; dropped
  shuttingDown @7;       # the daemon is stopping and takes no new containers
  notAuthorized @8;      # router.security: the key may not join under this name (seq 0), or the
                         # container may not publish the event's type (seq: the event's)
  overloaded @9;         # router.max_connections containers are joined: retry later
}

struct Error {
  code @0 :ErrorCode;
  message @1 :Text;
  seq @2 :UInt64;        # the offending EVENT's seq, when there is one
}

# INPUTS (protocol v4, daemon -> container): the containers whose routes reach this one, sent after
# WELCOME and again whenever a reload changes them (docs/determinism.md).
struct Inputs {
  inputs @0 :List(Input);     # ordered by name: the order events of one event time are handed on
  wantWatermarks @1 :Bool;    # a container this one routes to is ordered: send watermarks
}

struct Input {
  name @0 :Text;
  feedback @1 :Bool;          # the edge closes a cycle (a child reporting up to the parent that
                              # feeds it): its events are handed on one step late, never waited for
  watermark @2 :Int64;        # how far this container has handled that input, as evrouterd last
                              # heard by its acks (INT64_MIN: nothing yet); a restarted process
                              # starts from here
}
