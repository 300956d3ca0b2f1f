/**
 * Writes components/host-library.sh, the file each component's `-lib-copy` step copies to
 * its host, from the renderer (components/render/scripts/library.ts `renderHostLibrary`). A unit test fails
 * when the file is stale: run `npm run host-library` after changing the renderer.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { renderHostLibrary } from "../components/render/scripts/library";

const file = path.join(__dirname, "..", "components", "host-library.sh");
fs.writeFileSync(file, renderHostLibrary());
console.log(`wrote ${path.relative(process.cwd(), file)}`);
