// The login link carries its one-time token in the fragment (#t=...), which browsers never send to a server
// nor put in a Referer: this page posts it once, gets the session cookie, and drops it from the address bar.
const msg = document.getElementById('login-message');
const m = /(?:^#|&)t=([A-Za-z0-9_-]+)/.exec(location.hash);
if (m) {
  history.replaceState(null, '', location.pathname);
  msg.textContent = 'Logging in…';
  const r = await fetch('/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: m[1] }) });
  if (r.status === 204) location.replace('/');
  else {
    const body = await r.json().catch(() => ({}));
    msg.dataset.login = 'refused';
    msg.textContent = body.error?.message ?? `log in refused (${r.status})`;
  }
}
