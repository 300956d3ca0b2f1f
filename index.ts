/**
 * frr-nspawn: routing on the host with FRR as a systemd-nspawn machine.
 *
 * Four components: {@link FrrImage} builds the machine image, {@link NspawnMachine}
 * deploys it to a CoreOS host, {@link BgpLoopback} announces the host's loopback over
 * BGP unnumbered, {@link TorCumulus} configures the top-of-rack switch.
 */
export { Connection } from "./components/connection";
export { FrrImage, FrrImageArgs, FrrSource } from "./components/frrImage";
export {
  NspawnMachine,
  NspawnMachineArgs,
  NspawnImage,
  ImageFile,
  ImageUrl,
} from "./components/nspawnMachine";
export { BgpLoopback, BgpLoopbackArgs } from "./components/bgpLoopback";
export { TorCumulus, TorCumulusArgs, Downlink } from "./components/torCumulus";
export { InputError, Problem } from "./components/validate/problems";
export { inWaves, waves } from "./components/waves";
export { SessionState } from "./components/render/scripts/verify";
export {
  Compression,
  Distribution,
  FrrPackageSource,
  SettingsMode,
  TorCli,
} from "./components/enums";
