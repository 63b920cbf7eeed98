// The "mount the docker socket" pattern through the official SDK: the
// client's dockerd socket in a container, used by the docker CLI there.
// Run with the workdir (holding a static `docker` CLI) as cwd; DOCKER_SOCK names the socket.
// Also Container.exportImage into the same dockerd (the client's DOCKER_HOST).
import { dag } from "@dagger.io/dagger";
import { failure, image, report } from "./common.mjs";

const sock = process.env.DOCKER_SOCK;
await report(async (out) => {
  const base = dag.container().from(image).withFile("/usr/bin/docker", dag.host().file("docker"));
  const socket = dag.host().unixSocket(sock);
  const withSock = base.withUnixSocket("/var/run/docker.sock", socket);
  out.info = await withSock.withExec(["docker", "info", "--format", "{{.ID}} {{.OSType}}"]).stdout();
  out.twoConnections = await withSock.withExec(["sh", "-c", "docker version --format '{{.Server.Os}}' && docker images -q | wc -l"]).stdout();
  out.owned = await dag
    .container()
    .from(image)
    .withUnixSocket("/tmp/d.sock", socket, { owner: "nobody" })
    .withExec(["stat", "-c", "%U %F", "/tmp/d.sock"])
    .stdout();
  out.without = await withSock
    .withoutUnixSocket("/var/run/docker.sock")
    .withExec(["sh", "-c", "test -S /var/run/docker.sock && echo present || echo absent"])
    .stdout();
  await dag.container().from(image).withNewFile("/hello.txt", "exported\n").withEntrypoint(["cat"]).exportImage("tanto-test/exported:1");
  const back = dag.host().containerImage("tanto-test/exported:1");
  out.fromDocker = [await back.withExec(["cat", "/hello.txt"]).stdout(), await back.entrypoint()];
  out.noImage = await failure(dag.host().containerImage("tanto-test/absent:1").sync());
  out.missing = await failure(base.withUnixSocket("/var/run/docker.sock", dag.host().unixSocket("/nonexistent/docker.sock")).withExec(["true"]).sync());
});
