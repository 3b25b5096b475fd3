# evrctl <-> evrouterd control messages (docs/control.md). One request frame, one reply frame,
# over the control socket (router.control; default ipc://<runtime dir>/evrouterd.ctl, mode 0660).

@0xc6c9e8a735826bb9;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("evr::schema");

struct ControlRequest {
  union {
    status @0 :Void;
    stats @1 :Void;
    reload @2 :Text;        # config file to load; empty: the daemon's own config path
    graph @3 :Void;
  }
}

struct ControlReply {
  ok @0 :Bool;
  errors @1 :List(Text);    # when not ok: every problem, config errors as file:line:col
  union {
    none @2 :Void;
    status @3 :Status;
    stats @4 :Stats;
    reload @5 :ReloadResult;
    graph @6 :Graph;
  }
}

# The routing topology in force: containers and the edges adapters draw between them.
struct Graph {
  containers @0 :List(GraphNode);
  edges @1 :List(GraphEdge);
  generation @2 :UInt64;
}

struct GraphNode {
  name @0 :Text;
  connected @1 :Bool;
}

struct GraphEdge {
  adapter @0 :Text;
  adapterType @1 :Text;
  source @2 :Text;
  target @3 :Text;
  types @4 :Text;        # "ALL" or "BAR|SIGNAL"
  condition @5 :Text;    # selective: the rules that send to this target ("default" for the default)
  transform @6 :Text;    # pipeline transform on this edge, "" when none
}

struct Status {
  version @0 :Text;
  uptimeMs @1 :UInt64;
  configPath @2 :Text;
  generation @3 :UInt64;     # 1 at start, +1 per applied reload
  digest @4 :Text;           # of the config file's bytes
  connected @5 :List(Text);  # containers joined now
  instance @6 :UInt64;
  failedReloads @7 :UInt64;
  tapEndpoint @8 :Text;      # where `evrctl tap` subscribes
  stalled @9 :List(Text);    # lossless targets that have acked nothing for router.stall_timeout_ms
  held @10 :List(Text);      # sources whose acks are held (a lossless target's queue is long)
  journal @11 :Text;         # "off", or the journal's directory and counters
  rateLimited @12 :List(Text);  # sources whose acks wait for their rate limit (router.limits)
  connections @13 :UInt32;      # containers joined now
  connectionsLimit @14 :UInt32; # router.max_connections
  hellosRefused @15 :UInt64;    # HELLOs refused at router.max_connections (ERROR overloaded)
}

struct Counter {
  name @0 :Text;
  value @1 :UInt64;
}

struct ContainerStats {
  name @0 :Text;
  connected @1 :Bool;
  declared @2 :Bool;         # named by the routing table in force
  queueDepth @3 :UInt64;
  eventsIn @4 :UInt64;
  bytesIn @5 :UInt64;
  eventsOut @6 :UInt64;
  bytesOut @7 :UInt64;
  unrouted @8 :UInt64;
  joins @9 :UInt64;
  dropsFrom @10 :List(Counter);  # its events dropped, by reason (non-zero only)
  dropsTo @11 :List(Counter);    # events meant for it dropped, by reason (non-zero only)
  idleMs @12 :UInt64;            # since the daemon last heard from it
  everHeard @13 :Bool;           # false: never connected (idleMs is meaningless)
  unacked @14 :UInt64;           # sent to it and not acked yet (the replay buffer)
  redelivered @15 :UInt64;       # sent again after it joined again without acking them
  replayed @16 :UInt64;          # sent to it from the journal after a daemon restart
  stalled @17 :Bool;             # lossless work pending, no ack for router.stall_timeout_ms
  rateLimited @18 :UInt64;       # its events whose ack waited for its rate limit (router.limits)
  queueBytes @19 :UInt64;        # event bytes queued for it
}

struct RouteStats {
  source @0 :Text;
  target @1 :Text;
  events @2 :UInt64;             # since the routing table in force was installed
}

struct AdapterStats {
  name @0 :Text;
  matched @1 :UInt64;
  unmatched @2 :UInt64;
}

struct Stats {
  eventsIn @0 :UInt64;
  deliveries @1 :UInt64;
  unrouted @2 :UInt64;
  unmatched @3 :UInt64;
  drops @4 :List(Counter);
  containers @5 :List(ContainerStats);
  adapters @6 :List(AdapterStats);
  routes @7 :List(RouteStats);
  backpressureHolds @8 :UInt64;  # times a source's acks were held because a target's queue was long
  auth @9 :AuthStats;            # router.security's counters (secured false without it)
}

struct AuthStats {
  secured @0 :Bool;              # router.security is on
  accepted @1 :UInt64;           # CURVE handshakes let in
  refused @2 :List(Counter);     # by reason (docs/security.md), non-zero only
}

struct ReloadResult {
  changed @0 :Bool;          # false: the same config was already in force (a no-op)
  generation @1 :UInt64;
  digest @2 :Text;
  routesAdded @3 :List(Text);
  routesRemoved @4 :List(Text);
  warnings @5 :List(Text);
}
