/**
 * The dialect list: how each `cli` value configures a switch. A new dialect (say SONiC)
 * is one module implementing {@link SwitchDialect} plus its entry here (and its value in
 * the TorCli enum); the component and validation pick it up from this list.
 */
import { TorCli } from "../../enums";
import { SwitchDialect } from "./model";
import { nclu } from "./nclu";
import { nvue } from "./nvue";
import { vtysh } from "./vtysh";

export const DIALECTS: Readonly<Record<TorCli, SwitchDialect>> = { nclu, nvue, vtysh };

export * from "./model";
