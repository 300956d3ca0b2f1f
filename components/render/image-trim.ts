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

/**
 * `/usr/sbin/x` with its pre-merged-/usr twin `/sbin/x` (and `/usr/bin`, `/usr/lib/systemd`
 * likewise): bookworm's packages ship some programs under `/bin`, `/sbin` and `/lib`,
 * trixie's under `/usr`, and dpkg matches the path the package ships.
 */
function withRootTwins(paths: string[]): string[] {
  return paths.flatMap((p) => {
    const twin = p.replace(/^\/usr\/(s?bin|lib)\//, "/$1/");
    return twin === p ? [p] : [p, twin];
  });
}

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
    why: "Python's extensions for decimal arithmetic, SQLite, dbm, curses, ctypes, subinterpreters, the profiler and the C API examples: frr-reload.py and the package's checks import none",
    exclude: [
      "/usr/lib/python3.[0-9]*/lib-dynload/_decimal.*",
      "/usr/lib/python3.[0-9]*/lib-dynload/_sqlite3.*",
      "/usr/lib/python3.[0-9]*/lib-dynload/_dbm.*",
      "/usr/lib/python3.[0-9]*/lib-dynload/_curses*",
      "/usr/lib/python3.[0-9]*/lib-dynload/_ctypes.*",
      "/usr/lib/python3.[0-9]*/lib-dynload/_interp*",
      "/usr/lib/python3.[0-9]*/lib-dynload/_lsprof.*",
      "/usr/lib/python3.[0-9]*/lib-dynload/xx*",
    ],
  },
  {
    why: "the Python side of those extensions, and developer and mail tools neither frr-reload.py nor the package's checks import",
    removeOnly: true,
    exclude: [
      "/usr/lib/python3.[0-9]*/decimal.py",
      "/usr/lib/python3.[0-9]*/_pydecimal.py",
      "/usr/lib/python3.[0-9]*/sqlite3/*",
      "/usr/lib/python3.[0-9]*/dbm/sqlite3.py",
      "/usr/lib/python3.[0-9]*/curses/*",
      "/usr/lib/python3.[0-9]*/ctypes/*",
      "/usr/lib/python3.[0-9]*/venv/*",
      "/usr/lib/python3.[0-9]*/doctest.py",
      "/usr/lib/python3.[0-9]*/pydoc.py",
      "/usr/lib/python3.[0-9]*/pdb.py",
      "/usr/lib/python3.[0-9]*/bdb.py",
      "/usr/lib/python3.[0-9]*/pickletools.py",
      "/usr/lib/python3.[0-9]*/profile.py",
      "/usr/lib/python3.[0-9]*/cProfile.py",
      "/usr/lib/python3.[0-9]*/pstats.py",
      "/usr/lib/python3.[0-9]*/imaplib.py",
      "/usr/lib/python3.[0-9]*/poplib.py",
      "/usr/lib/python3.[0-9]*/smtplib.py",
      "/usr/lib/python3.[0-9]*/ftplib.py",
      "/usr/lib/python3.[0-9]*/mailbox.py",
    ],
  },
  {
    why: "iproute2's tools for hardware and protocols a machine on the host's network does not manage (ip, bridge, ss and tc stay)",
    exclude: [
      "/usr/sbin/devlink",
      "/usr/sbin/dcb",
      "/usr/sbin/vdpa",
      "/usr/sbin/tipc",
      "/usr/bin/rdma",
      "/usr/sbin/arpd",
      "/sbin/devlink",
      "/sbin/dcb",
      "/sbin/vdpa",
      "/sbin/tipc",
      "/sbin/arpd",
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
  {
    why: "systemd's helpers for TPMs, boot loaders and kernels, backlight, rfkill, batteries, hibernation, pstore and file systems to grow, make, quota or serve: a machine has none of these, and their units are skipped in a container (ConditionVirtualization, ConditionSecurity=measured-uki, initrd only) or pulled in by udev or fstab entries a machine does not have",
    exclude: [
      ...withRootTwins(
        [
          "systemd-pcrlock",
          "systemd-pcrextend",
          "systemd-measure",
          "systemd-tpm2-setup",
          "systemd-bsod",
          "systemd-battery-check",
          "systemd-backlight",
          "systemd-rfkill",
          "systemd-hibernate-resume",
          "systemd-growfs",
          "systemd-makefs",
          "systemd-quotacheck",
          "systemd-volatile-root",
          "systemd-storagetm",
          "systemd-pstore",
          "system-generators/systemd-hibernate-resume-generator",
          "system-generators/systemd-gpt-auto-generator",
        ].map((f) => `/usr/lib/systemd/${f}`),
      ),
      "/usr/bin/kernel-install",
      "/bin/kernel-install",
      "/usr/lib/kernel/*",
    ],
  },
  {
    why: "util-linux's tools for block devices, swap, file systems, the hardware clock, CPU and memory hotplug, watchdogs and serial lines (a machine has no block device or hardware of its own; e2fsprogs is purged), and lslogins (the only user of liblastlog2, hence of SQLite)",
    exclude: withRootTwins(
      [
        "bin/lsblk",
        "bin/partx",
        "bin/wdctl",
        "bin/lsmem",
        "bin/lslogins",
        "sbin/blkid",
        "sbin/findfs",
        "sbin/blockdev",
        "sbin/blkzone",
        "sbin/blkdiscard",
        "sbin/zramctl",
        "sbin/mkswap",
        "sbin/swaplabel",
        "sbin/swapon",
        "sbin/swapoff",
        "sbin/losetup",
        "sbin/fstrim",
        "sbin/fsfreeze",
        "sbin/fsck",
        "sbin/mkfs",
        "sbin/wipefs",
        "sbin/isosize",
        "sbin/chmem",
        "sbin/chcpu",
        "sbin/rtcwake",
        "sbin/ldattach",
        "sbin/readprofile",
      ].map((f) => `/usr/${f}`),
    ),
  },
  {
    why: "PAM's Berkeley DB user database module: no file in /etc/pam.d uses it",
    exclude: ["/usr/lib/*/security/pam_userdb.so", "/lib/*/security/pam_userdb.so"],
  },
];

/**
 * A shared library the image keeps only if something still links it once the rules above
 * have run: `soname` is searched for, as a string, in every file under `/usr` but the
 * library's own (`files`); found anywhere (a package in `extraPackages` that links it, a
 * program that dlopen()s it), the library stays and the build says who links it. Never
 * written to dpkg's configuration: an upgrade of the library's package brings it back.
 */
export interface UnlinkedLibrary {
  why: string;
  soname: string;
  /** Globs (as in {@link TrimRule.exclude}) of the library's files: the real one and its links. */
  files: string[];
}

/** In this order: liblastlog2 links SQLite. */
export const UNLINKED_LIBRARIES: UnlinkedLibrary[] = [
  {
    why: "glibc's vector math library: only programs built to vectorise libm calls link it",
    soname: "libmvec.so.1",
    files: ["/usr/lib/*/libmvec.so.1"],
  },
  {
    why: "Berkeley DB: linked only by iproute2's arpd, Python's dbm.ndbm and pam_userdb, all left out",
    soname: "libdb-5.3.so",
    files: ["/usr/lib/*/libdb-5.3.so"],
  },
  {
    why: "util-linux's lastlog2 library: linked only by lslogins, left out",
    soname: "liblastlog2.so.2",
    files: ["/usr/lib/*/liblastlog2.so.2*"],
  },
  {
    why: "SQLite: linked only by Python's sqlite3 and liblastlog2, both left out",
    soname: "libsqlite3.so.0",
    files: ["/usr/lib/*/libsqlite3.so.0*"],
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

/** What a soname may be: it is written unquoted. */
const SONAME = /^lib[A-Za-z0-9_.+-]*\.so[A-Za-z0-9_.+-]*$/;

/**
 * For each library in `libs`, in order: searches `r/usr` for its soname (its own files
 * apart); removes its files when nothing has it (grep status 1), says who links it when
 * something does (status 0), and stops the build when the search fails (any other status).
 */
export function unlinkedLibraryLines(
  r: string,
  libs: UnlinkedLibrary[] = UNLINKED_LIBRARIES,
): string[] {
  const lines: string[] = [];
  for (const lib of libs) {
    if (!SONAME.test(lib.soname)) {
      throw new Error(`soname ${JSON.stringify(lib.soname)} is not a library name`);
    }
    for (const glob of lib.files) {
      if (!GLOB.test(glob)) {
        throw new Error(`trim glob ${JSON.stringify(glob)} has characters the shell would read`);
      }
    }
    const excludes = lib.files.map((g) => `--exclude=${quote(g.slice(g.lastIndexOf("/") + 1))}`);
    lines.push(
      `# ${lib.why}`,
      `if users=$(grep -rlF ${excludes.join(" ")} -e ${lib.soname} -- ${quote(`${r}/usr`)}); then`,
      `    say "keeping ${lib.soname}: linked by $(echo $users)"`,
      "elif [[ $? -eq 1 ]]; then",
      `    rm -f -- ${lib.files.map((g) => `${quote(r)}${g}`).join(" ")}`,
      "else",
      `    die ${quote(`cannot search ${r}/usr for ${lib.soname}`)}`,
      "fi",
    );
  }
  return lines;
}

/**
 * Every trimming step for rootfs `r` (nothing mounted under it): the excluded paths
 * (docs apart, see below), the unused packages, the libraries nothing links any more
 * ({@link UNLINKED_LIBRARIES}), Python's bytecode caches (Python writes
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
    "# Libraries nothing links any more (after the rules and the purge); ld.so's cache then forgets them.",
    ...unlinkedLibraryLines(r),
    command("chroot", r, "ldconfig"),
    `${command("find", `${r}/usr`, "-xdev", "-type", "d", "-name", "__pycache__", "-prune", "-exec", "rm", "-rf", "--one-file-system", "--", "{}", "+")}`,
    `rm -rf --one-file-system -- ${quote(`${r}/var/lib/apt/lists`)}/*`,
    `rm -f ${quote(`${r}/var/cache/apt`)}/*.bin ${quote(`${r}/var/cache/apt/archives`)}/*.deb ${quote(`${r}/var/cache/apt/archives/partial`)}/*`,
    `rm -f ${quote(`${r}/var/cache/debconf`)}/*-old ${quote(`${r}/var/lib/dpkg`)}/*-old`,
    `[[ ! -d ${quote(`${r}/var/log`)} ]] || ${command("find", `${r}/var/log`, "-type", "f", "-delete")}`,
  ];
}
