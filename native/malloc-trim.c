/*
 * malloc-trim.node: glibc's malloc_trim(0) for the engine's idle collection
 * (src/server/malloc-trim.ts). Built by scripts/build-native.mjs.
 *
 * glibc returns freed memory to the system only from the top of each arena;
 * after a burst of work the pages of the chunks freed below live ones stay
 * resident (measured after the bench's pulls, syncs and publishes: 29-53 MB
 * of the main arena free but resident). malloc_trim(0) hands every free page
 * of every arena back (madvise MADV_DONTNEED): the next allocation there
 * costs a page fault, nothing else.
 *
 * exports.trim() -> 1 when memory was returned, 0 when none could be.
 */
#include <malloc.h>
#include <node_api.h>

static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  if (napi_create_int32(env, malloc_trim(0), &result) != napi_ok) return NULL;
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != napi_ok) return NULL;
  return exports;
}
