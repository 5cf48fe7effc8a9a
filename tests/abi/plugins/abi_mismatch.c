/* Declares ABI 2.0 in its manifest: the host must refuse it before loading it. If it were
 * loaded anyway, the constructor would leave a trace the test looks for. */
#include <lucid/plugin.h>
#include <stdlib.h>

LUCID_PLUGIN_MANIFEST_WITH_ABI(LUCID_PLUGIN_DIST, LUCID_PLUGIN_VERSION, LUCID_PLUGIN_COMPONENT, 2,
                               0)

__attribute__((constructor)) static void mark_loaded(void) {
    setenv("LUCID_TEST_ABI_MISMATCH_RAN", "1", 1);
}
