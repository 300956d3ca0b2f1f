/**
 * What the build script does inside the bootstrapped rootfs: FRR from its own repository
 * (in a chroot), the image's own settings, trimming, and the final checks. Pure: text.
 */
import { command, quote, writeFile } from "../shell";
import { bootstrapPackages, type ImageLayout, type ImageRecipe } from "./image-recipe";
import {
  DPKG_TRIM_FILE,
  dpkgTrimConfig,
  DROPPED_FRR_DAEMONS,
  KEPT_FRR_DAEMONS,
  trimRootfs,
} from "./image-trim";

/** Where the FRR repository key goes inside the image (apt `signed-by=`). */
export const FRR_KEYRING = "/usr/share/keyrings/frrouting.gpg";

/** The apt source line for FRR's own repository, inside the image. */
export function frroutingSourceLine(recipe: ImageRecipe): string | undefined {
  if (recipe.frr.source !== "frrouting") {
    return undefined;
  }
  return `deb [signed-by=${FRR_KEYRING}] ${recipe.frr.repository} ${recipe.suite} ${recipe.frr.channel}`;
}

function hostsFile(hostname: string): string {
  return [
    "127.0.0.1\tlocalhost",
    `127.0.1.1\t${hostname}`,
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
    "",
  ].join("\n");
}

/**
 * The image's packages ({@link bootstrapPackages}: systemd, dbus, FRR…), installed with
 * apt-get in the freshly bootstrapped rootfs, nothing started (policy-rc.d). dpkg's
 * exclusions ({@link dpkgTrimConfig}) are in place first, so what they leave out is never
 * unpacked, and stays out of anything installed in the machine later.
 */
export function installPackages(recipe: ImageRecipe, l: ImageLayout): string[] {
  const r = l.rootfs;
  const packages = bootstrapPackages(recipe);
  return [
    command(
      "step",
      `installing ${packages.join(" ")} in the image`,
      "check the mirror named above (apt-get's message above says which package failed)",
    ),
    ...writeFile(`${r}${DPKG_TRIM_FILE}`, dpkgTrimConfig(), { mode: "0644" }),
    "# Nothing may start while the image is built (policy-rc.d 101 = action forbidden).",
    ...writeFile(`${r}/usr/sbin/policy-rc.d`, "#!/bin/sh\nexit 101\n", { mode: "0755" }),
    command("mount", "-t", "proc", "proc", `${r}/proc`),
    command("mount", "-t", "sysfs", "sysfs", `${r}/sys`),
    command("mount", "--bind", "/dev", `${r}/dev`),
    command("chroot", r, "apt-get", "update"),
    `DEBIAN_FRONTEND=noninteractive ${command("chroot", r, "apt-get", "install", "-y", "--no-install-recommends", ...packages)}`,
    command("chroot", r, "apt-get", "clean"),
    command("rm", "-f", `${r}/usr/sbin/policy-rc.d`),
    'frr_nspawn_unmount || die "cannot unmount /proc, /sys or /dev under the rootfs"',
  ];
}

/** FRR from its own repository, installed in a chroot after debootstrap (tried only against a stand-in repository). */
export function installFromFrrouting(recipe: ImageRecipe, l: ImageLayout): string[] {
  if (recipe.frr.source !== "frrouting") {
    return [];
  }
  const keyTmp = `${l.buildDir}/frrouting.key`;
  const keyGpg = `${l.buildDir}/frrouting.gpg`;
  const r = l.rootfs;
  const line = frroutingSourceLine(recipe) ?? "";
  return [
    command(
      "step",
      `downloading FRR's repository key from ${recipe.frr.keyUrl}`,
      "check that keyUrl is reachable from the build host and serves an OpenPGP public key",
    ),
    "if command -v curl >/dev/null 2>&1; then",
    `    ${command("curl", "-fsSL", "--retry", "3", "-o", keyTmp, recipe.frr.keyUrl)}`,
    "else",
    `    ${command("wget", "-q", "-O", keyTmp, recipe.frr.keyUrl)}`,
    "fi",
    `[[ -s ${quote(keyTmp)} ]] || die ${quote(`the key downloaded from ${recipe.frr.keyUrl} is empty`)}`,
    `if grep -q -e '-----BEGIN PGP PUBLIC KEY BLOCK-----' ${quote(keyTmp)}; then`,
    `    command -v gpg >/dev/null 2>&1 || die "the key is ASCII-armored and gpg is missing on the build host: apt-get install gpg, then run again"`,
    `    ${command("install", "-d", "-m", "0700", `${l.buildDir}/gnupg`)}`,
    `    ${command("gpg", "--homedir", `${l.buildDir}/gnupg`, "--batch", "--yes", "--dearmor", "-o", keyGpg, keyTmp)}`,
    "else",
    `    ${command("cp", keyTmp, keyGpg)}`,
    "fi",
    command("install", "-D", "-m", "0644", keyGpg, `${r}${FRR_KEYRING}`),
    command(
      "step",
      `installing frr and frr-pythontools from ${recipe.frr.repository} (${recipe.frr.channel}) in the image`,
      "check the repository URL, channel and key (apt-get's message above says which); the suite must be one the repository serves",
    ),
    ...writeFile(`${r}/etc/apt/sources.list.d/frrouting.list`, `${line}\n`, { mode: "0644" }),
    "# Nothing may start while the image is built (policy-rc.d 101 = action forbidden).",
    ...writeFile(`${r}/usr/sbin/policy-rc.d`, "#!/bin/sh\nexit 101\n", { mode: "0755" }),
    command("mount", "-t", "proc", "proc", `${r}/proc`),
    command("mount", "-t", "sysfs", "sysfs", `${r}/sys`),
    command("mount", "--bind", "/dev", `${r}/dev`),
    command("chroot", r, "apt-get", "update"),
    command(
      "chroot",
      r,
      "apt-get",
      "install",
      "-y",
      "--no-install-recommends",
      "frr",
      "frr-pythontools",
    ),
    command("rm", "-f", `${r}/usr/sbin/policy-rc.d`),
    'frr_nspawn_unmount || die "cannot unmount /proc, /sys or /dev under the rootfs"',
  ];
}

/** Hostname, frr enabled, no frr.conf, per-machine ids, then trimming. */
export function configure(recipe: ImageRecipe, l: ImageLayout): string[] {
  const r = l.rootfs;
  return [
    command(
      "step",
      `setting up the image: hostname ${recipe.hostname}, frr enabled, no default frr.conf`,
      "see the message above; the image is rebuilt from scratch on the next run",
    ),
    "# debootstrap copied the builder's /etc/hostname and /etc/resolv.conf; neither belongs in the image.",
    ...writeFile(`${r}/etc/hostname`, `${recipe.hostname}\n`, { mode: "0644" }),
    ...writeFile(`${r}/etc/hosts`, hostsFile(recipe.hostname), { mode: "0644" }),
    "# Empty: systemd-nspawn fills it from the host when the machine uses the host's network.",
    command("rm", "-f", `${r}/etc/resolv.conf`),
    `: > ${quote(`${r}/etc/resolv.conf`)}`,
    "# An empty machine-id: each machine made from this image gets its own on first boot.",
    `: > ${quote(`${r}/etc/machine-id`)}`,
    `if [[ -f ${quote(`${r}/var/lib/dbus/machine-id`)} && ! -L ${quote(`${r}/var/lib/dbus/machine-id`)} ]]; then ${command("rm", "-f", `${r}/var/lib/dbus/machine-id`)}; fi`,
    "# The configuration is written later, for each host; FRR starts with an empty one.",
    command("rm", "-f", `${r}/etc/frr/frr.conf`),
    command("chroot", r, "systemctl", "enable", "frr.service"),
    command(
      "step",
      "trimming the image (docs, translations, gconv, Python's tests and caches, unused FRR daemons, apt lists)",
      "see the message above",
    ),
    ...trimRootfs(r),
  ];
}

/**
 * The modules frr-reload.py and generate_support_bundle.py (FRR 8.4 and 10.3) and the
 * package's in-machine checks (verify.ts, interfacePlan.ts) import.
 */
const PYTHON_IMPORTS =
  "import argparse, collections, ipaddress, json, logging, os, pprint, random, re, string, subprocess, sys, tempfile";

/** Checks the rootfs has what a machine needs, and sets `$version` to FRR's upstream version. */
export function verify(l: ImageLayout): string[] {
  const r = l.rootfs;
  return [
    command("step", "checking the image", "the image is incomplete: see which check failed above"),
    `[[ -L ${quote(`${r}/etc/systemd/system/multi-user.target.wants/frr.service`)} ]] || die "frr.service is not enabled in the image"`,
    `[[ ! -e ${quote(`${r}/etc/frr/frr.conf`)} ]] || die "/etc/frr/frr.conf is still in the image"`,
    `[[ ! -e ${quote(`${r}/usr/sbin/policy-rc.d`)} ]] || die "/usr/sbin/policy-rc.d is still in the image"`,
    `for f in /lib/systemd/systemd /usr/lib/frr/zebra /usr/lib/frr/bgpd /usr/lib/frr/frr-reload.py; do`,
    `    [[ -e ${quote(r)}$f ]] || die "$f is missing in the image"`,
    "done",
    `for d in ${KEPT_FRR_DAEMONS.filter((d) => d !== "mgmtd").join(" ")}; do`,
    `    [[ -x ${quote(`${r}/usr/lib/frr`)}/$d ]] || die "FRR's $d is missing in the image"`,
    "done",
    `for d in ${DROPPED_FRR_DAEMONS.join(" ")}; do`,
    `    [[ ! -e ${quote(`${r}/usr/lib/frr`)}/$d ]] || die "FRR's $d is still in the image (it is trimmed)"`,
    "done",
    "for t in ip vtysh dbus-daemon python3; do",
    `    ${command("chroot", r, "sh", "-c", 'command -v "$1" >/dev/null', "frr-nspawn-check")} "$t" || die "$t is missing in the image"`,
    "done",
    "# What frr-reload.py and the package's Python checks import, after trimming (-B: no new caches).",
    `${command("chroot", r, "python3", "-B", "-c", PYTHON_IMPORTS)} || die "python3 in the image cannot import what FRR's tools need"`,
    `${command("chroot", r, "python3", "-B", "/usr/lib/frr/frr-reload.py", "--help")} >/dev/null || die "frr-reload.py does not run in the image"`,
    "# Every program and library in the image finds the libraries it links (ld.so --list via ldd;",
    "# systemd's private libraries are found through the RUNPATH of the programs that load them;",
    "# tc's plugins are loaded only for the qdisc they name: bookworm's q_atm.so links libatm1, which",
    "# iproute2 only suggests).",
    "# ldd exits non-zero for every file that is not dynamically linked, hence `|| true`; that",
    "# it did read the programs is checked on bgpd, so that a failed search cannot pass.",
    `ldd_out=$(${command("chroot", r, "find", "/usr", "-xdev", "-type", "f", "(", "-perm", "-u+x", "-o", "-name", "*.so*", ")", "!", "-path", "/usr/lib/*/systemd/*", "!", "-path", "/usr/lib/*/tc/*", "-exec", "ldd", "{}", "+")} 2>/dev/null) || true`,
    `[[ $ldd_out == *"/usr/lib/frr/bgpd:"* ]] || die "could not list the image's libraries with ldd"`,
    `missing=$(awk '/^\\//{f=$1} /not found/{print f, $1}' <<<"$ldd_out")`,
    `[[ -z $missing ]] || die "a library is missing in the image: $(echo $missing)"`,
    `full_version=$(${command("chroot", r, "dpkg-query", "-W", "-f=${Version}", "frr")})`,
    'version=$(frr_nspawn_upstream_version "$full_version")',
    'say "FRR $full_version (upstream $version) is in the image"',
  ];
}
