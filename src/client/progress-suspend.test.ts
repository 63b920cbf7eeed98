/** While an interactive terminal has the screen, progress views draw nothing; what they held comes after. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PlainProgress } from "./progress.js";
import { TtyProgress } from "./progress-tty.js";

describe("progress views suspended for a terminal", () => {
  it("plain: lines are held while suspended, then printed in order", () => {
    const out: string[] = [];
    const view = new PlainProgress((l) => out.push(l));
    view.event({ type: "start", span: "a", name: "exec before", kind: "op", time: Date.now() });
    const resume = view.suspend();
    view.event({ type: "start", span: "b", name: "exec during", kind: "op", time: Date.now() });
    view.event({ type: "done", span: "b", name: "exec during", kind: "op", cached: true, durationMs: 1 });
    assert.deepEqual(out, ["#1 exec before\n"]);
    resume();
    assert.deepEqual(out, ["#1 exec before\n", "#2 exec during\n", "#2 CACHED\n"]);
  });

  it("tty: the live frame is erased and no frame is drawn until resumed", async () => {
    let written = "";
    const view = new TtyProgress({ write: (t: string) => (written += t), isTTY: true, columns: 80, rows: 24 });
    view.event({ type: "start", span: "a", name: "exec long", kind: "op", time: Date.now() });
    await new Promise((r) => setTimeout(r, 250));
    assert.match(written, /exec long/);
    const resume = view.suspend();
    const at = written.length;
    view.event({ type: "start", span: "b", name: "exec hidden", kind: "op", time: Date.now() });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(written.slice(at), "", "nothing drawn while suspended");
    resume();
    await new Promise((r) => setTimeout(r, 50));
    assert.match(written.slice(at), /exec hidden/);
    view.close();
  });
});
