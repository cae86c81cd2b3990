/**
 * @meshpop/mpop is MeshPOP's layer 3: the fleet control plane. Every command of the `mpop` CLI is a
 * function here (typed results, an AbortSignal, progress callbacks, one outcome per node), so that
 * mpop-mcp exposes the same functions to AI agents.
 */
export { MpopError, isMpopError, errorInfo, MPOP_ERROR_CODES, type MpopErrorCode, type ErrorInfo } from './errors.js';
export { mpopPaths, type MpopPaths } from './paths.js';
export { Inventory, loadInventory, type FleetNode, type GroupInfo, type InventoryOptions } from './inventory/inventory.js';
export { readInventoryFile, setGroup, removeGroup, type InventoryFile } from './inventory/file.js';
export { readAnsibleInventory, parseAnsibleIni, parseAnsibleYaml, expandHostRange } from './inventory/ansible.js';
export { compressNodes, closest, globRegExp } from './inventory/names.js';
export { readLastRun, saveLastRun, type LastRun } from './runs.js';
export { fanout, waves, classify, OUTCOMES, DEFAULT_CONCURRENCY, type Outcome, type NodeOutcome, type Verdict, type FanoutOptions, type FanoutProgress, type FanoutResult, type TaskContext } from './fanout/run.js';
export { fold, type Folded } from './fanout/fold.js';
export { recap, type RecapLine } from './fanout/recap.js';
export { execFleet, commandText, type ExecRequest, type ExecValue, type ExecFleetOptions, type RemoteCommand } from './exec.js';
