/**
 * Image build script behaviour that needs root on this machine (the script refuses to
 * run as anyone else). Fails, never skips, when not root.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import {
  ImageRecipe,
  parseImageResult,
  recipeHash,
  renderImageBuildScript,
} from "../../components/render/image";
import { imageLayout } from "../../components/render/image-recipe";

const BASE: ImageRecipe = {
  distribution: "debian",
  suite: "bookworm",
  arch: "amd64",
  frr: { source: "distro" },
  extraPackages: [],
  hostname: "frr",
  compression: "gzip",
  workDir: "/var/lib/frr-nspawn/images",
};

function bash(text: string) {
  return spawnSync("bash", ["-c", text], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
}

describe("image build script, as root", () => {
  before(() => {
    assert.equal(
      process.getuid?.(),
      0,
      "the image build script runs as root only: run these tests as root",
    );
  });

  it("the build script reuses an image that matches its checksum (as root, no build)", () => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "frr-nspawn-reuse-"));
    try {
      const recipe = { ...BASE, workDir };
      const l = imageLayout(recipe);
      fs.mkdirSync(l.dir);
      fs.writeFileSync(l.tar, "not really a tar");
      const sha = createHash("sha256").update("not really a tar").digest("hex");
      fs.writeFileSync(l.sha256File, `${sha}  ${l.tarName}\n`);
      fs.writeFileSync(l.versionFile, "8.4.4\n");
      const run = bash(renderImageBuildScript(recipe));
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stderr, /already built and matches its checksum: nothing to do/);
      assert.doesNotMatch(run.stderr, /bootstrapping/);
      assert.deepEqual(parseImageResult(run.stdout), {
        imagePath: l.tar,
        sha256: sha,
        sizeBytes: 16,
        frrVersion: "8.4.4",
        recipeHash: recipeHash(recipe),
      });
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  });
});
