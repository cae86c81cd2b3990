import { KEY_SECRET, METRICS_TOKEN_SECRET, newSecret } from './access.js';

/**
 * dashboardKeys reads the dashboard's cookie key and the metrics bearer token from the vault, making each the
 * first time (kept under KEY_SECRET and METRICS_TOKEN_SECRET; neither is ever printed).
 */
export async function dashboardKeys(home: string, env?: NodeJS.ProcessEnv): Promise<{ key: string; metricsToken: string }> {
  const { openVault, isVaultError } = await import('@meshpop/vault');
  const vault = await openVault({ home, ...(env ? { env } : {}) });
  try {
    const get = async (name: string, prefix: string, tag: string): Promise<string> => {
      try {
        return await vault.getString(name);
      } catch (err) {
        if (!isVaultError(err, 'VAULT_NOT_FOUND')) throw err;
        const v = newSecret(prefix);
        await vault.set(name, v, { category: 'mpop-dashboard', tags: [tag] });
        return v;
      }
    };
    return { key: await get(KEY_SECRET, 'dash', 'cookie-key'), metricsToken: await get(METRICS_TOKEN_SECRET, 'metrics', 'bearer-token') };
  } finally {
    await vault.close();
  }
}
