/**
 * zebra started from the package's daemons file with route retention (BgpLoopback
 * `gracefulRestart`: `-r -K<RETAIN_ROUTES_SECONDS>`) arms its RIB sweep for that many
 * seconds on both release lines (tests/frr/rig.ts: this machine's 8.4 and trixie's 10.x),
 * and the spaced form `-K 120` is shown to be what it is: 120 s on 8.4, FRR's default
 * 500 s on 10.x (daemons.ts says why).
 *
 * The observable is zebra's timer list: main() of frr-8.4.4 zebra/main.c arms
 * `thread_add_timer(…, rib_sweep_route, NULL, graceful_restart, …)` and frr-10.3's
 * zebra_main_router_started() `event_add_timer(…, rib_sweep_route, NULL,
 * gr_cleanup_time, …)`; `show thread timers` (frr-8.4.4 lib/thread.c, renamed `show
 * event timers` in frr-10.3 lib/event.c) lists each timer as its function's name and the
 * time left, `HH:MM:SS.mmm` (printfrr_thread: TIMEFMT_TIMER_DEADLINE). Needs root.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";

import {
  DEFAULT_DAEMONS,
  RETAIN_ROUTES_SECONDS,
  renderDaemons,
} from "../../components/render/daemons";
import { FrrRig, RIG_KINDS, startRig } from "./rig";

/** Seconds left on zebra's rib_sweep_route timer; fails when there is no such timer. */
function sweepSecondsLeft(rig: FrrRig): number {
  const cmd = rig.version.startsWith("8.") ? "show thread timers" : "show event timers";
  const out = rig.check(["vtysh", "-d", "zebra", "-c", cmd]);
  const m = /^\s*rib_sweep_route\s+([0-9]+):([0-9]+):([0-9]+)\.([0-9]+)$/m.exec(out);
  assert.ok(m, `no rib_sweep_route timer in \`${cmd}\`:\n${out}`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(`0.${m[4]}`);
}

/** zebra's command line, from its pid file and /proc. */
function zebraArgs(rig: FrrRig): string {
  const pid = rig.daemonPids().zebra;
  return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
}

/** Asserts the sweep is armed for `seconds` (less what zebra's start took). */
function assertSweep(rig: FrrRig, seconds: number): void {
  const left = sweepSecondsLeft(rig);
  assert.ok(
    left <= seconds && left > seconds - 20,
    `rib_sweep_route runs in ${left} s, not ~${seconds} s (zebra: ${zebraArgs(rig)})`,
  );
}

for (const kind of RIG_KINDS) {
  describe(`zebra's route retention timer on real ${kind} daemons`, function () {
    this.timeout(180000);
    let rig: FrrRig;

    before(() => {
      rig = startRig(kind, { ...DEFAULT_DAEMONS, retainRoutesSeconds: RETAIN_ROUTES_SECONDS });
    });
    after(() => rig?.stop());

    it(`the package's daemons file: zebra sweeps after ${RETAIN_ROUTES_SECONDS} s`, () => {
      assertSweep(rig, RETAIN_ROUTES_SECONDS);
    });

    const spaced = kind === "apt" ? 120 : 500;
    it(`zebra options given as \`-r -K 120\`: zebra sweeps after ${spaced} s`, () => {
      const daemons = {
        ...DEFAULT_DAEMONS,
        zebraOptions: `${DEFAULT_DAEMONS.zebraOptions} -r -K 120`,
      };
      fs.writeFileSync(`${rig.etc}/daemons`, renderDaemons(daemons, rig.version));
      rig.check([
        "sh",
        "-c",
        "/usr/lib/frr/frrinit.sh restart >/var/run/frr/rig-init.log 2>&1 || { cat /var/run/frr/rig-init.log; exit 1; }",
      ]);
      assertSweep(rig, spaced);
      assert.match(zebraArgs(rig), / -r -K 120$/);
    });
  });
}
