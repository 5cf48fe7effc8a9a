/* A manifest but no lucid_plugin_entry: refused with "missing entry point". */
#include <lucid/plugin.h>

LUCID_PLUGIN_MANIFEST(LUCID_PLUGIN_DIST, LUCID_PLUGIN_VERSION, LUCID_PLUGIN_COMPONENT)

int lucid_test_not_an_entry(void);
int lucid_test_not_an_entry(void) { return 42; }
