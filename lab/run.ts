/**
 * `npm run lab`: boots the lab, applies examples/seed to it, shows BGP working, and
 * leaves it running. `npm run lab:down`: destroys the stack and stops everything.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  DRIVER_STATE,
  LAB,
  PROJECT,
  bgpUp,
  driver,
  hostsDown,
  hostsUp,
  inFrr,
  info,
  seedConfig,
  ssh,
  waitUntil,
} from "./scenario";

function up(): void {
  execFileSync("bash", [path.join(__dirname, "install-packages.sh")], { stdio: "inherit" });
  console.log("== lab hosts (coreos, tor)");
  const lab = hostsUp();
  console.log("== pulumi up of examples/seed through the lab driver (the engine stand-in)");
  const summary = driver("up", seedConfig(lab), true);
  if (!summary.ok) {
    console.error(`up failed: ${summary.error ?? "see above"}`);
    process.exit(1);
  }
  console.log(`== ${summary.ran} step(s) ran`);
  console.log("== waiting for BGP (Established, a prefix received on each side)");
  const converged = waitUntil(
    () => bgpUp(lab, "coreos", LAB.coreos.nic) && bgpUp(lab, "tor", LAB.tor.port),
    90,
  );
  console.log("== coreos: BGP summary (in the FRR machine)");
  console.log(ssh(lab, "coreos", inFrr("vtysh -c 'show bgp ipv4 unicast summary'")));
  if (!converged) {
    console.error("BGP did not come up within 90 s");
    process.exit(1);
  }
  console.log(`== coreos: ip route get ${LAB.tor.loopback}`);
  console.log(ssh(lab, "coreos", `ip route get ${LAB.tor.loopback}`));
  console.log(`== coreos: ping ${LAB.tor.loopback} from ${LAB.coreos.loopback}`);
  console.log(ssh(lab, "coreos", `ping -c 3 -I ${LAB.coreos.loopback} ${LAB.tor.loopback}`));
  console.log("== the lab stays up. Log in with:");
  console.log("   lab/hosts.sh ssh coreos     (then: sudo machinectl shell frr /usr/bin/vtysh)");
  console.log("   lab/hosts.sh ssh tor        (then: sudo vtysh)");
  console.log("== with the Pulumi CLI, this stack config drives the same lab with `pulumi up`:");
  console.log("   pulumi stack init lab");
  for (const [k, v] of Object.entries(seedConfig(lab))) {
    const key = k.slice(PROJECT.length + 1);
    console.log(
      v.secret
        ? `   pulumi config set --secret ${key} -- "$(cat ${lab.sshKey})"`
        : `   pulumi config set ${key} '${v.value}'`,
    );
  }
  console.log("== npm run lab:down removes everything the lab made");
}

function down(): void {
  if (fs.existsSync(DRIVER_STATE)) {
    try {
      const lab = info();
      console.log("== pulumi destroy of examples/seed through the lab driver");
      driver("destroy", seedConfig(lab), true);
    } catch (e) {
      console.error(`destroy not run: ${(e as Error).message}`);
    }
  }
  console.log("== lab hosts down");
  hostsDown();
  // The hosts' disks are gone with them, and so is what the state described (and any
  // stack lock a killed run left beside it).
  fs.rmSync(DRIVER_STATE, { force: true });
  fs.rmSync(`${DRIVER_STATE}.locks`, { recursive: true, force: true });
}

const command = process.argv[2];
if (command === "up") {
  up();
} else if (command === "down") {
  down();
} else {
  console.error("usage: tsx lab/run.ts up|down");
  process.exit(2);
}
