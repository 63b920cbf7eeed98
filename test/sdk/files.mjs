// Files through the official SDK: the client's directories in, exports out,
// directory operations and mounted directories. Run with the workdir as cwd.
import { dag } from "@dagger.io/dagger";
import { image, report } from "./common.mjs";

await report(async (out) => {
  const src = dag.host().directory(".", { exclude: ["node_modules", "*.log"] });
  const base = dag.container().from(image);
  out.tree = await base.withDirectory("/src", src).withExec(["sh", "-c", "cd /src && find . | sort"]).stdout();
  out.included = await dag
    .host()
    .directory(".", { include: ["sub/**"] })
    .entries();
  out.hostFile = await dag.host().file("a.txt").contents();

  out.exportedDir = await dag
    .directory()
    .withNewFile("hello.txt", "hi\n", { permissions: 0o600 })
    .withNewDirectory("empty")
    .withNewFile("deep/er/x.txt", "x\n")
    .export("./exported");
  out.exportedFile = await base.file("/etc/passwd").export("./passwd.txt");

  const mounted = base
    .withMountedDirectory("/mnt", dag.directory().withNewFile("in.txt", "in\n"))
    .withExec(["sh", "-c", "cp /mnt/in.txt /mnt/out.txt && echo more >> /mnt/out.txt"]);
  out.mountEntries = await mounted.directory("/mnt").entries();
  out.mountOut = await mounted.file("/mnt/out.txt").contents();
  out.readOnly = await base
    .withMountedDirectory("/ro", dag.directory().withNewFile("f", "f"), { readOnly: true })
    .withExec(["sh", "-c", "touch /ro/g 2>/dev/null && echo writable || echo read-only"])
    .stdout();

  const d = dag
    .directory()
    .withNewFile("a/1.txt", "1")
    .withNewFile("a/2.txt", "2")
    .withNewFile("b/3.txt", "3")
    .withoutFile("a/2.txt")
    .withSymlink("a/1.txt", "link");
  out.dirEntries = await d.entries();
  out.aEntries = await d.directory("a").entries();
  out.glob = await d.glob("**/*.txt");
  out.linkContents = await d.file("link").contents();
  // Paths under a mounted directory: read from and written to the mount, as in Dagger.
  const underM = dag
    .container()
    .from(process.env.TANTO_TEST_IMAGE)
    .withMountedDirectory("/m", dag.directory().withNewFile("a.txt", "mounted a").withNewFile("gone.txt", "g"));
  const changedMount = underM
    .withNewFile("/m/new.txt", "new in mount")
    .withSymlink("new.txt", "/m/link")
    .withoutFile("/m/gone.txt")
    .withFile("/m/copied.txt", dag.directory().withNewFile("c", "copied").file("c"));
  out.mountStat = await (await underM.stat("/m/a.txt")).size();
  out.mountExists = [await underM.exists("/m/a.txt"), await underM.exists("/m/nope")];
  out.underMountEntries = await changedMount.directory("/m").entries();
  out.mountSeenByExec = await changedMount.withExec(["sh", "-c", "cat /m/new.txt /m/link /m/copied.txt; ls /m"]).stdout();
  out.rootfsUntouched = await changedMount.withoutMount("/m").withExec(["sh", "-c", "ls /m 2>/dev/null | wc -l"]).stdout();
  out.mountRedirect = await underM.withExec(["echo", "redirected"], { redirectStdout: "/m/out.txt" }).file("/m/out.txt").contents();
  out.mountStdin = await underM.withExec(["cat"], { redirectStdin: "/m/a.txt" }).stdout();

  // withFile onto an existing directory puts the file into it, as Dagger's (BuildKit's) copy does.
  const xFile = dag.directory().withNewFile("x.txt", "x in dir").file("x.txt");
  out.withFileIntoDir = await dag.directory().withNewDirectory("d").withFile("d", xFile).glob("**");
  out.ctrWithFileIntoDir = await underM.withFile("/tmp", xFile).withExec(["cat", "/tmp/x.txt"]).stdout();

  // withoutFile(s)/withoutDirectory take wildcards, as Dagger's (BuildKit's AllowWildcard) do.
  const w = dag.directory().withNewFile("x.txt", "").withNewFile("y.txt", "").withNewFile("z.md", "").withNewFile("s1/a.txt", "").withNewFile("s2/b.md", "");
  out.withoutWildcard = await w.withoutFile("*.txt").glob("**");
  out.withoutFilesWildcard = await w.withoutFiles(["s?/*.md", "z.*"]).glob("**");
  out.withoutDirWildcard = await w.withoutDirectory("s[12]").entries();
  out.withoutNoMatch = await w.withoutFile("*.nothing").entries();
  out.ctrWithoutWildcard = await dag.container().withRootfs(w).withoutFiles(["/s*/*"]).rootfs().glob("**");
  out.copied = await dag
    .directory()
    .withDirectory("copy", d, { exclude: ["b"] })
    .glob("**");
  out.withFile = await dag.directory().withFile("renamed.txt", d.file("b/3.txt")).entries();
  out.fileName = await d.file("b/3.txt").withName("three.txt").name();
  out.digestStable =
    (await d.digest()) === (await dag.directory().withNewFile("a/1.txt", "1").withNewFile("b/3.txt", "3").withSymlink("a/1.txt", "link").digest());
  out.owner = await base
    .withDirectory("/owned", dag.directory().withNewFile("f", "f"), { owner: "nobody" })
    .withExec(["stat", "-c", "%u", "/owned/f"])
    .stdout();
  const older = dag.directory().withNewFile("same.txt", "s").withNewFile("changed.txt", "1");
  out.diff = await older.diff(older.withNewFile("changed.txt", "2").withNewFile("new/x.txt", "x")).glob("**");
  out.exists = [await d.exists("a/1.txt"), await d.exists("nope")];
  out.rootfsEntries = (await base.withNewFile("/marker", "m").rootfs().entries()).includes("marker");

  // Missing paths, as Dagger answers them: file()/directory() check the path where they are called (in
  // Dagger's words, "no such file or directory", which clients match on); without* of a missing path succeed.
  const fail = async (p) => {
    try {
      await p();
      return "no error";
    } catch (err) {
      return String(err.message ?? err);
    }
  };
  const m = dag.directory().withNewFile("a.txt", "a").withNewFile("sub/b.txt", "b");
  out.missing = {
    file: await fail(() => m.file("nope.txt").id()),
    directory: await fail(() => m.directory("nope").id()),
    fileIsDir: await fail(() => m.file("sub").id()),
    dirIsFile: await fail(() => m.directory("a.txt").id()),
    afterWithout: await fail(() => m.withoutFile("a.txt").file("a.txt").contents()),
    entries: await fail(() => m.entries({ path: "nope" })),
    stat: await fail(() => m.stat("nope").size()),
    ctrFile: await fail(() => base.file("/nope").contents()),
    ctrDirectory: await fail(() => base.directory("/nope").entries()),
    mountMissingDir: await fail(() => base.withMountedDirectory("/m", m.directory("nope")).withExec(["ls", "/m"]).stdout()),
    mountMissingFile: await fail(() => base.withMountedFile("/m", m.file("nope")).withExec(["cat", "/m"]).stdout()),
    underFile: await fail(() => m.withNewFile("a.txt/x", "x").entries()),
    glob: await m.glob("nope/*"),
    exists: await m.exists("nope"),
    withoutFile: await m.withoutFile("nope").entries(),
    withoutDirectory: await m.withoutDirectory("nope").entries(),
    withoutFiles: await m.withoutFiles(["nope", "nope2"]).entries(),
    ctrWithout: await base.withoutFile("/nope").withoutDirectory("/nope2").withExec(["true"]).exitCode(),
    workdir: await base.withWorkdir("/new/deep").withExec(["pwd"]).stdout(),
  };
});
