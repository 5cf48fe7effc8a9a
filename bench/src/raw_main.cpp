// lucid-bench-raw: the baseline clients of the bench (raw_client.hpp). Its own executable so
// that its footprint is libmosquitto's, not the bench's.
#include "raw_client.hpp"

int main(int argc, char** argv) { return lucid::bench::run_raw_client(argc, argv); }
