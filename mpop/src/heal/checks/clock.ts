import type { HealCheck } from '../check.js';
import { unknown } from '../check.js';

/** clock: the node's sysinfo time against the controller's at the middle of the round trip; drift beyond thresholds.clock (give or take half the round trip) is a problem. */
export const clock: HealCheck = {
  name: 'clock',
  describe: 'clock drift against the controller',
  async run(ctx) {
    const info = await ctx.info();
    const timing = ctx.timing();
    const nodeMs = Date.parse(info.time);
    if (!timing || !Number.isFinite(nodeMs)) return unknown(`${ctx.node} gave no time to compare`);
    const drift = nodeMs - timing.controllerMidMs;
    const slack = timing.rttMs / 2;
    const limit = ctx.config.thresholds.clockMs;
    const evidence = { driftMs: Math.round(drift), uncertaintyMs: Math.round(slack), limitMs: limit, nodeTime: info.time };
    const say = `${ctx.node}'s clock is ${Math.abs(drift) < 1000 ? `${Math.round(Math.abs(drift))} ms` : `${(Math.abs(drift) / 1000).toFixed(1)} s`} ${drift >= 0 ? 'ahead of' : 'behind'} the controller's (±${Math.round(slack)} ms)`;
    if (Math.abs(drift) - slack > limit) return { status: 'problem', diagnosis: `${say}, beyond ${limit} ms: is NTP (chrony, systemd-timesyncd) running there? timedatectl shows it`, evidence };
    return { status: 'ok', diagnosis: say, evidence };
  },
};
