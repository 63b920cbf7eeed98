/**
 * Extra addresses on the bridge, in the host's namespace, from the top of the
 * subnet (kept out of IPAM, see bridge-state.ts): where the engine listens
 * for a host service, so containers reach it like any other service.
 */
import { UnavailableError } from "../errors.js";
import { hostAddressRange } from "./bridge-state.js";
import { formatIpv4, type Ipv4Subnet } from "./cidr.js";
import { mustRun, runCommand } from "./command.js";

export class HostAddresses {
  readonly #taken = new Set<number>();

  constructor(
    private readonly network: string,
    private readonly bridge: string,
    private readonly subnet: Ipv4Subnet,
  ) {}

  /** Put the next free address on the bridge; `remove` runs `beforeRemove` (lifting its isolation), then takes it off. */
  async add(beforeRemove: (ip: string) => Promise<void>): Promise<{ ip: string; remove(): Promise<void> }> {
    const range = hostAddressRange(this.subnet);
    let n = range.last;
    while (n >= range.first && this.#taken.has(n)) n--;
    if (n < range.first) throw new UnavailableError(`network ${this.network}: no address left for host services (${range.last - range.first + 1} in use)`);
    this.#taken.add(n);
    const ip = formatIpv4(n);
    try {
      await mustRun("ip", ["addr", "add", `${ip}/32`, "dev", this.bridge]);
    } catch (err) {
      this.#taken.delete(n);
      throw err;
    }
    return {
      ip,
      remove: async () => {
        await beforeRemove(ip);
        await runCommand("ip", ["addr", "del", `${ip}/32`, "dev", this.bridge]);
        this.#taken.delete(n);
      },
    };
  }
}
