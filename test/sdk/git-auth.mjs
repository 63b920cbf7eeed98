// git(url) with credentials through the official SDK: HTTP Basic (token and
// header) against git http-backend, dumb HTTP (a full fetch where shallow is
// not served), and ssh with the client's ssh-agent socket and known hosts.
import { dag } from "@dagger.io/dagger";
import { failure, report } from "./common.mjs";

const { GIT_HTTP, GIT_USER, GIT_PASS, GIT_SSH_URL, SSH_AGENT, SSH_KNOWN_HOSTS } = process.env;
await report(async (out) => {
  const token = dag.setSecret("git-token", GIT_PASS);
  const smart = `${GIT_HTTP}/smart/repo.git`;
  const repo = dag.git(smart, { httpAuthUsername: GIT_USER, httpAuthToken: token });
  out.branches = await repo.branches();
  out.readme = await repo.branch("main").tree().file("README").contents();
  const withTags = repo.branch("main").tree({ includeTags: true });
  out.tags =
    (await withTags.glob(".git/**")).some((p) => p.endsWith("refs/tags/v1.0.0")) ||
    (
      await withTags
        .file(".git/packed-refs")
        .contents()
        .catch(() => "")
    ).includes("refs/tags/v1.0.0");
  out.noTags = (await repo.branch("main").tree().glob(".git/**")).some((p) => p.includes("v1.0.0"));
  out.ancestor = await repo.branch("main").commonAncestor(repo.branch("feature")).commit();
  const header = dag.setSecret("git-header", `Basic ${Buffer.from(`${GIT_USER}:${GIT_PASS}`).toString("base64")}`);
  out.header = await dag.git(smart, { httpAuthHeader: header }).head().tree().file("README").contents();
  out.dumb = await dag.git(`${GIT_HTTP}/dumb/repo.git`, { httpAuthUsername: GIT_USER, httpAuthToken: token }).branch("main").tree().file("README").contents();
  out.noAuth = await failure(dag.git(smart).branches());
  out.badAuth = await failure(dag.git(smart, { httpAuthUsername: GIT_USER, httpAuthToken: dag.setSecret("wrong", "nope") }).branches());
  out.secretHidden = !JSON.stringify(await repo.id()).includes(GIT_PASS);
  if (GIT_SSH_URL) {
    const agent = dag.host().unixSocket(SSH_AGENT);
    const ssh = dag.git(GIT_SSH_URL, { sshAuthSocket: agent, sshKnownHosts: SSH_KNOWN_HOSTS });
    out.sshReadme = await ssh.branch("main").tree().file("README").contents();
    out.sshNoAgent = await failure(dag.git(GIT_SSH_URL, { sshKnownHosts: SSH_KNOWN_HOSTS }).branches());
    out.sshWrongHost = await failure(
      dag
        .git(GIT_SSH_URL, {
          sshAuthSocket: agent,
          sshKnownHosts: SSH_KNOWN_HOSTS.replace(/ \S+$/, " AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"),
        })
        .branches(),
    );
  }
});
