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
//   burst      on bench/raw/burst/cmd "<request_id> <count> <small> <big>": publishes <count>
//              retained QoS 1 messages (the first of <big> bytes, the others of <small>) from
//              its network thread, then <request_id> on bench/raw/burst/done once every one is
//              acknowledged (the floor of a refresh: the same messages, nothing else)
//   list FILTER
//              prints how many retained messages FILTER has, ending on a marker like lucidctl
//
// Thread: runs in main(); returns the process exit code.
#pragma once

namespace lucid::bench {

int run_raw_client(int argc, char** argv);

}  // namespace lucid::bench
