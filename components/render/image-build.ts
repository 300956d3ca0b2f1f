/**
 * The script that builds an FRR image on a Debian/Ubuntu build host: debootstrap a
 * minimal rootfs, add FRR, set it up for systemd-nspawn, trim it and export a tar that
 * `machinectl import-tar` reads. Pure: returns text.
 */
import { command, indentBody, quote, script, writeFile } from "../shell";
import { findMirrorLines, PRELUDE } from "./image-bash";
import { configure, installFromFrrouting, installPackages, verify } from "./image-rootfs";
import {
  canonicalJson,
  type ImageLayout,
  imageLayout,
  type ImageRecipe,
  normalizeRecipe,
  recipeHash,
} from "./image-recipe";

/** The line prefix of the build script's one line on stdout. */
export const RESULT_PREFIX = "FRR_NSPAWN_IMAGE ";

const ARCHIVE_KEYRINGS: Record<ImageRecipe["distribution"], string> = {
  debian: "/usr/share/keyrings/debian-archive-keyring.gpg",
  ubuntu: "/usr/share/keyrings/ubuntu-archive-keyring.gpg",
};

/**
 * The debootstrap command; the mirror is the shell variable `$mirror` (quoted where set).
 * It installs the minimal base only: the image's packages follow with apt-get in the
 * rootfs ({@link installPackages}), because debootstrap's `--include` cannot order
 * trixie's systemd pre-dependency (libsystemd-shared) and fails on a bookworm build host.
 */
export function debootstrapCommand(recipe: ImageRecipe, rootfs: string): string {
  const words = [
    "debootstrap",
    "--variant=minbase",
    `--arch=${recipe.arch}`,
    `--keyring=${ARCHIVE_KEYRINGS[recipe.distribution]}`,
    ...(recipe.distribution === "ubuntu" ? ["--components=main,universe"] : []),
    recipe.suite,
    rootfs,
  ];
  return `${command(...words)} "$mirror"`;
}

/** The tar export (run in the build dir), per compression. */
export function exportCommand(
  layout: ImageLayout,
  compression: ImageRecipe["compression"],
): string {
  const tar = ["tar", "--numeric-owner", "--sort=name", "-C", layout.rootfs];
  const out = quote(`${layout.outDir}/${layout.tarName}`);
  switch (compression) {
    case "gzip":
      return `${command(...tar, "-c", ".")} | gzip -6 > ${out}`;
    case "xz":
      return `${command(...tar, "-c", ".")} | xz -T0 -6 > ${out}`;
    case "none":
      return `${command(...tar, "-c", "-f", `${layout.outDir}/${layout.tarName}`, ".")}`;
  }
}

/** Tools the build needs before it starts (debootstrap is checked, and installed, later). */
export function requiredTools(recipe: ImageRecipe): string[] {
  const compressor = recipe.compression === "none" ? [] : [recipe.compression];
  return [
    "awk",
    "chroot",
    "df",
    "find",
    "flock",
    "gpgv",
    "mount",
    "sha256sum",
    "sort",
    "stat",
    "tar",
    "umount",
    ...compressor,
  ];
}

function preflight(recipe: ImageRecipe, l: ImageLayout): string[] {
  return [
    command(
      "step",
      "checking that this runs as root with the tools it needs",
      "run the script as root (sudo) on a Debian or Ubuntu build host",
    ),
    `[[ $(id -u) == 0 ]] || die "this must run as root (debootstrap, chroot, mount): run it with sudo"`,
    "missing=()",
    `for tool in ${command(...requiredTools(recipe))}; do`,
    '    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")',
    "done",
    ...(recipe.frr.source === "frrouting"
      ? [
          'if ! command -v curl >/dev/null 2>&1 && ! command -v wget >/dev/null 2>&1; then missing+=("curl or wget"); fi',
        ]
      : []),
    '(( ${#missing[@]} == 0 )) || die "missing on the build host: ${missing[*]} (install them with apt-get, e.g. util-linux for flock, xz-utils for xz, gpgv)"',
    command(
      "step",
      `taking the lock for this image (${l.lockFile})`,
      `another build of the same image holds the lock; wait for it or end it`,
    ),
    command("install", "-d", "-m", "0755", l.workDir),
    `exec 9>>${quote(l.lockFile)}`,
    "if ! flock -n 9; then",
    '    say "another build of this image is running; waiting for it (up to one hour)"',
    '    flock -w 3600 9 || die "the other build still holds the lock after an hour"',
    "fi",
    "frr_nspawn_locked=1",
  ];
}

function reuseExisting(l: ImageLayout): string[] {
  return [
    command(
      "step",
      `looking for an image already built from this recipe in ${l.dir}`,
      `remove ${l.dir} and run again`,
    ),
    `if [[ -f $image_dir/$image_tar && -f $image_dir/$image_tar.sha256 && -f $image_dir/frr-version ]]; then`,
    `    if (cd "$image_dir" && sha256sum --quiet --strict -c "$image_tar.sha256"); then`,
    `        read -r sha _ < "$image_dir/$image_tar.sha256"`,
    `        read -r version < "$image_dir/frr-version"`,
    `        say "image is already built and matches its checksum: nothing to do"`,
    `        frr_nspawn_result "$sha" "$(stat -c %s "$image_dir/$image_tar")" "$version"`,
    "        exit 0",
    "    fi",
    `    say "WARNING: $image_dir/$image_tar does not match its checksum file: building it again"`,
    "fi",
  ];
}

function hostChecks(recipe: ImageRecipe, l: ImageLayout): string[] {
  const keyring = ARCHIVE_KEYRINGS[recipe.distribution];
  const keyringPackage =
    recipe.distribution === "debian" ? "debian-archive-keyring" : "ubuntu-keyring";
  return [
    command(
      "step",
      "checking debootstrap, the suite, the archive key and free space",
      "install what the message names and run again",
    ),
    "if ! command -v debootstrap >/dev/null 2>&1; then",
    '    say "debootstrap is missing: installing it with apt-get"',
    '    apt-get install -y debootstrap || { apt-get update && apt-get install -y debootstrap; } || die "cannot install debootstrap: install it by hand (apt-get install debootstrap)"',
    "fi",
    `[[ -e /usr/share/debootstrap/scripts/${quote(recipe.suite)} ]] || die ${quote(`this build host's debootstrap does not know the suite ${recipe.suite}: upgrade debootstrap (or use a newer build host)`)}`,
    `[[ -f ${quote(keyring)} ]] || die ${quote(`${keyring} is missing: apt-get install ${keyringPackage} (debootstrap checks the archive's signature with it)`)}`,
    `host_arch=$(dpkg --print-architecture)`,
    `[[ $host_arch == ${quote(recipe.arch)} ]] || die "this build host is $host_arch;" ${quote(`the recipe asks for ${recipe.arch}: build on a ${recipe.arch} host (cross-architecture builds are not supported)`)}`,
    `avail_kib=$(df -Pk ${quote(l.workDir)} | awk 'NR == 2 { print $4 }')`,
    `(( avail_kib >= 1048576 )) || die ${quote(`less than 1 GiB is free in ${l.workDir}: free some space or choose another workDir`)}`,
  ];
}

function mirror(recipe: ImageRecipe): string[] {
  if (recipe.mirror !== undefined) {
    return [`mirror=${quote(recipe.mirror)}`, 'say "using the mirror $mirror (from the recipe)"'];
  }
  const dist = recipe.distribution;
  const hint =
    dist === "ubuntu"
      ? "set mirror to an Ubuntu archive URL: this build host's apt sources have no Ubuntu archive entry"
      : "set mirror to a Debian archive URL: none was found in this build host's apt sources";
  return [
    command("step", "finding the mirror in this build host's apt sources", hint),
    ...findMirrorLines(dist, recipe.suite),
    `frr_nspawn_find_mirror || die ${quote(`no ${dist} archive found in /etc/apt/sources.list or /etc/apt/sources.list.d/: ${hint}`)}`,
    'say "using the mirror $mirror (from this build host\'s apt sources)"',
  ];
}

function exportImage(recipe: ImageRecipe, l: ImageLayout): string[] {
  const out = `${l.outDir}/${l.tarName}`;
  return [
    command(
      "step",
      `exporting the image to ${out} (${recipe.compression})`,
      `check the free space in ${l.workDir}`,
    ),
    command("install", "-d", "-m", "0755", l.outDir),
    exportCommand(l, recipe.compression),
    `(${command("cd", l.outDir)} && ${command("sha256sum", l.tarName)} > ${quote(`${l.tarName}.sha256`)})`,
    `printf '%s\\n' "$version" > ${quote(`${l.outDir}/frr-version`)}`,
    ...writeFile(`${l.outDir}/recipe.json`, `${canonicalJson(normalizeRecipe(recipe))}\n`, {
      mode: "0644",
    }),
    command(
      "step",
      `moving the image into place: ${l.dir}`,
      `check ${l.workDir}; remove ${l.dir} by hand if it is in the way`,
    ),
    `if [[ -e $image_dir ]]; then rm -rf --one-file-system "$image_dir"; fi`,
    `mv -T ${quote(l.outDir)} "$image_dir"`,
    `read -r sha _ < "$image_dir/$image_tar.sha256"`,
    "frr_nspawn_release",
    'rm -f "$build_dir.debootstrap.log"',
    `say "built $image_dir/$image_tar"`,
    `frr_nspawn_result "$sha" "$(stat -c %s "$image_dir/$image_tar")" "$version"`,
  ];
}

/** A file the build puts beside the tarball whenever it succeeds (the push library). */
export interface BesideImage {
  fileName: string;
  text: string;
}

/**
 * Lines (inside `frr_nspawn_result`) writing `file` into the image folder, through a
 * temporary name. Other versions stay (another stack on this machine may build the same
 * recipe with another package version); they go with the folder.
 */
function besideImage(l: ImageLayout, file: BesideImage): string[] {
  return indentBody(writeFile(`${l.dir}/${file.fileName}`, file.text, { mode: "0644" }));
}

/**
 * Bash that prints the result line on fd 3 (the script's stdout) from validated values,
 * after putting `beside` in the image folder.
 */
function resultFunction(l: ImageLayout, hash: string, beside?: BesideImage): string[] {
  const head = `${RESULT_PREFIX}{"imagePath":${JSON.stringify(l.tar)},"sha256":"`;
  const tail = `","recipeHash":${JSON.stringify(hash)}}`;
  return [
    "frr_nspawn_result() {",
    ...(beside === undefined ? [] : besideImage(l, beside)),
    "    local re_sha='^[0-9a-f]{64}$' re_size='^[0-9]+$' re_version='^[0-9A-Za-z.~-]+$'",
    '    [[ $1 =~ $re_sha ]] || die "not a sha256: $1"',
    '    [[ $2 =~ $re_size ]] || die "not a size: $2"',
    '    [[ $3 =~ $re_version ]] || die "unexpected FRR version: $3"',
    `    printf '%s%s%s%s%s%s%s\\n' ${quote(head)} "$1" ${quote('","sizeBytes":')} "$2" ${quote(',"frrVersion":"')} "$3" ${quote(tail)} >&3`,
    "}",
  ];
}

/** The build script (bash, run as root). See the module comment. */
export function renderImageBuildScript(recipe: ImageRecipe, beside?: BesideImage): string {
  const l = imageLayout(recipe);
  const hash = recipeHash(recipe);
  const description = `build the FRR image ${l.tar} (${recipe.distribution} ${recipe.suite} ${recipe.arch}, FRR from ${recipe.frr.source})`;
  return script({ step: "frr-image-build", description }, [
    ...PRELUDE,
    `readonly image_dir=${quote(l.dir)} image_tar=${quote(l.tarName)} build_dir=${quote(l.buildDir)} rootfs=${quote(l.rootfs)}`,
    ...resultFunction(l, hash, beside),
    ...preflight(recipe, l),
    ...reuseExisting(l),
    ...hostChecks(recipe, l),
    ...mirror(recipe),
    command(
      "step",
      `removing what an earlier, interrupted build left in ${l.buildDir}`,
      `unmount what is mounted under ${l.buildDir} and remove it by hand`,
    ),
    "frr_nspawn_release",
    command("install", "-d", "-m", "0755", l.buildDir),
    command(
      "step",
      `bootstrapping ${recipe.distribution} ${recipe.suite} (${recipe.arch}) into ${l.rootfs}: this takes minutes`,
      "check the mirror named above and the network (debootstrap's own message above says which package or file failed); set mirror explicitly if the detected one is wrong",
    ),
    debootstrapCommand(recipe, l.rootfs),
    ...installPackages(recipe, l),
    ...installFromFrrouting(recipe, l),
    ...configure(recipe, l),
    ...verify(l),
    ...exportImage(recipe, l),
  ]);
}
