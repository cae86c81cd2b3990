import { join } from 'node:path';

/** dashboardAuditFile is where the dashboard records every confirmed action, one JSON line each. */
export const dashboardAuditFile = (home: string): string => join(home, 'mpop', 'dashboard-audit.jsonl');
