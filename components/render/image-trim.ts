/**
 * What the image leaves out, and how: one list of dpkg `path-exclude` globs that is both
 * written to `/etc/dpkg/dpkg.cfg.d/` (so a package installed or upgraded later in the
 * machine stays trimmed) and removed from the rootfs after the build (what debootstrap
 * unpacked before the exclusions existed). Pure: text.
 *
 * Measured on the default image (bookworm, FRR 8.4.4, gzip): 56.9 MB before. The large
 * parts, gzip'd: Python's `__pycache__` 4.4 MB, glibc's gconv modules 2.9 MB, the FRR
 * daemons the package never runs 2.8 MB, e2fsprogs 0.8 MB, systemd-networkd 0.6 MB.
 */
import { command, quote } from "../shell";

/** A group of globs dpkg leaves out; `why` is the comment above them in the file. */
export interface TrimRule {
  why: string;
  /** dpkg `path-exclude` globs (fnmatch without FNM_PATHNAME: `*` also matches `/`). */
  exclude: string[];
  /** dpkg `path-include` globs, put back after the excludes (e.g. copyright files). */
  include?: string[];
  /**
   * Removed from the built rootfs only, not written to dpkg's configuration: python3.X's
   * postinst byte-compiles every `.py` file its stdlib package lists and fails on one
   * dpkg left out (seen on bookworm). An upgrade of Python brings these files back.
   * @default false
   */
  removeOnly?: boolean;
}

/**
 * The FRR daemons the package runs: zebra, staticd and watchfrr always, mgmtd from FRR
 * 9.0, bgpd, and bfdd with `bfd` (daemons.ts). The image keeps only these.
 */
export const KEPT_FRR_DAEMONS = ["bfdd", "bgpd", "mgmtd", "staticd", "watchfrr", "zebra"];

/**
 * The daemons FRR's package ships that the package never switches on; frrinit.sh starts
 * only those the daemons file enables, and names a missing one ("daemon binary not
 * installed") if someone enables it.
 */
export const DROPPED_FRR_DAEMONS = [
  "babeld",
  "eigrpd",
  "fabricd",
  "isisd",
  "ldpd",
  "nhrpd",
  "ospf6d",
  "ospfd",
  "pathd",
  "pbrd",
  "pim6d",
  "pimd",
  "ripd",
  "ripngd",
  "sharpd",
  "vrrpd",
];

/**
 * Packages debootstrap's minbase brings that nothing in the machine uses (a machine has
 * no block device of its own); purged, so dpkg's database stays consistent. A package
 * not installed (trixie's minbase has none of them) is skipped by dpkg with a warning;
 * one another package depends on stays, with a warning (not a failure).
 */
export const PURGED_PACKAGES = ["e2fsprogs", "libext2fs2", "libss2", "logsave"];

/** The `path-exclude` rules, in the order they are written. */
export const TRIM_RULES: TrimRule[] = [
  {
    why: "documentation; the copyright files stay",
    exclude: ["/usr/share/doc/*"],
    include: ["/usr/share/doc/*/copyright"],
  },
  {
    why: "man and info pages, lintian overrides",
    exclude: ["/usr/share/man/*", "/usr/share/info/*", "/usr/share/lintian/*"],
  },
  {
    why: "translations; the C.UTF-8 locale (in /usr/lib/locale) stays",
    exclude: ["/usr/share/locale/*/*"],
  },
  {
    why: "glibc's gconv modules: iconv keeps its built-in UTF-8, ASCII and Latin-1; FRR and Python do not use them",
    exclude: ["/usr/lib/*/gconv/*"],
  },
  {
    why: "Python's test extensions (its postinst compiles only .py files)",
    exclude: [
      "/usr/lib/python3.[0-9]*/lib-dynload/_test*",
      "/usr/lib/python3.[0-9]*/lib-dynload/_ctypes_test*",
      "/usr/lib/python3.[0-9]*/lib-dynload/_xxtestfuzz*",
    ],
  },
  {
    why: "Python's test suite, docs data and modules neither frr-reload.py nor the package's checks import",
    removeOnly: true,
    exclude: [
      "/usr/lib/python3.[0-9]*/test/*",
      "/usr/lib/python3.[0-9]*/pydoc_data/*",
      "/usr/lib/python3.[0-9]*/idlelib/*",
      "/usr/lib/python3.[0-9]*/lib2to3/*",
      "/usr/lib/python3.[0-9]*/tkinter/*",
      "/usr/lib/python3.[0-9]*/turtledemo/*",
      "/usr/lib/python3.[0-9]*/ensurepip/*",
      "/usr/lib/python3.[0-9]*/asyncio/*",
      "/usr/lib/python3.[0-9]*/unittest/*",
      "/usr/lib/python3.[0-9]*/xmlrpc/*",
      "/usr/lib/python3.[0-9]*/wsgiref/*",
      "/usr/lib/python3.[0-9]*/turtle.py",
    ],
  },
  {
    why: "Python's East Asian codecs, like gconv's",
    exclude: ["/usr/lib/python3.[0-9]*/lib-dynload/_codecs_*"],
  },
  {
    why: "iproute2's tools for hardware and protocols a machine on the host's network does not manage (ip, bridge, ss and tc stay)",
    exclude: [
      "/usr/sbin/devlink",
      "/usr/sbin/dcb",
      "/usr/sbin/vdpa",
      "/usr/sbin/tipc",
      "/usr/bin/rdma",
      "/sbin/devlink",
      "/sbin/dcb",
      "/sbin/vdpa",
      "/sbin/tipc",
    ],
  },
  {
    why: "FRR daemons the package never runs, and pathd's module",
    exclude: [
      ...DROPPED_FRR_DAEMONS.map((d) => `/usr/lib/frr/${d}`),
      "/usr/lib/*/frr/modules/pathd_pcep.so",
    ],
  },
  {
    why: "systemd-networkd (bookworm's systemd ships it): the machine uses the host's network",
    exclude: [
      "/lib/systemd/systemd-networkd*",
      "/usr/lib/systemd/systemd-networkd*",
      "/bin/networkctl",
      "/usr/bin/networkctl",
    ],
  },
];

/** Where the rules go in the image. */
export const DPKG_TRIM_FILE = "/etc/dpkg/dpkg.cfg.d/frr-nspawn-trim";

/** The dpkg configuration file: every rule's comment, excludes and includes ({@link TrimRule.removeOnly} left out). */
export function dpkgTrimConfig(rules: TrimRule[] = TRIM_RULES): string {
  const lines = ["# frr-nspawn: the image is trimmed; keep it so when packages are added later"];
  for (const rule of rules.filter((r) => r.removeOnly !== true)) {
    lines.push(`# ${rule.why}`);
    lines.push(...rule.exclude.map((glob) => `path-exclude ${glob}`));
    lines.push(...(rule.include ?? []).map((glob) => `path-include ${glob}`));
  }
  return `${lines.join("\n")}\n`;
}

/** Characters a glob may have: it is written unquoted after the quoted rootfs. */
const GLOB = /^\/[A-Za-z0-9_./*[\]-]+$/;

/**
 * Removes what the rules exclude from an existing rootfs `r` (run after every package
 * is in): the shell expands each glob under the quoted rootfs (`*` stops at `/` there,
 * so every glob is written to match the same files both ways); an unmatched glob stays
 * literal and `rm -f` ignores it, so running it again changes nothing. A rule with
 * `include` is left to its own lines ({@link trimRootfs}: the docs).
 */
export function trimLines(r: string, rules: TrimRule[] = TRIM_RULES): string[] {
  const lines: string[] = [];
  for (const rule of rules) {
    for (const glob of rule.exclude) {
      if (!GLOB.test(glob)) {
        throw new Error(`trim glob ${JSON.stringify(glob)} has characters the shell would read`);
      }
    }
    if (rule.include === undefined) {
      lines.push(
        `rm -rf --one-file-system -- ${rule.exclude.map((g) => `${quote(r)}${g}`).join(" ")}`,
      );
    }
  }
  return lines;
}

/**
 * Every trimming step for rootfs `r` (nothing mounted under it): the excluded paths
 * (docs apart, see below), the unused packages, Python's bytecode caches (Python writes
 * them again as it imports, where it may), apt's lists and caches, old dpkg/debconf
 * copies and logs. Idempotent.
 */
export function trimRootfs(r: string): string[] {
  return [
    "# Docs: everything but the copyright files (dpkg's path-include keeps them too).",
    `[[ ! -d ${quote(`${r}/usr/share/doc`)} ]] || ${command("find", `${r}/usr/share/doc`, "-mindepth", "1", "!", "-type", "d", "!", "-name", "copyright", "-delete")}`,
    `[[ ! -d ${quote(`${r}/usr/share/doc`)} ]] || ${command("find", `${r}/usr/share/doc`, "-mindepth", "1", "-type", "d", "-empty", "-delete")}`,
    ...trimLines(r),
    "# dpkg removes none that another package depends on (e.g. on a distribution not tried here).",
    `if ! DEBIAN_FRONTEND=noninteractive ${command("chroot", r, "dpkg", "--purge", ...PURGED_PACKAGES)}; then`,
    `    say ${quote(`WARNING: dpkg kept some of ${PURGED_PACKAGES.join(", ")} (see its message above); the image keeps them`)}`,
    "fi",
    `${command("find", `${r}/usr`, "-xdev", "-type", "d", "-name", "__pycache__", "-prune", "-exec", "rm", "-rf", "--one-file-system", "--", "{}", "+")}`,
    `rm -rf --one-file-system -- ${quote(`${r}/var/lib/apt/lists`)}/*`,
    `rm -f ${quote(`${r}/var/cache/apt`)}/*.bin ${quote(`${r}/var/cache/apt/archives`)}/*.deb ${quote(`${r}/var/cache/apt/archives/partial`)}/*`,
    `rm -f ${quote(`${r}/var/cache/debconf`)}/*-old ${quote(`${r}/var/lib/dpkg`)}/*-old`,
    `[[ ! -d ${quote(`${r}/var/log`)} ]] || ${command("find", `${r}/var/log`, "-type", "f", "-delete")}`,
  ];
}
