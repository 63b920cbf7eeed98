// SSHFS volumes through the official SDK: a directory of the test's sshd
// (on 127.0.0.1) mounted into execs with withMountedVolume, read and written
// there; the errors of bad input, IDs, addresses and cacheKey.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { dag, ReturnType } from "@dagger.io/dagger";
import { failure, report } from "./common.mjs";

const { TANTO_TEST_IMAGE: image, SSHFS_ENDPOINT, SSHFS_DATA, SSH_KEY, OTHER_KEY, SSH_KNOWN_HOSTS, WRONG_KNOWN_HOSTS, CLOSED_PORT } = process.env;
await report(async (out) => {
  const key = dag.setSecret("sshfs-key", SSH_KEY);
  const knownHosts = dag.setSecret("sshfs-known-hosts", SSH_KNOWN_HOSTS);
  const vol = dag.sshfsVolume(SSHFS_ENDPOINT, key, { knownHosts });
  const base = dag.container().from(image);

  out.read = await base.withMountedVolume("/mnt", vol, { readOnly: true }).withExec(["cat", "/mnt/hello.txt"]).stdout();
  const wrote = base.withMountedVolume("/data", vol).withExec(["sh", "-c", "echo from-exec > /data/written.txt; mkdir -p /data/sub; echo deep > /data/sub/f"]);
  await wrote.sync();
  out.written = await fs.readFile(path.join(SSHFS_DATA, "written.txt"), "utf8");
  // The volume is not part of the container's filesystem: without the mount, the directory is empty.
  out.afterUnmount = await wrote.withoutMount("/data").withExec(["sh", "-c", "ls -A /data 2>/dev/null | wc -l"]).stdout();
  out.roWrite = await base
    .withMountedVolume("/mnt", vol, { readOnly: true })
    .withExec(["sh", "-c", "echo x > /mnt/ro.txt"], { expect: ReturnType.Any })
    .exitCode();
  out.roFileExists = await fs.stat(path.join(SSHFS_DATA, "ro.txt")).then(
    () => true,
    () => false,
  );
  // As in Dagger, an exec on a volume is cached like any other: the same read again is a hit.
  await fs.writeFile(path.join(SSHFS_DATA, "hello.txt"), "changed remotely\n");
  out.cachedRead = await base.withMountedVolume("/mnt", vol, { readOnly: true }).withExec(["cat", "/mnt/hello.txt"]).stdout();
  out.freshRead = await base
    .withEnvVariable("BUST", String(Date.now()))
    .withMountedVolume("/mnt", vol, { readOnly: true })
    .withExec(["cat", "/mnt/hello.txt"])
    .stdout();
  // A non-root user of the container goes through the mount too.
  out.asUser = await base.withUser("65534").withMountedVolume("/mnt", vol).withExec(["cat", "/mnt/sub/f"]).stdout();

  // IDs and addresses.
  const loaded = dag.loadVolumeFromID(await vol.id());
  out.fromId = await base.withMountedVolume("/m", loaded).withExec(["cat", "/m/written.txt"]).stdout();
  const addr = `${SSHFS_ENDPOINT}?privateKey=env://SSH_KEY&knownHosts=env://SSH_KNOWN_HOSTS`;
  out.fromAddress = await base.withMountedVolume("/m", dag.address(addr).volume()).withExec(["cat", "/m/sub/f"]).stdout();
  const insecure = dag.sshfsVolume(SSHFS_ENDPOINT, key, { insecureSkipHostKeyCheck: true });
  out.insecure = await base.withMountedVolume("/m", insecure).withExec(["cat", "/m/sub/f"]).stdout();

  // experimentalServiceHost: the endpoint's host is a name only the service answers to; the host key is checked under it.
  const port = new URL(SSHFS_ENDPOINT).port;
  const viaService = dag.sshfsVolume(SSHFS_ENDPOINT.replace("127.0.0.1", "sshd.example"), key, {
    knownHosts: dag.setSecret("svc-known-hosts", SSH_KNOWN_HOSTS.replace("127.0.0.1", "sshd.example")),
    experimentalServiceHost: dag.host().service([{ frontend: Number(port), backend: Number(port) }]),
  });
  out.viaService = await base
    .withMountedVolume("/m", viaService)
    .withExec(["cat", "/m/sub/f"])
    .stdout()
    .catch((err) => String(err.message ?? err));

  // cacheKey: volumes with one cacheKey are one for the cache (the second exec is a hit, whatever the volume).
  const uuid = ["cat", "/proc/sys/kernel/random/uuid"];
  const cacheKey = `k-${Date.now()}`;
  const k1 = dag.sshfsVolume(SSHFS_ENDPOINT, key, { knownHosts, cacheKey });
  const k2 = dag.sshfsVolume(SSHFS_ENDPOINT, key, { insecureSkipHostKeyCheck: true, cacheKey });
  out.cacheKeyA = await base.withMountedVolume("/m", k1).withExec(uuid).stdout();
  out.cacheKeyB = await base.withMountedVolume("/m", k2).withExec(uuid).stdout();
  out.noCacheKey = await base.withMountedVolume("/m", insecure).withExec(uuid).stdout();

  // Bad input.
  const run = (v) => base.withEnvVariable("BUST", String(Math.random())).withMountedVolume("/mnt", v).withExec(["ls", "/mnt"]).sync();
  out.badScheme = await failure(dag.sshfsVolume("ssh://root@127.0.0.1/tmp", key, { knownHosts }).id());
  out.noUser = await failure(dag.sshfsVolume("sshfs://127.0.0.1/tmp", key, { knownHosts }).id());
  out.badHost = await failure(dag.sshfsVolume("sshfs://root@h,ssh_command=true/tmp", key, { knownHosts }).id());
  out.relative = await failure(dag.sshfsVolume("sshfs://root@127.0.0.1", key, { knownHosts }).id());
  out.noKnownHosts = await failure(dag.sshfsVolume(SSHFS_ENDPOINT, key).id());
  out.badKey = await failure(run(dag.sshfsVolume(SSHFS_ENDPOINT, dag.setSecret("other-key", OTHER_KEY), { knownHosts })));
  out.wrongHost = await failure(run(dag.sshfsVolume(SSHFS_ENDPOINT, key, { knownHosts: dag.setSecret("wrong-kh", WRONG_KNOWN_HOSTS) })));
  out.unreachable = await failure(run(dag.sshfsVolume(`sshfs://root@127.0.0.1:${CLOSED_PORT}/tmp`, key, { insecureSkipHostKeyCheck: true })));
  out.missingPath = await failure(run(dag.sshfsVolume(`${SSHFS_ENDPOINT}/no/such/dir`, key, { knownHosts })));
  out.keyHidden = !JSON.stringify(out).includes(SSH_KEY.split("\n")[1]);
});
