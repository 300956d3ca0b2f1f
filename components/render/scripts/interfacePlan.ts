/**
 * The `interface` part of a reload, done by hand before `frr-reload.py` runs.
 *
 * frr-reload.py removes a dropped interface stanza with `no interface X`, which FRR 10
 * refuses for an interface that exists ("only inactive interfaces can be deleted"), and
 * it sends RA timing lines in file order, which FRR (8.4's CLI checks, 10.x's YANG
 * must-condition `lifetime = 0 or lifetime*1000 >= interval`) refuses when the new
 * interval exceeds the old lifetime. So the apply script first compares `show
 * running-config` with the new frr.conf, stanza by stanza, and sends through vtysh:
 * negations of every interface line that goes (an emptied stanza then disappears from
 * the running config), the new lines, and the two RA timing changes in the order whose
 * every intermediate state FRR accepts. frr-reload.py then finds nothing to do there.
 *
 * The planner is a small Python program (python3 is where FRR runs: frr-reload.py needs
 * it). It reads the running config on stdin and the new file by path and prints one
 * `<interface stanza line>\t<command>` per command, in order.
 */

/** The planner's source; run as `python3 -c "$PLAN" NEW_FILE < running-config`. */
export const INTERFACE_PLAN_PY = String.raw`
import sys

RA_I = "ipv6 nd ra-interval"
RA_L = "ipv6 nd ra-lifetime"
DEFAULT_INTERVAL_MS = 600000


def stanzas(text):
    """interface stanza line -> its one-space-indented lines (deeper blocks are left out)."""
    found, current = {}, None
    for raw in text.splitlines():
        line = raw.rstrip()
        if current is None:
            if line.startswith("interface "):
                current = line
                found.setdefault(current, [])
            continue
        if not line.startswith(" "):
            current = None
        elif not line.startswith("  "):
            found[current].append(line.strip())
    return found


def key(line):
    for k in (RA_I, RA_L):
        if line.startswith(k + " "):
            return k
    return line


def negate(line):
    return line[3:] if line.startswith("no ") else "no " + line


def interval_ms(line):
    words = line[len(RA_I) + 1:].split()
    return int(words[1]) if words[0] == "msec" else int(words[0]) * 1000


def accepted(interval, lifetime):
    return lifetime in (None, 0) or lifetime * 1000 >= (
        DEFAULT_INTERVAL_MS if interval is None else interval
    )


def plan(running, wanted):
    out = []
    for name in list(running) + [n for n in wanted if n not in running]:
        old = {key(l): l for l in running.get(name, [])}
        new = {key(l): l for l in wanted.get(name, [])}
        drops = [negate(l) for k, l in old.items() if k not in new and k not in (RA_I, RA_L)]
        adds = [l for k, l in new.items() if old.get(k) != l and k not in (RA_I, RA_L)]
        state = {
            k: (interval_ms(old[k]) if k == RA_I else int(old[k].split()[-1])) if k in old else None
            for k in (RA_I, RA_L)
        }
        timing = []
        for k in (RA_I, RA_L):
            if old.get(k) == new.get(k):
                continue
            if k in new:
                value = interval_ms(new[k]) if k == RA_I else int(new[k].split()[-1])
                timing.append((k, new[k], value))
            else:
                timing.append((k, negate(old[k]), None))
        if len(timing) == 2:
            first = dict(state)
            first[timing[0][0]] = timing[0][2]
            if not accepted(first[RA_I], first[RA_L]):
                timing.reverse()
        out += [(name, c) for c in drops + [t[1] for t in timing] + adds]
    return out


running = stanzas(sys.stdin.read())
with open(sys.argv[1]) as f:
    wanted = stanzas(f.read())
for name, command in plan(running, wanted):
    print(name + "\t" + command)
`;
