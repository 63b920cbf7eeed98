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
 * A failed call rejects with an Error carrying the errno number as `errno`. A bind remount
 * (MS_REMOUNT|MS_BIND, to make a bind read-only) keeps the nosuid, nodev, noexec and atime
 * flags the mount already has, as util-linux and runc do: the kernel sets exactly the flags it
 * is given, and refuses to clear ones locked in a user namespace.
 */
#define _GNU_SOURCE /* statvfs's ST_NODEV and the others */
#define NAPI_VERSION 8
#include <errno.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

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

/* The per-mount flags `target` has now, for a bind remount to keep. */
static unsigned long current_flags(const char *target) {
  struct statvfs sv;
  unsigned long f = 0;
  if (statvfs(target, &sv) != 0) return 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

static void execute(napi_env env, void *p) {
  (void)env;
  Call *c = p;
  if (!c->unmount && (c->flags & (MS_REMOUNT | MS_BIND)) == (MS_REMOUNT | MS_BIND)) c->flags |= current_flags(c->target);
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
  if (strlen(*out) != len) {
    free(*out);
    *out = NULL;
    napi_throw_type_error(env, NULL, "expected a string without NUL bytes");
    return -1;
  }
  return 0;
}

/* Settle `c`'s promise as failed with `message` and free it: a call that could not be queued. */
static void refuse(napi_env env, Call *c, const char *message) {
  napi_value msg, err;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &err);
  napi_reject_deferred(env, c->deferred, err);
  free_call(c);
}

/* The promise of `c`, queued on the thread pool; `c` is freed by complete() or here. */
static napi_value start(napi_env env, Call *c, const char *name) {
  napi_value promise, resource;
  if (napi_create_promise(env, &c->deferred, &promise) != napi_ok) {
    free_call(c);
    napi_throw_error(env, NULL, "cannot create a promise");
    return NULL;
  }
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource) != napi_ok ||
      napi_create_async_work(env, NULL, resource, execute, complete, c, &c->work) != napi_ok) {
    refuse(env, c, "cannot create the call");
    return promise;
  }
  if (napi_queue_async_work(env, c->work) != napi_ok) {
    napi_delete_async_work(env, c->work);
    refuse(env, c, "cannot queue the call");
  }
  return promise;
}

/*
 * A Call from `want` JS arguments: the one at `flags_at` a non-negative integer, each other one
 * a string or null, in order: source, target, fstype and data for a mount, the target alone for
 * an unmount, which needs a target. NULL with an exception pending when they do not fit `usage`.
 */
static Call *new_call(napi_env env, napi_callback_info info, int unmount, const char *usage) {
  size_t want = unmount ? 2 : 5, flags_at = unmount ? 1 : 3, argc = want;
  napi_value argv[5];
  int64_t flags;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != want || napi_get_value_int64(env, argv[flags_at], &flags) != napi_ok || flags < 0) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  Call *c = calloc(1, sizeof *c);
  if (c == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  c->unmount = unmount;
  c->flags = (unsigned long)flags;
  char **mount_fields[] = {&c->source, &c->target, &c->fstype, &c->data};
  char **umount_fields[] = {&c->target};
  char ***fields = unmount ? umount_fields : mount_fields;
  for (size_t i = 0, f = 0; i < want; i++) {
    if (i == flags_at) continue;
    if (string_arg(env, argv[i], fields[f++])) {
      free_call(c);
      return NULL;
    }
  }
  if (c->target == NULL) {
    free_call(c);
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  return c;
}

static napi_value js_mount(napi_env env, napi_callback_info info) {
  Call *c = new_call(env, info, 0, "mount(source, target, fstype, flags, data): a target is required");
  return c == NULL ? NULL : start(env, c, "tanto.mount");
}

static napi_value js_umount(napi_env env, napi_callback_info info) {
  Call *c = new_call(env, info, 1, "umount(target, flags): a target is required");
  return c == NULL ? NULL : start(env, c, "tanto.umount");
}

NAPI_MODULE_INIT() {
  napi_value f;
  napi_create_function(env, "mount", NAPI_AUTO_LENGTH, js_mount, NULL, &f);
  napi_set_named_property(env, exports, "mount", f);
  napi_create_function(env, "umount", NAPI_AUTO_LENGTH, js_umount, NULL, &f);
  napi_set_named_property(env, exports, "umount", f);
  return exports;
}
