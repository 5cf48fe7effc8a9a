// The baselines: raw libmosquitto clients doing the same job as the agent with nothing else,
// each run as its own process (`lucid-bench-raw <role> <port> [arg]`, a separate executable that
// links libmosquitto and nothing else), so they are measured exactly like the agent is.
//
//   echo       bench/echo/cmd -> the same payload on bench/echo/result (QoS 1 both ways)
//   sub        counts bench/raw/in; "ping" -> {"pong":true}, "end" -> {"count":N} on
//              bench/raw/count (the protocol of the bench-counter plugin)
//   idle       connects, subscribes to one topic, does nothing (the footprint baseline)
//   online ID  publishes a retained {"state":"online"} on bench/raw/ID/status once connected
//   reconnect MS
//              reconnects with a fixed MS delay (like the agent with min = max backoff) and
//              republishes five retained snapshots bench/raw/rc/<n> on every connection
//   list FILTER
//              prints how many retained messages FILTER has, ending on a marker like lucidctl
//
// Thread: runs in main(); returns the process exit code.
#pragma once

namespace lucid::bench {

int run_raw_client(int argc, char** argv);

}  // namespace lucid::bench
