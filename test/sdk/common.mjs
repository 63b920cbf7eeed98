// What the SDK test scripts share: the test image, a connection through the
// official SDK whose record is printed as the JSON the test reads, a failure
// recorded as its message, and raw GraphQL on the session a script runs in
// (`tanto run`), as Dagger's CLI speaks it.
import { connection } from "@dagger.io/dagger";

/** The image the test pushed to its registry (TANTO_TEST_IMAGE). */
export const image = process.env.TANTO_TEST_IMAGE;

/**
 * Runs `fn(out)` in a connection of the official SDK, then prints `out` as
 * one line of JSON; a script that fails to connect exits non-zero.
 */
export async function report(fn) {
  const out = {};
  await connection(() => fn(out));
  console.log(JSON.stringify(out));
}

/** What `p` rejected with, as its message, or "no error". */
export async function failure(p) {
  try {
    await p;
    return "no error";
  } catch (err) {
    return String(err.message ?? err);
  }
}

/** One GraphQL query on the session of `tanto run` (DAGGER_SESSION_PORT/TOKEN): the JSON answer, errors included. */
export async function query(text) {
  const port = process.env.DAGGER_SESSION_PORT;
  const token = process.env.DAGGER_SESSION_TOKEN;
  if (!port || !token) throw new Error("no DAGGER_SESSION_PORT and DAGGER_SESSION_TOKEN: run this script with `tanto run node <script>`");
  const res = await fetch(`http://127.0.0.1:${port}/query`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(`${token}:`).toString("base64")}`, "content-type": "application/json" },
    body: JSON.stringify({ query: text }),
  });
  return res.json();
}
