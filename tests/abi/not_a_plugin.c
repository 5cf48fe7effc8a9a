/* A shared object without a lucid manifest, for the manifest reader's tests. */
int lucid_not_a_plugin(void);
int lucid_not_a_plugin(void) { return 1; }
