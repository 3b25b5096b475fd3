# The journal's records (docs/delivery.md, "The journal"): the payload of one segment_log record
# (daemon/journal/segment_log.hpp frames it with its length and crc32). A record's journal index is
# its place in the log, not a field: segment_log numbers records 1, 2, 3, ... over the log's life.
#
# Only evrouterd writes these, and only evrouterd and `evrctl journal dump` read them; they are
# not part of the link protocol. Evolution: Cap'n Proto's compatible changes only.

@0x964379f4038c705b;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("evr::schema");

struct JournalRecord {
  union {
    event :group {
      # One routed event, appended before its source is acked.
      source @0 :Text;              # publishing container
      sourceInstance @1 :UInt64;    # its Connection's clientInstance
      sourceSeq @2 :UInt64;         # its seq in that instance
      generation @3 :UInt64;        # routing table generation that routed it
      targets @4 :List(Text);       # target names it was routed to
      eventType @5 :UInt8;          # EventType ordinal (as in the envelope)
      hops @6 :UInt8;
      event @7 :Data;               # the event's Cap'n Proto bytes, as routed
    }
    targetAcked :group {
      # `target` has acked every event record routed to it with an index <= `index`. Written when
      # the ack moves (at most every ack_interval per target) and as a checkpoint of every known
      # position at the start of each segment.
      target @8 :Text;
      index @9 :UInt64;
    }
  }
}
