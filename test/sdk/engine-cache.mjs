// Query.engine through the official SDK: cache entries of real work, pruning.
import { dag } from "@dagger.io/dagger";
import { image, report } from "./common.mjs";

await report(async (out) => {
  await dag.container().from(image).withExec(["sh", "-c", "head -c 300000 /dev/urandom > /big"]).sync();
  const engine = dag.engine();
  out.name = await engine.name();
  out.clients = (await engine.clients()).length;
  const cache = engine.localCache();
  const set = cache.entrySet();
  out.count = await set.entryCount();
  out.bytes = await set.diskSpaceBytes();
  const entries = await set.entries();
  out.entries = await Promise.all(entries.map(async (e) => [await e.description(), await e.recordType(), await e.diskSpaceBytes(), await e.activelyUsed()]));
  out.execOnly = await cache.entrySet({ key: "exec/" }).entryCount();
  out.policy = [await cache.maxUsedSpace(), await cache.reservedSpace(), await cache.targetSpace()];
  out.badPrune = await cache.prune({ maxUsedSpace: "lots" }).then(
    () => "no error",
    (e) => String(e.message),
  );
});
