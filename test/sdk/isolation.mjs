// Two sessions side by side (TANTO_ISO_MODE picks the part):
//   serve  — starts two container services (one with its own hostname) and a
//            host service (a port of this program), checks that its own
//            containers reach them by name and address, writes the names and
//            addresses to TANTO_ISO_READY, and keeps them running until
//            TANTO_ISO_DONE exists;
//   probe  — from another session, tries those names and addresses without
//            binding them, and its own service by address (the control);
//   locked — one step on a LOCKED cache volume shared by key with the other session;
//   log    — prints that volume's log.
import * as fs from "node:fs";
import http from "node:http";
import { CacheSharingMode, dag } from "@dagger.io/dagger";
import { image, report } from "./common.mjs";

const mode = process.env.TANTO_ISO_MODE;
const run = process.env.TANTO_ISO_RUN;
// A dropped connection would wait for TCP's timeout: give up after 3 s (busybox wget -T crashes).
const fetchBy = (name) => `timeout 3 wget -qO- http://${name}/ 2>/dev/null || echo unreachable`;
const pingBy = (ip) => `ping -c 1 -W 2 ${ip} >/dev/null 2>&1 && echo pinged || echo no-ping`;
// The address a binding's alias has in the container's hosts file.
const addressOf = (alias, svc, base) =>
  base
    .withServiceBinding(alias, svc)
    .withExec(["sh", "-c", `awk '$2 == "${alias}" { printf "%s", $1 }' /etc/hosts`])
    .stdout();

await report(async (out) => {
  const base = dag.container().from(image).withEnvVariable("RUN", run).withEnvVariable("MODE", mode);
  if (mode === "serve") {
    const web = (text) =>
      base
        .withNewFile("/www/index.html", text)
        .withExposedPort(80)
        .asService({ args: ["httpd", "-f", "-p", "80", "-h", "/www"] });
    const named = web("named\n").withHostname(`iso-${run}`);
    const auto = web("auto\n");
    const server = http.createServer((_req, res) => res.end("from the client\n"));
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    const hostSvc = dag.host().service([{ backend: server.address().port, frontend: 80 }], { host: "127.0.0.1" });
    await named.start();
    await auto.start();
    await hostSvc.start();
    out.named = await named.hostname();
    out.auto = await auto.hostname();
    out.host = await hostSvc.hostname();
    out.control = await base.withExec(["sh", "-c", `${fetchBy(out.named)}; ${fetchBy(out.auto)}; ${fetchBy(out.host)}`]).stdout();
    out.namedIp = await addressOf("n", named, base);
    out.autoIp = await addressOf("a", auto, base);
    out.hostIp = await addressOf("h", hostSvc, base);
    // Not bound, same session: reached by address too.
    out.controlByIp = await base
      .withEnvVariable("AT", "ip")
      .withExec(["sh", "-c", `${fetchBy(out.namedIp)}; ${fetchBy(out.autoIp)}; ${fetchBy(out.hostIp)}`])
      .stdout();
    fs.writeFileSync(process.env.TANTO_ISO_READY, JSON.stringify(out));
    while (!fs.existsSync(process.env.TANTO_ISO_DONE)) await new Promise((r) => setTimeout(r, 100));
    server.close();
  } else if (mode === "probe") {
    for (const name of process.env.TANTO_ISO_NAMES.split(",")) out[name] = await base.withExec(["sh", "-c", fetchBy(name)]).stdout();
    const own = base
      .withNewFile("/www/index.html", "own\n")
      .withExposedPort(80)
      .asService({ args: ["httpd", "-f", "-p", "80", "-h", "/www"] });
    await own.start();
    out.ownIp = await addressOf("o", own, base);
    out.own = await base.withExec(["sh", "-c", `${fetchBy(out.ownIp)}; ${pingBy(out.ownIp)}`]).stdout();
    // No IPv6 link-local address to reach a service around its isolation.
    out.ipv6 = await base.withExec(["sh", "-c", "ip -6 addr show dev eth0 | grep -c inet6 || true"]).stdout();
    // The serving session's services by address, also in one container that binds its own service.
    for (const ip of process.env.TANTO_ISO_IPS.split(",")) {
      out[ip] = await base
        .withServiceBinding("o", own)
        .withExec(["sh", "-c", `${fetchBy(ip)}; ${pingBy(ip)}`])
        .stdout();
    }
  } else {
    const volume = dag.cacheVolume(`xlock-${run}`, { sharing: CacheSharingMode.Locked });
    const step = mode === "log" ? "cat /c/log" : `echo start-${mode} >> /c/log; sleep 1.5; echo end-${mode} >> /c/log`;
    out.log = await base.withMountedCache("/c", volume).withExec(["sh", "-c", step]).stdout();
  }
});
