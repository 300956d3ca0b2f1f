"""The seed procedure (examples/seed) from Python.

The same four components as the TypeScript example, through the SDK that
`pulumi package add` generates from this package's schema (module `frr_nspawn`):
build the FRR image here, deploy it to one CoreOS host as an nspawn machine,
announce the host's loopback over BGP unnumbered, and configure the switch.
Hosts and keys come from stack config (keys as secrets), with the keys and
defaults of examples/seed.
"""

import pulumi
import frr_nspawn

config = pulumi.Config()


def connection_from_config(prefix: str, default_user: str) -> frr_nspawn.ConnectionArgs:
    """The SSH connection to a host from its `<prefix>Host`, `...Port`, ... config keys."""
    sudo = config.get_bool(f"{prefix}Sudo")
    return frr_nspawn.ConnectionArgs(
        host=config.require(f"{prefix}Host"),
        port=config.get_int(f"{prefix}Port") or 22,
        user=config.get(f"{prefix}User") or default_user,
        private_key=config.require_secret(f"{prefix}PrivateKey"),
        host_key=config.get(f"{prefix}HostKey"),
        sudo=True if sudo is None else sudo,
    )


host = connection_from_config("coreos", "core")
tor = connection_from_config("tor", "cumulus")

local_sudo = config.get_bool("imageLocalSudo")
image = frr_nspawn.FrrImage(
    "frr-image",
    suite=config.get("suite") or "bookworm",
    mirror=config.get("mirror"),
    work_dir=config.get("imageWorkDir"),
    # Pulumi usually runs unprivileged; set imageLocalSudo=false when it runs as root.
    local_sudo=True if local_sudo is None else local_sudo,
)

machine = frr_nspawn.NspawnMachine(
    "coreos-frr",
    connection=host,
    image=frr_nspawn.NspawnImageArgs(frr_image=image),
    machine_name=config.get("machineName") or "frr",
    # NSPAWN_FILE (least privilege) or UNIT_OVERRIDE (the seed's --capability=all).
    settings=frr_nspawn.SettingsMode(config.get("machineSettings") or "nspawn-file"),
)

bgp = frr_nspawn.BgpLoopback(
    "coreos-bgp",
    connection=host,
    machine=machine,
    loopback=config.get("hostLoopback") or "2.2.2.2/32",
    asn=config.get_int("hostAsn") or 65001,
    interfaces=config.get_object("hostInterfaces") or ["ens3"],
    networks=config.get_object("hostNetworks") or [],
)

switch = frr_nspawn.TorCumulus(
    "tor",
    connection=tor,
    asn=config.get_int("torAsn") or 65000,
    loopback=config.get("torLoopback") or "1.1.1.1/32",
    downlinks=[
        frr_nspawn.DownlinkArgs(port=port)
        for port in (config.get_object("torDownlinks") or ["swp1"])
    ],
    cli=frr_nspawn.TorCli(config.get("torCli") or "nclu"),
    # Its verify step waits for the host's session: start once the host's machine runs.
    opts=pulumi.ResourceOptions(depends_on=[machine]),
)

pulumi.export("imageSha256", machine.image_sha256)
pulumi.export("frrVersion", machine.frr_version)
pulumi.export("machineName", machine.machine_name)
pulumi.export("hostFrrConf", bgp.frr_conf)
pulumi.export("torCommands", switch.commands)
pulumi.export("torSessions", switch.sessions)
