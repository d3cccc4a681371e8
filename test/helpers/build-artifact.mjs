// Builds one artifact into the cache named by KUBEYARD_CACHE_DIR, as a separate process, so tests
// can run two at once or kill one mid-build. Prints the entry's dir when done.
import { ArtifactCache } from "../../dist/src/artifacts/cache.js";
import { buildArtifact } from "../../dist/src/artifacts/source-artifact.js";
import { findVersion } from "../../dist/src/versions/versions.js";

const [name, version] = process.argv.slice(2);
const art = await buildArtifact(name, findVersion(version), new ArtifactCache(), {
  onStep: (s) => process.stderr.write(`step: ${s}\n`),
});
process.stdout.write(`${art.dir}\n`);
