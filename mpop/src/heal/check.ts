import type { SysInfo, VsshClient } from '@meshpop/vssh';
import type { HealConfig } from './config.js';
import type { RemoteRun } from './remote.js';

/** CheckStatus: ok; warn (worth a look); problem (act); unknown (the check could not run here, and says why: never ok). */
export type CheckStatus = 'ok' | 'warn' | 'problem' | 'unknown';

/** CheckResult is a check's verdict on one node: a diagnosis for people and the evidence it rests on. */
export interface CheckResult {
  status: CheckStatus;
  diagnosis: string;
  evidence: Record<string, unknown>;
}

/** FixOutcome is what one fix did: the action, whether it succeeded, and what it changed. */
export interface FixOutcome {
  action: string;
  ok: boolean;
  detail: string;
  /** disk fixes: bytes freed on the mounts they cleaned */
  freedBytes?: number;
  steps?: { command: string; exitCode: number | null; stderr?: string }[];
  /** nothing was done (no fix allowed or possible here): not audited, not checked again */
  notRun?: true;
}

/** HealContext is what a check gets for one node. */
export interface HealContext {
  node: string;
  client: VsshClient;
  config: HealConfig;
  signal: AbortSignal;
  /** sysinfo, read once per pass (the first call asks the node) */
  info(): Promise<SysInfo>;
  /** the sysinfo round trip in ms and the controller's clock at the middle of it (after the first info()) */
  timing(): { rttMs: number; controllerMidMs: number } | undefined;
  /** run argv on the node (no shell); 'missing' when the program is not there */
  run(argv: string[], opts?: { timeoutMs?: number }): Promise<RemoteRun | 'missing'>;
}

/** HealCheck is one check: a name, what it looks at, how to run it, and, where safe, a fix. */
export interface HealCheck {
  name: string;
  describe: string;
  /** what the fix does, for people (checks without a fix leave it out) */
  fixes?: string;
  run(ctx: HealContext): Promise<CheckResult>;
  /** fix acts on a problem (or warning) `run` found; after it the check runs again to say whether it is gone */
  fix?(ctx: HealContext, found: CheckResult): Promise<FixOutcome>;
}

/** unknown builds an `unknown` result. */
export const unknown = (diagnosis: string, evidence: Record<string, unknown> = {}): CheckResult => ({ status: 'unknown', diagnosis, evidence });
