// Dockerfile heredocs through the official SDK (as BuildKit reads them): a
// RUN that is a heredoc script, one whose shell handles a heredoc (<<- and a
// quoted delimiter), a #! script, and COPY heredocs (variables expanded
// unless the delimiter is quoted, <<- tabs, --chmod, into a directory).
import { dag } from "@dagger.io/dagger";
import { report } from "./common.mjs";

const dockerfile = `ARG BASE
FROM $BASE
ARG WHO=heredoc
ENV GREET=hello
RUN <<EOF
echo "$GREET from $WHO" > /run.txt
echo second line >> /run.txt
EOF
RUN cat <<-'END' > /compound.txt && echo after >> /compound.txt
\tkeep $GREET
\tEND
RUN <<EOF
#!/bin/awk -f
BEGIN { print "awk script" > "/script.txt" }
EOF
COPY <<EOF /etc/copied.txt
$GREET from \${WHO} "quoted" \\n
EOF
COPY --chmod=700 <<'RAW' <<-TABS /dst/
raw $GREET
RAW
\ttabs $WHO
\tTABS
`;
await report(async (out) => {
  const ctx = dag.directory().withNewFile("Dockerfile", dockerfile);
  const built = ctx.dockerBuild({ buildArgs: [{ name: "BASE", value: process.env.TANTO_TEST_IMAGE }] });
  for (const f of ["/run.txt", "/compound.txt", "/script.txt", "/etc/copied.txt", "/dst/RAW", "/dst/TABS"]) out[f] = await built.file(f).contents();
  out.modes = await built.withExec(["stat", "-c", "%n %a", "/etc/copied.txt", "/dst/RAW", "/dst/TABS"]).stdout();
  out.pipesGone = await built.withExec(["sh", "-c", "test -e /dev/pipes && echo present || echo gone"]).stdout();
  try {
    await dag.directory().withNewFile("Dockerfile", "FROM scratch\nRUN <<EOF\necho never ends\n").dockerBuild().sync();
    out.unterminated = "no error";
  } catch (err) {
    out.unterminated = err.message;
  }
});
