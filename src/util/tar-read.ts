import { Parser, type ReadEntry } from "tar";

/** The regular files of a tar stream, by path, read into memory (for small trees such as log folders). */
export async function readTarFiles(stream: NodeJS.ReadableStream): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const parser = new Parser({
    onReadEntry: (e: ReadEntry) => {
      if (e.type !== "File" && e.type !== "OldFile") return void e.resume();
      const chunks: Buffer[] = [];
      e.on("data", (c: Buffer) => chunks.push(c));
      e.on("end", () => files.set(e.path, Buffer.concat(chunks)));
    },
  });
  await new Promise<void>((resolve, reject) => {
    parser.on("end", resolve);
    parser.on("error", reject);
    stream.on("error", reject);
    stream.pipe(parser as unknown as NodeJS.WritableStream);
  });
  return files;
}
