/**
 * Where binaries come from: official release downloads, builds from Go modules, or `auto` (release,
 * else source). A module of its own, free of imports, so that the CLI can define `--source` without
 * loading the download and build code.
 */
export type SourceChoice = "release" | "source" | "auto";
export const SOURCE_CHOICES: readonly SourceChoice[] = ["auto", "release", "source"];
