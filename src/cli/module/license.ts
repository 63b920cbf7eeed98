/**
 * The LICENSE that `init`/`develop` write with an SDK (Dagger's
 * findOrCreateLicense): kept when one of the usual license files already
 * exists (unless --license was given), else written at the module's source
 * root. The texts come from Debian's /usr/share/common-licenses, by SPDX ID.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { InvalidArgumentError, messageOf } from "../../errors.js";

export const DEFAULT_LICENSE = "Apache-2.0";
const COMMON_LICENSES = "/usr/share/common-licenses";

/** SPDX ID → file under /usr/share/common-licenses. */
const SPDX_FILES: Record<string, string> = {
  "Apache-2.0": "Apache-2.0",
  "CC0-1.0": "CC0-1.0",
  "MPL-1.1": "MPL-1.1",
  "MPL-2.0": "MPL-2.0",
  "GPL-1.0": "GPL-1",
  "GPL-1.0-only": "GPL-1",
  "GPL-1.0-or-later": "GPL-1",
  "GPL-2.0": "GPL-2",
  "GPL-2.0-only": "GPL-2",
  "GPL-2.0-or-later": "GPL-2",
  "GPL-3.0": "GPL-3",
  "GPL-3.0-only": "GPL-3",
  "GPL-3.0-or-later": "GPL-3",
  "LGPL-2.0": "LGPL-2",
  "LGPL-2.0-only": "LGPL-2",
  "LGPL-2.0-or-later": "LGPL-2",
  "LGPL-2.1": "LGPL-2.1",
  "LGPL-2.1-only": "LGPL-2.1",
  "LGPL-2.1-or-later": "LGPL-2.1",
  "LGPL-3.0": "LGPL-3",
  "LGPL-3.0-only": "LGPL-3",
  "LGPL-3.0-or-later": "LGPL-3",
  "GFDL-1.2": "GFDL-1.2",
  "GFDL-1.3": "GFDL-1.3",
};

/** File names taken as an existing license (as pkg.go.dev and Dagger look for them). */
export const LICENSE_FILES = [
  "COPYING",
  "COPYING.md",
  "COPYING.markdown",
  "COPYING.txt",
  "LICENCE",
  "LICENCE.md",
  "LICENCE.markdown",
  "LICENCE.txt",
  "LICENSE",
  "LICENSE.md",
  "LICENSE.markdown",
  "LICENSE.txt",
  "LICENSE-2.0.txt",
  "LICENCE-2.0.txt",
  "LICENSE-APACHE",
  "LICENCE-APACHE",
  "LICENSE-APACHE-2.0.txt",
  "LICENCE-APACHE-2.0.txt",
  "LICENSE-MIT",
  "LICENCE-MIT",
  "LICENSE.MIT",
  "LICENCE.MIT",
  "LICENSE.code",
  "LICENCE.code",
  "LICENSE.docs",
  "LICENCE.docs",
  "LICENSE.rst",
  "LICENCE.rst",
  "MIT-LICENSE",
  "MIT-LICENCE",
  "MIT-LICENSE.md",
  "MIT-LICENCE.md",
  "MIT-LICENSE.markdown",
  "MIT-LICENCE.markdown",
  "MIT-LICENSE.txt",
  "MIT-LICENCE.txt",
  "MIT_LICENSE",
  "MIT_LICENCE",
  "UNLICENSE",
  "UNLICENCE",
];

export async function licenseText(id: string, dir = COMMON_LICENSES): Promise<string> {
  const file = SPDX_FILES[id];
  if (file === undefined)
    throw new InvalidArgumentError(`failed to get license ${JSON.stringify(id)}: unknown SPDX ID (known: ${Object.keys(SPDX_FILES).join(", ")})`);
  try {
    return await fs.readFile(path.join(dir, file), "utf8");
  } catch (err) {
    throw new InvalidArgumentError(`failed to get license ${JSON.stringify(id)}: ${messageOf(err)}`);
  }
}

/** Writes `<dir>/LICENSE` unless `searchExisting` finds one; returns the path written, if any. */
export async function findOrCreateLicense(dir: string, id: string, searchExisting: boolean, textDir?: string): Promise<string | undefined> {
  if (id === "") return undefined;
  if (searchExisting) {
    for (const name of LICENSE_FILES) {
      const found = await fs.stat(path.join(dir, name)).catch(() => undefined);
      if (found) return undefined;
    }
  }
  const text = await licenseText(id, textDir);
  process.stderr.write(`no LICENSE file found; generating one for you, feel free to change or remove (license: ${id})\n`);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const target = path.join(dir, "LICENSE");
  await fs.writeFile(target, text, { mode: 0o600 });
  return target;
}
