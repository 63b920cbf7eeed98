/*
 * mount(2) and umount2(2) for the engine, as a Node-API addon (see src/mount/mount.ts).
 *
 * Node has no binding for them, and starting a `mount` process per overlay costs the
 * engine's process helper a fork and an exec each time (~3 ms of CPU and ~7 ms on an
 * exec's critical path, against ~0.7 ms for the system call). Both calls run on libuv's
 * thread pool: an unmount may wait for the kernel's teardown of the file system.
 *
 *   mount(source, target, fstype, flags, data) -> Promise<void>
 *   umount(target, flags)                      -> Promise<void>
 *
 * A failed call rejects with an Error carrying the errno number as `errno`.
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

enum { MAX_ARG = 65536 };

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int unmount;
  char *source, *target, *fstype, *data;
  unsigned long flags;
  int err;
} Call;

static void free_call(Call *c) {
  free(c->source);
  free(c->target);
  free(c->fstype);
  free(c->data);
  free(c);
}

static void execute(napi_env env, void *p) {
  (void)env;
  Call *c = p;
  int rc = c->unmount ? umount2(c->target, (int)c->flags) : mount(c->source, c->target, c->fstype, c->flags, c->data);
  c->err = rc == 0 ? 0 : errno;
}

static void complete(napi_env env, napi_status status, void *p) {
  Call *c = p;
  napi_value result;
  if (status == napi_ok && c->err == 0) {
    napi_get_undefined(env, &result);
    napi_resolve_deferred(env, c->deferred, result);
  } else {
    int err = status == napi_ok ? c->err : ECANCELED;
    napi_value msg, num;
    napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_create_int32(env, err, &num);
    napi_set_named_property(env, result, "errno", num);
    napi_reject_deferred(env, c->deferred, result);
  }
  napi_delete_async_work(env, c->work);
  free_call(c);
}

/* A string argument (NULL for JS null or undefined), or a pending exception and -1. */
static int string_arg(napi_env env, napi_value v, char **out) {
  napi_valuetype t;
  size_t len;
  *out = NULL;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_null || t == napi_undefined) return 0;
  if (t != napi_string || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len >= MAX_ARG) {
    napi_throw_type_error(env, NULL, "expected a string shorter than 64 KiB");
    return -1;
  }
  *out = malloc(len + 1);
  if (*out == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return -1;
  }
  napi_get_value_string_utf8(env, v, *out, len + 1, &len);
  return 0;
}

static napi_value start(napi_env env, Call *c, const char *name) {
  napi_value promise, resource;
  if (napi_create_promise(env, &c->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource) != napi_ok ||
      napi_create_async_work(env, NULL, resource, execute, complete, c, &c->work) != napi_ok ||
      napi_queue_async_work(env, c->work) != napi_ok) {
    free_call(c);
    napi_throw_error(env, NULL, "cannot queue the call");
    return NULL;
  }
  return promise;
}

static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int64_t flags;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 5 || napi_get_value_int64(env, argv[3], &flags) != napi_ok || flags < 0) {
    napi_throw_type_error(env, NULL, "mount(source, target, fstype, flags, data)");
    return NULL;
  }
  Call *c = calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  c->flags = (unsigned long)flags;
  if (string_arg(env, argv[0], &c->source) || string_arg(env, argv[1], &c->target) || string_arg(env, argv[2], &c->fstype) ||
      string_arg(env, argv[4], &c->data)) {
    free_call(c);
    return NULL;
  }
  if (c->target == NULL) {
    free_call(c);
    napi_throw_type_error(env, NULL, "mount: target is required");
    return NULL;
  }
  return start(env, c, "tanto.mount");
}

static napi_value js_umount(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int64_t flags;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 2 || napi_get_value_int64(env, argv[1], &flags) != napi_ok || flags < 0) {
    napi_throw_type_error(env, NULL, "umount(target, flags)");
    return NULL;
  }
  Call *c = calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  c->unmount = 1;
  c->flags = (unsigned long)flags;
  if (string_arg(env, argv[0], &c->target)) {
    free_call(c);
    return NULL;
  }
  if (c->target == NULL) {
    free_call(c);
    napi_throw_type_error(env, NULL, "umount: target is required");
    return NULL;
  }
  return start(env, c, "tanto.umount");
}

NAPI_MODULE_INIT() {
  napi_value f;
  napi_create_function(env, "mount", NAPI_AUTO_LENGTH, js_mount, NULL, &f);
  napi_set_named_property(env, exports, "mount", f);
  napi_create_function(env, "umount", NAPI_AUTO_LENGTH, js_umount, NULL, &f);
  napi_set_named_property(env, exports, "umount", f);
  return exports;
}
