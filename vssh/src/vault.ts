import { AgentVault, agentStatus, vaultPaths, type Vault } from '@meshpop/vault/light';

/**
 * openVaultQuick opens the vault through its unlock agent when one runs (loading only the light part
 * of @meshpop/vault), else the whole way (SV_PASSWORD_FILE, SV_KEY_FILE, or a clear "locked" error).
 */
export async function openVaultQuick(home: string): Promise<Vault> {
  const socket = vaultPaths(home).socket;
  if (await agentStatus(socket)) return new AgentVault(socket);
  const { openVault } = await import('@meshpop/vault');
  return openVault({ home });
}
