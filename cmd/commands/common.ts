import { Option, type Command } from "commander";
import { SOURCE_CHOICES, type SourceChoice } from "../../src/artifacts/source-choice.js";

/** `--source` (and its synonym `--artifacts`): where binaries come from. */
export function addSourceOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        "--source <source>",
        "where binaries come from: release downloads, a build from Go modules, or auto (release, else source)",
      )
        .choices(SOURCE_CHOICES as string[])
        .default("auto" satisfies SourceChoice),
    )
    .addOption(new Option("--artifacts <source>", "the same as --source").choices(SOURCE_CHOICES as string[]).hideHelp());
}

/** Gathers a repeatable option's values in the order given. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
