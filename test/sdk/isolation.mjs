// Two sessions side by side (TANTO_ISO_MODE picks the part):
//   serve  — starts two services (one with its own hostname), checks that its
//            own containers reach them by name, writes the names to
//            TANTO_ISO_READY, and keeps them running until TANTO_ISO_DONE exists;
//   probe  — from another session, tries those names without binding them;
//   locked — one step on a LOCKED cache volume shared by key with the other session;
//   log    — prints that volume's log.
import * as fs from "node:fs";
import { CacheSharingMode, connection, dag } from "@dagger.io/dagger";

const image = process.env.TANTO_TEST_IMAGE;
const mode = process.env.TANTO_ISO_MODE;
const run = process.env.TANTO_ISO_RUN;
const out = {};
const fetchBy = (name) => `wget -qO- http://${name}/ 2>/dev/null || echo unreachable`;

await connection(async () => {
  const base = dag.container().from(image).withEnvVariable("RUN", run).withEnvVariable("MODE", mode);
  if (mode === "serve") {
    const web = (text) =>
      base
        .withNewFile("/www/index.html", text)
        .withExposedPort(80)
        .asService({ args: ["httpd", "-f", "-p", "80", "-h", "/www"] });
    const named = web("named\n").withHostname(`iso-${run}`);
    const auto = web("auto\n");
    await named.start();
    await auto.start();
    out.named = await named.hostname();
    out.auto = await auto.hostname();
    out.control = await base.withExec(["sh", "-c", `${fetchBy(out.named)}; ${fetchBy(out.auto)}`]).stdout();
    fs.writeFileSync(process.env.TANTO_ISO_READY, JSON.stringify(out));
    while (!fs.existsSync(process.env.TANTO_ISO_DONE)) await new Promise((r) => setTimeout(r, 100));
  } else if (mode === "probe") {
    for (const name of process.env.TANTO_ISO_NAMES.split(",")) out[name] = await base.withExec(["sh", "-c", fetchBy(name)]).stdout();
  } else {
    const volume = dag.cacheVolume(`xlock-${run}`, { sharing: CacheSharingMode.Locked });
    const step = mode === "log" ? "cat /c/log" : `echo start-${mode} >> /c/log; sleep 1.5; echo end-${mode} >> /c/log`;
    out.log = await base.withMountedCache("/c", volume).withExec(["sh", "-c", step]).stdout();
  }
});
console.log(JSON.stringify(out));
