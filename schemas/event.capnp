# evrouter events: what containers publish on their in-process bus and what evrouterd relays.
#
# The daemon never decodes these bytes to route plain pipeline/broadcast traffic: it routes on the
# envelope (see docs/protocol.md), which repeats the event type. It decodes an event only when a
# selective condition reads a field. Field names are the names conditions use: `event.symbol`,
# `event.regime`, `event.strength`, ... (docs/events.md lists them). Payload fields that mean the
# same thing in several payloads have the same name and type, so a condition such as
# `event.quantity > 100` means one thing wherever it applies.
#
# Evolution: only Cap'n Proto's compatible changes (new fields at new ordinals, new union members,
# new enumerants at the end). Never renumber.

@0xde27d1332a3b2b74;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("evr::schema");

enum EventType {
  # Ordinals are on the wire (envelope byte 5) and in routing tables: append only.
  unknown @0;
  bar @1;
  tick @2;
  indicator @3;
  signal @4;
  order @5;
  fill @6;
  regime @7;
  portfolio @8;
  endOfData @9;
  user @10;
  watermark @11;
  # Not an event: the link's progress record (docs/determinism.md). A container's connection sends
  # it as "I will publish nothing more with an event time <= eventTime"; evrouterd passes it, as
  # "`source` is complete up to eventTime", to every container that `source` routes to. Never
  # routed by adapters, never handed to handlers, never journaled; not a type configs may name.
}

struct Tag {
  key @0 :Text;
  value @1 :Text;
}

struct Event {
  id @0 :UInt64;
  # Deterministic id: (fnv1a32(source) << 32) | (seq & 0xffffffff). Unique per run as long as
  # container names do not collide under the hash (the daemon warns) and a source publishes fewer
  # than 2^32 events.
  type @1 :EventType;
  source @2 :Text;           # container that published it
  seq @3 :UInt64;            # per-source publish sequence, 1-based, gap-free
  eventTime @4 :Int64;       # ns since the Unix epoch, in the event's own clock (bar time in a backtest)
  publishTime @5 :Int64;     # ns since the Unix epoch, wall clock at publish
  correlationId @6 :UInt64;  # id of the event that started this chain (0: this event starts one)
  causationId @7 :UInt64;    # id of the event whose handler published this one (0: none)
  symbol @8 :Text;
  tags @9 :List(Tag);

  payload :union {
    none @10 :Void;
    bar @11 :Bar;
    tick @12 :Tick;
    indicator @13 :Indicator;
    signal @14 :Signal;
    order @15 :Order;
    fill @16 :Fill;
    regime @17 :Regime;
    portfolio @18 :Portfolio;
    endOfData @19 :EndOfData;
    user @20 :UserEvent;
  }

  sourceInstance @21 :UInt64;
  # The publishing connection's random instance (protocol v3): `seq` starts again at 1 when a
  # source process restarts, so receivers key "already handled" by (source, sourceInstance, seq).
  # 0 for events not published through a connection.
}

struct Bar {
  open @0 :Float64;
  high @1 :Float64;
  low @2 :Float64;
  close @3 :Float64;
  volume @4 :Float64;
  periodSeconds @5 :UInt32;  # bar length, e.g. 86400 for daily bars
}

struct Tick {
  bid @0 :Float64;
  ask @1 :Float64;
  price @2 :Float64;     # last trade price
  size @3 :Float64;      # last trade size
}

struct Indicator {
  name @0 :Text;         # e.g. "sma_20", "rsi_14"
  value @1 :Float64;
}

enum Direction {
  flat @0;
  long @1;
  short @2;
}

struct Signal {
  strategy @0 :Text;
  direction @1 :Direction;
  strength @2 :Float64;  # 0..1
  price @3 :Float64;     # reference price the strategy saw
}

enum Side {
  buy @0;
  sell @1;
}

enum OrderKind {
  market @0;
  limit @1;
}

struct Order {
  orderId @0 :Text;
  strategy @1 :Text;
  portfolio @2 :Text;
  side @3 :Side;
  orderKind @4 :OrderKind;
  quantity @5 :Float64;
  limitPrice @6 :Float64;  # used when orderKind == limit
}

struct Fill {
  orderId @0 :Text;
  strategy @1 :Text;
  portfolio @2 :Text;
  side @3 :Side;
  quantity @4 :Float64;
  price @5 :Float64;
  commission @6 :Float64;
  slippage @7 :Float64;
}

struct Regime {
  classifier @0 :Text;
  regime @1 :Text;        # label, e.g. "BULL", "BEAR", "NEUTRAL"
  confidence @2 :Float64; # 0..1
}

struct Portfolio {
  portfolio @0 :Text;
  cash @1 :Float64;
  equity @2 :Float64;
  positionsValue @3 :Float64;
  realizedPnl @4 :Float64;
  unrealizedPnl @5 :Float64;
}

struct EndOfData {
  reason @0 :Text;        # free text, e.g. "replay finished"
}

struct UserEvent {
  name @0 :Text;
  fields @1 :List(Field);

  struct Field {
    key @0 :Text;
    value :union {
      text @1 :Text;
      int @2 :Int64;
      float @3 :Float64;
      bool @4 :Bool;
    }
  }
}
