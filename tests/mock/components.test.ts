import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";

import {
  BgpLoopback,
  Compression,
  Downlink,
  FrrImage,
  inWaves,
  NspawnImage,
  NspawnMachine,
  SettingsMode,
  TorCli,
  TorCumulus,
} from "../../index";
import { hostLibrary } from "../../components/render/scripts/library";
import { pushLibrary } from "../../components/render/scripts/push";
import { HOST_LIBRARY_FILE } from "../../components/steps";
import { FAKE_IMAGE_RESULT, Recorder, valueOf } from "./harness";

const rec = new Recorder();
const coreos = {
  host: "192.0.2.10",
  user: "core",
  privateKey: pulumi.secret("KEY-MATERIAL"),
  sudo: true,
};
const cumulus = {
  host: "192.0.2.1",
  user: "cumulus",
  password: pulumi.secret("PASSWORD"),
  sudo: true,
};
const SHA = "c".repeat(64);
/** A switch with one downlink, swp1. */
const ONE_DOWNLINK_TOR = {
  connection: cumulus,
  asn: 65000,
  loopback: "1.1.1.1",
  downlinks: [{ port: "swp1" }],
};

function steps(): [string, string, string][] {
  return rec.steps().map((r) => [r.type, r.name, r.parentType]);
}

describe("components under the real SDK with mocks", () => {
  beforeEach(() => rec.install());

  it("FrrImage: one local build step keyed by the recipe hash; outputs parsed from its stdout", async () => {
    const image = new FrrImage("img", { localSudo: false });
    assert.equal(await valueOf(image.sha256), FAKE_IMAGE_RESULT.sha256);
    assert.equal(await valueOf(image.frrVersion), "8.4.4");
    await rec.settle();
    assert.deepEqual(steps(), [
      ["command:local:Command", "img-build", "frr-nspawn:index:FrrImage"],
    ]);
    const build = rec.byName("img-build").inputs;
    assert.match(String(build.create), /debootstrap/);
    assert.match(
      String(build.create),
      /^timeout --kill-after=30 3600 bash -c "\$\(cat <<'[A-Z0-9_]*FRR_NSPAWN_SCRIPT'/,
    );
    assert.deepEqual(build.triggers, [await valueOf(image.recipeHash)]);
    assert.equal(build.addPreviousOutputInEnv, false);
  });

  it("NspawnMachine: copy, verify, import, settings, start, in that order, under the component", async () => {
    const m = new NspawnMachine("m1", {
      connection: coreos,
      image: { path: "/tmp/frr.tar.gz", sha256: SHA },
    });
    assert.equal(await valueOf(m.machineName), "frr");
    await rec.settle();
    assert.deepEqual(steps(), [
      ["command:remote:CopyToRemote", "m1-lib-copy", "frr-nspawn:index:NspawnMachine"],
      ["command:remote:CopyToRemote", "m1-copy", "frr-nspawn:index:NspawnMachine"],
      ["command:remote:Command", "m1-lib", "frr-nspawn:index:NspawnMachine"],
      ["command:remote:Command", "m1-verify", "frr-nspawn:index:NspawnMachine"],
      ["command:remote:Command", "m1-import", "frr-nspawn:index:NspawnMachine"],
      ["command:remote:Command", "m1-settings", "frr-nspawn:index:NspawnMachine"],
      ["command:remote:Command", "m1-start", "frr-nspawn:index:NspawnMachine"],
    ]);
    const tar = `/var/tmp/frr-nspawn-frr-${SHA.slice(0, 16)}.tar.gz`;
    assert.equal(rec.byName("m1-copy").inputs.remotePath, tar);
    assert.deepEqual(rec.byName("m1-copy").inputs.triggers, ["core@192.0.2.10:22"]);
    assert.ok(
      String(rec.byName("m1-verify").inputs.create).includes(`\nverify_tar ${tar} ${SHA}\n`),
    );
    // Beside the running machine, named by the image's id: the host library's import_image.
    assert.match(
      String(rec.byName("m1-import").inputs.create),
      new RegExp(`^frr_nspawn_machine=frr\nimport_image ${SHA.slice(0, 16)} ${tar}$`, "m"),
    );
    assert.match(hostLibrary().text, /^ {8}machinectl import-tar "\$tar" "\$image"$/m);
    assert.deepEqual(rec.byName("m1-import").inputs.triggers, [SHA]);
    assert.match(String(rec.byName("m1-settings").inputs.create), /^VirtualEthernet=no$/m);
    assert.match(
      String(rec.byName("m1-start").inputs.create),
      /^sudo -n timeout --kill-after=30 900 bash -c/,
    );
    assert.match(
      String(rec.byName("m1-start").inputs.create),
      new RegExp(`^frr_nspawn_machine=frr\nstart_image ${SHA.slice(0, 16)} 120$`, "m"),
    );
    // remove_machine and its stop_machine (machinectl poweroff "$frr_nspawn_machine") are
    // the host library's.
    assert.match(
      String(rec.byName("m1-start").inputs.delete),
      /^frr_nspawn_machine=frr\nremove_machine$/m,
    );
    assert.match(hostLibrary().text, /machinectl poweroff "\$frr_nspawn_machine"/);
  });

  it("the host library: a machine and a BgpLoopback on its own copy and install it; one that follows the machine sources the machine's", async () => {
    const m = new NspawnMachine("lm", {
      connection: coreos,
      image: { url: "https://images.example/frr.tar.xz", sha256: SHA },
    });
    new BgpLoopback("lb", { connection: coreos, machine: m, loopback: "2.2.2.2", asn: 65001 });
    new BgpLoopback("lo", {
      connection: coreos,
      machineName: "other",
      loopback: "2.2.2.3",
      asn: 65002,
    });
    new TorCumulus("lt", ONE_DOWNLINK_TOR);
    await rec.settle();
    const lib = hostLibrary();
    const h16 = lib.sha256.slice(0, 16);
    const owners: string[] = [];
    for (const c of ["lm", "lo"]) {
      const copy = rec.byName(`${c}-lib-copy`).inputs;
      assert.equal(copy.remotePath, `frr-nspawn-${h16}.sh`);
      assert.deepEqual(copy.triggers, ["core@192.0.2.10:22"]);
      // The engine gets the asset's path: the library's text is in no input.
      const source = rec.byName(`${c}-lib-copy`).wire.source as Record<string, unknown>;
      assert.equal(source.path, HOST_LIBRARY_FILE);
      assert.ok(!JSON.stringify(rec.byName(`${c}-lib-copy`).wire).includes("frr_nspawn_frame"));
      assert.equal(fs.readFileSync(HOST_LIBRARY_FILE, "utf8"), lib.text);
      const install = rec.byName(`${c}-lib`);
      assert.deepEqual(install.inputs.triggers, ["core@192.0.2.10:22", lib.sha256]);
      assert.ok(String(install.inputs.create).includes(`\nlib=${lib.path} users=${lib.users}\n`));
      const owner = /^: > "\$users"\/([0-9a-f]{16})$/m.exec(String(install.inputs.create))?.[1];
      assert.ok(owner !== undefined, String(install.inputs.create));
      assert.ok(String(install.inputs.delete).includes(`rm -f "$copy" "$users"/${owner}\n`));
      owners.push(owner);
      // Every other script of the component sources it; none carries the frame.
      const sourcing = rec
        .steps()
        .filter(
          (r) =>
            (r.name.startsWith(`${c}-`) || (c === "lm" && r.name.startsWith("lb-"))) &&
            r.type === "command:remote:Command" &&
            r.name !== `${c}-lib`,
        );
      // lb follows lm: its 5 steps source lm's library (lb has no -lib steps of its own).
      assert.equal(sourcing.length, c === "lm" ? 10 : 5, sourcing.map((r) => r.name).join());
      for (const step of sourcing) {
        // A verify step checks only: it has no delete.
        const scripts = step.name.endsWith("-verify") ? ["create"] : ["create", "delete"];
        for (const k of scripts) {
          const text = String(step.inputs[k]);
          assert.ok(
            text.includes(
              `\n. ${lib.path} 2>/dev/null || { echo "frr-nspawn: $0: "'its library is missing: replace the step ${c}-lib' >&2; exit 1; }\n`,
            ),
            `${step.name} ${k}`,
          );
          assert.ok(text.includes(`\nfrr_nspawn_frame\n`), `${step.name} ${k}`);
          assert.ok(!text.includes("frr_nspawn_on_exit() {"), `${step.name} ${k}`);
        }
      }
    }
    assert.ok(!rec.steps().some((r) => r.name.startsWith("lb-lib")));
    assert.ok(rec.byName("lb-sysctl").dependencies.some((u) => u.endsWith("::lm-lib")));
    assert.notEqual(owners[0], owners[1]);
    // The switch has no host library: its scripts carry their frame.
    for (const name of ["lt-nclu", "lt-verify"]) {
      assert.ok(String(rec.byName(name).inputs.create).includes("frr_nspawn_on_exit() {"), name);
      assert.ok(!String(rec.byName(name).inputs.create).includes(lib.path), name);
    }
  });

  it("each step depends on the one before it; nothing is replaced delete-first (a new image goes beside)", async () => {
    const m = new NspawnMachine("d", {
      connection: coreos,
      image: { path: "/tmp/frr.tar.gz", sha256: SHA },
    });
    new BgpLoopback("dh", { connection: coreos, machine: m, loopback: "2.2.2.2", asn: 65001 });
    await rec.settle();
    const dependsOn = (name: string, on: string) =>
      assert.ok(
        rec.byName(name).dependencies.some((urn) => urn.endsWith(`::${on}`)),
        `${name} should depend on ${on}; has ${rec.byName(name).dependencies.join(", ")}`,
      );
    dependsOn("d-lib", "d-lib-copy");
    dependsOn("d-verify", "d-copy");
    dependsOn("d-verify", "d-lib");
    dependsOn("d-import", "d-verify");
    dependsOn("d-settings", "d-import");
    dependsOn("d-start", "d-settings");
    // dh follows the machine: it sources d's library.
    dependsOn("dh-sysctl", "d-lib");
    dependsOn("dh-sysctl", "d-start");
    dependsOn("dh-host-unit", "dh-sysctl");
    dependsOn("dh-daemons", "dh-host-unit");
    dependsOn("dh-frr-conf", "dh-daemons");
    assert.deepEqual(
      rec
        .steps()
        .filter((r) => r.deleteBeforeReplace)
        .map((r) => r.name),
      [],
    );
  });

  it("NspawnMachine from a URL downloads on the host instead of copying", async () => {
    new NspawnMachine("m2", {
      connection: coreos,
      image: { url: "https://images.example/frr.tar.xz", sha256: SHA },
      machineName: "frr2",
    });
    await rec.settle();
    assert.deepEqual(
      rec.steps().map((r) => r.name),
      ["m2-lib-copy", "m2-lib", "m2-fetch", "m2-verify", "m2-import", "m2-settings", "m2-start"],
    );
    assert.match(
      String(rec.byName("m2-fetch").inputs.create),
      /^fetch_image https:\/\/images\.example\/frr\.tar\.xz \/var\/tmp\/frr-nspawn-frr2-c{16}\.tar\.xz c{64}$/m,
    );
    assert.match(
      hostLibrary().text,
      /^ {8}curl --fail --silent --show-error --location --retry 3 --output "\$2\.part" "\$1"$/m,
    );
  });

  it("BgpLoopback: sysctl, host unit, daemons, frr.conf; scripts carry the rendered config", async () => {
    const bgp = new BgpLoopback("h1", {
      connection: coreos,
      machineName: "frr",
      loopback: "2.2.2.2",
      asn: 65001,
    });
    assert.equal(await valueOf(bgp.loopback), "2.2.2.2/32");
    assert.equal(await valueOf(bgp.routerId), "2.2.2.2");
    await rec.settle();
    assert.deepEqual(
      rec.steps().map((r) => r.name),
      [
        "h1-lib-copy",
        "h1-lib",
        "h1-sysctl",
        "h1-host-unit",
        "h1-daemons",
        "h1-frr-conf",
        "h1-verify",
      ],
    );
    const conf = String(rec.byName("h1-frr-conf").inputs.create);
    assert.ok(
      conf.includes(String(await valueOf(bgp.frrConf))),
      "frr.conf travels verbatim in the script",
    );
    // Staged, then checked and applied by the host library's frr_conf_apply (vtysh --dryrun,
    // then apply_conf: frr-reload.py --reload /etc/frr/frr.conf).
    assert.match(conf, /^frr_conf_apply \/var\/lib\/machines\/frr\/etc\/frr$/m);
    assert.match(hostLibrary().text, /in_frr vtysh --dryrun -f "\/etc\/frr\/\$\{staged##\*\/\}"/);
    assert.match(
      hostLibrary().text,
      /^ {4}apply_conf "frr\.conf is in place but not fully applied" \|\| exit 1$/m,
    );
    assert.match(hostLibrary().text, /frr-reload\.py --reload \/etc\/frr\/frr\.conf/);
    assert.match(
      String(rec.byName("h1-sysctl").inputs.create),
      /^net\.ipv6\.conf\.ens3\.disable_ipv6 = 0$/m,
    );
    assert.match(
      String(rec.byName("h1-host-unit").inputs.create),
      /^ExecStart=ip -4 address replace 2\.2\.2\.2\/32 dev lo$/m,
    );
  });

  it("BgpLoopback after an NspawnMachine waits for it and takes the image's FRR version", async () => {
    const image = new FrrImage("img", { localSudo: false });
    const m = new NspawnMachine("m", { connection: coreos, image: { frrImage: image } });
    new BgpLoopback("h", {
      connection: coreos,
      machine: m,
      loopback: "10.255.0.1/32",
      asn: 65001,
      networks: ["10.1.0.0/24"],
    });
    await rec.settle();
    const names = rec.steps().map((r) => r.name);
    assert.deepEqual(names, [
      "img-build",
      "m-lib-copy",
      "m-push",
      "m-lib",
      "m-verify",
      "m-import",
      "m-settings",
      "m-start",
      "h-sysctl",
      "h-host-unit",
      "h-daemons",
      "h-frr-conf",
      "h-verify",
    ]);
    assert.match(String(rec.byName("h-frr-conf").inputs.create), /^frr version 8\.4\.4$/m);
    // The image is part of what the FRR steps write into, so a new image re-runs them.
    const id = await valueOf(image.recipeHash);
    assert.equal(await valueOf(m.imageId), id);
    assert.equal(await valueOf(m.imageSha256), FAKE_IMAGE_RESULT.sha256);
    for (const step of ["h-daemons", "h-frr-conf"]) {
      assert.match(
        String(rec.byName(step).inputs.create),
        new RegExp(`^# Written into the rootfs of image ${id};`, "m"),
      );
    }
    // Pushed from here with OpenSSH, the connection in the environment, not in the script.
    const push = rec.byName("m-push");
    const tarPath = await valueOf(image.tarPath);
    // push_image, from the push library the image's build step writes beside the tarball.
    const pushLib = `${tarPath!.slice(0, tarPath!.lastIndexOf("/"))}/${pushLibrary().fileName}`;
    assert.ok(String(push.inputs.create).includes(`\n. ${pushLib} 2>/dev/null || {`));
    assert.ok(
      String(push.inputs.create).includes(
        `\npush_image ${tarPath} /var/tmp/frr-nspawn-frr-${id!.slice(0, 16)}.tar.gz\n`,
      ),
    );
    assert.ok(!("delete" in push.inputs), "the verify step's delete removes what it copied");
    assert.ok(String(rec.byName("img-build").inputs.create).includes(pushLibrary().text));
    assert.match(pushLibrary().text, /^ {4}ssh -F "\$dir\/config" frr-nspawn-target "cat > /m);
    assert.deepEqual(push.secretInputs.sort(), ["environment"]);
    assert.equal(
      (push.inputs.environment as Record<string, string>).FRR_NSPAWN_SSH_KEY,
      "KEY-MATERIAL",
    );
    assert.ok(!String(push.inputs.create).includes("KEY-MATERIAL"));
    // Checked against the build's checksum file, pushed beside the tarball.
    const remote = `/var/tmp/frr-nspawn-frr-${id!.slice(0, 16)}.tar.gz`;
    assert.ok(
      String(rec.byName("m-verify").inputs.create).includes(
        `\nverify_tar_file ${remote} ${remote}.sha256\n`,
      ),
    );
  });

  it("an FRR 10 image (trixie): BgpLoopback picks line 10's profile from the image's version", async () => {
    const saved = FAKE_IMAGE_RESULT.frrVersion;
    FAKE_IMAGE_RESULT.frrVersion = "10.3";
    try {
      const image = new FrrImage("img", { localSudo: false, suite: "trixie" });
      const m = new NspawnMachine("m", { connection: coreos, image: { frrImage: image } });
      const bgp = new BgpLoopback("h", {
        connection: coreos,
        machine: m,
        loopback: "10.255.0.1/32",
        asn: 65001,
      });
      const conf = String(await valueOf(bgp.frrConf));
      assert.match(conf, /^frr version 10\.3\n/);
      // Line 10: policy right after the header, route-maps sorted by name.
      assert.match(conf, /^service integrated-vtysh-config\n!\nip prefix-list TOR-OUT seq 5 /m);
      assert.ok(conf.indexOf("route-map TOR-IN") < conf.indexOf("route-map TOR-OUT"));
      assert.ok(conf.indexOf("route-map TOR-OUT") < conf.indexOf("router bgp"));
      assert.match(String(await valueOf(bgp.daemons)), /^mgmtd_options=" -A 127\.0\.0\.1"$/m);
      await rec.settle();
      assert.match(String(rec.byName("h-frr-conf").inputs.create), /^frr version 10\.3$/m);
    } finally {
      FAKE_IMAGE_RESULT.frrVersion = saved;
    }
  });

  it("TorCumulus (nclu): one locked NCLU step; commands are its switch-wide then own lines", async () => {
    const tor = new TorCumulus("tor1", {
      connection: cumulus,
      asn: 65000,
      loopback: "1.1.1.1",
      downlinks: [{ port: "swp1" }],
    });
    // Each line's form is checked against the docs in tests/unit/switch.test.ts.
    assert.deepEqual(await valueOf(tor.commands), [
      "net add loopback lo ip address 1.1.1.1/32",
      "net add interface swp1",
      "net add bgp autonomous-system 65000",
      "net add bgp router-id 1.1.1.1",
      "net add bgp ipv4 unicast network 1.1.1.1/32",
      "net add interface swp1 ipv6 nd ra-interval 5",
      "net add interface swp1 ipv6 nd ra-lifetime 15",
      "net add bgp neighbor swp1 remote-as external",
    ]);
    await rec.settle();
    assert.deepEqual(
      rec.steps().map((r) => r.name),
      ["tor1-nclu", "tor1-verify"],
    );
    const create = String(rec.byName("tor1-nclu").inputs.create);
    assert.match(create, /^if ! flock --wait 600 8; then$/m);
    assert.match(create, /nclu commit description 'frr-nspawn project\/stack tor1'\)$/m);
    const del = String(rec.byName("tor1-nclu").inputs.delete);
    assert.match(
      del,
      /^if has 'net add bgp neighbor swp1 remote-as external'; then staged=1; nclu del bgp neighbor swp1 remote-as external >\/dev\/null; fi$/m,
    );
    assert.doesNotMatch(del, /autonomous-system|router-id|loopback/);
  });

  it("TorCumulus (nvue, vtysh): one step each, named after the cli", async () => {
    new TorCumulus("a", {
      connection: cumulus,
      asn: 65000,
      loopback: "1.1.1.1",
      downlinks: [{ port: "swp1" }],
      cli: "nvue",
      cumulusVersion: "5.15",
    });
    new TorCumulus("b", {
      connection: cumulus,
      asn: 65000,
      loopback: "1.1.1.1",
      downlinks: [{ port: "swp2" }],
      cli: "vtysh",
    });
    await rec.settle();
    assert.deepEqual(
      rec.steps().map((r) => r.name),
      ["a-nvue", "b-vtysh", "a-verify", "b-verify"],
    );
    assert.match(
      String(rec.byName("a-nvue").inputs.create),
      /nvue set interface swp1 ipv6 neighbor-discovery router-advertisement state enabled >/,
    );
    assert.match(
      String(rec.byName("b-vtysh").inputs.create),
      /frr -c 'configure terminal' -c 'router bgp 65000' -c 'neighbor swp2 interface remote-as external'/,
    );
  });

  it("TorCumulus bfd: each dialect's BFD line per downlink, in commands and scripts; removed by delete", async () => {
    const base = { connection: cumulus, asn: 65000, loopback: "1.1.1.1", bfd: true };
    const n = new TorCumulus("n", { ...base, downlinks: [{ port: "swp1" }] });
    const v = new TorCumulus("v", {
      ...base,
      downlinks: [{ port: "swp2" }],
      cli: "nvue",
      cumulusVersion: "5.9",
    });
    const w = new TorCumulus("w", {
      ...base,
      downlinks: [{ port: "swp3" }],
      cli: "nvue",
      cumulusVersion: "5.15",
    });
    const y = new TorCumulus("y", { ...base, downlinks: [{ port: "swp4" }], cli: "vtysh" });
    const off = new TorCumulus("off", { ...base, bfd: false, downlinks: [{ port: "swp5" }] });
    const cmds = async (t: TorCumulus) => (await valueOf(t.commands)) ?? [];
    const last = async (t: TorCumulus) => (await cmds(t)).at(-1);
    assert.equal(await last(n), "net add bgp neighbor swp1 bfd");
    assert.equal(await last(v), "nv set vrf default router bgp neighbor swp2 bfd enable on");
    assert.equal(
      await last(w),
      "nv set vrf default router bgp neighbor swp3 bfd profile frr-nspawn",
    );
    assert.ok((await cmds(y)).includes("router bgp 65000 neighbor swp4 bfd"));
    assert.ok(!(await cmds(off)).some((c) => c.includes("bfd")));
    await rec.settle();
    const del = (name: string) => String(rec.byName(name).inputs.delete);
    assert.match(del("n-nclu"), /nclu del bgp neighbor swp1 bfd >\/dev\/null; fi$/m);
    assert.match(del("v-nvue"), /nvue unset vrf default router bgp neighbor swp2 bfd enable >/);
    assert.match(del("w-nvue"), /nvue unset vrf default router bgp neighbor swp3 bfd >/);
    assert.match(
      del("y-vtysh"),
      /frr -c 'configure terminal' -c 'router bgp 65000' -c 'no neighbor swp4 bfd'/,
    );
    assert.match(String(rec.byName("y-vtysh").inputs.create), /\^bfdd=yes/);
  });

  it("secrets stay secret: the connection is a secret input and no script holds the key", async () => {
    new BgpLoopback("s", {
      connection: coreos,
      machineName: "frr",
      loopback: "2.2.2.2",
      asn: 65001,
    });
    await rec.settle();
    assert.equal(rec.steps().length, 7);
    for (const step of rec.steps()) {
      assert.deepEqual(step.secretInputs, ["connection"], step.name);
      assert.ok(!JSON.stringify([step.inputs.create, step.inputs.delete]).includes("KEY-MATERIAL"));
    }
  });
});

describe("preview", () => {
  it("completes with unknown outputs and registers every step", async () => {
    rec.install(true);
    const image = new FrrImage("img", { localSudo: false });
    const m = new NspawnMachine("m", { connection: coreos, image: { frrImage: image } });
    new BgpLoopback("h", { connection: coreos, machine: m, loopback: "2.2.2.2", asn: 65001 });
    new TorCumulus("t", ONE_DOWNLINK_TOR);
    assert.equal(await valueOf(image.sha256), undefined);
    await rec.settle();
    // The build; the machine's 2 host library steps and 5 others; BgpLoopback's 5 (it
    // sources the machine's library); the switch's 2.
    assert.equal(rec.steps().length, 15);
  });
});

describe("bad input throws at construction and registers no command", () => {
  beforeEach(() => rec.install());

  const table: [string, () => unknown, string][] = [
    [
      "asn out of range",
      () =>
        new BgpLoopback("b", {
          connection: coreos,
          machineName: "frr",
          loopback: "2.2.2.2",
          asn: 70000000000,
        }),
      "asn: 70000000000 is out of range 1..4294967295",
    ],
    [
      "loopback not /32",
      () =>
        new BgpLoopback("b", {
          connection: coreos,
          machineName: "frr",
          loopback: "2.2.2.0/24",
          asn: 65001,
        }),
      'loopback: "2.2.2.0/24" is not a /32',
    ],
    [
      "bad interface",
      () =>
        new BgpLoopback("b", {
          connection: coreos,
          machineName: "frr",
          loopback: "2.2.2.2",
          asn: 65001,
          interfaces: ["ens3; reboot"],
        }),
      'interfaces[0]: "ens3; reboot" is not a valid interface name',
    ],
    [
      "bad machine name",
      () =>
        new NspawnMachine("b", {
          connection: coreos,
          image: { path: "/tmp/x.tar", sha256: SHA },
          machineName: "../etc",
        }),
      'machineName: "../etc" is not a valid machine name',
    ],
    [
      "bad sha",
      () =>
        new NspawnMachine("b", {
          connection: coreos,
          image: { path: "/tmp/x.tar", sha256: "nope" },
        }),
      'image.sha256: "nope" is not a SHA-256 digest',
    ],
    [
      "bad port",
      () =>
        new TorCumulus("b", {
          connection: cumulus,
          asn: 65000,
          loopback: "1.1.1.1",
          downlinks: [{ port: "eth0" }],
        }),
      'downlinks[0].port: "eth0" is not a Cumulus port',
    ],
    [
      "a port name where a downlink object belongs",
      () =>
        new TorCumulus("b", {
          connection: cumulus,
          asn: 65000,
          loopback: "1.1.1.1",
          downlinks: ["swp1" as unknown as Downlink],
        }),
      'downlinks[0]: "swp1" is a port name; write { port: "swp1" }',
    ],
    [
      "asdot as a string",
      () =>
        new TorCumulus("b", {
          connection: cumulus,
          asn: "1.10" as unknown as number,
          loopback: "1.1.1.1",
          downlinks: [{ port: "swp1" }],
        }),
      'asn: "1.10" is a string; write the AS number as a number: 65546',
    ],
    [
      "both machine and machineName",
      () =>
        new BgpLoopback("b", {
          connection: coreos,
          machineName: "frr",
          machine: "frr" as unknown as NspawnMachine,
          loopback: "2.2.2.2",
          asn: 65001,
        }),
      "machine: must be an NspawnMachine (plain, not an Output); for a machine not managed here give machineName\n  - machine: give exactly one of machine",
    ],
    [
      "neither machine nor machineName",
      () => new BgpLoopback("b", { connection: coreos, loopback: "2.2.2.2", asn: 65001 }),
      "machine: give exactly one of machine (an NspawnMachine) and machineName (a running machine's name)",
    ],
    [
      "compression as an Output",
      () => new FrrImage("b", { compression: pulumi.output("xz") as unknown as Compression }),
      "compression: must be a plain value, not an Output or a Promise",
    ],
    [
      "bad RA",
      () =>
        new TorCumulus("b", {
          connection: cumulus,
          asn: 65000,
          loopback: "1.1.1.1",
          downlinks: [{ port: "swp1", raInterval: 0 }],
        }),
      "downlinks[0].raInterval: 0 is out of range 1..1800",
    ],
    [
      "bfd as a string",
      () =>
        new TorCumulus("b", {
          connection: cumulus,
          asn: 65000,
          loopback: "1.1.1.1",
          downlinks: [{ port: "swp1" }],
          bfd: "yes" as unknown as boolean,
        }),
      'bfd: "yes" is not true or false',
    ],
    [
      "bad suite",
      () => new FrrImage("b", { suite: "Bookworm; rm" }),
      'suite: "Bookworm; rm" is not a suite code name',
    ],
    [
      "bad package",
      () => new FrrImage("b", { extraPackages: ["-o"] }),
      'extraPackages[0]: "-o" is not a Debian package name',
    ],
    [
      "bad mirror",
      () => new FrrImage("b", { mirror: "http://m/$(id)" }),
      'mirror: "http://m/$(id)" contains "$"',
    ],
    [
      "cli as an Output",
      () =>
        new TorCumulus("b", {
          connection: cumulus,
          asn: 65000,
          loopback: "1.1.1.1",
          downlinks: [{ port: "swp1" }],
          cli: pulumi.output("nclu" as const) as unknown as TorCli,
        }),
      "cli: must be a plain value, not an Output or a Promise (it decides which steps exist)",
    ],
    [
      "image as an Output",
      () =>
        new NspawnMachine("b", {
          connection: coreos,
          image: pulumi.output({
            url: "https://images.example/frr.tar",
            sha256: SHA,
          }) as unknown as NspawnImage,
        }),
      "image: must be a plain value, not an Output or a Promise (it decides which steps exist)",
    ],
    [
      "settings as an Output",
      () =>
        new NspawnMachine("b", {
          connection: coreos,
          image: { url: "https://images.example/frr.tar", sha256: SHA },
          settings: pulumi.output("nspawn-file") as unknown as SettingsMode,
        }),
      "settings: must be a plain value, not an Output or a Promise",
    ],
    [
      "image with none of frrImage, path, url",
      () => new NspawnMachine("b", { connection: coreos, image: { sha256: SHA } }),
      "image: give exactly one of image.frrImage, image.path and image.url",
    ],
    [
      "image with path and url",
      () =>
        new NspawnMachine("b", {
          connection: coreos,
          image: { path: "/x.tar", url: "https://images.example/frr.tar", sha256: SHA },
        }),
      "image: give exactly one of image.frrImage, image.path and image.url",
    ],
    [
      "image.url without sha256",
      () =>
        new NspawnMachine("b", {
          connection: coreos,
          image: { url: "https://images.example/frr.tar" },
        }),
      "image.sha256: is required with image.url",
    ],
    [
      "machineName too long for the images beside it",
      () =>
        new NspawnMachine("b", {
          connection: coreos,
          image: { url: "https://images.example/frr.tar", sha256: SHA },
          machineName: "m".repeat(48),
        }),
      `machineName: "${"m".repeat(48)}" is longer than 47 characters`,
    ],
    [
      "ubuntu without mirror",
      () => new FrrImage("b", { distribution: "ubuntu", suite: "jammy" }),
      'mirror: is required with distribution: "ubuntu"',
    ],
  ];
  for (const [title, make, message] of table) {
    it(`${title}: ${message}`, async () => {
      assert.throws(make, (e: Error) => e.message.includes(message));
      await rec.settle(50);
      assert.deepEqual(rec.steps(), []);
    });
  }

  it("an FrrImage built on a remote builder cannot be copied from here: the machine says so", async () => {
    const image = new FrrImage("remote-img", { builder: coreos });
    assert.throws(
      () => new NspawnMachine("b", { connection: coreos, image: { frrImage: image } }),
      (e: Error) =>
        e.message.includes('image.frrImage: FrrImage "remote-img" is built on a remote builder'),
    );
    await rec.settle(50);
    assert.deepEqual(
      rec.steps().map((r) => r.name),
      ["remote-img-build"],
    );
  });

  it("an FrrImage takes no sha256: its build's checksum file is checked", async () => {
    const image = new FrrImage("img2", { localSudo: false });
    assert.throws(
      () => new NspawnMachine("b", { connection: coreos, image: { frrImage: image, sha256: SHA } }),
      (e: Error) => e.message.includes("image.sha256: is not given with image.frrImage"),
    );
    await rec.settle(50);
  });

  it("an FrrImage over a password-only connection fails naming connection.password", async () => {
    const image = new FrrImage("img3", { localSudo: false });
    assert.throws(
      () =>
        new NspawnMachine("pw", {
          connection: { host: "192.0.2.10", user: "core", password: pulumi.secret("PW") },
          image: { frrImage: image },
        }),
      (e: Error) =>
        e.message.includes(
          "connection.password: cannot copy an FrrImage: the image is pushed with this machine's OpenSSH client, which takes no password; give connection.privateKey",
        ),
    );
    await rec.settle(50);
    assert.deepEqual(
      rec.steps().map((r) => r.name),
      ["img3-build"],
    );
  });

  it("an Output that resolves to a bad value fails with the same message, when it resolves", async () => {
    const bgp = new BgpLoopback("late", {
      connection: coreos,
      machineName: "frr",
      loopback: pulumi.output("2.2.2.0/24"),
      asn: 65001,
    });
    await assert.rejects(valueOf(bgp.loopback), /loopback: "2\.2\.2\.0\/24" is not a \/32/);
  });

  it("plain bad values still throw at once when other inputs are Outputs", () => {
    assert.throws(
      () =>
        new BgpLoopback("mixed", {
          connection: coreos,
          machineName: pulumi.output("frr"),
          loopback: "2.2.2.2",
          asn: 0,
        }),
      /asn: 0 is out of range/,
    );
  });
});

describe("verification and waves", () => {
  beforeEach(() => rec.install());

  it("BgpLoopback's verify step runs after frr.conf and checks every uplink and the loopback", async () => {
    new BgpLoopback("v", {
      connection: coreos,
      machineName: "frr",
      loopback: "2.2.2.2",
      asn: 65001,
      interfaces: ["ens3", "ens4"],
      verifyTimeoutSeconds: 30,
    });
    await rec.settle();
    const verify = rec.byName("v-verify");
    assert.ok(verify.dependencies.some((urn) => urn.endsWith("::v-frr-conf")));
    const text = String(verify.inputs.create);
    assert.match(text, /^verify_sessions 30 2\.2\.2\.2\/32 ens3 ens4$/m);
    // It changes nothing: no delete, so destroy runs nothing for it.
    assert.ok(!("delete" in verify.inputs), Object.keys(verify.inputs).join());
  });

  it("TorCumulus's verify step runs after the switch step, on the switch, for every downlink", async () => {
    const tor = new TorCumulus("t", {
      connection: cumulus,
      asn: 65000,
      loopback: "1.1.1.1",
      downlinks: [{ port: "swp1" }, { port: "swp2" }],
      verifyTimeoutSeconds: 45,
    });
    await rec.settle();
    const verify = rec.byName("t-verify");
    assert.deepEqual(
      verify.dependencies.map((urn) => urn.split("::").pop()),
      ["t-nclu"],
    );
    const text = String(verify.inputs.create);
    // The switch's own FRR: vtysh runs where the step runs (through sudo, as the connection says).
    assert.match(text, /^in_frr\(\) \{$/m);
    assert.match(text, /^ {4}"\$@"$/m);
    assert.doesNotMatch(text, /nsenter|machinectl/);
    // No host library on a switch: the function is in the script.
    assert.match(text, /^verify_sessions\(\) \{$/m);
    assert.match(text, /^verify_sessions 45 1\.1\.1\.1\/32 swp1 swp2$/m);
    assert.match(text, /sudo -n/);
    assert.ok(!("delete" in verify.inputs), Object.keys(verify.inputs).join());
    // The sessions output is the verify step's last line, parsed.
    assert.deepEqual(await valueOf(tor.sessions), {});
  });

  it("TorCumulus verify: false leaves the step out, and sessions is {}; a changed config verifies again", async () => {
    const off = new TorCumulus("off", {
      connection: cumulus,
      asn: 65000,
      loopback: "1.1.1.1",
      downlinks: [{ port: "swp1" }],
      verify: false,
    });
    new TorCumulus("on1", {
      connection: cumulus,
      asn: 65000,
      loopback: "1.1.1.1",
      downlinks: [{ port: "swp1" }],
    });
    new TorCumulus("on2", {
      connection: cumulus,
      asn: 65000,
      loopback: "1.1.1.1",
      downlinks: [{ port: "swp1" }],
      bfd: true,
    });
    await rec.settle();
    assert.deepEqual(
      rec
        .steps()
        .map((r) => r.name)
        .filter((n) => n.startsWith("off-")),
      ["off-nclu"],
    );
    assert.deepEqual(await valueOf(off.sessions), {});
    const hash = (name: string) =>
      /^# Verifies the sessions of frr\.conf ([0-9a-f]{16});/m.exec(
        String(rec.byName(name).inputs.create),
      )?.[1];
    assert.ok(hash("on1-verify") !== undefined && hash("on1-verify") !== hash("on2-verify"));
  });

  it("verify: false leaves the step out, and sessions is {}", async () => {
    const bgp = new BgpLoopback("nv", {
      connection: coreos,
      machineName: "frr",
      loopback: "2.2.2.2",
      asn: 65001,
      verify: false,
    });
    await rec.settle();
    assert.deepEqual(
      rec.steps().map((r) => r.name),
      ["nv-lib-copy", "nv-lib", "nv-sysctl", "nv-host-unit", "nv-daemons", "nv-frr-conf"],
    );
    assert.deepEqual(await valueOf(bgp.sessions), {});
  });

  it("inWaves: each wave's steps depend on every BgpLoopback of the wave before", async () => {
    const hosts = ["a", "b", "c", "d", "e"];
    inWaves(
      hosts,
      2,
      (h, dependsOn) =>
        new BgpLoopback(
          `w${h}`,
          { connection: coreos, machineName: "frr", loopback: "2.2.2.2", asn: 65001 },
          { dependsOn },
        ),
    );
    await rec.settle();
    const deps = (name: string) =>
      rec
        .byName(name)
        .dependencies.map((urn) => urn.split("::").pop())
        .sort();
    const stepsOf = (h: string) =>
      ["lib-copy", "lib", "sysctl", "host-unit", "daemons", "frr-conf", "verify"].map(
        (s) => `w${h}-${s}`,
      );
    assert.deepEqual(deps("wa"), []);
    assert.deepEqual(deps("wb"), []);
    assert.deepEqual(deps("wc"), [...stepsOf("a"), ...stepsOf("b")].sort());
    assert.deepEqual(deps("wd"), [...stepsOf("a"), ...stepsOf("b")].sort());
    assert.deepEqual(deps("we"), [...stepsOf("c"), ...stepsOf("d")].sort());
  });
});

describe("construction problems are thrown once, together", () => {
  beforeEach(() => rec.install());

  it("NspawnMachine: settings as an Output and an image without its sha256, in one error", async () => {
    assert.throws(
      () =>
        new NspawnMachine("once", {
          connection: coreos,
          image: { path: "/srv/frr.tar.gz" },
          settings: pulumi.output("nspawn-file") as unknown as SettingsMode,
        }),
      {
        message: [
          'NspawnMachine "once" has 2 invalid inputs:',
          "  - settings: must be a plain value, not an Output or a Promise (it decides which steps exist)",
          "  - image.sha256: is required with image.path",
        ].join("\n"),
      },
    );
    await rec.settle(50);
    assert.deepEqual(rec.steps(), []);
  });

  it("FrrImage: compression as an Output and localSudo as a string, in one error", () => {
    assert.throws(
      () =>
        new FrrImage("once", {
          compression: pulumi.output("xz") as unknown as Compression,
          localSudo: "false" as unknown as boolean,
        }),
      {
        message: [
          'FrrImage "once" has 2 invalid inputs:',
          "  - compression: must be a plain value, not an Output or a Promise (it decides which steps exist)",
          '  - localSudo: "false" is not true or false',
        ].join("\n"),
      },
    );
  });
});
