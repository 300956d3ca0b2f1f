// The stack lock: a second concurrent `up` or `destroy` of one stack is refused.
//
// The real backends: the DIY (file/bucket) backend writes
// .pulumi/locks/<org>/<project>/<stack>/<uuid>.json ({pid, username, hostname, timestamp}),
// then lists the directory; any other lock file refuses the update with
//   "the stack is currently locked by N lock(s). Either wait for the other process(es) to end or
//    delete the lock file with `pulumi cancel`.\n  <url>: created by <user>@<host> (pid N) at <time>"
// (pulumi v3.248.0 pkg/backend/diy/lock.go (*diyBackend).Lock / checkForLock; taken by Update,
// Refresh, Destroy and Import, not by Preview). A lock left by a killed process stays until it
// is removed (`pulumi cancel`); its age or pid is not checked. The Pulumi Cloud backend refuses
// a second update of a stack with "[409] Conflict: Another update is currently in progress.".
// The driver keeps its state in one file, so it does as the DIY backend does, beside that file.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

interface LockContent {
  pid: number;
  username: string;
  hostname: string;
  timestamp: string;
}

export class StackLock {
  private constructor(private readonly file: string) {}

  /** The lock directory for a state file: `<state>.locks/`. */
  static dirFor(statePath: string): string {
    return `${statePath}.locks`;
  }

  private static others(dir: string, mine: string): string[] {
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.endsWith(".json"))
      .map((n) => path.join(dir, n))
      .filter((f) => f !== mine);
  }

  private static refusal(locks: string[]): Error {
    let msg =
      `the stack is currently locked by ${locks.length} lock(s). Either wait for the other ` +
      "process(es) to end or delete the lock file with `pulumi cancel`.";
    for (const f of locks) {
      try {
        const l = JSON.parse(fs.readFileSync(f, "utf8")) as LockContent;
        msg += `\n  ${f}: created by ${l.username}@${l.hostname} (pid ${l.pid}) at ${l.timestamp}`;
      } catch {
        msg += `\n  ${f}: (unreadable)`;
      }
    }
    return new Error(msg);
  }

  /** Checks, writes our lock, checks again (as the DIY backend's Lock does). Throws when refused. */
  static acquire(statePath: string): StackLock {
    const dir = StackLock.dirFor(statePath);
    const file = path.join(dir, `${crypto.randomUUID()}.json`);
    const before = StackLock.others(dir, file);
    if (before.length > 0) {
      throw StackLock.refusal(before);
    }
    fs.mkdirSync(dir, { recursive: true });
    const content: LockContent = {
      pid: process.pid,
      username: os.userInfo().username,
      hostname: os.hostname(),
      timestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    };
    fs.writeFileSync(file, JSON.stringify(content), { mode: 0o600 });
    const after = StackLock.others(dir, file);
    if (after.length > 0) {
      fs.rmSync(file, { force: true });
      throw StackLock.refusal(after);
    }
    return new StackLock(file);
  }

  release(): void {
    fs.rmSync(this.file, { force: true });
    try {
      fs.rmdirSync(path.dirname(this.file));
    } catch {
      /* another lock, or already gone */
    }
  }
}
