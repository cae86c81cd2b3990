/**
 * Secret shapes, after gitleaks and trufflehog's common rules: a file whose text holds one of them is not
 * indexed at all (not even its other lines).
 */
const PATTERNS: Array<[string, RegExp]> = [
  ['private key', /-----BEGIN ((RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----/],
  ['AWS access key', /\b(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/],
  ['AWS secret key', /aws_?secret_?(access_?)?key\s*[:=]\s*["']?[A-Za-z0-9/+]{40}\b/i],
  ['GitHub token', /\b(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b/],
  ['GitLab token', /\bglpat-[A-Za-z0-9_-]{20,}\b/],
  ['Slack token', /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/],
  ['Slack webhook', /hooks\.slack\.com\/services\/T[A-Za-z0-9_]+\/B[A-Za-z0-9_]+\/[A-Za-z0-9_]+/],
  ['Stripe key', /\b(sk|rk)_live_[A-Za-z0-9]{20,}\b/],
  ['Google API key', /\bAIza[0-9A-Za-z_-]{35}\b/],
  ['npm token', /\bnpm_[A-Za-z0-9]{36}\b/],
  ['OpenAI key', /\bsk-(proj-)?[A-Za-z0-9_-]{32,}\b/],
  ['JWT', /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/],
  ['vault key', /\bvsk1[A-Za-z0-9_-]{20,}/],
];

/** A generic assignment: a secret-sounding name given a long literal value. */
const ASSIGNMENT = /(?:pass(?:word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|auth|credential)[A-Za-z0-9_]*["']?\s*[:=]\s*["']([^"'\s]{16,})["']?/gi;

/** entropy is the Shannon entropy of a string in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** findSecret returns the kind of the first secret shape found in `text`, or undefined. Never the secret itself. */
export function findSecret(text: string): string | undefined {
  for (const [kind, re] of PATTERNS) if (re.test(text)) return kind;
  ASSIGNMENT.lastIndex = 0;
  for (let m = ASSIGNMENT.exec(text); m; m = ASSIGNMENT.exec(text)) {
    const value = m[1]!;
    // a high-entropy literal with letters and digits; not a reference like process.env.X or ${VAR}
    if (/^[A-Za-z0-9+/=_\-.]+$/.test(value) && /[0-9]/.test(value) && /[A-Za-z]/.test(value) && !/^(process|env|self|this)\./.test(value) && entropy(value) >= 3.5) return 'high-entropy assignment';
  }
  return undefined;
}
