import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import {
  imagePaths,
  parseImageResult,
  recipeHash,
  renderImageBuildScript,
  renderImageRemoveScript,
  RESULT_PREFIX,
  type ImageRecipe,
} from "../../components/render/image";
import { findMirrorLines, PRELUDE } from "../../components/render/image-bash";
import { debootstrapCommand, exportCommand } from "../../components/render/image-build";
import { frroutingSourceLine } from "../../components/render/image-rootfs";
import {
  bootstrapPackages,
  canonicalJson,
  imageLayout,
} from "../../components/render/image-recipe";

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

const FRROUTING: ImageRecipe["frr"] = {
  source: "frrouting",
  channel: "frr-stable",
  repository: "https://frr.example.test/frr",
  keyUrl: "https://frr.example.test/frr/keys.asc",
};

const UBUNTU: ImageRecipe = {
  ...BASE,
  distribution: "ubuntu",
  suite: "jammy",
  mirror: "http://mirror.example.test/ubuntu",
};

const SHA = "c9e8350298ae00d4053033f813d95018ade8ceb6f7da474e6cf1db717374a481";

function bash(text: string, options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const file = path.join(
    os.tmpdir(),
    `frr-nspawn-image-test-${process.pid}-${Math.random().toString(36).slice(2)}.sh`,
  );
  fs.writeFileSync(file, text);
  try {
    const result = spawnSync("bash", [file], {
      encoding: "utf8",
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** The lines of a bash function `name() {` … `}` in rendered text. */
function bashFunction(text: string, name: string): string {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line.startsWith(`${name}() {`));
  assert.ok(start >= 0, `${name} not found`);
  const end = lines.findIndex((line, i) => i > start && line === "}");
  return lines.slice(start, end + 1).join("\n");
}

function lines(text: string): string[] {
  return text.split("\n");
}

describe("image recipe: debootstrap command", () => {
  const cases: { name: string; recipe: ImageRecipe; expected: string }[] = [
    {
      name: "debian bookworm, FRR from the distribution",
      recipe: BASE,
      expected:
        'debootstrap --variant=minbase --arch=amd64 --keyring=/usr/share/keyrings/debian-archive-keyring.gpg bookworm /r "$mirror"',
    },
    {
      name: "extra packages: the command is the same (they come with apt-get)",
      recipe: { ...BASE, extraPackages: ["tcpdump", "less", "tcpdump", "dbus"] },
      expected:
        'debootstrap --variant=minbase --arch=amd64 --keyring=/usr/share/keyrings/debian-archive-keyring.gpg bookworm /r "$mirror"',
    },
    {
      name: "ubuntu adds universe (FRR lives there) and Ubuntu's keyring",
      recipe: UBUNTU,
      expected:
        'debootstrap --variant=minbase --arch=amd64 --keyring=/usr/share/keyrings/ubuntu-archive-keyring.gpg --components=main,universe jammy /r "$mirror"',
    },
    {
      name: "FRR from its own repository: frr comes later, ca-certificates for https",
      recipe: { ...BASE, frr: FRROUTING },
      expected:
        'debootstrap --variant=minbase --arch=amd64 --keyring=/usr/share/keyrings/debian-archive-keyring.gpg bookworm /r "$mirror"',
    },
    {
      name: "arm64",
      recipe: { ...BASE, arch: "arm64" },
      expected:
        'debootstrap --variant=minbase --arch=arm64 --keyring=/usr/share/keyrings/debian-archive-keyring.gpg bookworm /r "$mirror"',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(debootstrapCommand(c.recipe, "/r"), c.expected);
      const script = renderImageBuildScript(c.recipe);
      assert.ok(lines(script).includes(debootstrapCommand(c.recipe, imageLayout(c.recipe).rootfs)));
    });
  }

  it("the packages are installed with apt-get in the rootfs, sorted, deduplicated, nothing started", () => {
    const recipe = { ...BASE, extraPackages: ["tcpdump", "less", "tcpdump", "dbus"] };
    const r = imageLayout(recipe).rootfs;
    const ls = lines(renderImageBuildScript(recipe));
    const install = ls.indexOf(
      `DEBIAN_FRONTEND=noninteractive chroot ${r} apt-get install -y --no-install-recommends dbus frr frr-pythontools iproute2 less systemd systemd-sysv tcpdump`,
    );
    assert.ok(install > ls.indexOf(debootstrapCommand(recipe, r)), "apt-get after debootstrap");
    assert.ok(ls.indexOf(`chroot ${r} apt-get update`) < install);
    assert.ok(
      ls.some(
        (l, i) =>
          (i < install && l.startsWith(`cat > ${r}/usr/sbin/policy-rc.d`)) ||
          l.includes("policy-rc.d"),
      ),
    );
  });

  it("a rootfs path with spaces is quoted", () => {
    assert.match(
      debootstrapCommand(BASE, "/var/lib/my images/r"),
      / bookworm '\/var\/lib\/my images\/r' "\$mirror"$/,
    );
  });

  it("bootstrapPackages never includes what the image does not need", () => {
    for (const unwanted of [
      "ubuntu-minimal",
      "systemd-container",
      "tzdata",
      "wget",
      "curl",
      "gnupg",
    ]) {
      assert.ok(!bootstrapPackages(BASE).includes(unwanted), unwanted);
    }
  });
});

describe("image build: the push library beside the tarball", () => {
  it("a local build writes it whenever it succeeds (built or reused)", () => {
    const script = renderImageBuildScript(BASE, { fileName: "push-0123.sh", text: "echo hi\n" });
    const DIR = imageLayout(BASE).dir;
    const result = script.slice(
      script.indexOf("frr_nspawn_result() {"),
      script.indexOf("\n}\n", script.indexOf("frr_nspawn_result() {")),
    );
    assert.ok(
      result.startsWith(
        [
          "frr_nspawn_result() {",
          `    cat > ${DIR}/push-0123.sh.frr-nspawn-tmp <<'FRR_NSPAWN_EOF'`,
          "echo hi",
          "FRR_NSPAWN_EOF",
          `    chmod 0644 ${DIR}/push-0123.sh.frr-nspawn-tmp`,
          `    mv -f ${DIR}/push-0123.sh.frr-nspawn-tmp ${DIR}/push-0123.sh`,
          "",
        ].join("\n"),
      ),
      result,
    );
    // Both ways to succeed end in frr_nspawn_result.
    assert.equal(script.match(/^ *frr_nspawn_result "\$sha"/gm)?.length, 2);
    assert.ok(!renderImageBuildScript(BASE).includes("push-"), "a remote build writes none");
  });
});

describe("image recipe: mirror", () => {
  it("a mirror from the recipe is assigned quoted and nothing is looked up", () => {
    const script = renderImageBuildScript({ ...BASE, mirror: "http://mirror.example.test/debian" });
    assert.ok(lines(script).includes("mirror=http://mirror.example.test/debian"));
    assert.ok(!script.includes("frr_nspawn_find_mirror"));
  });

  it("without a mirror the build host's sources are searched, with a message naming `mirror`", () => {
    const script = renderImageBuildScript(BASE);
    assert.ok(
      lines(script).includes(
        "frr_nspawn_find_mirror || die 'no debian archive found in /etc/apt/sources.list or /etc/apt/sources.list.d/: set mirror to a Debian archive URL: none was found in this build host'\\''s apt sources'",
      ),
    );
  });

  type Files = Record<string, string>;
  const DEBIAN_OS =
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_CODENAME=bookworm\n';
  const UBUNTU_OS = 'ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME="noble"\n';
  const DEBIAN_822 = [
    "Types: deb",
    "# a comment",
    "URIs: http://mirror.example.test/debian-security",
    "Suites: bookworm-security",
    "Components: main",
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
    "",
    "Types: deb",
    "URIs: http://mirror.example.test/debian/",
    "Suites: bookworm bookworm-updates",
    "Components: main",
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
    "",
  ].join("\n");
  const cases: {
    name: string;
    dist: "debian" | "ubuntu";
    files: Files;
    expected: string | undefined;
  }[] = [
    {
      name: "Debian 12 deb822, security stanza first",
      dist: "debian",
      files: { "etc/os-release": DEBIAN_OS, "etc/apt/sources.list.d/debian.sources": DEBIAN_822 },
      expected: "http://mirror.example.test/debian",
    },
    {
      name: "one-line sources.list with options",
      dist: "debian",
      files: {
        "etc/os-release": DEBIAN_OS,
        "etc/apt/sources.list":
          "# deb http://old.example.test/debian bookworm main\ndeb-src http://src.example.test/debian bookworm main\ndeb [ arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg ] https://mirror.example.test/debian/ bookworm main contrib # tail\n",
      },
      expected: "https://mirror.example.test/debian",
    },
    {
      name: "third-party repositories for the same suite are skipped",
      dist: "debian",
      files: {
        "etc/os-release": DEBIAN_OS,
        "etc/apt/sources.list.d/a-vendor.list":
          "deb [signed-by=/usr/share/keyrings/vendor.gpg] https://vendor.example.test/debian bookworm main\ndeb https://other.example.test/linux/debian bookworm stable\n",
        "etc/apt/sources.list.d/debian.sources": DEBIAN_822,
      },
      expected: "http://mirror.example.test/debian",
    },
    {
      name: "folded Suites and a disabled stanza",
      dist: "debian",
      files: {
        "etc/os-release": DEBIAN_OS,
        "etc/apt/sources.list.d/debian.sources":
          "Types: deb\nURIs: http://disabled.example.test/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n\nTypes: deb deb-src\nURIs: http://mirror.example.test/debian\nSuites:\n bookworm\n bookworm-updates\nComponents: main\n",
      },
      expected: "http://mirror.example.test/debian",
    },
    {
      name: "only deb-src and disabled entries: none",
      dist: "debian",
      files: {
        "etc/os-release": DEBIAN_OS,
        "etc/apt/sources.list": "deb-src http://mirror.example.test/debian bookworm main\n",
        "etc/apt/sources.list.d/debian.sources":
          "Types: deb\nURIs: http://mirror.example.test/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n",
      },
      expected: undefined,
    },
    {
      name: "no sources at all: none",
      dist: "debian",
      files: { "etc/os-release": DEBIAN_OS },
      expected: undefined,
    },
    {
      name: "ubuntu on a Debian build host without an Ubuntu entry: none (the Debian mirror is wrong)",
      dist: "ubuntu",
      files: { "etc/os-release": DEBIAN_OS, "etc/apt/sources.list.d/debian.sources": DEBIAN_822 },
      expected: undefined,
    },
    {
      name: "ubuntu on a Debian build host with an Ubuntu entry",
      dist: "ubuntu",
      files: {
        "etc/os-release": DEBIAN_OS,
        "etc/apt/sources.list.d/debian.sources": DEBIAN_822,
        "etc/apt/sources.list.d/ubuntu.list":
          "deb http://mirror.example.test/ubuntu jammy-security main\ndeb http://mirror.example.test/ubuntu jammy main universe\n",
      },
      expected: "http://mirror.example.test/ubuntu",
    },
    {
      name: "Ubuntu 24.04 build host, deb822",
      dist: "ubuntu",
      files: {
        "etc/os-release": UBUNTU_OS,
        "etc/apt/sources.list.d/ubuntu.sources":
          "Types: deb\nURIs: http://mirror.example.test/ubuntu/\nSuites: noble noble-updates noble-backports\nComponents: main restricted universe multiverse\nSigned-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n",
      },
      expected: "http://mirror.example.test/ubuntu",
    },
    {
      name: "debian on an Ubuntu build host: only a URI that names debian",
      dist: "debian",
      files: {
        "etc/os-release": UBUNTU_OS,
        "etc/apt/sources.list.d/ubuntu.sources":
          "Types: deb\nURIs: http://mirror.example.test/ubuntu/\nSuites: noble\nComponents: main\n",
        "etc/apt/sources.list.d/z.list": "deb http://mirror.example.test/debian bookworm main\n",
      },
      expected: "http://mirror.example.test/debian",
    },
  ];
  for (const c of cases) {
    it(`finds the mirror: ${c.name}`, () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), "frr-nspawn-mirror-"));
      try {
        fs.mkdirSync(path.join(root, "etc/apt/sources.list.d"), { recursive: true });
        for (const [file, content] of Object.entries(c.files)) {
          fs.writeFileSync(path.join(root, file), content);
        }
        const fn = findMirrorLines(c.dist, c.dist === "debian" ? "bookworm" : "jammy")
          .join("\n")
          .replaceAll("/etc/", `${root}/etc/`);
        const run = bash(
          `set -euo pipefail\n${fn}\nif frr_nspawn_find_mirror; then printf '%s\\n' "$mirror"; else echo NONE; fi\n`,
        );
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.stdout, `${c.expected ?? "NONE"}\n`);
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    });
  }
});

describe("image recipe: FRR from its own repository", () => {
  const recipe: ImageRecipe = { ...BASE, frr: FRROUTING };
  const l = imageLayout(recipe);
  const script = renderImageBuildScript(recipe);
  const ls = lines(script);

  it("writes the source line with signed-by, never apt-key", () => {
    assert.equal(
      frroutingSourceLine(recipe),
      "deb [signed-by=/usr/share/keyrings/frrouting.gpg] https://frr.example.test/frr bookworm frr-stable",
    );
    assert.equal(frroutingSourceLine(UBUNTU), undefined);
    assert.ok(
      ls.includes(
        "deb [signed-by=/usr/share/keyrings/frrouting.gpg] https://frr.example.test/frr bookworm frr-stable",
      ),
    );
    assert.ok(
      ls.includes(
        `mv -f ${l.rootfs}/etc/apt/sources.list.d/frrouting.list.frr-nspawn-tmp ${l.rootfs}/etc/apt/sources.list.d/frrouting.list`,
      ),
    );
    assert.ok(!script.includes("apt-key"));
  });

  it("downloads the key on the build host, dearmors it there and copies it in", () => {
    assert.ok(
      ls.includes(
        `    curl -fsSL --retry 3 -o ${l.buildDir}/frrouting.key https://frr.example.test/frr/keys.asc`,
      ),
    );
    assert.ok(
      ls.includes(
        `    wget -q -O ${l.buildDir}/frrouting.key https://frr.example.test/frr/keys.asc`,
      ),
    );
    assert.ok(
      ls.includes(
        `    gpg --homedir ${l.buildDir}/gnupg --batch --yes --dearmor -o ${l.buildDir}/frrouting.gpg ${l.buildDir}/frrouting.key`,
      ),
    );
    assert.ok(
      ls.includes(
        `install -D -m 0644 ${l.buildDir}/frrouting.gpg ${l.rootfs}/usr/share/keyrings/frrouting.gpg`,
      ),
    );
  });

  it("installs in a chroot with policy-rc.d in place, then removes it and unmounts", () => {
    // The last occurrences: the image's own packages were installed the same way before.
    const at = (line: string) => {
      const i = ls.lastIndexOf(line);
      assert.ok(i >= 0, `missing: ${line}`);
      return i;
    };
    const policy = at(
      `mv -f ${l.rootfs}/usr/sbin/policy-rc.d.frr-nspawn-tmp ${l.rootfs}/usr/sbin/policy-rc.d`,
    );
    const proc = at(`mount -t proc proc ${l.rootfs}/proc`);
    const dev = at(`mount --bind /dev ${l.rootfs}/dev`);
    const update = at(`chroot ${l.rootfs} apt-get update`);
    const install = at(
      `chroot ${l.rootfs} apt-get install -y --no-install-recommends frr frr-pythontools`,
    );
    const unpolicy = at(`rm -f ${l.rootfs}/usr/sbin/policy-rc.d`);
    const unmount = at(
      'frr_nspawn_unmount || die "cannot unmount /proc, /sys or /dev under the rootfs"',
    );
    assert.ok(
      policy < proc &&
        proc < dev &&
        dev < update &&
        update < install &&
        install < unpolicy &&
        unpolicy < unmount,
    );
    assert.ok(ls.includes("exit 101"));
  });

  it("the distribution path installs FRR with the image's packages and has no key", () => {
    const distro = renderImageBuildScript(BASE);
    assert.equal(distro.match(/chroot \S+ apt-get install /g)?.length, 1);
    assert.ok(!distro.includes("frrouting"));
  });
});

describe("image recipe: export and compression", () => {
  const cases: { compression: ImageRecipe["compression"]; tarName: string; pipe: string }[] = [
    { compression: "gzip", tarName: "frr-image.tar.gz", pipe: " | gzip -6 > " },
    { compression: "xz", tarName: "frr-image.tar.xz", pipe: " | xz -T0 -6 > " },
    { compression: "none", tarName: "frr-image.tar", pipe: "" },
  ];
  for (const c of cases) {
    it(c.compression, () => {
      const recipe = { ...BASE, compression: c.compression };
      const l = imageLayout(recipe);
      const expected =
        c.compression === "none"
          ? `tar --numeric-owner --sort=name -C ${l.rootfs} -c -f ${l.outDir}/${c.tarName} .`
          : `tar --numeric-owner --sort=name -C ${l.rootfs} -c .${c.pipe}${l.outDir}/${c.tarName}`;
      assert.equal(exportCommand(l, c.compression), expected);
      const script = renderImageBuildScript(recipe);
      assert.ok(lines(script).includes(expected));
      assert.ok(
        lines(script).includes(`(cd ${l.outDir} && sha256sum ${c.tarName} > ${c.tarName}.sha256)`),
      );
      assert.equal(imagePaths(recipe).tar, `${l.dir}/${c.tarName}`);
      assert.ok(!script.includes("zstd"));
    });
  }
});

describe("image recipe: hash and paths", () => {
  it("is stable", () => {
    assert.equal(
      recipeHash(BASE),
      "72d82d37944c98bd9d88c14a8c92c37c198558ee61f2d581817ee5e325ca49ac",
    );
    assert.equal(recipeHash({ ...BASE }), recipeHash(BASE));
  });

  it("does not depend on key order, package order, duplicates or a trailing slash", () => {
    const reversed = Object.fromEntries(
      Object.entries({ ...BASE, frr: FRROUTING, extraPackages: ["a1", "b2"] }).reverse(),
    ) as unknown as ImageRecipe;
    const frrReversed = Object.fromEntries(
      Object.entries(FRROUTING).reverse(),
    ) as ImageRecipe["frr"];
    assert.equal(
      recipeHash({ ...reversed, frr: frrReversed }),
      recipeHash({ ...BASE, frr: FRROUTING, extraPackages: ["a1", "b2"] }),
    );
    assert.equal(
      recipeHash({ ...BASE, extraPackages: ["b2", "a1", "b2"] }),
      recipeHash({ ...BASE, extraPackages: ["a1", "b2"] }),
    );
    assert.equal(recipeHash({ ...BASE, workDir: "/var/lib/frr-nspawn/images/" }), recipeHash(BASE));
    assert.equal(recipeHash({ ...BASE, mirror: undefined }), recipeHash(BASE));
  });

  it("changes with every field", () => {
    const variants: ImageRecipe[] = [
      BASE,
      { ...BASE, distribution: "ubuntu" },
      { ...BASE, suite: "trixie" },
      { ...BASE, mirror: "http://mirror.example.test/debian" },
      { ...BASE, mirror: "http://mirror2.example.test/debian" },
      { ...BASE, arch: "arm64" },
      { ...BASE, frr: FRROUTING },
      { ...BASE, frr: { ...FRROUTING, channel: "frr-10" } },
      { ...BASE, frr: { ...FRROUTING, repository: "https://frr2.example.test/frr" } },
      { ...BASE, frr: { ...FRROUTING, keyUrl: "https://frr.example.test/frr/other.asc" } },
      { ...BASE, extraPackages: ["tcpdump"] },
      { ...BASE, extraPackages: ["tcpdump", "less"] },
      { ...BASE, hostname: "frr2" },
      { ...BASE, compression: "xz" },
      { ...BASE, compression: "none" },
      { ...BASE, workDir: "/srv/images" },
    ];
    const hashes = variants.map(recipeHash);
    assert.equal(new Set(hashes).size, variants.length);
    for (const hash of hashes) {
      assert.match(hash, /^[0-9a-f]{64}$/);
    }
  });

  it("canonical JSON sorts keys at every level and drops undefined", () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: undefined } }),
      '{"a":{"d":[2,{"e":0,"f":1}]},"b":1}',
    );
  });

  it("puts the image under the first 16 hex digits of the hash", () => {
    const short = recipeHash(BASE).slice(0, 16);
    assert.deepEqual(imagePaths(BASE), {
      dir: `/var/lib/frr-nspawn/images/${short}`,
      tar: `/var/lib/frr-nspawn/images/${short}/frr-image.tar.gz`,
      sha256File: `/var/lib/frr-nspawn/images/${short}/frr-image.tar.gz.sha256`,
    });
    const root = { ...BASE, workDir: "/" };
    assert.equal(imagePaths(root).dir, `/${recipeHash(root).slice(0, 16)}`);
    assert.equal(imageLayout(BASE).buildDir, `/var/lib/frr-nspawn/images/.${short}.build`);
  });
});

describe("image recipe: parseImageResult", () => {
  const good = {
    imagePath: "/var/lib/frr-nspawn/images/0123456789abcdef/frr-image.tar.gz",
    sha256: SHA,
    sizeBytes: 56933580,
    frrVersion: "8.4.4",
    recipeHash: SHA,
  };
  const line = (value: unknown) => `${RESULT_PREFIX}${JSON.stringify(value)}`;

  it("reads the result line among other output", () => {
    assert.deepEqual(parseImageResult(line(good)), good);
    assert.deepEqual(parseImageResult(`noise\r\n${line(good)}\r\nmore\n`), good);
  });

  const bad: { name: string; stdout: string; message: RegExp }[] = [
    { name: "empty", stdout: "", message: /found 0: the build did not finish/ },
    { name: "two lines", stdout: `${line(good)}\n${line(good)}\n`, message: /found 2/ },
    { name: "not JSON", stdout: `${RESULT_PREFIX}{"imagePath":`, message: /not JSON/ },
    { name: "an array", stdout: `${RESULT_PREFIX}[1]`, message: /not a JSON object/ },
    { name: "short sha", stdout: line({ ...good, sha256: "abc" }), message: /sha256 = "abc"/ },
    {
      name: "uppercase sha",
      stdout: line({ ...good, sha256: SHA.toUpperCase() }),
      message: /sha256/,
    },
    { name: "negative size", stdout: line({ ...good, sizeBytes: -1 }), message: /sizeBytes = -1/ },
    { name: "fractional size", stdout: line({ ...good, sizeBytes: 1.5 }), message: /sizeBytes/ },
    {
      name: "size as text",
      stdout: line({ ...good, sizeBytes: "12" }),
      message: /sizeBytes = "12"/,
    },
    {
      name: "relative path",
      stdout: line({ ...good, imagePath: "frr.tar" }),
      message: /imagePath/,
    },
    {
      name: "missing version",
      stdout: line({ ...good, frrVersion: undefined }),
      message: /frrVersion = undefined/,
    },
    { name: "odd version", stdout: line({ ...good, frrVersion: '8.4"' }), message: /frrVersion/ },
    { name: "bad recipe hash", stdout: line({ ...good, recipeHash: "x" }), message: /recipeHash/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      assert.throws(() => parseImageResult(c.stdout), c.message);
    });
  }
});

describe("image scripts in bash", () => {
  const variants: ImageRecipe[] = [];
  for (const frr of [{ source: "distro" } as const, FRROUTING]) {
    for (const compression of ["gzip", "xz", "none"] as const) {
      for (const mirror of [undefined, "http://mirror.example.test/x"]) {
        variants.push({ ...BASE, frr, compression, mirror });
        variants.push({
          ...UBUNTU,
          frr,
          compression,
          mirror,
          extraPackages: ["tcpdump"],
          workDir: "/srv/it's here",
        });
      }
    }
  }

  it(`bash -n accepts every variant (${variants.length} build + remove scripts)`, () => {
    for (const recipe of variants) {
      for (const text of [renderImageBuildScript(recipe), renderImageRemoveScript(recipe)]) {
        const file = path.join(os.tmpdir(), `frr-nspawn-image-syntax-${process.pid}.sh`);
        fs.writeFileSync(file, text);
        const result = spawnSync("bash", ["-n", file], { encoding: "utf8" });
        fs.rmSync(file, { force: true });
        assert.equal(result.status, 0, `${JSON.stringify(recipe)}: ${result.stderr}`);
      }
    }
  });

  it("prints a result line that parseImageResult reads back, whatever the workDir", () => {
    const recipe = { ...BASE, workDir: `/srv/it's "odd" \\ é` };
    const fn = bashFunction(renderImageBuildScript(recipe), "frr_nspawn_result");
    const run = bash(
      `die() { echo "$*" >&2; exit 1; }\n${fn}\nfrr_nspawn_result ${SHA} 123 8.4.4 3>&1\n`,
    );
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(parseImageResult(run.stdout), {
      imagePath: imagePaths(recipe).tar,
      sha256: SHA,
      sizeBytes: 123,
      frrVersion: "8.4.4",
      recipeHash: recipeHash(recipe),
    });
    const bad = bash(
      `die() { echo "$*" >&2; exit 1; }\n${fn}\nfrr_nspawn_result ${SHA} 123 '8.4"4' 3>&1\n`,
    );
    assert.notEqual(bad.status, 0);
    assert.equal(bad.stdout, "");
  });

  const versions: [string, string][] = [
    ["8.4.4-1.1~deb12u2", "8.4.4"],
    ["10.2.1-0~deb12u1", "10.2.1"],
    ["1:7.5.1+dfsg-2", "7.5.1"],
    ["9.1", "9.1"],
    ["10.0~rc1-1", "10.0~rc1"],
  ];
  for (const [full, upstream] of versions) {
    it(`reduces the FRR version ${full} to ${upstream}`, () => {
      const fn = bashFunction(PRELUDE.join("\n"), "frr_nspawn_upstream_version");
      const run = bash(`${fn}\nfrr_nspawn_upstream_version '${full}'\n`);
      assert.equal(run.stdout, `${upstream}\n`);
    });
  }

  it("the remove script deletes the image directory and is idempotent", () => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "frr-nspawn-remove-"));
    try {
      const recipe = { ...BASE, workDir };
      const l = imageLayout(recipe);
      fs.mkdirSync(l.dir);
      fs.writeFileSync(l.tar, "x");
      fs.mkdirSync(l.rootfs, { recursive: true });
      fs.writeFileSync(`${l.buildDir}.debootstrap.log`, "log");
      const other = path.join(workDir, "keep");
      fs.writeFileSync(other, "other image");
      const logs = () => fs.readdirSync("/tmp").filter((f) => f.startsWith("frr-nspawn-stderr."));
      const before = new Set(logs());
      for (let i = 0; i < 2; i++) {
        const run = bash(renderImageRemoveScript(recipe));
        assert.equal(run.status, 0, run.stderr);
        // The frame's copy of stderr goes with the script.
        assert.deepEqual(
          logs().filter((f) => !before.has(f)),
          [],
        );
        assert.equal(run.stdout, "");
        assert.ok(
          !fs.existsSync(l.dir) && !fs.existsSync(l.buildDir) && !fs.existsSync(l.lockFile),
        );
        assert.ok(!fs.existsSync(`${l.buildDir}.debootstrap.log`));
      }
      assert.ok(fs.existsSync(other));
      fs.rmSync(workDir, { recursive: true });
      assert.equal(
        bash(renderImageRemoveScript(recipe)).status,
        0,
        "a missing workDir is fine too",
      );
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  });
});
