import { promises as fs } from "node:fs";

/**
 * The IPv4 ranges the host routes somewhere (its LAN, VPNs, other bridges), read from the kernel's
 * main routing table. The default route is left out: it covers everything and says nothing about
 * which private ranges are in use.
 */
export async function hostRoutes(file = "/proc/net/route"): Promise<string[]> {
  try {
    return parseProcNetRoute(await fs.readFile(file, "utf8"));
  } catch {
    // Not Linux, or the engine runs elsewhere: the engine's own networks are still checked.
    return [];
  }
}

/** Parses /proc/net/route, whose Destination and Mask columns are 32-bit hex in host (little-endian) order. */
export function parseProcNetRoute(text: string): string[] {
  const lines = text.split("\n").filter((l) => l.trim());
  const header = lines.shift()?.trim().split(/\s+/) ?? [];
  const dest = header.indexOf("Destination");
  const mask = header.indexOf("Mask");
  if (dest < 0 || mask < 0) return [];
  const out = new Set<string>();
  for (const line of lines) {
    const cols = line.trim().split(/\s+/);
    const d = littleEndianHex(cols[dest]);
    const m = littleEndianHex(cols[mask]);
    if (d === undefined || m === undefined || m.every((b) => b === 0)) continue;
    const prefix = m.reduce((n, byte) => n + popcount(byte), 0);
    out.add(`${d.join(".")}/${prefix}`);
  }
  return [...out];
}

function littleEndianHex(hex: string | undefined): number[] | undefined {
  if (!hex || !/^[0-9a-fA-F]{8}$/.test(hex)) return undefined;
  const bytes = [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return bytes.reverse();
}

function popcount(byte: number): number {
  let n = 0;
  for (let b = byte; b; b >>= 1) n += b & 1;
  return n;
}
