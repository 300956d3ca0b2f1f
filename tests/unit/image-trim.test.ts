import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { renderImageBuildScript, type ImageRecipe } from "../../components/render/image";
import { imageLayout, RENDERER_VERSION } from "../../components/render/image-recipe";
import {
  DPKG_TRIM_FILE,
  dpkgTrimConfig,
  DROPPED_FRR_DAEMONS,
  KEPT_FRR_DAEMONS,
  PURGED_PACKAGES,
  trimLines,
  trimRootfs,
  TRIM_RULES,
  UNLINKED_LIBRARIES,
  unlinkedLibraryLines,
  type TrimRule,
} from "../../components/render/image-trim";

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

const RULES: TrimRule[] = [
  { why: "docs", exclude: ["/usr/share/doc/*"], include: ["/usr/share/doc/*/copyright"] },
  { why: "gconv", exclude: ["/usr/lib/*/gconv/*"] },
  { why: "two", exclude: ["/a/b", "/c/[0-9]*"] },
  { why: "after install", exclude: ["/d/*.py"], removeOnly: true },
];

describe("image trim: dpkg exclusions", () => {
  it("renders every rule: comment, excludes, then includes", () => {
    assert.equal(
      dpkgTrimConfig(RULES),
      [
        "# frr-nspawn: the image is trimmed; keep it so when packages are added later",
        "# docs",
        "path-exclude /usr/share/doc/*",
        "path-include /usr/share/doc/*/copyright",
        "# gconv",
        "path-exclude /usr/lib/*/gconv/*",
        "# two",
        "path-exclude /a/b",
        "path-exclude /c/[0-9]*",
        "",
      ].join("\n"),
    );
  });

  const expected: string[] = [
    "path-exclude /usr/share/doc/*",
    "path-include /usr/share/doc/*/copyright",
    "path-exclude /usr/share/man/*",
    "path-exclude /usr/share/locale/*/*",
    "path-exclude /usr/lib/*/gconv/*",
    "path-exclude /usr/lib/python3.[0-9]*/lib-dynload/_test*",
    "path-exclude /usr/lib/python3.[0-9]*/lib-dynload/_codecs_*",
    "path-exclude /usr/lib/frr/ospfd",
    "path-exclude /usr/lib/frr/pimd",
    "path-exclude /usr/lib/*/frr/modules/pathd_pcep.so",
    "path-exclude /lib/systemd/systemd-networkd*",
    "path-exclude /sbin/devlink",
    "path-exclude /usr/sbin/devlink",
    "path-exclude /usr/sbin/arpd",
    "path-exclude /usr/lib/systemd/systemd-pcrlock",
    "path-exclude /lib/systemd/systemd-pcrlock",
    "path-exclude /usr/bin/kernel-install",
    "path-exclude /usr/lib/kernel/*",
    "path-exclude /usr/bin/lsblk",
    "path-exclude /bin/lsblk",
    "path-exclude /usr/sbin/mkswap",
    "path-exclude /sbin/mkswap",
    "path-exclude /usr/lib/*/security/pam_userdb.so",
  ];
  for (const line of expected) {
    it(`the default file has \`${line}\``, () => {
      assert.ok(dpkgTrimConfig().split("\n").includes(line));
    });
  }

  it("leaves Python's .py files to the removal (python3.X's postinst compiles every one its package lists)", () => {
    const excluded = dpkgTrimConfig()
      .split("\n")
      .filter((l) => l.startsWith("path-exclude /usr/lib/python3"));
    assert.deepEqual(excluded, [
      "path-exclude /usr/lib/python3.[0-9]*/lib-dynload/_test*",
      "path-exclude /usr/lib/python3.[0-9]*/lib-dynload/_ctypes_test*",
      "path-exclude /usr/lib/python3.[0-9]*/lib-dynload/_xxtestfuzz*",
      "path-exclude /usr/lib/python3.[0-9]*/lib-dynload/_codecs_*",
      "path-exclude /usr/lib/python3.[0-9]*/lib-dynload/_decimal.*",
      "path-exclude /usr/lib/python3.[0-9]*/lib-dynload/_sqlite3.*",
      "path-exclude /usr/lib/python3.[0-9]*/lib-dynload/_dbm.*",
      "path-exclude /usr/lib/python3.[0-9]*/lib-dynload/_curses*",
      "path-exclude /usr/lib/python3.[0-9]*/lib-dynload/_ctypes.*",
      "path-exclude /usr/lib/python3.[0-9]*/lib-dynload/_interp*",
      "path-exclude /usr/lib/python3.[0-9]*/lib-dynload/_lsprof.*",
      "path-exclude /usr/lib/python3.[0-9]*/lib-dynload/xx*",
    ]);
    const removal = trimLines("/r").join("\n");
    for (const glob of [
      "/usr/lib/python3.[0-9]*/test/*",
      "/usr/lib/python3.[0-9]*/asyncio/*",
      "/usr/lib/python3.[0-9]*/decimal.py",
      "/usr/lib/python3.[0-9]*/sqlite3/*",
    ]) {
      assert.ok(removal.includes(`/r${glob}`), glob);
    }
  });

  it("never excludes what FRR, frr-reload.py, vtysh, systemd or machinectl shell need", () => {
    const text = dpkgTrimConfig()
      .split("\n")
      .filter((l) => l.startsWith("path-exclude "))
      .join("\n");
    for (const daemon of KEPT_FRR_DAEMONS) {
      assert.ok(!text.includes(`/usr/lib/frr/${daemon}`), daemon);
    }
    for (const kept of [
      "frr-reload",
      "vtysh",
      "/usr/sbin/ip",
      "/bin/ip",
      "dbus",
      "zoneinfo",
      "/usr/lib/locale",
      "json",
      "subprocess",
      "ipaddress",
      "/systemd/systemd ",
      "systemd-journald",
      "systemd-logind",
      "systemd-executor",
      "systemctl",
      "agetty",
      "/usr/bin/mount",
      "libmvec",
      "libsqlite3",
      "libdb-5.3",
    ]) {
      assert.ok(!text.includes(kept), kept);
    }
  });

  it("drops no daemon the package keeps, and the kept ones are what daemons.ts runs", () => {
    assert.deepEqual(
      DROPPED_FRR_DAEMONS.filter((d) => KEPT_FRR_DAEMONS.includes(d)),
      [],
    );
    assert.deepEqual(KEPT_FRR_DAEMONS, ["bfdd", "bgpd", "mgmtd", "staticd", "watchfrr", "zebra"]);
  });
});

describe("image trim: removal from the rootfs", () => {
  it("each rule without includes is one rm line, the glob unquoted after the quoted rootfs", () => {
    assert.deepEqual(trimLines("/my images/it's", RULES), [
      "rm -rf --one-file-system -- '/my images/it'\\''s'/usr/lib/*/gconv/*",
      "rm -rf --one-file-system -- '/my images/it'\\''s'/a/b '/my images/it'\\''s'/c/[0-9]*",
      "rm -rf --one-file-system -- '/my images/it'\\''s'/d/*.py",
    ]);
  });

  const bad = ["/a b", "/a/$(x)", "/a;b", "relative/*", "/a/`x`", "/a/{b,c}"];
  for (const glob of bad) {
    it(`refuses a glob the shell would read: ${JSON.stringify(glob)}`, () => {
      assert.throws(
        () => trimLines("/r", [{ why: "x", exclude: [glob] }]),
        /trim glob .* has characters the shell would read/,
      );
    });
  }

  it("trimRootfs: docs, every rule, the purge, caches, lists, logs, in that order", () => {
    assert.deepEqual(trimRootfs("/r"), [
      "# Docs: everything but the copyright files (dpkg's path-include keeps them too).",
      "[[ ! -d /r/usr/share/doc ]] || find /r/usr/share/doc -mindepth 1 '!' -type d '!' -name copyright -delete",
      "[[ ! -d /r/usr/share/doc ]] || find /r/usr/share/doc -mindepth 1 -type d -empty -delete",
      ...trimLines("/r"),
      "# dpkg removes none that another package depends on (e.g. on a distribution not tried here).",
      "if ! DEBIAN_FRONTEND=noninteractive chroot /r dpkg --purge e2fsprogs libext2fs2 libss2 logsave; then",
      "    say 'WARNING: dpkg kept some of e2fsprogs, libext2fs2, libss2, logsave (see its message above); the image keeps them'",
      "fi",
      "# Libraries nothing links any more (after the rules and the purge); ld.so's cache then forgets them.",
      ...unlinkedLibraryLines("/r"),
      "chroot /r ldconfig",
      "find /r/usr -xdev -type d -name __pycache__ -prune -exec rm -rf --one-file-system -- '{}' +",
      "rm -rf --one-file-system -- /r/var/lib/apt/lists/*",
      "rm -f /r/var/cache/apt/*.bin /r/var/cache/apt/archives/*.deb /r/var/cache/apt/archives/partial/*",
      "rm -f /r/var/cache/debconf/*-old /r/var/lib/dpkg/*-old",
      "[[ ! -d /r/var/log ]] || find /r/var/log -type f -delete",
    ]);
    assert.deepEqual(PURGED_PACKAGES, ["e2fsprogs", "libext2fs2", "libss2", "logsave"]);
  });

  for (const [status, warned] of [
    [0, false],
    [2, true],
  ] as const) {
    it(`a purge dpkg ${status === 0 ? "completes" : "refuses (exit 2)"} ${warned ? "warns and the trim goes on" : "says nothing more"}`, () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "frr-nspawn-purge-"));
      try {
        fs.writeFileSync(
          path.join(dir, "chroot"),
          `#!/bin/sh\necho "chroot $*" >&2\nexit ${status}\n`,
          {
            mode: 0o755,
          },
        );
        const lines = trimRootfs("/r");
        const start = lines.findIndex((l) => l.startsWith("if ! DEBIAN_FRONTEND"));
        const block = lines.slice(start, start + 3);
        const text = ["set -euo pipefail", 'say() { echo "$*"; }', ...block, "echo after"].join(
          "\n",
        );
        const run = spawnSync("bash", ["-c", text], {
          encoding: "utf8",
          env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
        });
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.stderr, "chroot /r dpkg --purge e2fsprogs libext2fs2 libss2 logsave\n");
        assert.equal(
          run.stdout,
          `${warned ? "WARNING: dpkg kept some of e2fsprogs, libext2fs2, libss2, logsave (see its message above); the image keeps them\n" : ""}after\n`,
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it("removes what the rules exclude from a rootfs, keeps the rest, and a second run changes nothing", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "frr-nspawn-trim-"));
    const r = path.join(root, "root fs");
    const removed = [
      "usr/lib/x86_64-linux-gnu/gconv/BIG5.so",
      "usr/lib/x86_64-linux-gnu/gconv/gconv-modules",
      "usr/lib/python3.11/test/test_os.py",
      "usr/lib/python3.11/pydoc_data/topics.py",
      "usr/lib/python3.13/lib-dynload/_testcapi.cpython-313-x86_64-linux-gnu.so",
      "usr/lib/python3.11/lib-dynload/_codecs_jp.cpython-311-x86_64-linux-gnu.so",
      "usr/lib/python3.11/turtle.py",
      "usr/lib/frr/ospfd",
      "usr/lib/frr/pim6d",
      "usr/lib/x86_64-linux-gnu/frr/modules/pathd_pcep.so",
      "usr/lib/systemd/systemd-networkd",
      "usr/lib/systemd/systemd-networkd-wait-online",
      "usr/share/man/man1/ls.1.gz",
      "usr/share/locale/de/LC_MESSAGES/dpkg.mo",
      "usr/sbin/devlink",
      "usr/bin/rdma",
      "usr/sbin/arpd",
      "usr/lib/python3.13/lib-dynload/_decimal.cpython-313-x86_64-linux-gnu.so",
      "usr/lib/python3.13/lib-dynload/_sqlite3.cpython-313-x86_64-linux-gnu.so",
      "usr/lib/python3.13/_pydecimal.py",
      "usr/lib/python3.13/sqlite3/__init__.py",
      "usr/lib/systemd/systemd-pcrlock",
      "usr/lib/systemd/system-generators/systemd-gpt-auto-generator",
      "usr/bin/kernel-install",
      "usr/lib/kernel/install.d/90-loaderentry.install",
      "usr/bin/lsblk",
      "usr/bin/lslogins",
      "usr/sbin/mkswap",
      "usr/sbin/fstrim",
      "usr/lib/x86_64-linux-gnu/security/pam_userdb.so",
    ];
    const kept = [
      "usr/lib/frr/bgpd",
      "usr/lib/frr/zebra",
      "usr/lib/frr/bfdd",
      "usr/lib/frr/staticd",
      "usr/lib/frr/watchfrr",
      "usr/lib/frr/frr-reload.py",
      "usr/lib/x86_64-linux-gnu/frr/modules/bgpd_bmp.so",
      "usr/lib/python3.11/json/__init__.py",
      "usr/lib/python3.11/ipaddress.py",
      "usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so",
      "usr/lib/python3/dist-packages/foo/test/x.py",
      "usr/lib/systemd/systemd",
      "usr/lib/systemd/system/systemd-networkd.service",
      "usr/share/locale/locale.alias",
      "usr/share/zoneinfo/UTC",
      "usr/sbin/ip",
      "usr/sbin/tc",
      "usr/sbin/bridge",
      "usr/lib/python3.13/lib-dynload/_bz2.cpython-313-x86_64-linux-gnu.so",
      "usr/lib/python3.13/random.py",
      "usr/lib/python3.13/tempfile.py",
      "usr/lib/systemd/systemd-journald",
      "usr/lib/systemd/systemd-logind",
      "usr/lib/systemd/system-generators/systemd-fstab-generator",
      "usr/lib/systemd/system/systemd-pcrlock.service",
      "usr/bin/mount",
      "usr/bin/findmnt",
      "usr/sbin/agetty",
      "usr/lib/x86_64-linux-gnu/security/pam_unix.so",
    ];
    try {
      for (const f of [...removed, ...kept]) {
        fs.mkdirSync(path.dirname(path.join(r, f)), { recursive: true });
        fs.writeFileSync(path.join(r, f), "x");
      }
      for (let i = 0; i < 2; i++) {
        const run = spawnSync("bash", ["-c", ["set -euo pipefail", ...trimLines(r)].join("\n")], {
          encoding: "utf8",
        });
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.stderr, "");
        for (const f of removed) {
          assert.ok(!fs.existsSync(path.join(r, f)), `${f} is still there (run ${i + 1})`);
        }
        for (const f of kept) {
          assert.ok(fs.existsSync(path.join(r, f)), `${f} was removed (run ${i + 1})`);
        }
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("image trim: libraries nothing links", () => {
  const LIBS = [
    { why: "one", soname: "liba.so.1", files: ["/usr/lib/*/liba.so.1*"] },
    { why: "two", soname: "libb.so.2", files: ["/usr/lib/*/libb.so.2*"] },
  ];

  it("renders a search, then the removal or a note, per library in order", () => {
    assert.deepEqual(unlinkedLibraryLines("/my r", LIBS.slice(0, 1)), [
      "# one",
      "if users=$(grep -rlF --exclude='liba.so.1*' -e liba.so.1 -- '/my r/usr'); then",
      '    say "keeping liba.so.1: linked by $(echo $users)"',
      "elif [[ $? -eq 1 ]]; then",
      "    rm -f -- '/my r'/usr/lib/*/liba.so.1*",
      "else",
      "    die 'cannot search /my r/usr for liba.so.1'",
      "fi",
    ]);
    assert.deepEqual(
      UNLINKED_LIBRARIES.map((l) => l.soname),
      ["libmvec.so.1", "libdb-5.3.so", "liblastlog2.so.2", "libsqlite3.so.0"],
    );
  });

  it("refuses a soname or glob the shell would read", () => {
    assert.throws(
      () => unlinkedLibraryLines("/r", [{ why: "x", soname: "a;b", files: [] }]),
      /soname "a;b" is not a library name/,
    );
    assert.throws(
      () => unlinkedLibraryLines("/r", [{ why: "x", soname: "liba.so", files: ["/a b"] }]),
      /has characters the shell would read/,
    );
  });

  it("removes a library nothing links, keeps one a program links, and an unlinked chain goes in order", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "frr-nspawn-unlinked-"));
    const r = path.join(root, "root fs");
    const lib = (f: string): string => path.join(r, "usr/lib/x86_64-linux-gnu", f);
    try {
      fs.mkdirSync(path.dirname(lib("x")), { recursive: true });
      fs.mkdirSync(path.join(r, "usr/bin"), { recursive: true });
      // liba links libb (liba goes first, so libb goes too); libc is linked by a program.
      fs.writeFileSync(lib("liba.so.1.0"), "\x7fELF libb.so.2 libc.so.6");
      fs.symlinkSync("liba.so.1.0", lib("liba.so.1"));
      fs.writeFileSync(lib("libb.so.2.0"), "\x7fELF libc.so.6");
      fs.symlinkSync("libb.so.2.0", lib("libb.so.2"));
      fs.writeFileSync(lib("libkeep.so.3"), "\x7fELF libc.so.6");
      fs.writeFileSync(path.join(r, "usr/bin/prog"), "\x7fELF\0libkeep.so.3\0");
      const libs = [
        ...LIBS,
        { why: "three", soname: "libkeep.so.3", files: ["/usr/lib/*/libkeep.so.3*"] },
      ];
      const text = [
        "set -euo pipefail",
        'say() { echo "$*"; }',
        'die() { echo "$*" >&2; exit 1; }',
        ...unlinkedLibraryLines(r, libs),
      ].join("\n");
      for (let i = 0; i < 2; i++) {
        const run = spawnSync("bash", ["-c", text], { encoding: "utf8" });
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.stdout, `keeping libkeep.so.3: linked by ${r}/usr/bin/prog\n`);
        assert.deepEqual(fs.readdirSync(path.dirname(lib("x"))), ["libkeep.so.3"]);
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("image trim: in the build script", () => {
  const cases: { name: string; recipe: ImageRecipe }[] = [
    { name: "bookworm", recipe: BASE },
    { name: "trixie", recipe: { ...BASE, suite: "trixie" } },
    {
      name: "FRR from its own repository",
      recipe: {
        ...BASE,
        frr: {
          source: "frrouting",
          channel: "frr-stable",
          repository: "https://frr.example.test/frr",
          keyUrl: "https://frr.example.test/frr/keys.asc",
        },
      },
    },
  ];
  for (const c of cases) {
    it(`${c.name}: the exclusions are in place before apt-get installs anything; trimming and checks follow`, () => {
      const r = imageLayout(c.recipe).rootfs;
      const ls = renderImageBuildScript(c.recipe).split("\n");
      const cfg = ls.indexOf(`cat > ${r}${DPKG_TRIM_FILE}.frr-nspawn-tmp <<'FRR_NSPAWN_EOF'`);
      const installs = ls.flatMap((l, i) =>
        l.includes(`chroot ${r} apt-get install `) ? [i] : [],
      );
      assert.ok(cfg > 0, "the dpkg file is written");
      assert.ok(installs.length > 0 && installs.every((i) => i > cfg), "before every install");
      assert.ok(ls.includes(`mv -f ${r}${DPKG_TRIM_FILE}.frr-nspawn-tmp ${r}${DPKG_TRIM_FILE}`));
      const trim = trimRootfs(r);
      const start = ls.indexOf(trim[0]);
      assert.ok(start > Math.max(...installs), "trimming after every install");
      assert.deepEqual(ls.slice(start, start + trim.length), trim);
      const check = ls.indexOf(
        `chroot ${r} python3 -B -c 'import argparse, collections, ipaddress, json, logging, os, pprint, random, re, string, subprocess, sys, tempfile' || die "python3 in the image cannot import what FRR's tools need"`,
      );
      assert.ok(check > start + trim.length, "python is checked after trimming");
      assert.ok(
        ls.includes(
          `chroot ${r} python3 -B /usr/lib/frr/frr-reload.py --help >/dev/null || die "frr-reload.py does not run in the image"`,
        ),
      );
      assert.ok(ls.includes("for d in bfdd bgpd staticd watchfrr zebra; do"));
      assert.ok(ls.includes(`for d in ${DROPPED_FRR_DAEMONS.join(" ")}; do`));
    });
  }

  it("the renderer version is 3: images built before the last trim are rebuilt", () => {
    assert.equal(RENDERER_VERSION, "3");
  });

  it("every rule and library says why", () => {
    for (const rule of [...TRIM_RULES, ...UNLINKED_LIBRARIES]) {
      assert.ok(rule.why.length > 10, JSON.stringify(rule));
    }
  });
});
