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
export { listServers, type ServerRow } from './servers.js';
export { recordRun, runSets } from './runs.js';

// facts: status, info, hw, gpu, temp, services, ports, ps, diff, matrix
export { fleetStatus, statusRow, levelOf, THRESHOLDS, type StatusRow, type Level } from './facts/status.js';
export { nodeInfo, type NodeInfo } from './facts/info.js';
export { fleetHardware, hardwareOf, type Hardware } from './facts/hw.js';
export { gatherFacts, fleetGpus, fleetTemps, fleetPorts, fleetPackages, fleetServices, fleetProcs, report, type FactsOptions, type FactsReport, type NodeReport } from './facts/fleet.js';
export { diffNodes, compareMaps, portScope, DIFF_SUBJECTS, type DiffSubject, type DiffOptions, type NodeDiff, type SubjectDiff, type Changed, type FileSide } from './facts/diff.js';
export { meshMatrix, matrixTarget, type Matrix, type MatrixRow, type MatrixCell, type MatrixTarget, type MatrixOptions } from './facts/matrix.js';
export { runTool, ToolError, ParseError, absent, TOOL_TIMEOUT_MS, type ToolRun, type ToolOptions, type Absent } from './facts/tool.js';
export { readPorts, parseSs, SS_ARGV, type ListenSocket, type SocketProcess, type PortsFacts } from './facts/ss.js';
export { readUnits, parseUnitsJson, parseUnitsPlain, unitsArgv, type Unit, type UnitQuery, type ServicesFacts } from './facts/systemctl.js';
export { readProcs, parsePs, parseEtime, selectProcs, PS_ARGV, type Proc, type PsQuery, type PsFacts } from './facts/ps.js';
export { readGpus, parseGpuCsv, NVIDIA_SMI_ARGV, GPU_FIELDS, type Gpu, type GpuFacts } from './facts/nvidiasmi.js';
export { readTemps, parseSensorsJson, parseThermal, UNITS as SENSOR_UNITS, type Reading, type SensorKind, type TempFacts } from './facts/sensors.js';
export { readPackages, parseDpkg, parseRpm, type Package, type PackagesFacts } from './facts/packages.js';

// deploy: releases, rollback
export { deployFleet, DEFAULT_KEEP, type DeployRequest, type DeployOptions, type DeployValue, type DeployStep, type Crossed } from './deploy/deploy.js';
export { listReleases, rollbackFleet, type NodeReleases, type ReleaseRow, type RollbackRequest, type RollbackValue } from './deploy/releases.js';
export { splitTargetPath, deployPaths, RELEASE_ID, type NodeState } from './deploy/layout.js';
export type { HookResult } from './deploy/hooks.js';

// monitor: samples, trend, alerts, the service
export { openMonitorDb, SCHEMA_VERSION, type MonitorDb } from './monitor/db.js';
export { sampleRound, readNode, sampleOf, downSample, parseDfInodes, parseNetDev, EXTRAS_ARGV, type NodeSample, type DiskSample } from './monitor/sample.js';
export { insertRound, recentSamples, monitoredNodes, type RecentSample } from './monitor/store.js';
export { maintain, parseDownsample, DEFAULT_RETENTION, type RetentionPolicy, type DownsampleStep, type MaintainResult } from './monitor/retention.js';
export { evaluateAlerts, listAlerts, type Alert, type AlertChange, type AlertRule } from './monitor/alerts.js';
export { runMonitor, MAX_STORE_FAILURES, type MonitorOptions, type MonitorSummary, type RoundResult } from './monitor/monitor.js';
export { trend, sparkline, TREND_METRICS, type Trend, type TrendBucket, type TrendMetric, type TrendQuery } from './monitor/trend.js';
export { installMonitorService, monitorUnit, monitorCommand, hasSystemd, MONITOR_UNIT, type MonitorServiceOptions, type InstalledService } from './monitor/service.js';

// heal: checks and fixes
export { readHealConfig, DEFAULT_HEAL_CONFIG, CHECK_NAMES, CLEANERS, type HealConfig, type AlertRules } from './heal/config.js';
export type { HealCheck, HealContext, CheckResult, CheckStatus, FixOutcome } from './heal/check.js';
export { CHECKS } from './heal/checks/index.js';
export { healFleet, healNode, selectChecks, type CheckReport, type NodeHeal, type HealOptions } from './heal/run.js';
export { appendAudit, type AuditEntry as HealAuditEntry } from './heal/audit.js';

// enroll: a machine with only SSH joins the fleet
export { enroll, EnrollError, ENROLL_STEPS, type EnrollOptions, type EnrollResult, type EnrollStep, type EnrollEvent, type StepReport } from './enroll/enroll.js';
export { sshConnect, type SshAuth, type SshTarget, type SshSession, type RunResult } from './enroll/ssh.js';
export { checkHostKey, knownHostsPath, fingerprintOf, hostKeyOf, type HostKey, type HostKeyStatus } from './enroll/known-hosts.js';
export { parseTarget } from './enroll/target.js';
export { controllerVersions, packMeshpop, MESHPOP_PACKAGES, type Tarball } from './enroll/packages.js';
export type { InstallReport } from './enroll/install.js';
export type { ServicesReport } from './enroll/node-setup.js';

// logs: journald, files, kernel, containers
export { logsFleet, readOnce, parseReaderOutput, checkQuery, MAX_LOG_BYTES, type LogsValue, type LogsOptions } from './logs/fetch.js';
export { followFleet, type FollowValue, type FollowOptions } from './logs/follow.js';
export { planLogs, parseSince, sinceCutoff, filesToProbe, SINCE_WINDOW, type LogQuery, type LogPlan, type Reader } from './logs/plan.js';
export { parseLogSource, FILE_CANDIDATES, type LogSource, type LogSourceKind } from './logs/source.js';
export { probeNode, parseProbe, type NodeLogFacts } from './logs/probe.js';
export { journalEntry, dmesgEntry, containerEntry, lineTime, fileEntries, byTime, LEVELS, type LogEntry } from './logs/parse.js';
export { entryText } from './logs/render.js';

// secret: the vault from mpop, and Shamir shares over vssh
export { listSecrets, getSecret, setSecret, removeSecret } from './secret/vault.js';
export { distributeShares, collectShares, defaultThreshold, type DistributeOptions, type DistributeResult, type CollectAction, type CollectOptions, type CollectResult } from './secret/shares.js';
export { fleetMaster } from './secret/master.js';
export { sealShare, openShare, wrapKey, type ShareEnvelope } from './secret/envelope.js';
export { shareFileName } from './secret/remote.js';
export { auditSecret, type SecretAuditEntry } from './secret/audit.js';
