// A stamp no ludus accepts, for the plugin-refusal test.
extern "C" __attribute__((visibility("default"))) const char* ludus_plugin_abi() { return "ludus-abi-0;test-mismatch"; }
