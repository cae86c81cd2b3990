/** quote makes one word safe for a POSIX shell: left bare when it is plainly safe, else single-quoted. */
export function quote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** commandLine joins argv into a command line for the login shell, each word quoted. */
export function commandLine(argv: readonly string[]): string {
  return argv.map(quote).join(' ');
}

/**
 * asRoot is the command line that runs argv as root with `env` set: as it is for root, through
 * `sudo -n env K=V ...` for a user with passwordless sudo (sudo clears the environment, env sets it again).
 */
export function asRoot(argv: readonly string[], how: 'root' | 'sudo', env: Record<string, string> = {}): string {
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const words = vars.length ? ['env', ...vars, ...argv] : [...argv];
  return commandLine(how === 'sudo' ? ['sudo', '-n', ...words] : words);
}

/** script is a command line that runs a POSIX sh script (as root through sudo when asked). */
export function script(text: string, how?: 'root' | 'sudo'): string {
  return commandLine([...(how === 'sudo' ? ['sudo', '-n'] : []), 'sh', '-c', text]);
}

/** printable drops control characters (terminal escapes included) from text a host sent, before it is shown. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[ -\/]*[@-~]/g, '').replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '');
}
