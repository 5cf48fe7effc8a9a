#include "raw_client.hpp"

#include <mosquitto.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace lucid::bench {
namespace {

struct State {
    std::string role;
    std::string arg;
    unsigned long long count = 0;
    unsigned long long connections = 0;
    bool marker_seen = false;
    std::string marker;
    // burst: the PUBACKs still awaited, and the request the burst answers.
    unsigned long long unacked = 0;
    std::string burst_request;
};

void publish(mosquitto* m, const std::string& topic, const std::string& payload, int qos,
             bool retain) {
    mosquitto_publish(m, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(),
                      qos, retain);
}

void on_connect(mosquitto* m, void* user, int rc) {
    auto* s = static_cast<State*>(user);
    if (rc != 0) return;
    ++s->connections;
    if (s->role == "echo") {
        mosquitto_subscribe(m, nullptr, "bench/echo/cmd", 1);
    } else if (s->role == "sub") {
        mosquitto_subscribe(m, nullptr, "bench/raw/in", 0);
    } else if (s->role == "idle") {
        mosquitto_subscribe(m, nullptr, "bench/raw/idle", 1);
    } else if (s->role == "online") {
        publish(m, "bench/raw/" + s->arg + "/status", "{\"state\":\"online\"}", 1, true);
    } else if (s->role == "reconnect") {
        const std::string payload =
            "{\"state\":\"online\",\"session\":" + std::to_string(s->connections) + "}";
        for (int i = 0; i < 5; ++i) {
            publish(m, "bench/raw/rc/" + std::to_string(i), payload, 1, true);
        }
    } else if (s->role == "burst") {
        mosquitto_subscribe(m, nullptr, "bench/raw/burst/cmd", 1);
    } else if (s->role == "list") {
        s->marker = "bench/raw/marker/" + std::to_string(getpid());
        mosquitto_subscribe(m, nullptr, s->arg.c_str(), 1);
        mosquitto_subscribe(m, nullptr, s->marker.c_str(), 1);
        // The broker sends a subscription's retained messages before anything published after
        // it, so the marker coming back means the retained set is complete.
        publish(m, s->marker, "", 1, false);
    }
}

void on_message(mosquitto* m, void* user, const mosquitto_message* msg) {
    auto* s = static_cast<State*>(user);
    if (s->role == "echo") {
        mosquitto_publish(m, nullptr, "bench/echo/result", msg->payloadlen, msg->payload, 1, false);
    } else if (s->role == "sub") {
        const char* p = static_cast<const char*>(msg->payload);
        const auto n = static_cast<std::size_t>(msg->payloadlen);
        if (n == 3 && std::memcmp(p, "end", 3) == 0) {
            publish(m, "bench/raw/count", "{\"count\":" + std::to_string(s->count) + "}", 1, false);
            s->count = 0;
        } else if (n == 4 && std::memcmp(p, "ping", 4) == 0) {
            publish(m, "bench/raw/count", "{\"pong\":true}", 1, false);
        } else {
            ++s->count;
        }
    } else if (s->role == "burst") {
        // "<request_id> <count> <small> <big>": one retained QoS 1 message of <big> bytes and
        // count-1 of <small>, published from the network thread, then "done" once all are acked.
        char request[128] = "";
        unsigned long long count = 0, small = 0, big = 0;
        const std::string text(static_cast<const char*>(msg->payload),
                               static_cast<std::size_t>(msg->payloadlen));
        if (std::sscanf(text.c_str(), "%127s %llu %llu %llu", request, &count, &small, &big) != 4 ||
            count == 0) {
            return;
        }
        s->burst_request = request;
        s->unacked = count;
        const std::string small_payload(small, 'x'), big_payload(big, 'x');
        for (unsigned long long i = 0; i < count; ++i) {
            publish(m, "bench/raw/burst/m/" + std::to_string(i),
                    i == 0 ? big_payload : small_payload, 1, true);
        }
    } else if (s->role == "list") {
        if (s->marker == msg->topic) {
            s->marker_seen = true;
            mosquitto_disconnect(m);
        } else if (msg->retain && msg->payloadlen > 0) {
            ++s->count;
        }
    }
}

void on_publish(mosquitto* m, void* user, int) {
    auto* s = static_cast<State*>(user);
    if (s->role != "burst" || s->unacked == 0) return;
    if (--s->unacked == 0) publish(m, "bench/raw/burst/done", s->burst_request, 1, false);
}

}  // namespace

int run_raw_client(int argc, char** argv) {
    // argv: lucid-bench-raw <role> <port> [arg]
    if (argc < 3) {
        std::fprintf(stderr, "usage: lucid-bench-raw <role> <port> [arg]\n");
        return 2;
    }
    State state;
    state.role = argv[1];
    const int port = std::atoi(argv[2]);
    if (argc > 3) state.arg = argv[3];

    mosquitto_lib_init();
    mosquitto* m = mosquitto_new(nullptr, true, &state);
    mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_message_callback_set(m, on_message);
    mosquitto_publish_callback_set(m, on_publish);
    if (mosquitto_connect(m, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS) {
        std::fprintf(stderr, "raw %s: cannot connect\n", state.role.c_str());
        return 3;
    }
    if (state.role == "reconnect") {
        // libmosquitto's reconnect delay is in whole seconds; the bench needs milliseconds, so
        // this role reconnects itself with the same fixed delay the agent is configured with.
        const long delay_ms = state.arg.empty() ? 200 : std::atol(state.arg.c_str());
        while (true) {
            int rc = MOSQ_ERR_SUCCESS;
            while (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop(m, 1000, 1);
            do {
                usleep(static_cast<useconds_t>(delay_ms * 1000));
            } while (mosquitto_reconnect(m) != MOSQ_ERR_SUCCESS);
        }
    }
    mosquitto_loop_forever(m, -1, 1);
    if (state.role == "list") {
        std::printf("%llu\n", state.count);
        std::fflush(stdout);
    }
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
    return state.role == "list" && !state.marker_seen ? 1 : 0;
}

}  // namespace lucid::bench
