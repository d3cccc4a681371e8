import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { LABEL_RECIPE, recipeDigest } from "../../src/artifacts/images.js";
import { ensureTestImage } from "../../src/artifacts/test-images.js";
import { createDriver } from "../../src/drivers/index.js";

const driver = await createDriver();

describe("an image kubeyard builds", () => {
  it("is built again when the folder it was built from has changed since", async () => {
    const ref = await ensureTestImage(driver.images, "nonroot");
    expect((await driver.images.inspect(ref))?.labels[LABEL_RECIPE]).toBe(await recipeDigest("nonroot"));
    // The same image as an older images/nonroot would have left it: another recipe in its label.
    await execa("docker", ["build", "-q", "-t", ref, "-"], { input: `FROM ${ref}\nLABEL ${LABEL_RECIPE}=older\n` });
    const older = await driver.images.inspect(ref);
    expect(older?.labels[LABEL_RECIPE]).toBe("older");

    expect(await ensureTestImage(driver.images, "nonroot")).toBe(ref);
    const rebuilt = await driver.images.inspect(ref);
    expect(rebuilt?.labels[LABEL_RECIPE]).toBe(await recipeDigest("nonroot"));
    expect(rebuilt?.id).not.toBe(older?.id);
    expect((await execa("docker", ["run", "--rm", "--entrypoint", "id", ref, "-u"])).stdout.trim()).toBe("1234");
  }, 600_000);
});
