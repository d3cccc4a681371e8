import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import path from "node:path";
import { UserError } from "../util/errors.js";

export type DigestAlgorithm = "sha256" | "sha512";

/** An expected digest: the algorithm and its lowercase hex. */
export interface Digest {
  algorithm: DigestAlgorithm;
  hex: string;
}

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

/** Builds a Digest, rejecting anything that is not hex of the algorithm's length. */
export function digest(algorithm: DigestAlgorithm, hex: string): Digest {
  const h = hex.trim().toLowerCase();
  if (!/^[0-9a-f]+$/.test(h) || h.length !== HEX_LENGTH[algorithm]) {
    throw new UserError(`"${hex}" is not a ${algorithm} hex digest`);
  }
  return { algorithm, hex: h };
}

/** Hashes a file from disk, so what is verified is what was actually written. */
export async function hashFile(file: string, algorithm: DigestAlgorithm): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Reads a published checksum file and returns the digest for `fileName`. Accepts the formats
 * upstream projects use: a bare digest (dl.k8s.io's `<bin>.sha256`), and coreutils lines
 * `<hex>  <name>` or `<hex> *<name>` (SHA256SUMS, `.sha256sum`), where only the named line counts.
 * `source` is only for the error message (normally the checksum file's URL).
 */
export function parseChecksumFile(text: string, fileName: string, algorithm: DigestAlgorithm, source: string): Digest {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const want = path.posix.basename(fileName);
  const bare = lines.length === 1 && /^[0-9a-fA-F]+$/.test(lines[0]!) ? lines[0] : undefined;
  const named = lines
    .map((l) => /^([0-9a-fA-F]+)\s+\*?(.+)$/.exec(l))
    .find((m) => m !== null && path.posix.basename(m[2]!.trim()) === want)?.[1];
  const hex = bare ?? named;
  if (hex === undefined || hex.length !== HEX_LENGTH[algorithm]) {
    throw new UserError(
      `the checksum file ${source} has no ${algorithm} digest for ${want}`,
      "The release may be incomplete or the mirror may serve a different layout; try again later or use the source build.",
    );
  }
  return digest(algorithm, hex);
}
