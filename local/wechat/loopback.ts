// The simulator only ever calls back into this machine: notify URLs must name a loopback host.

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return !!m && m.slice(1).every((n) => Number(n) <= 255);
}

/** Why `url` cannot be a notify URL here, or undefined when it can. */
export function notifyUrlProblem(url: string, allowHttpLoopback: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'notify_url不是合法的URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'notify_url必须以https://开头';
  if (parsed.username || parsed.password) return 'notify_url不能携带用户名或密码';
  if (!isLoopbackHost(parsed.hostname)) {
    return `notify_url的主机${parsed.hostname}不是本机回环地址：本地模拟器只向127.0.0.0/8、localhost或::1发送通知，其他地址一律拒绝`;
  }
  if (parsed.protocol === 'http:' && !allowHttpLoopback) return 'notify_url必须以https://开头';
  return undefined;
}
